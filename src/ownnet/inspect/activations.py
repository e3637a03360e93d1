"""Every layer's output for a picture: what a network does between input and answer.

A model is seen as a short list of named layers, the way a picture of the
network draws them::

    input    (28, 28)        the pixels, 0 black .. 1 full ink
    conv1    (F, H, W)       a Conv2D and what follows it elementwise (BatchNorm, relu)
    pool1    (F, H, W)       a MaxPool2D
    hidden1  (units,)        a Dense layer but the last (with its activation, PReLU, ...)
    output   (10,)           the last Dense layer: the answer

The book's network (:class:`ownnet.classic.Network`) is ``input``, ``hidden1``,
``output``. ``Flatten`` and ``Dropout`` (which does nothing at test time) are
not layers of their own here.

A :class:`Tracer` runs an engine copy of the model (the book's network becomes
the same network in the matrix engine, :func:`engine_twin`) and keeps each
layer's output; :meth:`Tracer.backward` then sends gradients from any of those
layers back to the input pixels, which is what saliency maps
(:mod:`ownnet.inspect.saliency`) and dreams (:mod:`ownnet.inspect.dream`) are
made of. The copy is the tracer's own: it may run in another thread than the
model, but one tracer serves one thread at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.convert import as_nn
from ownnet.inspect.stack import input_scale
from ownnet.nn.dense import Dense

#: Layers that act elementwise or reshape: they belong to the layer before them.
FOLLOWERS = ("Activation", "PReLU", "Dropout", "BatchNorm", "Flatten")


@dataclass(frozen=True)
class LayerInfo:
    """One layer of the picture of a network.

    Attributes:
        name: ``"input"``, ``"conv1"``, ``"pool1"``, ``"hidden1"``, ..., ``"output"``.
        kind: ``"input"``, ``"conv"``, ``"pool"``, ``"dense"`` or ``"output"``.
        shape: the shape of its output for one picture.
        first: index of its first engine layer in ``net.layers`` (-1 for the input).
        last: index of the engine layer whose output it is (-1 for the input).
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    first: int
    last: int

    def describe(self) -> dict[str, Any]:
        """``{"name", "kind", "shape"}`` (JSON-ready)."""
        return {"name": self.name, "kind": self.kind, "shape": list(self.shape)}


@dataclass(frozen=True)
class Activation:
    """A layer and its output for each picture: ``values (n, *layer.shape)`` float64."""

    layer: LayerInfo
    values: np.ndarray


def engine_twin(model: Any) -> Any:
    """A matrix-engine copy of ``model`` (classic or nn) that passes back true gradients.

    The copy shares nothing with ``model``, so it may be used in another thread.
    The book's Dense layers pass back the book's hidden errors (no activation
    derivative) when trained; here they give the gradient itself.
    """
    net = as_nn(model)
    net = net.copy() if net is model else net
    for layer in net.layers:
        if isinstance(layer, Dense):
            layer.book_errors = False
    return net


def layer_infos(net: Any) -> list[LayerInfo]:
    """The named layers of an engine network ``net``, input first (see the module doc)."""
    kinds = {"Conv2D": "conv", "MaxPool2D": "pool", "Dense": "dense"}
    dense_positions = [i for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]
    side = int(round(np.sqrt(net.n_pixels)))
    in_shape = (side, side) if side * side == net.n_pixels else (net.n_pixels,)
    infos = [LayerInfo("input", "input", in_shape, -1, -1)]
    counts: dict[str, int] = {}
    groups: list[dict[str, Any]] = []
    for i, layer in enumerate(net.layers):
        name = type(layer).__name__
        if name in FOLLOWERS and groups:
            if name != "Flatten":  # the picture keeps the layer's (C, H, W) shape
                groups[-1]["last"] = i
            continue
        if name not in kinds:
            raise ValueError(f"layer {i} ({name}) has no place in the picture of a network")
        kind = kinds[name]
        if dense_positions and i == dense_positions[-1]:
            label, kind = "output", "output"
        else:
            counts[kind] = counts.get(kind, 0) + 1
            label = f"{'hidden' if kind == 'dense' else kind}{counts[kind]}"
        groups.append({"name": label, "kind": kind, "first": i, "last": i})
    for g in groups:
        shape = tuple(int(n) for n in net.layers[g["last"]].output_shape)
        infos.append(LayerInfo(g["name"], g["kind"], shape, g["first"], g["last"]))
    return infos


