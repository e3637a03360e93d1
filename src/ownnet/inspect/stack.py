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

from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.errors import OwnnetError


class InspectError(OwnnetError, ValueError):
    """The model cannot be inspected this way (the message says why and what to do instead)."""


@dataclass(frozen=True)
class DenseLayer:
    """One dense layer of a model.

    Attributes:
        number: 1 for the first hidden layer, ..., ``len(layers)`` for the output layer.
        weights: ``(n_in, n_out)`` (a view: do not write to it).
        bias: ``(n_out,)`` or ``None``.
        activation: the activation's name (``"sigmoid"``, ``"relu"``, ``"softmax"``, ...).
        position: index in ``model.layers`` (nn) or 0/1 for the classic network.
        after: names of the elementwise layers that follow it (``"Dropout"``, ``"PReLU"``, ...).
    """

    number: int
    weights: np.ndarray
    bias: np.ndarray | None
    activation: str
    position: int
    after: tuple[str, ...] = ()

    @property
    def n_in(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[1])


#: nn layers that act elementwise (unit i in, unit i out) and so keep unit numbers.
ELEMENTWISE = ("Dropout", "Activation", "PReLU")
#: nn layers that may come before the first Dense layer (a CNN's feature extractor).
FEATURES = ("Conv2D", "MaxPool2D", "BatchNorm", "Flatten", *ELEMENTWISE)


def kind_of(model: Any) -> str:
    """``"classic"`` or ``"nn"``; raises :class:`InspectError` for anything else."""
    kind = getattr(model, "kind", None)
    if kind in ("classic", "nn"):
        return kind
    raise InspectError(
        f"inspection works on classic and nn models, found {type(model).__name__} (kind {kind!r})"
    )


def dense_layers(model: Any) -> list[DenseLayer]:
    """The dense layers of ``model``, first hidden layer first.

    Raises:
        InspectError: the model has layers that are neither dense nor elementwise
            (convolution, pooling, ...), whose units are not single numbers.
    """
    if kind_of(model) == "classic":
        out = []
        for i, w in enumerate((model.wih, model.who)):
            if model.bias:
                weights, bias = w[:, :-1].T, w[:, -1]
            else:
                weights, bias = w.T, None
            out.append(DenseLayer(i + 1, weights, bias, "sigmoid", i))
        return out
    from ownnet.nn.layers import Dense

    layers: list[DenseLayer] = []
    pending: dict[str, Any] | None = None
    for pos, layer in enumerate(model.layers):
        name = type(layer).__name__
        if isinstance(layer, Dense):
            if pending is not None:
                layers.append(DenseLayer(**pending))
            pending = {
                "number": len(layers) + 1,
                "weights": layer.params["W"],
                "bias": layer.params.get("b"),
                "activation": layer.activation.name,
                "position": pos,
                "after": (),
            }
        elif name in ELEMENTWISE and pending is not None:
            pending["after"] = (*pending["after"], name)
        elif name in FEATURES and pending is None:
            continue  # conv layers and the like before the first Dense layer
        else:
            raise InspectError(
                f"layer {pos} of this model is {name}: only stacks of Dense layers (with "
                "Dropout, Activation or PReLU between them, after any conv layers) can be "
                "inspected unit by unit"
            )
    if pending is not None:
        layers.append(DenseLayer(**pending))
    if not layers:
        raise InspectError("this model has no Dense layers")
    return layers


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
        return 0.99 / 255.0, 0.01
    from ownnet.nn.network import INPUT_SCALES

    return INPUT_SCALES[model.input_scale]


def as_nn(model: Any) -> Any:
    """An :class:`ownnet.nn.network.Network` computing the same outputs as ``model``.

    nn models are returned as they are; a classic network becomes the book's
    network in the matrix engine (float64) with its weights copied.
    """
    if kind_of(model) == "nn":
        return model
    from ownnet.nn.network import Network

    net = Network.book(model.n_input, model.n_hidden, model.n_output, bias=model.bias)
    for nn_layer, layer in zip(net.layers, dense_layers(model), strict=True):
        nn_layer.params["W"][...] = layer.weights
        if layer.bias is not None:
            nn_layer.params["b"][...] = layer.bias
    return net


def describe(model: Any) -> str:
    """One line: the dense layers' sizes and activations, e.g. ``784-200(sigmoid)-10(sigmoid)``."""
    layers = dense_layers(model)
    parts = [str(layers[0].n_in)] + [f"{x.n_out}({x.activation})" for x in layers]
    return "-".join(parts)
