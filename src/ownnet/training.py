"""Training, the same way for every model: the History it returns, the Callback protocol,
and the epoch loop.

Every ownnet model's ``fit`` (the book's network, the matrix engine, the neurons model)
runs :func:`run_epochs`. A model hands it one function, ``train_epoch``, that trains
one pass over the samples in a given order and calls :meth:`Run.batch_done` after every
batch (the book's network: after every block of samples, still learnt one at a time).
The loop does the rest, identically for all models:

* it shuffles (or keeps the order), times each epoch, measures the validation data;
* it records one :class:`History` row per epoch: ``loss``, ``accuracy`` (running means
  over the epoch's batches, as Keras reports them), ``val_loss``, ``val_accuracy``,
  ``seconds``, ``samples_per_s``, ``lr``;
* it calls the callbacks' hooks: ``on_train_begin``, ``on_epoch_begin``,
  ``on_batch_end``, ``on_epoch_end``, ``on_train_end`` (after Keras);
* it stops a run that diverges: a loss that is not finite, or an epoch's loss far
  above the loss the run started from, raises :class:`TrainingDiverged` naming the
  epoch and suggesting a smaller learning rate.

Models never print and never write files: progress bars and checkpoints are callbacks
(:mod:`ownnet.callbacks`) that the caller hands in; ``verbose=1`` is a shorthand for
adding :class:`ownnet.progress.ProgressBar` (:func:`ownnet.progress.with_progress`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ownnet.errors import OwnnetError

#: an epoch loss this many times the starting loss means the run diverged
DIVERGED_RATIO = 3.0


class TrainingDiverged(OwnnetError):
    """The loss became NaN or infinite, or rose far above where it started."""


@dataclass
class History:
    """What ``fit`` returns, as Keras keeps it: ``history["val_accuracy"][i]`` is epoch
    ``i + 1``'s value.

    Keys (the same for every model): ``epoch``, ``loss``, ``accuracy``, ``seconds``,
    ``samples`` (trained on), ``samples_per_s``, ``lr``, and ``val_loss``, ``val_accuracy``
    given validation data.
    """

    history: dict[str, list[float]] = field(default_factory=dict)

    def append(self, **values: float) -> None:
        """Record one epoch's values."""
        for key, value in values.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.history.get("seconds", []))

    def keys(self) -> list[str]:
        """The recorded quantities."""
        return list(self.history)

    @property
    def epoch(self) -> list[int]:
        """Epoch numbers, from 1."""
        return [int(e) for e in self.history.get("epoch", [])]

    def last(self, key: str) -> float:
        """The newest value of ``key``."""
        return self.history[key][-1]

    def to_dict(self) -> dict[str, list[float]]:
        """A JSON-ready copy."""
        return {k: list(v) for k, v in self.history.items()}

    @classmethod
    def from_dict(cls, values: dict[str, Sequence[float]]) -> History:
        """The history :meth:`to_dict` gave (from a model file or checkpoint)."""
        return cls({str(k): [float(x) for x in v] for k, v in values.items()})


