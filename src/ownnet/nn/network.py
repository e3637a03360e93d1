"""The matrix engine's network: a stack of layers trained on minibatches.

::

    from ownnet.nn import Network, Dense, Dropout, RMSprop
    net = Network([Dense(512, "relu"), Dropout(0.2), Dense(512, "relu"), Dropout(0.2),
                   Dense(10, "softmax")], loss="cross_entropy", seed=0)
    history = net.fit(splits.train, epochs=20, batch_size=128, optimizer=RMSprop(0.001),
                      validation_data=splits.test)
    net.evaluate(splits.test)

Data come in as uint8 images and are scaled at the model's edge, one batch at
a time, straight into a kept float buffer (``input_scale``: ``"unit"`` is
``x / 255``, ``"book"`` the book's ``x / 255 * 0.99 + 0.01``). Targets are
one-hot (``targets="onehot"``) or the book's 0.01/0.99 (``"book"``).

:meth:`Network.book` sets up the book's network (sigmoid, quadratic cost, no
bias, the book's error split, float64); trained with ``batch_size=1`` and
``SGD(lr)`` it ends with the same weights as :class:`ownnet.classic.Network`
(:meth:`Network.from_classic` and :meth:`Network.to_classic` convert).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import numpy as np

from ownnet.classifier import Classifier
from ownnet.errors import OwnnetError
from ownnet.history import History
from ownnet.nn import parallel
from ownnet.nn.callbacks import Callback, FitState
from ownnet.nn.cnn import DEFAULTS as CNN_DEFAULTS
from ownnet.nn.cnn import cnn_layers
from ownnet.nn.layers import Dense, Dropout, Layer, kept_rows, layer_from_spec
from ownnet.nn.losses import Loss, get_loss
from ownnet.nn.optimizers import SGD, Optimizer, Param, get_optimizer
from ownnet.nn.progress import ProgressBar
from ownnet.nn.schedules import Schedule, get_schedule

#: ``input_scale`` name -> (a, b): pixel p becomes ``a * p + b``.
INPUT_SCALES = {"unit": (1.0 / 255.0, 0.0), "book": (0.99 / 255.0, 0.01)}
#: ``targets`` name -> (off, on) values.
TARGETS = {"onehot": (0.0, 1.0), "book": (0.01, 0.99)}
#: images per chunk when predicting or evaluating
EVAL_CHUNK = 2048
#: the same for networks on images (conv layers keep much larger buffers per image)
IMAGE_EVAL_CHUNK = 256
#: the first Dense layer skips all-zero pixel columns when at most this fraction is left
COMPACT_MAX_FRACTION = 0.9


class TrainingDiverged(OwnnetError):
    """The loss became NaN or infinite."""


def _spec(obj: Any) -> Any:
    """``obj.spec()`` where it has one (JSON for checkpoints), else its ``repr``."""
    spec = getattr(obj, "spec", None)
    return spec() if callable(spec) else repr(obj)


class Network(Classifier):
    """A stack of layers.

    Args:
        layers: unbuilt layers, or layer specs (dicts), first to last.
        input_shape: per-sample input shape: ``(784,)``, or images ``(1, 28, 28)`` for
            conv layers (the uint8 pixels are reshaped to it).
        loss: ``"cross_entropy"`` or ``"quadratic"`` (or a :class:`Loss`).
        input_scale: ``"unit"`` (``x / 255``) or ``"book"`` (``x / 255 * 0.99 + 0.01``).
        targets: ``"onehot"`` or ``"book"`` (0.01 and 0.99).
        dtype: ``"float32"`` (default) or ``"float64"``.
        seed: seed or generator for the initial weights.
    """

    kind = "nn"

    def __init__(
        self,
        layers: Sequence[Layer | dict[str, Any]],
        *,
        input_shape: Sequence[int] = (784,),
        loss: str | Loss = "cross_entropy",
        input_scale: str = "unit",
        targets: str = "onehot",
        dtype: str | np.dtype | type = "float32",
        seed: int | np.random.Generator | None = 0,
    ) -> None:
        if not layers:
            raise ValueError("a network needs at least one layer")
        if input_scale not in INPUT_SCALES:
            raise ValueError(
                f"input_scale must be one of {sorted(INPUT_SCALES)}, found {input_scale!r}"
            )
        if targets not in TARGETS:
            raise ValueError(f"targets must be one of {sorted(TARGETS)}, found {targets!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, found {self.dtype}")
        self.layers: list[Layer] = [
            layer_from_spec(x) if isinstance(x, dict) else x for x in layers
        ]
        self.input_shape = tuple(int(n) for n in input_shape)
        self.loss = get_loss(loss)
        self.input_scale = input_scale
        self.targets = targets
        rng = np.random.default_rng(seed)
        shape = self.input_shape
        for layer in self.layers:
            shape = layer.build(shape, self.dtype, rng)
        self.output_shape = shape
        if len(shape) != 1:
            raise ValueError(f"the last layer must give flat outputs (k,), found {shape}")
        self.n_outputs = shape[0]
        self.n_pixels = int(np.prod(self.input_shape))
        a, b = INPUT_SCALES[input_scale]
        self._scale_a, self._scale_b = self.dtype.type(a), self.dtype.type(b)
        off, on = TARGETS[targets]
        self._target_table = np.full((self.n_outputs, self.n_outputs), off, self.dtype)
        np.fill_diagonal(self._target_table, on)
        self._needs_input_grad = [
            any(lay.params for lay in self.layers[:i]) for i in range(len(self.layers))
        ]
        self._params = [
            Param(f"layer{i}.{name}", value, layer.grads[name], name in layer.decay)
            for i, layer in enumerate(self.layers)
            for name, value in layer.params.items()
        ]
        #: skip pixel columns that are zero in the whole batch (training, first Dense layer)
        self.compact_inputs = True
        #: images per chunk in outputs, predict and evaluate
        self.eval_chunk = EVAL_CHUNK if len(self.input_shape) == 1 else IMAGE_EVAL_CHUNK
        self._buffers: dict[str, np.ndarray] = {}
        self.optimizer: Optimizer | None = None
        self._split: parallel.BatchSplit | None = None

    # -- ready-made networks ------------------------------------------------------------------
    @classmethod
    def mlp(
        cls,
        hidden: Sequence[int] = (512, 512),
        *,
        activation: str = "relu",
        dropout: float = 0.2,
        n_input: int = 784,
        n_output: int = 10,
        output: str = "softmax",
        loss: str = "cross_entropy",
        init: str | None = None,
        **options: Any,
    ) -> Network:
        """Dense layers of sizes ``hidden`` with ``activation`` (a ``"prelu"`` activation adds
        a PReLU layer), each followed by ``Dropout(dropout)``, then ``Dense(n_output,
        output)``. ``init`` defaults to Glorot, as Keras' Dense layers (the defaults
        here are the Keras MNIST MLP example's)."""
        from ownnet.nn.layers import PReLU

        if init is None:
            init = "glorot"
        layers: list[Layer] = []
        for units in hidden:
            if activation == "prelu":
                layers += [Dense(units, None, init=init), PReLU()]
            else:
                layers.append(Dense(units, activation, init=init))
            if dropout:
                layers.append(Dropout(dropout))
        layers.append(Dense(n_output, output, init="glorot"))
        return cls(layers, input_shape=(n_input,), loss=loss, **options)

    @classmethod
    def cnn(
        cls,
        filters: Sequence[int] = CNN_DEFAULTS["filters"],
        *,
        kernel_size: int = CNN_DEFAULTS["kernel_size"],
        dense: int | Sequence[int] | None = CNN_DEFAULTS["dense"],
        dropout: float = CNN_DEFAULTS["dropout"],
        batchnorm: bool = CNN_DEFAULTS["batchnorm"],
        n_output: int = 10,
        output: str = "softmax",
        **options: Any,
    ) -> Network:
        """The default convolutional network on ``(1, 28, 28)`` images (:mod:`ownnet.nn.cnn`):
        per entry of ``filters`` a ``same`` convolution with relu and a 2x2 max pool,
        then ``Dense(dense, relu)`` (one per entry if a sequence) each with
        ``Dropout(dropout)``, and ``Dense(n_output, output)``; ``batchnorm`` puts a
        :class:`~ownnet.nn.batchnorm.BatchNorm` before each conv relu. The defaults are
        :data:`ownnet.nn.cnn.DEFAULTS` (32 and 64 3x3 filters, dense 128, dropout 0.5)."""
        layers = cnn_layers(
            filters, kernel_size=kernel_size, dense=dense, dropout=dropout,
            batchnorm=batchnorm, n_output=n_output, output=output,
        )  # fmt: skip
        return cls(layers, input_shape=(1, 28, 28), **options)

    @classmethod
    def book(
        cls,
        n_input: int = 784,
        n_hidden: int = 200,
        n_output: int = 10,
        *,
        bias: bool = False,
        seed: int | np.random.Generator | None = 0,
    ) -> Network:
        """The book's network: sigmoid layers, quadratic cost, ``N(0, 1/sqrt(n_in))``
        weights, the book's input scaling and targets, and its hidden errors
        (``who.T @ e``), in float64. Train with ``SGD(lr)`` and ``batch_size=1``."""
        layers = [
            Dense(n_hidden, "sigmoid", use_bias=bias, init="normal", book_errors=True),
            Dense(n_output, "sigmoid", use_bias=bias, init="normal", book_errors=True),
        ]
        return cls(
            layers,
            input_shape=(n_input,),
            loss="quadratic",
            input_scale="book",
            targets="book",
            dtype="float64",
            seed=seed,
        )

    @classmethod
    def from_classic(cls, classic_net: Any) -> Network:
        """The same network as a :class:`ownnet.classic.Network`: weights transposed to
        ``(n_in, n_out)``, bias nodes become biases. Only the book's error split
        (``"transpose"``) has an equivalent here."""
        if classic_net.error_split != "transpose":
            raise ValueError(
                f"only the book's error split 'transpose' maps to the matrix engine, "
                f"found {classic_net.error_split!r}"
            )
        n_in, n_hid, n_out = classic_net.sizes
        net = cls.book(n_in, n_hid, n_out, bias=classic_net.bias)
        for layer, w in zip(net.layers, (classic_net.wih, classic_net.who), strict=True):
            if classic_net.bias:
                layer.params["W"][...] = w[:, :-1].T
                layer.params["b"][...] = w[:, -1]
            else:
                layer.params["W"][...] = w.T
        return net

    def to_classic(self, lr: float = 0.1) -> Any:
        """This network as a :class:`ownnet.classic.Network` (two sigmoid Dense layers)."""
        from ownnet.classic import Network as Classic

        dense = [x for x in self.layers if isinstance(x, Dense)]
        if (
            len(self.layers) != 2
            or len(dense) != 2
            or any(d.activation.name != "sigmoid" for d in dense)
            or dense[0].use_bias != dense[1].use_bias
        ):
            raise ValueError(
                "only a network of two sigmoid Dense layers (both with or both without bias) "
                f"converts to the classic network, found {[x.spec() for x in self.layers]}"
            )
        bias = dense[0].use_bias
        net = Classic(self.n_pixels, dense[0].units, dense[1].units, lr, bias=bias, seed=0)
        for name, layer in zip(("wih", "who"), dense, strict=True):
            w = layer.params["W"].T.astype(np.float64)
            if bias:
                w = np.hstack([w, layer.params["b"].astype(np.float64)[:, None]])
            setattr(net, name, np.ascontiguousarray(w))
        return net

    # -- description -----------------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    def params(self) -> list[Param]:
        """Every trainable array with its gradient, named ``layer<i>.<name>``."""
        return list(self._params)

    def summary(self) -> str:
        """One line per layer with output shape and parameter count."""
        lines = [f"input {self.input_shape}, scale {self.input_scale!r}, dtype {self.dtype}"]
        for i, layer in enumerate(self.layers):
            lines.append(f"  {i}: {layer!r} -> {layer.output_shape}, {layer.n_params} params")
        lines.append(f"loss {self.loss.name}, {self.n_params} parameters")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Network({[layer.spec() for layer in self.layers]}, loss={self.loss.name!r})"

    # -- forward and backward --------------------------------------------------------------------
    def _buffer(self, key: str, n: int, tail: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return kept_rows(self._buffers, key, n, tail, self.dtype if dtype is None else dtype)

    def _flat_buffer(self, key: str, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        """A C-contiguous array of ``shape`` carved from a kept flat buffer (for shapes that
        change from batch to batch)."""
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        size = int(np.prod(shape))
        arr = self._buffers.get(key)
        if arr is None or arr.size < size or arr.dtype != dtype:
            arr = np.empty(size if arr is None else max(size, 2 * arr.size), dtype)
            self._buffers[key] = arr
        return arr[:size].reshape(shape)

    def scale(self, pixels: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """uint8 pixels ``(n, ...)`` -> network inputs of the same shape, in ``dtype``."""
        if out is None:
            out = np.empty(pixels.shape, self.dtype)
        np.multiply(pixels, self._scale_a, out=out)
        if self._scale_b:
            out += self._scale_b
        return out

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Outputs ``(n, k)`` for float inputs ``(n, *input_shape)`` (a kept buffer: copy it
        to keep it)."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def _forward_pixels(self, x8: np.ndarray, training: bool) -> np.ndarray:
        """Forward for uint8 pixels ``(n, n_pixels)``."""
        n = len(x8)
        first = self.layers[0]
        if (
            training
            and self.compact_inputs
            and isinstance(first, Dense)
            and self._scale_b == 0
            and len(self.input_shape) == 1
        ):
            cols = x8.any(axis=0).nonzero()[0]
            if len(cols) <= COMPACT_MAX_FRACTION * self.n_pixels:
                shape = (n, len(cols))
                xc8 = self._flat_buffer("xc8", shape, np.uint8)
                x8.take(cols, axis=1, out=xc8, mode="clip")
                xf = self.scale(xc8, self._flat_buffer("xc", shape))
                out = first.forward(xf, training, columns=cols)
                for layer in self.layers[1:]:
                    out = layer.forward(out, training)
                return out
        xf = self.scale(x8, self._buffer("x", n, (self.n_pixels,)))
        return self.forward(xf.reshape((n, *self.input_shape)), training)

    def _backward(self, outputs: np.ndarray, targets: np.ndarray, input_grad: bool = False) -> Any:
        """Gradients of the loss into every layer's ``grads``; returns ``dL/dx`` if
        ``input_grad``."""
        last = self.layers[-1]
        delta = self._buffer("delta", len(outputs), outputs.shape[1:])
        if isinstance(last, Dense) and not last.book_errors:
            self.loss.delta(outputs, targets, last.activation, delta)
            grad = last.backward(delta, input_grad or self._needs_input_grad[-1], True)
        else:
            self.loss.grad(outputs, targets, delta)
            grad = last.backward(delta, input_grad or self._needs_input_grad[-1])
        for i in range(len(self.layers) - 2, -1, -1):
            grad = self.layers[i].backward(grad, input_grad or self._needs_input_grad[i])
        return grad

    def _logits(self) -> np.ndarray | None:
        """The last layer's pre-activations where they are kept apart (softmax)."""
        last = self.layers[-1]
        if isinstance(last, Dense) and not last.activation.in_place:
            return last._z
        return None

    def loss_and_grads(
        self, x: np.ndarray, targets: np.ndarray, training: bool = False
    ) -> tuple[float, np.ndarray]:
        """Loss for float inputs ``x (n, *input_shape)`` and targets ``(n, k)``; fills every
        layer's ``grads``. Returns ``(loss, dL/dx)``. (For tests and tools; ``fit``
        uses a faster path.)"""
        out = self.forward(x, training)
        loss = self.loss.fn(out, targets, self._logits())
        grad = self._backward(out, targets, input_grad=True)
        return loss, np.array(grad)

    def penalty(self, weight_decay: float) -> float:
        """``0.5 * weight_decay * sum(W**2)`` over the decayed parameters."""
        if not weight_decay:
            return 0.0
        total = sum(float(np.vdot(p.value, p.value)) for p in self._params if p.decay)
        return 0.5 * weight_decay * total

    def _train_batch(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        idx: np.ndarray,
        optimizer: Optimizer,
    ) -> tuple[float, int]:
        """One step on ``images[idx]``; returns (mean loss, correct count)."""
        if self._split is not None:  # parts of the batch on threads (ownnet.nn.parallel)
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
        x8 = self._buffer("x8", n, (self.n_pixels,), np.uint8)
        images.take(idx, axis=0, out=x8, mode="clip")  # "raise" would buffer
        lab = self._buffer("labels", n, (), np.intp)
        labels.take(idx, out=lab, mode="clip")
        out = self._forward_pixels(x8, True)
        y = self._buffer("targets", n, (self.n_outputs,))
        self._target_table.take(lab, axis=0, out=y, mode="clip")
        loss = self.loss.fn(out, y, self._logits())
        correct = int(np.count_nonzero(out.argmax(axis=1) == lab))
        self._backward(out, y)
        return loss, correct

    # -- training --------------------------------------------------------------------------------
    def fit(
        self,
        train: Any,
        epochs: int = 1,
        *,
        batch_size: int = 32,
        optimizer: str | dict[str, Any] | Optimizer | None = None,
        schedule: str | dict[str, Any] | Schedule | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        rng: int | np.random.Generator | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: int = 1,
        stream: TextIO | None = None,
        initial_epoch: int = 0,
        history: History | None = None,
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    ) -> History:
        """Train on minibatches.

        Args:
            train: a dataset: uint8 ``images (n, 28, 28)`` or ``(n, 784)``, ``labels (n,)``.
            epochs: train until this many epochs are done (counting ``initial_epoch``).
            batch_size: samples per step (the last batch of an epoch may be smaller).
            optimizer: an :class:`Optimizer`, a name or spec (default ``SGD(0.01)``).
            schedule: learning rate per epoch (sets ``optimizer.lr`` before each epoch).
            validation_split: hold out this last fraction of ``train`` (as Keras does).
            validation_data: or measure on this dataset after each epoch.
            shuffle: new order every epoch from ``rng``.
            rng: seed or generator for shuffling and dropout.
            callbacks: :class:`~ownnet.nn.callbacks.EarlyStopping`,
                :class:`~ownnet.nn.callbacks.Checkpoint`, ...
            verbose: 0 silent, 1 Keras-style progress line per epoch.
            stream: where progress goes (stdout).
            initial_epoch, history: continue a run (see :mod:`ownnet.nn.checkpoint`).
            augment: called before each epoch as ``augment(images, rng)`` with the uint8
                training images ``(n, n_pixels)`` and the generator of ``rng``; the epoch
                trains on the images it returns (e.g.
                :class:`~ownnet.nn.augmentation.RandomTransform`: new random rotations
                and shifts every epoch).

        Returns:
            :class:`History` with ``loss`` (the mean over the epoch's batches, as
            Keras reports it, plus the L2 penalty at the end of the epoch when the
            optimiser has weight decay), ``accuracy`` (also over the batches), ``val_loss``,
            ``val_accuracy`` (given validation), ``seconds`` and ``lr`` per epoch.

        Raises:
            TrainingDiverged: the loss became NaN or infinite.
        """
        images, labels = self._dataset_arrays(train, "train")
        if validation_data is not None and validation_split:
            raise ValueError("give validation_data or validation_split, not both")
        val = None
        if validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"validation_split must be in (0, 1), found {validation_split}")
            n_val = int(round(len(images) * validation_split))
            if n_val < 1 or n_val >= len(images):
                raise ValueError(
                    f"validation_split {validation_split} of {len(images)} samples leaves "
                    "no validation or no training samples"
                )
            val = (images[-n_val:], labels[-n_val:])
            images, labels = images[:-n_val], labels[:-n_val]
        elif validation_data is not None:
            val = self._dataset_arrays(validation_data, "validation_data")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, found {batch_size}")
        batch_size = int(batch_size)
        n = len(images)
        if n == 0:
            raise ValueError("cannot train on an empty dataset")
        optimizer = SGD(0.01) if optimizer is None else get_optimizer(optimizer)
        sched = None if schedule is None else get_schedule(schedule)
        self.optimizer = optimizer
        self._split = parallel.plan(self)
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.rng = gen
        run = FitState(
            network=self,
            optimizer=optimizer,
            rng=gen,
            history=history if history is not None else History(),
            epoch=int(initial_epoch),
            epochs=int(epochs),
            settings={
                "batch_size": batch_size,
                "epochs": int(epochs),
                "shuffle": bool(shuffle),
                "validation_split": float(validation_split),
                **({"augment": _spec(augment)} if augment is not None else {}),
            },
            schedule=sched,
            callbacks=list(callbacks),
        )
        out = stream if stream is not None else sys.stdout
        for cb in run.callbacks:
            cb.on_train_begin(run)
        order = np.arange(n)
        n_batches = -(-n // batch_size)
        for epoch in range(int(initial_epoch), int(epochs)):
            if sched is not None:
                optimizer.lr = sched(epoch)
            if shuffle:
                order = gen.permutation(n)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", file=out, flush=True)
                bar = ProgressBar(n, out)
            start = time.perf_counter()
            epoch_images = images
            if augment is not None:
                epoch_images = self._flat(augment(images, gen), "augmented images")
            loss_sum = 0.0
            correct = 0
            done = 0
            for b in range(n_batches):
                idx = order[b * batch_size : (b + 1) * batch_size]
                loss, right = self._train_batch(epoch_images, labels, idx, optimizer)
                if not math.isfinite(loss):
                    raise TrainingDiverged(
                        f"the loss became {loss} at epoch {epoch + 1}, batch {b + 1} of "
                        f"{n_batches} (learning rate {optimizer.lr:g}); try a smaller "
                        f"learning rate, e.g. {optimizer.lr / 10:g}"
                    )
                loss_sum += loss * len(idx)
                correct += right
                done += len(idx)
                if verbose and bar.live:
                    bar.update(done, {"loss": loss_sum / done, "accuracy": correct / done})
            seconds = time.perf_counter() - start
            values = {"loss": loss_sum / n + self.penalty(optimizer.weight_decay)}
            values["accuracy"] = correct / n
            if val is not None:
                val_loss, val_acc = self._loss_accuracy(*val)
                values["val_loss"], values["val_accuracy"] = val_loss, val_acc
            run.epoch = epoch + 1
            run.history.append(
                epoch=epoch + 1, **values, seconds=seconds, lr=optimizer.lr, samples=n
            )
            if verbose:
                bar.finish(values, seconds)
            for cb in run.callbacks:
                cb.on_epoch_end(run)
            if run.stop:
                if verbose and run.stop_reason:
                    print(run.stop_reason, file=out, flush=True)
                break
        for cb in run.callbacks:
            cb.on_train_end(run)
        return run.history

    # -- using the network -----------------------------------------------------------------------
    def _dataset_arrays(self, data: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        images = self._flat(data.images, f"{what}.images")
        labels = np.asarray(data.labels)
        if labels.dtype != np.intp:
            labels = labels.astype(np.intp)
        if len(images) != len(labels):
            raise ValueError(f"{what}: {len(images)} images but {len(labels)} labels")
        if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= self.n_outputs):
            raise ValueError(
                f"{what}: labels must be in 0..{self.n_outputs - 1}, found "
                f"{int(labels.min())}..{int(labels.max())}"
            )
        return images, labels

    def _flat(self, images: np.ndarray, what: str) -> np.ndarray:
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise TypeError(
                f"{what}: expected uint8 pixel values 0..255, found dtype {images.dtype}"
            )
        flat = images.reshape(len(images), -1)
        if flat.shape[1] != self.n_pixels:
            raise ValueError(
                f"{what}: expected {self.n_pixels} pixels per image, found {flat.shape[1]}"
            )
        return flat

    def _chunks(self, flat: np.ndarray) -> Any:
        """``(first row, outputs, logits or None)`` per chunk of ``flat`` (in parts on threads
        where :mod:`ownnet.nn.parallel` splits the network)."""
        split = parallel.for_evaluation(self, len(flat))
        if split is not None:
            self._split = split
            yield from split.chunks(flat)
            return
        for i in range(0, len(flat), self.eval_chunk):
            yield i, self._forward_pixels(flat[i : i + self.eval_chunk], False), self._logits()

    def outputs(self, images: np.ndarray) -> np.ndarray:
        """Network outputs (float64) for uint8 images ``(n, 28, 28)`` or ``(n, 784)`` ->
        ``(n, n_outputs)``."""
        flat = self._flat(images, "images")
        result = np.empty((len(flat), self.n_outputs))
        for i, out, _ in self._chunks(flat):
            result[i : i + len(out)] = out
        return result

    def _loss_accuracy(self, images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        total = 0.0
        correct = 0
        for i, out, logits in self._chunks(images):
            lab = labels[i : i + len(out)]
            y = self._target_table[lab]
            total += self.loss.fn(out, y, logits) * len(out)
            correct += int(np.count_nonzero(out.argmax(axis=1) == lab))
        return total / len(images), correct / len(images)

    def loss_accuracy(self, dataset: Any) -> tuple[float, float]:
        """``(mean loss, accuracy)`` on a dataset (no weight penalty, no dropout)."""
        images, labels = self._dataset_arrays(dataset, "dataset")
        if len(images) == 0:
            raise ValueError("cannot evaluate on an empty dataset")
        return self._loss_accuracy(images, labels)

    # -- model files -----------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays (``layer<i>.<name>``) and config for :func:`ownnet.io.save_model`."""
        arrays = {
            f"layer{i}.{name}": value
            for i, layer in enumerate(self.layers)
            for name, value in layer.state_arrays().items()
        }
        config = {
            "input_shape": list(self.input_shape),
            "layers": [layer.spec() for layer in self.layers],
            "loss": self.loss.name,
            "input_scale": self.input_scale,
            "targets": self.targets,
            "dtype": self.dtype.name,
        }
        return arrays, config

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> Network:
        """Rebuild a network saved by :meth:`state`."""
        net = cls(
            [dict(spec) for spec in config["layers"]],
            input_shape=config.get("input_shape", (784,)),
            loss=config.get("loss", "cross_entropy"),
            input_scale=config.get("input_scale", "unit"),
            targets=config.get("targets", "onehot"),
            dtype=config.get("dtype", "float32"),
            seed=0,
        )
        net.load_arrays(arrays)
        return net

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy arrays named as :meth:`state` names them into the layers."""
        for i, layer in enumerate(self.layers):
            prefix = f"layer{i}."
            mine = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            try:
                layer.load_state_arrays(mine)
            except (KeyError, ValueError) as exc:
                raise type(exc)(f"layer {i}: {exc}") from exc

    def copy(self) -> Network:
        """An independent copy with the same weights."""
        arrays, config = self.state()
        return Network.from_state({k: v.copy() for k, v in arrays.items()}, config)
