"""The Keras-style progress line of a training run, as a callback any model's ``fit`` takes.

``fit(..., verbose=1)`` adds :class:`ProgressBar` (see :func:`with_progress`). Before
each epoch it prints ``Epoch 3/20``.

During the epoch (only on a terminal) a live bar is redrawn in place at most
ten times a second::

     7680/60000 [===>..........................] - ETA: 3s - loss: 0.4012 - acc: 0.8810

and at the end of the epoch it is replaced by::

    60000/60000 [==============================] - 0.4s - loss: 0.2453 - acc: 0.9248 \
        - val_loss: 0.1055 - val_acc: 0.9677

(one line), with samples per second.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ownnet.training import Callback, Run

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


class EpochLine:
    """One epoch's progress line on ``stream`` (stdout by default).

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

    def finish(
        self,
        values: dict[str, float],
        seconds: float | None = None,
        samples_per_s: float | None = None,
    ) -> str:
        """Print and return the finished-epoch line."""
        if seconds is None:
            seconds = time.perf_counter() - self.start
        line = epoch_line(self.total, self.total, seconds, values)
        if samples_per_s is not None:
            line += f" - {samples_per_s:,.0f} samples/s"
        self._write(line, end="\n")
        return line

    def _write(self, line: str, end: str) -> None:
        pad = " " * max(0, self._width - len(line)) if self.live else ""
        prefix = "\r" if self.live else ""
        self.stream.write(prefix + line + pad + end)
        self.stream.flush()
        self._width = 0 if end else len(line)


class ProgressBar(Callback):
    """Print ``Epoch k/N`` and a live progress line per epoch (the line is redrawn only on
    a terminal; elsewhere one line per epoch), as Keras does with ``verbose=1``."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream
        self.live = live
        self._line: EpochLine | None = None

    def on_epoch_begin(self, run: Run) -> None:
        out = self.stream if self.stream is not None else sys.stdout
        print(f"Epoch {run.epoch + 1}/{run.epochs}", file=out, flush=True)
        self._line = EpochLine(run.samples, out, self.live)

    def on_batch_end(self, run: Run) -> None:
        if self._line is not None:
            self._line.update(run.seen, run.logs)

    def on_epoch_end(self, run: Run) -> None:
        if self._line is None:
            return
        keys = ("loss", "accuracy", "val_loss", "val_accuracy")
        values = {k: run.history.last(k) for k in keys if k in run.history}
        seconds = run.history.last("seconds")
        self._line.finish(values, seconds, run.history.last("samples_per_s"))
        if run.stop and run.stop_reason:
            print(run.stop_reason, file=self._line.stream, flush=True)
        self._line = None


def with_progress(callbacks: Sequence[Any] | None, verbose: int | bool) -> list[Any]:
    """The callbacks of a run: those given, plus a :class:`ProgressBar` when ``verbose``
    (unless one is there already)."""
    out = list(callbacks or ())
    if verbose and not any(isinstance(cb, ProgressBar) for cb in out):
        out.append(ProgressBar())
    return out