@dataclass
class Run:
    """A training run, as callbacks see it and checkpoints keep it.

    ``epoch`` counts finished epochs. During an epoch, ``batch`` counts its finished
    batches, ``seen`` its finished samples of ``samples``, and ``logs`` holds the
    running ``loss`` and ``accuracy``. A callback sets ``stop`` (and ``stop_reason``) to
    end the run after the current epoch. ``optimizer``, ``schedule`` and ``rng`` are the
    engine's (``None`` where a model has none); ``settings`` are fit's own options.
    """

    model: Any
    epochs: int
    history: History
    settings: dict[str, Any] = field(default_factory=dict)
    callbacks: list[Any] = field(default_factory=list)
    rng: np.random.Generator | None = None
    optimizer: Any = None
    schedule: Any = None
    lr: float = math.nan
    epoch: int = 0
    samples: int = 0
    batch: int = 0
    batches: int = 0
    seen: int = 0
    logs: dict[str, float] = field(default_factory=dict)
    stop: bool = False
    stop_reason: str = ""
    _loss_sum: float = 0.0
    _correct: int = 0
    _first_loss: float | None = None

    def batch_done(self, n: int, loss_sum: float, correct: int) -> None:
        """A model's ``train_epoch`` reports a finished batch: ``n`` samples, the sum of
        their losses and how many it got right (before learning from them)."""
        if not math.isfinite(loss_sum):
            of = f" of {self.batches}" if self.batches else ""
            raise TrainingDiverged(
                f"the loss became {loss_sum / max(n, 1)} at epoch {self.epoch + 1}, batch "
                f"{self.batch + 1}{of}{self._lr_advice()}"
            )
        if self._first_loss is None:
            self._first_loss = loss_sum / max(n, 1)
        self.batch += 1
        self.seen += n
        self._loss_sum += loss_sum
        self._correct += correct
        self.logs = {"loss": self._loss_sum / self.seen, "accuracy": self._correct / self.seen}
        for cb in self.callbacks:
            cb.on_batch_end(self)

    def _lr_advice(self) -> str:
        if not math.isfinite(self.lr):
            return ""
        return f" (learning rate {self.lr:g}); try a smaller learning rate, e.g. {self.lr / 10:g}"


