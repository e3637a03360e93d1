"""Callbacks for any model's ``fit``: early stopping and checkpoints (the progress line is
:class:`ownnet.progress.ProgressBar`).

A callback gets the :class:`ownnet.training.Run` at each hook and may set ``run.stop``.
Callbacks with state worth keeping across a resume provide ``state() -> (json, arrays)``
and ``load_state(json, arrays)``; a checkpoint stores them under the callback's ``key``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ownnet.checkpoint import save_checkpoint
from ownnet.training import Callback, Run

__all__ = ["Callback", "Checkpoint", "EarlyStopping"]


class EarlyStopping(Callback):
    """Stop when ``monitor`` (default ``val_loss``, lower is better) has not improved by more
    than ``min_delta`` for ``patience`` epochs; with ``restore_best`` put back the weights
    of the best epoch at the end."""

    key = "early_stopping"

    def __init__(
        self,
        patience: int = 3,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        restore_best: bool = True,
    ) -> None:
        if int(patience) < 0:
            raise ValueError(f"patience must be >= 0, found {patience}")
        self.patience = int(patience)
        self.monitor = monitor
        self.min_delta = float(min_delta)
        self.restore_best = bool(restore_best)
        self.best = math.inf
        self.best_epoch = 0
        self.wait = 0
        self.best_arrays: dict[str, np.ndarray] = {}

    def on_epoch_end(self, run: Run) -> None:
        if self.monitor not in run.history:
            raise ValueError(
                f"early stopping watches {self.monitor!r}, which this run does not measure "
                f"(it has {sorted(run.history.history)}); give validation data or a split"
            )
        value = run.history.last(self.monitor)
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, run.epoch, 0
            if self.restore_best:
                arrays, _ = run.model.state()
                self.best_arrays = {k: v.copy() for k, v in arrays.items()}
        else:
            self.wait += 1
            if self.wait > self.patience:
                run.stop = True
                run.stop_reason = (
                    f"early stop: {self.monitor} has not improved for {self.wait} epochs "
                    f"(best {self.best:.4f} at epoch {self.best_epoch})"
                )

    def on_train_end(self, run: Run) -> None:
        if self.restore_best and self.best_arrays and self.best_epoch != run.epoch:
            run.model.load_arrays(self.best_arrays)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        best = self.best if math.isfinite(self.best) else None
        json_state = {"best": best, "best_epoch": self.best_epoch, "wait": self.wait}
        return json_state, dict(self.best_arrays)

    def load_state(self, json_state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        best = json_state.get("best")
        self.best = math.inf if best is None else float(best)
        self.best_epoch = int(json_state.get("best_epoch", 0))
        self.wait = int(json_state.get("wait", 0))
        self.best_arrays = {k: np.array(v) for k, v in arrays.items()}


class Checkpoint(Callback):
    """Write the whole run to ``path`` after every ``every`` epochs, atomically.

    The file is a model file (``ownnet test`` reads it) that also holds the
    optimiser state, the random generator, the history and the other
    callbacks' state, so :func:`ownnet.checkpoint.load_checkpoint` can
    continue the same run. ``info`` is stored with it.
    """

    def __init__(
        self, path: str | os.PathLike[str], every: int = 1, info: dict[str, Any] | None = None
    ) -> None:
        if int(every) < 1:
            raise ValueError(f"checkpoint every must be at least 1 epoch, found {every}")
        self.path = Path(path)
        self.every = int(every)
        self.info = dict(info or {})

    def on_epoch_end(self, run: Run) -> None:
        if run.epoch % self.every == 0 or run.stop or run.epoch == run.epochs:
            save_checkpoint(self.path, run, info=self.info)
