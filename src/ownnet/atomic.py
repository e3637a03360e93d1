"""Atomic file writes: write a temporary file beside the target, fsync, rename.

A crash or a kill in the middle leaves either the old file or the new one, never half of
one. What a kill can leave is the temporary file, ``.<target name>.<pid>.<random>.part``
beside the target. The next write of the same target removes such leftovers, and only
those that are provably ours and provably stale:

- the name matches exactly: ``.``, the target's name, ``.``, the writer's process id,
  ``.``, the 8 characters ``tempfile.mkstemp`` draws, ``.part`` (so another target's
  files, or a file someone else named, never match);
- the writer is gone: no process with that id runs on this machine (``os.kill(pid, 0)``
  fails with "no such process"; where that cannot be asked, as on Windows, this test is
  taken as passed only for files untouched for a day);
- and the file has not been modified for :data:`STALE_AFTER` seconds, so that a live
  writer on another machine sharing the folder (whose process id means nothing here),
  or one whose id was reused, is never disturbed: every writer here writes at least
  every few seconds while its file is open.

Files from older versions (``.<target name>.<random>.part``, without a process id) are
removed once they are a day old.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

STALE_AFTER = 600.0  # seconds without a write before a dead writer's file is removed
_DAY = 86400.0
_RANDOM = r"[a-z0-9_]{8}"  # what tempfile.mkstemp puts in a name
_ASK_PIDS = os.name == "posix"  # os.kill(pid, 0) would end the process on Windows


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary binary file that replaces ``path`` when the block succeeds.

    On an exception the temporary file is removed and ``path`` is untouched. Stale
    temporary files of ``path`` left by killed writers are removed first (see the module
    doc).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=".part", dir=target.parent
    )
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a model or data file is for sharing
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:  # say which file failed
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path) as f:
        f.write(data)


def remove_stale_parts(target: str | os.PathLike[str], now: float | None = None) -> list[Path]:
    """Remove the temporary files of ``target`` that killed writers left; returns them.

    Only files matching the exact name pattern, whose writer is gone and which have not
    been written for :data:`STALE_AFTER` seconds (see the module doc).
    """
    target = Path(target)
    ours = re.compile(rf"\.{re.escape(target.name)}\.(?:(\d+)\.)?{_RANDOM}\.part")
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        m = ours.fullmatch(entry.name)
        if m is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not entry.is_file(follow_symlinks=False):
            continue
        age = now - info.st_mtime
        pid = int(m.group(1)) if m.group(1) else None
        stale = age >= _DAY if pid is None else age >= STALE_AFTER and _gone(pid, age)
        if stale:
            with contextlib.suppress(FileNotFoundError, PermissionError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _gone(pid: int, age: float) -> bool:
    """Whether no process ``pid`` runs here (or, where that cannot be asked, the file is a
    day old)."""
    if pid == os.getpid():
        return False
    if not _ASK_PIDS:
        return age >= _DAY
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False  # alive (another user's), or an id we cannot ask about
    return False


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