class Callback:
    """Base class of the hooks ``fit`` calls; each gets the :class:`Run`. Does nothing.

    Callbacks with state worth keeping across a resume give ``state() -> (json, arrays)``
    and ``load_state(json, arrays)``; a checkpoint keeps them under :attr:`key`.
    """

    #: name under which a checkpoint keeps this callback's state ("" : nothing to keep)
    key = ""

    def on_train_begin(self, run: Run) -> None:
        """Before the first epoch (of this call to ``fit``)."""

    def on_epoch_begin(self, run: Run) -> None:
        """Before each epoch."""

    def on_batch_end(self, run: Run) -> None:
        """After each batch (the book's network: each block of samples)."""

    def on_epoch_end(self, run: Run) -> None:
        """After each epoch, once its values are in ``run.history``."""

    def on_train_end(self, run: Run) -> None:
        """After the last epoch, or after an early stop."""

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """What a checkpoint keeps of this callback: JSON-ready values and arrays."""
        return {}, {}

    def load_state(self, json_state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state` gave."""


#: ``augment(images, rng) -> images``: new training images for an epoch, from the images
#: ``(n, n_pixels)`` and the run's generator (e.g. :class:`ownnet.augmentation.RandomTransform`)
Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]
#: ``train_epoch(images, labels, order, run)``: one pass, reporting with ``run.batch_done``
TrainEpoch = Callable[[np.ndarray, np.ndarray, "np.ndarray | None", Run], None]
#: ``evaluate(images, labels) -> (loss, accuracy)``
Evaluate = Callable[[np.ndarray, np.ndarray], tuple[float, float]]


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A generator from a seed (``None``: fresh entropy) or the generator itself."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def check_epochs(epochs: Any, initial_epoch: Any = 0) -> tuple[int, int]:
    """``epochs`` (a whole number >= 1) and ``initial_epoch`` (0..epochs), checked."""
    for name, value, low in (("epochs", epochs, 1), ("initial_epoch", initial_epoch, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}, found {value!r}")
    if initial_epoch > epochs:
        raise ValueError(f"initial_epoch {initial_epoch} is past epochs {epochs}")
    return int(epochs), int(initial_epoch)


def run_epochs(
    run: Run,
    images: np.ndarray,
    labels: np.ndarray,
    train_epoch: TrainEpoch,
    *,
    evaluate: Evaluate,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    shuffle: bool = True,
    initial_epoch: int = 0,
    before_epoch: Callable[[Run], None] | None = None,
    extra_loss: Callable[[], float] | None = None,
    augment: Augment | None = None,
) -> History:
    """Train ``run.model`` from ``initial_epoch`` up to ``run.epochs`` epochs.

    Args:
        run: the run (its ``rng`` shuffles when ``shuffle``).
        images, labels: training data ``(n, n_pixels)`` and ``(n,)``.
        train_epoch: the model's pass over the data in a given order (``None``: as stored).
        evaluate: ``(loss, accuracy)`` on ``validation``.
        before_epoch: called before each epoch (e.g. the engine's learning-rate schedule).
        extra_loss: added to the epoch's loss (e.g. the engine's weight-decay penalty).
        augment: each epoch trains on ``augment(images, run.rng)`` (drawn after the order).

    Returns:
        ``run.history``, one row per epoch trained.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # a diverging run is stopped, with advice, by the checks below, not NumPy's warnings
        return _run_epochs(
            run,
            images,
            labels,
            train_epoch,
            evaluate,
            validation,
            shuffle,
            initial_epoch,
            before_epoch,
            extra_loss,
            augment,
        )


def _run_epochs(
    run: Run,
    images: np.ndarray,
    labels: np.ndarray,
    train_epoch: TrainEpoch,
    evaluate: Evaluate,
    validation: tuple[np.ndarray, np.ndarray] | None,
    shuffle: bool,
    initial_epoch: int,
    before_epoch: Callable[[Run], None] | None,
    extra_loss: Callable[[], float] | None,
    augment: Augment | None,
) -> History:
    n = len(images)
    run.samples = n
    for cb in run.callbacks:
        cb.on_train_begin(run)
    for epoch in range(initial_epoch, run.epochs):
        if before_epoch is not None:
            before_epoch(run)
        run.batch = run.seen = run._correct = 0
        run._loss_sum = 0.0
        run.logs = {}
        order = run.rng.permutation(n) if shuffle and run.rng is not None else None
        for cb in run.callbacks:
            cb.on_epoch_begin(run)
        started = time.perf_counter()
        epoch_images = images
        if augment is not None:
            epoch_images = _augmented(augment(images, run.rng), images.shape)
        train_epoch(epoch_images, labels, order, run)
        seconds = time.perf_counter() - started
        if run.seen == 0:
            raise RuntimeError("train_epoch reported no batches")
        row = {"loss": run.logs["loss"] + (extra_loss() if extra_loss else 0.0)}
        row["accuracy"] = run.logs["accuracy"]
        if validation is not None:
            row["val_loss"], row["val_accuracy"] = evaluate(*validation)
        run.epoch = epoch + 1
        run.history.append(
            epoch=run.epoch,
            **row,
            seconds=seconds,
            samples=n,
            samples_per_s=n / max(seconds, 1e-9),
            lr=run.lr,
        )
        _check_divergence(run, row["loss"], run._first_loss)
        for cb in run.callbacks:
            cb.on_epoch_end(run)
        if run.stop:
            break
    for cb in run.callbacks:
        cb.on_train_end(run)
    return run.history


def _augmented(images: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``augment``'s result as flat images of the training images' shape."""
    out = np.asarray(images)
    if out.size != int(np.prod(shape)) or out.dtype.kind not in "uf":
        raise ValueError(
            f"augment must return images like those it was given, {shape}, found "
            f"{out.shape} {out.dtype}"
        )
    return out.reshape(shape)


def _check_divergence(run: Run, loss: float, start_loss: float | None) -> None:
    if not math.isfinite(loss):
        raise TrainingDiverged(f"the loss became {loss} at epoch {run.epoch}{run._lr_advice()}")
    if start_loss is not None and loss > DIVERGED_RATIO * start_loss:
        raise TrainingDiverged(
            f"training diverged at epoch {run.epoch}: its loss {loss:.4g} is more than "
            f"{DIVERGED_RATIO:g} times the loss it started from ({start_loss:.4g})"
            f"{run._lr_advice()}"
        )
