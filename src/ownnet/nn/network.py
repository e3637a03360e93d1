"""The matrix engine's network: a stack of layers, forward and backward.

::

    from ownnet.nn import Network, Dense, Dropout
    net = Network([Dense(512, "relu"), Dropout(0.2), Dense(512, "relu"), Dropout(0.2),
                   Dense(10, "softmax")], loss="cross_entropy", optimizer="rmsprop", seed=0)
    history = net.fit(x_train, y_train, epochs=20, validation_data=(x_test, y_test))
    loss, accuracy = net.evaluate(x_test, y_test)

Images come in as uint8 pixels (or floats 0..1) and are scaled at the network's edge, a
batch at a time, straight into a kept float buffer (``input_scale``: ``"unit"`` is
``x / 255``, ``"book"`` the book's ``x / 255 * 0.99 + 0.01``, :mod:`ownnet.book`).
Targets are one-hot (``targets="onehot"``) or the book's 0.01/0.99 (``"book"``).

This file is the stack: :meth:`Network.forward` runs each layer in turn,
:meth:`Network.backward` runs them backwards from the loss (the output layer's part is
:meth:`ownnet.nn.dense.Dense.backward_loss`). Training is :mod:`ownnet.nn.fit`; the
ready-made stacks (:meth:`Network.mlp`, :meth:`Network.cnn`, :meth:`Network.book`) are
:mod:`ownnet.nn.models`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ownnet.book import PIXEL_OFFSET, PIXEL_RANGE, TARGET_OFF, TARGET_ON
from ownnet.classifier import Classifier
from ownnet.inputs import as_images
from ownnet.nn import models, parallel
from ownnet.nn.dense import Dense
from ownnet.nn.fit import Training
from ownnet.nn.layers import Layer, kept_rows, layer_from_spec
from ownnet.nn.losses import Loss, get_loss
from ownnet.nn.optimizers import Optimizer, Param, get_optimizer
from ownnet.training import History

#: ``input_scale`` name -> (range, offset): a pixel ``x`` in 0..1 becomes ``range * x + offset``
#: (``"none"``: the inputs are features, taken as they are)
INPUT_SCALES = {"unit": (1.0, 0.0), "book": (PIXEL_RANGE, PIXEL_OFFSET), "none": (1.0, 0.0)}
#: ``targets`` name -> (off, on) values.
TARGETS = {"onehot": (0.0, 1.0), "book": (TARGET_OFF, TARGET_ON)}
#: images per chunk when predicting or evaluating (conv layers keep larger buffers per image)
EVAL_CHUNK, IMAGE_EVAL_CHUNK = 2048, 256


class Network(Training, Classifier):
    """A stack of layers.

    Args:
        layers: unbuilt layers, or layer specs (dicts), first to last.
        input_shape: per-sample input shape: ``(784,)``, or images ``(1, 28, 28)`` for
            conv layers (the pixels are reshaped to it).
        loss: ``"cross_entropy"`` or ``"quadratic"`` (or a :class:`Loss`).
        input_scale: ``"unit"`` (``x / 255``), ``"book"`` (``x / 255 * 0.99 + 0.01``) or
            ``"none"``: the inputs are not pixels but features (tabular data), any finite
            numbers, taken as they are.
        targets: ``"onehot"`` or ``"book"`` (0.01 and 0.99).
        dtype: ``"float32"`` (default) or ``"float64"``.
        optimizer: what ``fit`` trains with unless told otherwise: a name, a spec
            (``{"name": "sgd", "lr": 0.1}``) or an optimizer (default RMSprop, lr 0.001,
            as the Keras MNIST example).
        batch_size: ``fit``'s batch size unless told otherwise (32, as Keras).
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
        optimizer: str | dict[str, Any] | Optimizer = "rmsprop",
        batch_size: int = 32,
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
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or (batch_size < 1)
        ):
            raise ValueError(f"batch_size must be a whole number >= 1, found {batch_size!r}")
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
        self.optimizer = get_optimizer(optimizer)
        self.batch_size = int(batch_size)
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
        self.takes_pixels = input_scale != "none"
        self._scale_a8 = self.dtype.type(a / 255.0 if self.takes_pixels else a)
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
        #: batches and evaluation split over threads (:mod:`ownnet.nn.parallel`), or None
        self._split: parallel.BatchSplit | None = None
        self.history = History()
        self.meta: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the kept buffers (scratch space, made again when needed)."""
        state = dict(self.__dict__)
        state["_buffers"] = {}
        return state

    # -- ready-made networks (ownnet.nn.models) -------------------------------------------
    @classmethod
    def mlp(cls, hidden: Sequence[int] = (512, 512), **options: Any) -> Network:
        """The Keras MNIST MLP and its relatives: :func:`ownnet.nn.models.mlp`."""
        return models.mlp(cls, hidden, **options)

    @classmethod
    def cnn(cls, filters: Sequence[int] | None = None, **options: Any) -> Network:
        """The default convolutional network: :func:`ownnet.nn.models.cnn`."""
        return models.cnn(cls, filters, **options)

    @classmethod
    def book(
        cls, n_input: int = 784, n_hidden: int = 200, n_output: int = 10, **options: Any
    ) -> Network:
        """The book's network in the matrix engine: :func:`ownnet.nn.models.book`."""
        return models.book(cls, n_input, n_hidden, n_output, **options)

    # -- description -----------------------------------------------------------------------
    @property
    def n_classes(self) -> int:  # type: ignore[override]
        return self.n_outputs

    @property
    def output_activation(self) -> str:  # type: ignore[override]
        last = self.layers[-1]
        return last.activation.name if isinstance(last, Dense) else "linear"

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
        lines.append(f"loss {self.loss.name}, {self.n_params} parameters, {self.optimizer!r}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Network({[layer.spec() for layer in self.layers]}, loss={self.loss.name!r})"

    # -- buffers ---------------------------------------------------------------------------
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

    # -- forward and backward --------------------------------------------------------------
    def scale(self, pixels: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Pixels ``(n, ...)`` (uint8 0..255 or floats 0..1) → network inputs of the same
        shape, in ``dtype``."""
        if out is None:
            out = np.empty(pixels.shape, self.dtype)
        np.multiply(pixels, self._scale_a8 if pixels.dtype == np.uint8 else self._scale_a, out=out)
        if self._scale_b:
            out += self._scale_b
        return out

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Outputs ``(n, k)`` for float inputs ``(n, *input_shape)`` (a kept buffer: copy it
        to keep it)."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(
        self, outputs: np.ndarray, targets: np.ndarray, input_grad: bool = False
    ) -> np.ndarray | None:
        """After :meth:`forward` gave ``outputs (n, k)``: the gradients of the loss against
        ``targets (n, k)`` into every layer's ``grads``, last layer first; returns ``dL/dx``
        if ``input_grad``."""
        last = self.layers[-1]
        need = [input_grad or flag for flag in self._needs_input_grad]
        if isinstance(last, Dense):
            grad = last.backward_loss(self.loss, targets, need[-1])
        else:
            delta = self._buffer("delta", len(outputs), outputs.shape[1:])
            grad = last.backward(self.loss.grad(outputs, targets, delta), need[-1])
        for i in range(len(self.layers) - 2, -1, -1):
            grad = self.layers[i].backward(grad, need[i])
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
        grad = self.backward(out, targets, input_grad=True)
        return loss, np.array(grad)

    def penalty(self, weight_decay: float) -> float:
        """``0.5 * weight_decay * sum(W**2)`` over the decayed parameters."""
        if not weight_decay:
            return 0.0
        total = sum(float(np.vdot(p.value, p.value)) for p in self._params if p.decay)
        return 0.5 * weight_decay * total

    # -- answers (ownnet.classifier) -------------------------------------------------------
    def _forward_pixels(self, flat: np.ndarray, training: bool = False) -> np.ndarray:
        """Forward for flat pixels ``(n, n_pixels)``, uint8 or floats 0..1."""
        n = len(flat)
        xf = self.scale(flat, self._buffer("x", n, (self.n_pixels,)))
        return self.forward(xf.reshape((n, *self.input_shape)), training)

    def _outputs(self, flat: np.ndarray) -> np.ndarray:
        return self._forward_pixels(flat).astype(np.float64)

    def _chunks(self, flat: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
        """``(first row, outputs, logits or None)`` per chunk of flat images (in parts on
        threads where :mod:`ownnet.nn.parallel` splits the network); a chunk's arrays are
        valid until the next is asked for."""
        split = parallel.plan(self)
        if split is not None:
            self._split = split
            yield from split.chunks(flat)
            return
        for i in range(0, len(flat), self.eval_chunk):
            yield i, self._forward_pixels(flat[i : i + self.eval_chunk]), self._logits()

    def outputs(self, x: Any) -> np.ndarray:
        """Raw outputs, float64: ``(n, n_outputs)`` for a batch, ``(n_outputs,)`` for one
        image (pixels uint8 0..255 or floats 0..1, or features for ``input_scale="none"``)."""
        flat, single = as_images(x, self.n_pixels, pixels=self.takes_pixels)
        result = np.empty((len(flat), self.n_outputs))
        for i, out, _ in self._chunks(flat):
            result[i : i + len(out)] = out
        return result[0] if single else result

    def _loss_accuracy(self, images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        """``(mean loss, accuracy)`` (no weight penalty, no dropout), a chunk at a time."""
        total = 0.0
        correct = 0
        for i, out, logits in self._chunks(images):
            lab = labels[i : i + len(out)]
            total += self.loss.fn(out, self._target_table[lab], logits) * len(out)
            correct += int(np.count_nonzero(out.argmax(axis=1) == lab))
        return total / len(images), correct / len(images)

    # -- model files -----------------------------------------------------------------------
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
            "optimizer": self.optimizer.spec(),
            "batch_size": self.batch_size,
        }
        return arrays, config

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> Network:
        """Rebuild a network saved by :meth:`state`; the layers' sizes are checked against
        the stored arrays before any layer is built (:func:`ownnet.nn.models.check_sizes`)."""
        models.check_sizes(config, arrays)
        layers = [layer_from_spec(dict(spec)) for spec in config["layers"]]
        for i, layer in enumerate(layers):
            layer.expected_shapes = models.stored_shapes(arrays, i)
        net = cls(
            layers,
            input_shape=config.get("input_shape", (784,)),
            loss=config.get("loss", "cross_entropy"),
            input_scale=config.get("input_scale", "unit"),
            targets=config.get("targets", "onehot"),
            dtype=config.get("dtype", "float32"),
            optimizer=config.get("optimizer", "rmsprop"),
            batch_size=config.get("batch_size", 32),
            seed=0,
        )
        for layer in net.layers:
            layer.expected_shapes = None
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
        return type(self).from_state({k: v.copy() for k, v in arrays.items()}, config)
