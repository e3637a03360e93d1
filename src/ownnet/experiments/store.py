"""The sweep store: one SQLite file with every finished run (default ``ownnet-sweeps.db``).

A run is written in one transaction when it has finished, never before, so a
sweep killed at any moment (even by SIGKILL) keeps every run that finished and
loses only the runs in flight; SQLite's journal makes the commit all or
nothing. Starting the sweep again skips the runs already in the store: a run's
identity (``run_id``) is its full config, its repeat number and the checksums
of the data it saw.

Tables::

    runs(run_id PK, config JSON, repeat, seed, final_accuracy, seconds,
         train_checksum, test_checksum, ownnet_version, executor, host, finished_at)
    epochs(run_id, epoch, test_accuracy, seconds)      -- one row per epoch
    info(key PK, value)                                -- schema version
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ownnet.errors import OwnnetError
from ownnet.experiments.params import complete
from ownnet.experiments.runs import RunResult

SCHEMA_VERSION = 1
DEFAULT_DB = "ownnet-sweeps.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    repeat INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    final_accuracy REAL NOT NULL,
    seconds REAL NOT NULL,
    train_checksum TEXT NOT NULL,
    test_checksum TEXT NOT NULL,
    ownnet_version TEXT NOT NULL,
    executor TEXT NOT NULL,
    host TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    epoch INTEGER NOT NULL,
    test_accuracy REAL NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
"""


class StoreError(OwnnetError):
    """The store file is not a sweep store, or is of a newer version."""


@dataclass(frozen=True)
class StoredRun:
    """A finished run as read back from the store."""

    run_id: str
    config: dict[str, Any]
    repeat: int
    seed: int
    accuracies: list[float]
    epoch_seconds: list[float]
    seconds: float
    train_checksum: str
    test_checksum: str
    ownnet_version: str
    executor: str
    host: str
    finished_at: str

    @property
    def final_accuracy(self) -> float:
        """Test accuracy after the last epoch."""
        return self.accuracies[-1]


class Store:
    """An open sweep store. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: no such sweep store")
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{self.path}: cannot make its folder {folder}: {exc.strerror or exc}"
            ) from None
        if not self.path.exists() and not os.access(folder, os.W_OK):
            raise StoreError(f"{self.path}: cannot write in {folder} (no permission)")
        try:
            self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM info WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT OR IGNORE INTO info VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: sweep store schema version {row[0]} is newer than this "
                    f"ownnet reads (up to {SCHEMA_VERSION}); upgrade ownnet"
                )
        except sqlite3.OperationalError as exc:  # unable to open, read-only, disk I/O, full
            raise StoreError(f"{self.path}: cannot open or write the sweep store: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path}: expected an SQLite sweep store, found a file SQLite cannot use "
                f"({exc})"
            ) from exc

    @classmethod
    def check(cls, path: str | os.PathLike[str]) -> None:
        """Raise :class:`StoreError` now if ``path`` cannot be a sweep store: an existing
        file that is not one, or a folder that cannot be made or written. Makes no file."""
        path = Path(path)
        if path.exists():
            cls(path, create=False).close()
            return
        folder = path.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise StoreError(f"{path}: cannot make its folder: {folder} is a file")
        if not os.access(folder, os.W_OK):
            raise StoreError(f"{path}: cannot write in {folder} (no permission)")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def finished(self) -> set[str]:
        """The ``run_id`` of every finished run."""
        return {r[0] for r in self._db.execute("SELECT run_id FROM runs")}

    def add(self, result: RunResult, *, executor: str = "serial") -> bool:
        """Record a finished run in one transaction; ``False`` if it was there already."""
        finished_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            cur = db.execute(
                "INSERT OR IGNORE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    result.run_id,
                    json.dumps(result.config, sort_keys=True),
                    result.repeat,
                    result.seed,
                    result.final_accuracy,
                    result.seconds,
                    result.train_checksum,
                    result.test_checksum,
                    result.ownnet_version,
                    executor,
                    result.host,
                    finished_at,
                ),
            )
            added = cur.rowcount == 1
            if added:
                db.executemany(
                    "INSERT INTO epochs VALUES (?,?,?,?)",
                    [
                        (result.run_id, i + 1, acc, sec)
                        for i, (acc, sec) in enumerate(
                            zip(result.accuracies, result.epoch_seconds, strict=True)
                        )
                    ],
                )
            db.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may have ended it
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):  # a full disk, an I/O error
                raise StoreError(
                    f"{self.path}: could not record run {result.run_id[:12]}: {exc}; the runs "
                    "recorded before it are kept: free some space and run the sweep again "
                    "to go on"
                ) from None
            raise
        return added

    def runs(self, run_ids: Iterable[str] | None = None) -> list[StoredRun]:
        """Finished runs (all, or those named), oldest first."""
        wanted = None if run_ids is None else set(run_ids)
        epochs: dict[str, list[tuple[int, float, float]]] = {}
        for rid, epoch, acc, sec in self._db.execute(
            "SELECT run_id, epoch, test_accuracy, seconds FROM epochs ORDER BY run_id, epoch"
        ):
            epochs.setdefault(rid, []).append((epoch, acc, sec))
        out = []
        for row in self._db.execute(
            "SELECT run_id, config, repeat, seed, seconds, train_checksum, test_checksum, "
            "ownnet_version, executor, host, finished_at FROM runs ORDER BY rowid"
        ):
            rid = row[0]
            if wanted is not None and rid not in wanted:
                continue
            per_epoch = epochs.get(rid, [])
            out.append(
                StoredRun(
                    run_id=rid,
                    config=complete(json.loads(row[1])),
                    repeat=row[2],
                    seed=row[3],
                    accuracies=[a for _, a, _ in per_epoch],
                    epoch_seconds=[s for _, _, s in per_epoch],
                    seconds=row[4],
                    train_checksum=row[5],
                    test_checksum=row[6],
                    ownnet_version=row[7],
                    executor=row[8],
                    host=row[9],
                    finished_at=row[10],
                )
            )
        return out

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
