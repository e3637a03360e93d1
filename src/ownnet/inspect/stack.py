"""A model seen as a stack of dense layers: what the inspection tools need to know about it.

Two kinds of model are inspected: the book's :class:`ownnet.classic.Network`
(weights ``(n_out, n_in)``, sigmoid, optional bias node) and the matrix
engine's :class:`ownnet.nn.network.Network` (a list of layers, ``Dense`` weights
``(n_in, n_out)``). Here both are described the same way, in the matrix
engine's orientation: a list of :class:`DenseLayer`, numbered from 1 (the
first hidden layer) to the output layer. In a convolutional network the image
layers before the first Dense layer (``Conv2D``, ``MaxPool2D``, ``BatchNorm``,
``Flatten``) are its feature extractor: the dense layers are numbered after
them, and the tools run them forward and backward with the input (conv layers
have their own pictures: :mod:`ownnet.inspect.feature_maps`).

A classic network becomes an equivalent matrix-engine network with
:func:`as_nn` (same weights, float64), so that activation maximisation can
use the matrix engine's backward pass for both kinds.
"""

from __future__ import annotations

from typing import Any

from ownnet.book import PIXEL_OFFSET, PIXEL_SCALE
from ownnet.convert import ELEMENTWISE, FEATURES, DenseLayer, InspectError, as_nn, dense_layers
from ownnet.nn.network import INPUT_SCALES

__all__ = [
    "ELEMENTWISE",
    "FEATURES",
    "DenseLayer",
    "InspectError",
    "as_nn",
    "dense_layers",
    "describe",
    "input_scale",
    "kind_of",
    "layer_number",
]


def kind_of(model: Any) -> str:
    """``"classic"`` or ``"nn"``; raises :class:`InspectError` for anything else."""
    kind = getattr(model, "kind", None)
    if kind in ("classic", "nn"):
        return kind
    raise InspectError(
        f"inspection works on classic and nn models, found {type(model).__name__} (kind {kind!r})"
    )


def layer_number(model: Any, layer: int | str) -> int:
    """Resolve ``layer`` (1-based number, negative from the end, or ``"output"``) to a number."""
    n = len(dense_layers(model))
    if isinstance(layer, str):
        if layer in ("output", "last"):
            return n
        try:
            layer = int(layer)
        except ValueError:
            raise InspectError(
                f"layer must be a number 1..{n} or 'output', found {layer!r}"
            ) from None
    number = n + 1 + layer if layer < 0 else layer
    if not 1 <= number <= n:
        raise InspectError(
            f"this model has dense layers 1..{n} (the last is the output); found {layer}"
        )
    return number


def input_scale(model: Any) -> tuple[float, float]:
    """``(a, b)``: the model's input for pixel value ``p`` (0..255) is ``a * p + b``."""
    if kind_of(model) == "classic":
        return PIXEL_SCALE, PIXEL_OFFSET
    scale, offset = INPUT_SCALES[model.input_scale]
    return scale / 255.0, offset


def describe(model: Any) -> str:
    """One line: the dense layers' sizes and activations, e.g. ``784-200(sigmoid)-10(sigmoid)``."""
    layers = dense_layers(model)
    parts = [str(layers[0].n_in)] + [f"{x.n_out}({x.activation})" for x in layers]
    return "-".join(parts)
