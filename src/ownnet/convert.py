"""Between the three models: the book's network, the matrix engine and the neurons model.

The book writes a layer's weights ``(n_out, n_in)``, with a bias node as the last
column; the matrix engine keeps ``W (n_in, n_out)`` and a separate bias ``b (n_out,)``;
the neurons model keeps one number per link. This is the only module that knows all
three layouts:

* :func:`classic_to_nn`, :func:`nn_to_classic`: the book's network in the engine and
  back (only the book's own error split, ``"transpose"``, has an engine twin);
* :func:`classic_to_neurons`, :func:`neurons_to_classic`: as neurons and links and back;
* :func:`dense_layers`: any of them seen as a list of :class:`DenseLayer` in the engine's
  orientation, which is what the inspection tools read; :func:`as_nn` gives an engine
  network computing the same outputs as any model (for its backward pass).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet import classic, neurons
from ownnet.errors import OwnnetError
from ownnet.network import Network
from ownnet.nn.dense import Dense


class InspectError(OwnnetError, ValueError):
    """The model cannot be seen this way (the message says why and what to do instead)."""


# -- the book's network <-> the engine -------------------------------------------------------
def classic_to_nn(net: classic.Network) -> Network:
    """The same network in the matrix engine (float64): weights transposed to
    ``(n_in, n_out)``, bias nodes become biases, optimizer ``SGD(net.lr)``, batch 1."""
    if net.error_split != "transpose":
        raise ValueError(
            f"only the book's error split 'transpose' maps to the matrix engine, "
            f"found {net.error_split!r}"
        )
    out = Network.book(net.n_input, net.n_hidden, net.n_output, bias=net.bias, lr=net.lr)
    for layer, w in zip(out.layers, (net.wih, net.who), strict=True):
        if net.bias:
            layer.params["W"][...] = w[:, :-1].T
            layer.params["b"][...] = w[:, -1]
        else:
            layer.params["W"][...] = w.T
    return out


def nn_to_classic(net: Any, lr: float | None = None) -> classic.Network:
    """An engine network of two sigmoid Dense layers as the book's network (``lr``:
    default the engine optimizer's)."""
    dense = [x for x in net.layers if isinstance(x, Dense)]
    if (
        len(net.layers) != 2
        or len(dense) != 2
        or any(d.activation.name != "sigmoid" for d in dense)
        or dense[0].use_bias != dense[1].use_bias
    ):
        raise ValueError(
            "only a network of two sigmoid Dense layers (both with or both without bias) "
            f"converts to the classic network, found {[x.spec() for x in net.layers]}"
        )
    bias = dense[0].use_bias
    rate = net.optimizer.lr if lr is None else lr
    out = classic.Network(net.n_pixels, dense[0].units, dense[1].units, rate, bias=bias, seed=0)
    for name, layer in zip(("wih", "who"), dense, strict=True):
        w = layer.params["W"].T.astype(np.float64)
        if bias:
            w = np.hstack([w, layer.params["b"].astype(np.float64)[:, None]])
        setattr(out, name, np.ascontiguousarray(w))
    return out


# -- the book's network <-> neurons and links --------------------------------------------------
def classic_to_neurons(net: classic.Network) -> neurons.Network:
    """The same network as neurons and links: sizes, lr, bias, error split and weights."""
    out = neurons.Network(*net.sizes, lr=net.lr, bias=net.bias, error_split=net.error_split, seed=0)
    out.set_weights([net.wih, net.who])
    return out


def neurons_to_classic(net: neurons.Network) -> classic.Network:
    """A 3-layer neurons network as the book's network (not the ``"gradient"`` split)."""
    if len(net.sizes) != 3:
        raise ValueError(
            f"classic.Network has 3 layers; this network has {len(net.sizes)}: {net.sizes}"
        )
    if net.error_split not in classic.ERROR_SPLITS:
        raise ValueError(
            f"classic.Network has no error_split {net.error_split!r}; it has {classic.ERROR_SPLITS}"
        )
    wih, who = net.weights
    out = classic.Network(*net.sizes, net.lr, bias=net.bias, error_split=net.error_split, seed=0)
    out.load_arrays({"wih": wih, "who": who})
    return out


# -- any model as a stack of dense layers ------------------------------------------------------
@dataclass(frozen=True)
class DenseLayer:
    """One dense layer of a model, in the engine's orientation.

    Attributes:
        number: 1 for the first hidden layer, ..., ``len(layers)`` for the output layer.
        weights: ``(n_in, n_out)`` (a view: do not write to it).
        bias: ``(n_out,)`` or ``None``.
        activation: the activation's name (``"sigmoid"``, ``"relu"``, ``"softmax"``, ...).
        position: index in ``model.layers`` (engine) or 0/1 for the book's network.
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


#: engine layers that act elementwise (unit i in, unit i out) and so keep unit numbers.
ELEMENTWISE = ("Dropout", "Activation", "PReLU")
#: engine layers that may come before the first Dense layer (a CNN's feature extractor).
FEATURES = ("Conv2D", "MaxPool2D", "BatchNorm", "Flatten", *ELEMENTWISE)


def _book_weights(w: np.ndarray, bias: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """A book layer ``(n_out, n_in [+1])`` as engine ``W (n_in, n_out)`` and bias."""
    return (w[:, :-1].T, w[:, -1]) if bias else (w.T, None)


def dense_layers(model: Any) -> list[DenseLayer]:
    """The dense layers of any model, first hidden layer first.

    Raises:
        InspectError: the model has layers that are neither dense nor elementwise after
            its first Dense layer, whose units are not single numbers.
    """
    if isinstance(model, (classic.Network, neurons.Network)):
        weights = [model.wih, model.who] if isinstance(model, classic.Network) else model.weights
        return [
            DenseLayer(i + 1, *_book_weights(w, model.bias), "sigmoid", i)
            for i, w in enumerate(weights)
        ]
    if not hasattr(model, "layers") or getattr(model, "kind", None) != "nn":
        raise InspectError(f"expected an ownnet model, found {type(model).__name__}")
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


def as_nn(model: Any) -> Any:
    """An engine network computing the same outputs as ``model``: an engine model as it
    is; the book's network (or a 3-layer neurons network) as the book's network in the
    engine, float64, its weights copied."""
    if getattr(model, "kind", None) == "nn":
        return model
    if isinstance(model, neurons.Network):
        model = neurons_to_classic(model)
    if not isinstance(model, classic.Network):
        raise InspectError(f"expected an ownnet model, found {type(model).__name__}")
    net = Network.book(model.n_input, model.n_hidden, model.n_output, bias=model.bias)
    for nn_layer, layer in zip(net.layers, dense_layers(model), strict=True):
        nn_layer.params["W"][...] = layer.weights
        if layer.bias is not None:
            nn_layer.params["b"][...] = layer.bias
    return net
