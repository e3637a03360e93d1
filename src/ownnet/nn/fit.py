"""How the matrix engine trains: minibatches, each one forward, backward and optimiser step.

:class:`Training` gives :class:`ownnet.nn.network.Network` its ``fit`` and
``train_on_batch``. An epoch (:meth:`Training._train_epoch`) walks the samples in the
order :func:`ownnet.training.run_epochs` drew, ``batch_size`` at a time; each batch
(:meth:`Training._train_batch`) gathers its pixels and labels into kept buffers, runs
the stack forward, measures the loss, runs it backward and lets the optimiser step. The
epoch loop itself (shuffling, validation, History, callbacks) is the same for every
ownnet model: :mod:`ownnet.training`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ownnet.errors import DataError
from ownnet.inputs import as_training_data
from ownnet.nn import parallel
from ownnet.nn.dense import Dense
from ownnet.nn.layers import Dropout
from ownnet.nn.optimizers import Optimizer, get_optimizer
from ownnet.nn.schedules import Schedule, get_schedule
from ownnet.progress import with_progress
from ownnet.training import (
    Augment,
    Callback,
    History,
    Run,
    as_generator,
    check_epochs,
    run_epochs,
)

#: the first Dense layer skips all-zero pixel columns when at most this fraction is left
COMPACT_MAX_FRACTION = 0.9


def _spec(obj: Any) -> Any:
    """``obj.spec()`` where it has one (JSON for checkpoints), else its ``repr``."""
    spec = getattr(obj, "spec", None)
    return spec() if callable(spec) else repr(obj)


class Training:
    """``fit`` and ``train_on_batch`` for the engine's :class:`~ownnet.nn.network.Network`."""

    def fit(
        self,
        x: Any,
        y: Any = None,
        *,
        epochs: int = 1,
        batch_size: int | None = None,
        validation_data: Any = None,
        validation_split: float = 0.0,
        callbacks: Sequence[Callback] | None = None,
        seed: int | np.random.Generator | None = None,
        shuffle: bool = True,
        verbose: int = 1,
        initial_epoch: int = 0,
        history: History | None = None,
        optimizer: str | dict[str, Any] | Optimizer | None = None,
        schedule: str | dict[str, Any] | Schedule | None = None,
        augment: Augment | None = None,
    ) -> History:
        """Train on minibatches.

        Args:
            x, y: a Dataset, a pair ``(images, labels)``, or images ``x`` with labels
                ``y``; images uint8 0..255 or floats 0..1, ``(n, 28, 28)`` or ``(n, 784)``.
            epochs: train until this many epochs are done (counting ``initial_epoch``).
            batch_size: samples per step (default: the network's ``batch_size``); the last
                batch of an epoch may be smaller.
            validation_data: measured after each epoch (``val_loss``, ``val_accuracy``).
            validation_split: or hold out this last fraction of the training data.
            callbacks: :class:`ownnet.training.Callback` objects (``ownnet.callbacks``).
            seed: seed or generator for shuffling, dropout and ``augment``.
            shuffle: a new order every epoch.
            verbose: 1 prints a Keras-style progress line per epoch; 0 is silent.
            initial_epoch, history: continue a run (see :mod:`ownnet.checkpoint`).
            optimizer: default: the network's own (``self.optimizer``).
            schedule: learning rate per epoch (sets the optimizer's ``lr`` before each).
            augment: called before each epoch as ``augment(images, rng)``; the epoch
                trains on the images it returns (e.g.
                :class:`ownnet.augmentation.RandomTransform`: new random rotations and
                shifts every epoch).

        Returns:
            :class:`~ownnet.training.History` (also kept as ``self.history``): ``loss``
            (the mean over the epoch's batches, plus the L2 penalty at the end of the
            epoch when the optimizer has weight decay), ``accuracy`` (over the batches),
            ``val_loss``, ``val_accuracy``, ``seconds``, ``samples_per_s``, ``lr``.

        Raises:
            TrainingDiverged: the loss became NaN or infinite, or rose far above its start.
        """
        epochs, initial_epoch = check_epochs(epochs, initial_epoch)
        images, labels = as_training_data(
            x, y, self.n_pixels, self.n_outputs, pixels=self.takes_pixels
        )
        val = self._validation(images, labels, validation_data, validation_split)
        if validation_split:
            n_val = len(val[0])
            images, labels = images[:-n_val], labels[:-n_val]
        size = self.batch_size if batch_size is None else batch_size
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1, found {size!r}")
        if optimizer is not None:
            self.optimizer = get_optimizer(optimizer)
        opt = self.optimizer
        sched = None if schedule is None else get_schedule(schedule)
        self._split = parallel.plan(self)
        gen = as_generator(seed)
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.rng = gen
        run = Run(
            model=self,
            epochs=epochs,
            history=history if history is not None else History(),
            settings={
                "batch_size": int(size),
                "epochs": epochs,
                "shuffle": bool(shuffle),
                "validation_split": float(validation_split),
                **({"augment": _spec(augment)} if augment is not None else {}),
            },
            callbacks=with_progress(callbacks, verbose),
            rng=gen,
            optimizer=opt,
            schedule=sched,
            lr=opt.lr,
        )
        self.history = run.history

        def before_epoch(run: Run) -> None:
            if sched is not None:
                opt.lr = sched(run.epoch)
            run.lr = opt.lr

        def train_epoch(images: np.ndarray, labels: np.ndarray, order: Any, run: Run) -> None:
            self._train_epoch(images, labels, order, run, int(size))

        return run_epochs(
            run,
            images,
            labels,
            train_epoch,
            evaluate=self._loss_accuracy,
            validation=val,
            shuffle=shuffle,
            initial_epoch=initial_epoch,
            before_epoch=before_epoch,
            extra_loss=lambda: self.penalty(opt.weight_decay),
            augment=augment,
        )

    def _validation(
        self, images: np.ndarray, labels: np.ndarray, data: Any, split: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The validation data: ``data`` checked, or the last ``split`` of the training data."""
        if data is not None and split:
            raise ValueError("give validation_data or validation_split, not both")
        if data is not None:
            return as_training_data(
                data,
                None,
                self.n_pixels,
                self.n_outputs,
                "validation_data",
                pixels=self.takes_pixels,
            )
        if not split:
            return None
        if not 0.0 < split < 1.0:
            raise ValueError(f"validation_split must be in (0, 1), found {split}")
        n_val = int(round(len(images) * split))
        if n_val < 1 or n_val >= len(images):
            raise DataError(
                f"validation_split {split} of {len(images)} samples leaves no validation "
                "or no training samples"
            )
        return images[-n_val:], labels[-n_val:]

    def train_on_batch(self, x: Any, y: Any = None) -> tuple[float, float]:
        """One optimiser step on the whole batch (Keras' ``train_on_batch``); returns its
        loss and accuracy, measured before the step."""
        images, labels = as_training_data(
            x, y, self.n_pixels, self.n_outputs, pixels=self.takes_pixels
        )
        loss, correct = self._train_batch(images, labels, np.arange(len(images)), self.optimizer)
        return loss, correct / len(images)

    def _train_epoch(
        self, images: np.ndarray, labels: np.ndarray, order: Any, run: Run, batch_size: int
    ) -> None:
        """One pass, ``batch_size`` samples at a time in ``order`` (``None``: as stored)."""
        n = len(images)
        order = np.arange(n) if order is None else order
        run.batches = -(-n // batch_size)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss, correct = self._train_batch(images, labels, idx, run.optimizer)
            run.batch_done(len(idx), loss * len(idx), correct)

    def _train_batch(
        self, images: np.ndarray, labels: np.ndarray, idx: np.ndarray, optimizer: Optimizer
    ) -> tuple[float, int]:
        """One step on ``images[idx]``: forward, loss, backward, optimizer step; returns
        (mean loss, correct count). Where the network splits its batches over threads
        (:mod:`ownnet.nn.parallel`), each thread does the first three for its part."""
        if self._split is not None:
            return self._split.train_batch(images, labels, idx, optimizer)
        loss, correct = self._batch_gradients(images, labels, idx)
        optimizer.step(self._params)
        return loss, correct

    def _batch_gradients(
        self, images: np.ndarray, labels: np.ndarray, idx: np.ndarray
    ) -> tuple[float, int]:
        """Forward and backward on ``images[idx]``, filling every layer's ``grads``; returns
        (mean loss, correct count)."""
        n = len(idx)
        xb = self._buffer("xb", n, (self.n_pixels,), images.dtype)
        images.take(idx, axis=0, out=xb, mode="clip")  # "raise" would buffer
        lab = self._buffer("labels", n, (), np.intp)
        labels.take(idx, out=lab, mode="clip")
        out = self._forward_batch(xb)
        y = self._buffer("targets", n, (self.n_outputs,))
        self._target_table.take(lab, axis=0, out=y, mode="clip")
        loss = self.loss.fn(out, y, self._logits())
        correct = int(np.count_nonzero(out.argmax(axis=1) == lab))
        self.backward(out, y)
        return loss, correct

    def _forward_batch(self, xb: np.ndarray) -> np.ndarray:
        """Forward in training mode for flat pixels ``(n, n_pixels)``. A first Dense layer
        on flat inputs that scale 0 to 0 sees only the pixel columns that are nonzero
        somewhere in the batch (the same result, about a third less work on MNIST)."""
        n = len(xb)
        first = self.layers[0]
        if (
            self.compact_inputs
            and isinstance(first, Dense)
            and self._scale_b == 0
            and len(self.input_shape) == 1
        ):
            cols = xb.any(axis=0).nonzero()[0]
            if len(cols) <= COMPACT_MAX_FRACTION * self.n_pixels:
                shape = (n, len(cols))
                xc = self._flat_buffer("xc_in", shape, xb.dtype)
                xb.take(cols, axis=1, out=xc, mode="clip")
                out = first.forward(
                    self.scale(xc, self._flat_buffer("xc", shape)), True, columns=cols
                )
                for layer in self.layers[1:]:
                    out = layer.forward(out, True)
                return out
        return self._forward_pixels(xb, training=True)
