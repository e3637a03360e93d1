"""Callbacks for :meth:`ownnet.nn.network.Network.fit`: early stopping, checkpoints.

A callback sees the run (:class:`FitState`) after every epoch and may set
``run.stop``. Callbacks with state worth keeping across a resume provide
``state() -> (json, arrays)`` and ``load_state(json, arrays)``; a checkpoint
stores them under the callback's :attr:`Callback.key`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ownnet.history import History

if TYPE_CHECKING:
    from ownnet.nn.network import Network
    from ownnet.nn.optimizers import Optimizer
    from ownnet.nn.schedules import Schedule


@dataclass
class FitState:
    """Everything a training run is: what a checkpoint saves and a resume restores.

    ``epoch`` counts finished epochs; ``settings`` are fit's own options
    (batch size, epochs, shuffle, validation split, schedule) and ``info``
    anything the caller wants kept with a checkpoint (the CLI's arguments).
    """

    network: Network
    optimizer: Optimizer
    rng: np.random.Generator
    history: History
    epoch: int
    epochs: int
    settings: dict[str, Any]
    schedule: Schedule | None = None
    callbacks: list[Callback] = field(default_factory=list)
    stop: bool = False
    stop_reason: str = ""


class Callback:
    """Base class: does nothing."""

    #: name under which a checkpoint keeps this callback's state
    key = ""

    def on_train_begin(self, run: FitState) -> None:
        """Before the first epoch (of this call to ``fit``)."""

    def on_epoch_end(self, run: FitState) -> None:
        """After each epoch, once its values are in ``run.history``."""

    def on_train_end(self, run: FitState) -> None:
        """After the last epoch, or after an early stop."""

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {}

    def load_state(self, json_state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state` gave."""


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

    def on_epoch_end(self, run: FitState) -> None:
        if self.monitor not in run.history:
            raise ValueError(
                f"early stopping watches {self.monitor!r}, which this run does not measure "
                f"(it has {sorted(run.history.history)}); give validation data or a split"
            )
        value = run.history.last(self.monitor)
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, run.epoch, 0
            if self.restore_best:
                arrays, _ = run.network.state()
                self.best_arrays = {k: v.copy() for k, v in arrays.items()}
        else:
            self.wait += 1
            if self.wait > self.patience:
                run.stop = True
                run.stop_reason = (
                    f"early stop: {self.monitor} has not improved for {self.wait} epochs "
                    f"(best {self.best:.4f} at epoch {self.best_epoch})"
                )

    def on_train_end(self, run: FitState) -> None:
        if self.restore_best and self.best_arrays and self.best_epoch != run.epoch:
            run.network.load_arrays(self.best_arrays)

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
    callbacks' state, so :func:`ownnet.nn.checkpoint.load_checkpoint` can
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

    def on_epoch_end(self, run: FitState) -> None:
        if run.epoch % self.every == 0 or run.stop or run.epoch == run.epochs:
            from ownnet.nn.checkpoint import save_checkpoint

            save_checkpoint(self.path, run, info=self.info)
