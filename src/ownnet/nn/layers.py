"""The Layer protocol every layer keeps, and the small layers: ``Dropout``, ``PReLU``,
``Activation`` (``Dense`` has a file of its own, :mod:`ownnet.nn.dense`).

The interface every layer keeps (convolution layers slot in the same way)::

    layer.build(input_shape, dtype, rng) -> output_shape     # per-sample shapes
    layer.forward(x, training=False) -> y                    # x (batch, *input_shape)
    layer.backward(grad, need_input_grad=True) -> dL/dx | None
    layer.params, layer.grads    # dict name -> array, same keys and shapes
    layer.decay                  # names of the params L2 weight decay applies to
    layer.config()               # constructor arguments (JSON-ready)
    layer.state_arrays() / layer.load_state_arrays(arrays)   # what a model file keeps

``forward`` and ``backward`` write into buffers the layer keeps from batch to
batch (grown when a bigger batch comes), so training makes no new arrays per
batch; the arrays they return are valid until the layer's next call. A layer
may overwrite the ``grad`` it is given, and its own output during
``backward``. ``forward`` keeps a reference to its input ``x`` for
``backward``; the caller must leave ``x`` alone until then (the network does:
each input is the previous layer's output buffer).

:data:`LAYERS` maps ``spec["type"]`` to the class, so a network saves its
stack as a list of specs (:func:`layer_from_spec` rebuilds one);
:func:`register_layer` adds new kinds.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any, ClassVar

import numpy as np

from ownnet.nn import activations as acts
from ownnet.nn.initializers import get_initializer

#: Layer classes by ``spec["type"]``.
LAYERS: dict[str, type[Layer]] = {}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Class decorator: make ``cls`` loadable from a spec with ``"type": cls.__name__``."""
    LAYERS[cls.__name__] = cls
    return cls


#: modules that register more layer types; imported when a spec names a type not yet known
#: (so that loading a model file finds them)
LAYER_MODULES = (
    "ownnet.nn.dense",
    "ownnet.nn.conv",
    "ownnet.nn.pooling",
    "ownnet.nn.flatten",
    "ownnet.nn.batchnorm",
)


def layer_from_spec(spec: dict[str, Any]) -> Layer:
    """A new (unbuilt) layer from ``{"type": "Dense", "units": 10, ...}``."""
    options = dict(spec)
    kind = options.pop("type", None)
    if kind not in LAYERS:
        for module in LAYER_MODULES:
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
    if kind not in LAYERS:
        raise ValueError(f"unknown layer type {kind!r}; expected one of {sorted(LAYERS)}")
    return LAYERS[kind](**options)