class Tracer:
    """Runs a model and keeps every layer's output, then sends gradients back to the input.

    Args:
        model: a classic or nn model (it is copied: see :func:`engine_twin`).
        dtype: of the layer outputs :meth:`forward` returns (float64 by default; the
            network's own, float32 for the engine's default, is half the work to copy).
    """

    def __init__(self, model: Any, dtype: Any = np.float64) -> None:
        self.net = engine_twin(model)
        self.layers = layer_infos(self.net)
        self.dtype = np.dtype(dtype)
        # max pooling remembers where each window's maximum was only in training mode,
        # which it otherwise does not differ in; the backward pass is then much faster
        self._remember = [type(layer).__name__ == "MaxPool2D" for layer in self.net.layers]
        a, b = input_scale(self.net)
        self._a, self._b = 255.0 * a, b  # network input = _a * picture + _b
        self._n = 0

    def index(self, name: str) -> int:
        """The position of layer ``name`` in :attr:`layers`."""
        for i, info in enumerate(self.layers):
            if info.name == name:
                return i
        names = [info.name for info in self.layers]
        raise ValueError(f"no layer {name!r}: this model has {names}")

    def forward(self, pictures: np.ndarray, until: int | None = None) -> list[np.ndarray]:
        """Each layer's output ``(n, *shape)`` (in :attr:`dtype`) for ``pictures (n, 28, 28)`` or
        ``(n, 784)`` in [0, 1], from the input up to layer ``until`` (an index into
        :attr:`layers`; default: all). The layers keep what :meth:`backward` needs."""
        x = np.asarray(pictures, dtype=np.float64).reshape(len(pictures), -1)
        if x.shape[1] != self.net.n_pixels:
            raise ValueError(f"expected pictures of {self.net.n_pixels} pixels, found {x.shape[1]}")
        stop = len(self.layers) - 1 if until is None else until
        h = (self._a * x + self._b).astype(self.net.dtype).reshape((len(x), *self.net.input_shape))
        outputs = [x.reshape((len(x), *self.layers[0].shape))]
        ends = {info.last: k for k, info in enumerate(self.layers) if k and k <= stop}
        for i, layer in enumerate(self.net.layers[: self.layers[stop].last + 1]):
            h = layer.forward(h, self._remember[i])
            if i in ends:
                info = self.layers[ends[i]]
                values = np.array(h, dtype=self.dtype, order="C")  # a copy, row by row
                outputs.append(values.reshape((len(x), *info.shape)))
        self._n, self._until = len(x), stop
        return outputs

    def net_input(self, k: int) -> np.ndarray:
        """After :meth:`forward`: the net input ``z = x @ W + b`` ``(n, units)`` of the Dense
        layer that starts layer ``k`` (for the output: the class scores before the softmax
        or sigmoid)."""
        dense = self.net.layers[self.layers[k].first]
        z = np.asarray(dense._x, dtype=np.float64) @ np.asarray(dense.W, dtype=np.float64)
        return z + dense.b if dense.b is not None else z

    def backward(self, grads: dict[int, np.ndarray], *, net_input: bool = False) -> np.ndarray:
        """After :meth:`forward`: the gradient with respect to the pictures ``(n, n_pixels)``
        of an objective whose gradient with respect to layer ``k``'s output is ``grads[k]``
        ``(n, *shape)`` (several layers add up).

        ``net_input``: the gradient given for the highest layer is with respect to its
        Dense layer's net input ``z`` (before the activation) instead of its output.
        """
        if not grads:
            raise ValueError("no gradient given")
        top = max(grads)
        if top > self._until or min(grads) < 1:
            raise ValueError(f"gradients for layers 1..{self._until} only, found {sorted(grads)}")
        inject = {self.layers[k].last: k for k in grads}
        if net_input:
            inject[self.layers[top].first] = inject.pop(self.layers[top].last)
        g = None
        for i in range(self.layers[top].last, -1, -1):
            if i in inject:
                k = inject[i]
                shape = (self._n, *self.net.layers[i].output_shape)
                if net_input and k == top:
                    shape = (self._n, self.net.layers[i].units)
                extra = np.asarray(grads[k], dtype=self.net.dtype).reshape(shape)
                g = extra.copy() if g is None else g + extra
                if net_input and k == top:
                    g = self.net.layers[i].backward_delta(g, True)
                    continue
            if g is not None:
                g = self.net.layers[i].backward(g, True)
        return np.asarray(g, dtype=np.float64).reshape(self._n, -1) * self._a


def activations(model: Any, pictures: np.ndarray) -> list[Activation]:
    """Every layer's output for ``pictures (n, 28, 28)`` in [0, 1], input first."""
    tracer = Tracer(model)
    values = tracer.forward(pictures)
    return [Activation(info, v) for info, v in zip(tracer.layers, values, strict=True)]
