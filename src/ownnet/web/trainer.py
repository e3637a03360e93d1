"""The training runs of the watch page: at most :data:`MAX_RUNNING` at once (two settings
side by side), the last :data:`MAX_KEPT` kept for replay and saving."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ownnet.web.training import RunSettings, TrainingRun

#: Runs going on at once, and runs kept (finished ones, for replay and saving).
MAX_RUNNING = 2
MAX_KEPT = 6


class Trainer:
    """Up to :data:`MAX_RUNNING` training runs at a time; the last :data:`MAX_KEPT` kept.

    Args:
        load_data: returns MNIST splits; called in the run's thread.
    """

    def __init__(self, load_data: Callable[[], Any]) -> None:
        self._load_data = load_data
        self._lock = threading.Lock()
        self._count = 0
        self._runs: dict[int, TrainingRun] = {}

    @property
    def current(self) -> TrainingRun | None:
        """The latest run, or None before the first."""
        return self._runs[max(self._runs)] if self._runs else None

    def runs(self) -> list[TrainingRun]:
        """The runs kept, oldest first."""
        return [self._runs[k] for k in sorted(self._runs)]

    def get(self, run_id: int | None) -> TrainingRun | None:
        """Run ``run_id`` (None: the latest) if it is kept."""
        return self.current if run_id is None else self._runs.get(run_id)

    def start(self, settings: RunSettings, beside: int | None = None) -> TrainingRun:
        """Start a run (compared with run ``beside``); raises :class:`Busy` when
        :data:`MAX_RUNNING` are going on."""
        with self._lock:
            running = [r for r in self.runs() if r.running]
            if len(running) >= MAX_RUNNING:
                raise Busy(running)
            self._count += 1
            run = TrainingRun(self._count, settings, self._load_data, beside)
            self._runs[run.id] = run
            for old in self.runs():
                if len(self._runs) <= MAX_KEPT:
                    break
                if not old.running:
                    del self._runs[old.id]
        run.start()
        return run

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the running runs and wait for their threads."""
        for run in self.runs():
            if run.running:
                run.stop()
        for run in self.runs():
            run.join(timeout)


class Busy(Exception):
    """As many runs as may go on at once are going on."""

    def __init__(self, running: list[TrainingRun]) -> None:
        which = "; ".join(
            f"run {r.id}, {r.status}, started {time.time() - r.started:.0f} s ago" for r in running
        )
        super().__init__(
            f"{len(running)} training run{'s are' if len(running) > 1 else ' is'} already going "
            f"on ({which}): at most {MAX_RUNNING} at once, stop one first"
        )
        self.running = running