class Layer:
    """Base class: no parameters, identity."""

    #: parameter names L2 weight decay applies to
    decay: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self.dtype: np.dtype = np.dtype(np.float32)
        self._buffers: dict[str, np.ndarray] = {}
        #: when set (a model file being read), the weight shape ``build`` must find, checked
        #: before anything is allocated: a file cannot make a layer larger than it holds
        self.expected_shapes: dict[str, tuple[int, ...]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the kept buffers (scratch space, made again when needed)."""
        state = dict(self.__dict__)
        state["_buffers"] = {}
        return state

    # -- life cycle ------------------------------------------------------------------------
    def build(
        self, input_shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator
    ) -> tuple[int, ...]:
        """Create the parameters for per-sample inputs of ``input_shape``; returns the
        per-sample output shape."""
        self.input_shape = tuple(int(n) for n in input_shape)
        self.output_shape = self.input_shape
        self.dtype = np.dtype(dtype)
        return self.output_shape

    def _init_weights(
        self, rng: np.random.Generator, shape: tuple[int, ...], init: str, bias: bool
    ) -> None:
        """``params``: weights ``W`` of ``shape`` drawn by the initialiser ``init`` and, with
        ``bias``, zeros ``b (shape[-1],)``; ``grads``: zeros of the same shapes."""
        if self.expected_shapes is not None and self.expected_shapes.get("W") != tuple(shape):
            raise ValueError(
                f"{type(self).__name__} weights W would have shape {tuple(shape)}, "
                f"the file holds {self.expected_shapes.get('W')}"
            )
        self.params = {"W": get_initializer(init)(rng, shape, self.dtype)}
        if bias:
            self.params["b"] = np.zeros(shape[-1], self.dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Outputs ``(batch, *output_shape)`` for inputs ``(batch, *input_shape)``."""
        return x

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Fill :attr:`grads` from ``grad = dL/dy``; returns ``dL/dx`` (or ``None``
        when not ``need_input_grad``)."""
        return grad if need_input_grad else None

    # -- description ---------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {}

    def spec(self) -> dict[str, Any]:
        """``{"type": ..., **config}``: enough to rebuild the layer."""
        return {"type": type(self).__name__, **self.config()}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Arrays a model file keeps: parameters, and running statistics where a layer has them."""
        return dict(self.params)

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy saved arrays into the built layer, checking names and shapes."""
        mine = self.state_arrays()
        missing = sorted(set(mine) - set(arrays))
        if missing:
            raise KeyError(f"{type(self).__name__} is missing arrays {missing}")
        for name, target in mine.items():
            value = np.asarray(arrays[name])
            if value.shape != target.shape:
                raise ValueError(
                    f"{type(self).__name__}.{name} has shape {value.shape}, expected {target.shape}"
                )
            np.copyto(target, value, casting="same_kind")

    @property
    def n_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    # -- buffers -----------------------------------------------------------------------------
    def _buffer(
        self, key: str, n: int, tail: tuple[int, ...], dtype: np.dtype | type | None = None
    ) -> np.ndarray:
        """A ``(n, *tail)`` view of a kept array, grown when ``n`` outgrows it."""
        return kept_rows(self._buffers, key, n, tail, self.dtype if dtype is None else dtype)

    def _kept(
        self, key: str, shape: tuple[int, ...], zero: bool = False, dtype: Any = None
    ) -> np.ndarray:
        """A kept array of exactly ``shape`` (made anew, zeroed if ``zero``, when it changes)."""
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        arr = self._buffers.get(key)
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            arr = np.zeros(shape, dtype) if zero else np.empty(shape, dtype)
            self._buffers[key] = arr
        return arr


def kept_rows(
    buffers: dict[str, np.ndarray], key: str, n: int, tail: tuple[int, ...], dtype: Any
) -> np.ndarray:
    """A ``(n, *tail)`` view of the array ``buffers[key]``, made anew when it has fewer
    rows, another ``tail`` or another ``dtype`` (the kept buffers of layers and networks)."""
    dtype = np.dtype(dtype)
    arr = buffers.get(key)
    if arr is None or arr.shape[0] < n or arr.shape[1:] != tail or arr.dtype != dtype:
        arr = np.empty((n, *tail), dtype)
        buffers[key] = arr
    return arr[:n]


@register_layer
class Dropout(Layer):
    """Inverted dropout: in training, each input is zeroed with probability ``rate``
    and the rest are scaled by ``1 / (1 - rate)``; at test time it does nothing.

    The mask comes from 16 random bits per unit (``rate`` is rounded to a
    multiple of ``1/65536``), drawn in bulk from the layer's ``rng`` (the
    network sets it to its training generator).
    """

    def __init__(self, rate: float) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), found {rate}")
        self.rate = float(rate)
        #: a unit is kept when its 16 random bits are >= this
        self._threshold = np.uint16(min(round(self.rate * 65536), 65535))
        #: the probability of keeping a unit, exactly
        self.keep = 1.0 - int(self._threshold) / 65536
        self.rng: np.random.Generator = np.random.default_rng(0)
        #: the bits for the next training pass, when the caller drew them (ownnet.nn.parallel)
        self.bits: np.ndarray | None = None
        self._mask: np.ndarray | None = None

    def random_bits(self, n: int) -> np.ndarray:
        """16 random bits ``(n * units,)`` uint16 for ``n`` samples, drawn in bulk from ``rng``."""
        size = int(np.prod(self.input_shape)) * n
        # 4 uint16 per 64-bit draw
        return self.rng.bit_generator.random_raw((size + 3) // 4).view(np.uint16)[:size]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        n = len(x)
        tail = x.shape[1:]
        raw = self.random_bits(n) if self.bits is None else self.bits
        self.bits = None
        mask = self._buffer("mask", n, tail)
        np.greater_equal(raw.reshape(mask.shape), self._threshold, out=mask, casting="unsafe")
        mask *= self.dtype.type(1.0 / self.keep)
        y = self._buffer("y", n, tail)
        np.multiply(x, mask, out=y)
        self._mask = mask
        return y

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        if not need_input_grad:
            return None
        if self._mask is not None:
            np.multiply(grad, self._mask, out=grad)
        return grad

    def config(self) -> dict[str, Any]:
        return {"rate": self.rate}


@register_layer
class Activation(Layer):
    """An activation as a layer of its own (``Dense(n)`` then ``Activation("relu")``)."""

    def __init__(self, activation: str | dict[str, Any] | acts.Activation) -> None:
        super().__init__()
        self.activation = acts.get_activation(activation)
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y = self._buffer("y", len(x), x.shape[1:])
        self._y = self.activation.forward(x, y)
        return self._y

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        if not need_input_grad:
            return None
        return self.activation.backward(grad, self._y, grad)

    def config(self) -> dict[str, Any]:
        return {"activation": self.activation.spec()}


@register_layer
class PReLU(Layer):
    """Parametric relu: ``y = x`` for ``x > 0`` else ``alpha * x``, with a learned slope
    ``alpha`` per unit (He et al. 2015), starting at ``alpha_init``."""

    def __init__(self, alpha_init: float = 0.25) -> None:
        super().__init__()
        self.alpha_init = float(alpha_init)
        self._x: np.ndarray | None = None

    def build(
        self, input_shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator
    ) -> tuple[int, ...]:
        super().build(input_shape, dtype, rng)
        self.params = {"alpha": np.full(self.input_shape, self.alpha_init, self.dtype)}
        self.grads = {"alpha": np.zeros_like(self.params["alpha"])}
        return self.output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        n, tail = len(x), x.shape[1:]
        neg = self._buffer("neg", n, tail)  # min(x, 0), kept for backward
        np.minimum(x, 0, out=neg)
        y = self._buffer("y", n, tail)  # x - (1 - alpha) min(x, 0)
        np.multiply(neg, 1.0 - self.params["alpha"], out=y)
        np.subtract(x, y, out=y)
        self._x = x
        return y

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        x = self._x
        if x is None:
            raise RuntimeError("PReLU.backward called before forward")
        n, tail = len(x), x.shape[1:]
        neg = self._buffers["neg"][:n]
        tmp = self._buffer("tmp", n, tail)
        np.multiply(grad, neg, out=tmp)  # dL/dalpha = sum over the batch of grad * min(x, 0)
        np.sum(tmp, axis=0, out=self.grads["alpha"])
        if not need_input_grad:
            return None
        np.less(x, 0, out=tmp, casting="unsafe")  # slope: 1, or alpha where x < 0
        tmp *= self.params["alpha"] - 1.0
        tmp += 1.0
        return np.multiply(grad, tmp, out=grad)

    def config(self) -> dict[str, Any]:
        return {"alpha_init": self.alpha_init}
