"""Keras-style progress line for one epoch.

During the epoch (only on a terminal) a live bar is redrawn in place at most
ten times a second::

     7680/60000 [===>..........................] - ETA: 3s - loss: 0.4012 - acc: 0.8810

and at the end of the epoch it is replaced by::

    60000/60000 [==============================] - 0.4s - loss: 0.2453 - acc: 0.9248 \
        - val_loss: 0.1055 - val_acc: 0.9677

(one line)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30

#: how the line names each value
SHORT = {"accuracy": "acc", "val_accuracy": "val_acc"}


def bar(done: int, total: int, width: int = WIDTH) -> str:
    """``[=====>........]`` for ``done`` of ``total``."""
    if total <= 0 or done >= total:
        return "[" + "=" * width + "]"
    filled = int(width * done / total)
    return "[" + "=" * filled + ">" + "." * (width - filled - 1) + "]"


def format_values(values: dict[str, float]) -> str:
    """`` - loss: 0.2453 - acc: 0.9248`` for ``{"loss": ..., "accuracy": ...}``."""
    return "".join(f" - {SHORT.get(k, k)}: {v:.4f}" for k, v in values.items())


def epoch_line(done: int, total: int, seconds: float, values: dict[str, float]) -> str:
    """The finished-epoch line."""
    digits = len(str(total))
    return f"{done:>{digits}}/{total} {bar(done, total)} - {seconds:.1f}s{format_values(values)}"


class ProgressBar:
    """One epoch's progress on ``stream`` (stdout by default).

    Args:
        total: samples in the epoch.
        stream: where to write.
        live: redraw a bar during the epoch; default: when ``stream`` is a terminal.
        interval: seconds between redraws.
    """

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        live: bool | None = None,
        interval: float = 0.1,
    ) -> None:
        self.total = int(total)
        self.stream = stream if stream is not None else sys.stdout
        if live is None:
            isatty = getattr(self.stream, "isatty", None)
            live = bool(isatty and isatty())
        self.live = live
        self.interval = float(interval)
        self.start = time.perf_counter()
        self._next = self.start + self.interval
        self._width = 0

    def update(self, done: int, values: dict[str, float]) -> None:
        """Redraw (if live and due) after ``done`` samples with running ``values``."""
        if not self.live:
            return
        now = time.perf_counter()
        if now < self._next:
            return
        self._next = now + self.interval
        elapsed = now - self.start
        eta = elapsed / max(done, 1) * (self.total - done)
        digits = len(str(self.total))
        line = (
            f"{done:>{digits}}/{self.total} {bar(done, self.total)} - ETA: {eta:.0f}s"
            f"{format_values(values)}"
        )
        self._write(line, end="")

    def finish(self, values: dict[str, float], seconds: float | None = None) -> str:
        """Print and return the finished-epoch line."""
        if seconds is None:
            seconds = time.perf_counter() - self.start
        line = epoch_line(self.total, self.total, seconds, values)
        self._write(line, end="\n")
        return line

    def _write(self, line: str, end: str) -> None:
        pad = " " * max(0, self._width - len(line)) if self.live else ""
        prefix = "\r" if self.live else ""
        self.stream.write(prefix + line + pad + end)
        self.stream.flush()
        self._width = 0 if end else len(line)
