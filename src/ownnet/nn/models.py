"""Ready-made stacks of layers, and the engine's networks from plain settings.

* :func:`mlp`: Dense layers with dropout, the Keras MNIST MLP by default (784-512-512-10,
  relu, dropout 0.2, softmax, cross-entropy, RMSprop lr 0.001, batch 128);
* :func:`cnn`: the default convolutional network (:mod:`ownnet.nn.cnn`; Adam lr 0.001,
  batch 128);
* :func:`book`: the book's network in the engine (sigmoid, quadratic cost, the book's
  inputs, targets and errors, float64, SGD lr 0.1, one sample per batch): trained with
  ``fit`` it ends with the same weights as :class:`ownnet.classic.Network`;
* :func:`from_config`: any of them from a plain dict (:data:`DEFAULTS` fills the gaps),
  the one way the command line, the sweeps and the web page build engine networks.

Each takes the class to build (``Network.mlp(...)`` passes its own), so that a subclass
(``ownnet.Network``, which adds ``save`` and ``read``) gets instances of itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ownnet.book import book_weights
from ownnet.nn.cnn import DEFAULTS as CNN_LAYERS
from ownnet.nn.cnn import cnn_layers
from ownnet.nn.dense import Dense
from ownnet.nn.layers import Dropout, Layer, PReLU
from ownnet.nn.optimizers import Optimizer, get_optimizer

#: each optimizer's default learning rate
DEFAULT_LR = {"sgd": 0.1, "rmsprop": 0.001, "adam": 0.001}

#: every setting of each engine model, at its default (``from_config`` fills in these)
DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {
        "layers": [512, 512],
        "activation": "relu",
        "dropout": 0.2,
        "output": "softmax",
        "loss": "cross_entropy",
        "init": "glorot",
        "optimizer": "rmsprop",
        "lr": None,
        "momentum": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
        "batch_size": 128,
        "dtype": "float32",
        "input_scale": "unit",
    },
    "cnn": {
        "filters": list(CNN_LAYERS["filters"]),
        "kernel_size": CNN_LAYERS["kernel_size"],
        "batchnorm": CNN_LAYERS["batchnorm"],
        "layers": [CNN_LAYERS["dense"]],
        "dropout": CNN_LAYERS["dropout"],
        "output": "softmax",
        "loss": "cross_entropy",
        "optimizer": "adam",
        "lr": None,
        "momentum": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
        "batch_size": 128,
        "dtype": "float32",
        "input_scale": "unit",
    },
    "book": {"hidden": 200, "bias": False, "lr": 0.1},
}

#: a model file may describe inputs of at most this many values per sample
MAX_INPUT_VALUES = 1 << 20


def make_optimizer(
    name: str | dict[str, Any] | Optimizer,
    lr: float | None = None,
    *,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> Optimizer:
    """An optimizer from a name and settings; ``lr`` ``None`` takes :data:`DEFAULT_LR`."""
    if not isinstance(name, str):
        return get_optimizer(name)
    if lr is None:
        lr = DEFAULT_LR.get(name, 0.01)
    sgd = {"momentum": momentum, "nesterov": nesterov} if name == "sgd" else {}
    return get_optimizer(name, lr=lr, weight_decay=weight_decay, **sgd)


def mlp_layers(
    hidden: Sequence[int] = (512, 512),
    *,
    activation: str = "relu",
    dropout: float = 0.2,
    n_output: int = 10,
    output: str = "softmax",
    init: str | None = None,
) -> list[Layer]:
    """Dense layers of sizes ``hidden`` with ``activation`` (``"prelu"`` adds a PReLU
    layer), each followed by ``Dropout(dropout)``, then ``Dense(n_output, output)``.
    ``init`` defaults to Glorot, as Keras' Dense layers."""
    init = init or "glorot"
    layers: list[Layer] = []
    for units in hidden:
        if activation == "prelu":
            layers += [Dense(units, None, init=init), PReLU()]
        else:
            layers.append(Dense(units, activation, init=init))
        if dropout:
            layers.append(Dropout(dropout))
    layers.append(Dense(n_output, output, init="glorot"))
    return layers


def mlp(
    cls: type,
    hidden: Sequence[int] = (512, 512),
    *,
    activation: str = "relu",
    dropout: float = 0.2,
    n_input: int = 784,
    n_output: int = 10,
    output: str = "softmax",
    init: str | None = None,
    optimizer: str | dict[str, Any] | Optimizer = "rmsprop",
    lr: float | None = None,
    batch_size: int = 128,
    **options: Any,
) -> Any:
    """The MLP of :func:`mlp_layers` as a ``cls`` network (the Keras MNIST MLP's settings
    by default); ``options`` go to the network (``loss``, ``dtype``, ``seed``...)."""
    layers = mlp_layers(
        hidden, activation=activation, dropout=dropout, n_output=n_output, output=output, init=init
    )
    return cls(
        layers,
        input_shape=(n_input,),
        optimizer=make_optimizer(optimizer, lr),
        batch_size=batch_size,
        **options,
    )


def cnn(
    cls: type,
    filters: Sequence[int] | None = None,
    *,
    kernel_size: int = CNN_LAYERS["kernel_size"],
    dense: int | Sequence[int] | None = CNN_LAYERS["dense"],
    dropout: float = CNN_LAYERS["dropout"],
    batchnorm: bool = CNN_LAYERS["batchnorm"],
    n_output: int = 10,
    output: str = "softmax",
    optimizer: str | dict[str, Any] | Optimizer = "adam",
    lr: float | None = None,
    batch_size: int = 128,
    **options: Any,
) -> Any:
    """The default CNN (:func:`ownnet.nn.cnn.cnn_layers`: 32 and 64 3x3 filters, dense
    128, dropout 0.5) on ``(1, 28, 28)`` images, Adam lr 0.001, batch 128."""
    layers = cnn_layers(
        CNN_LAYERS["filters"] if filters is None else filters,
        kernel_size=kernel_size,
        dense=dense,
        dropout=dropout,
        batchnorm=batchnorm,
        n_output=n_output,
        output=output,
    )
    return cls(
        layers,
        input_shape=(1, 28, 28),
        optimizer=make_optimizer(optimizer, lr),
        batch_size=batch_size,
        **options,
    )


def book(
    cls: type,
    n_input: int = 784,
    n_hidden: int = 200,
    n_output: int = 10,
    *,
    bias: bool = False,
    lr: float = 0.1,
    seed: Any = 0,
) -> Any:
    """The book's network: sigmoid layers, quadratic cost, the book's first weights (the same
    draws as :class:`ownnet.classic.Network` with the same ``seed``), its input scaling
    and targets, and its hidden errors (``who.T @ e``), in float64, trained by
    ``SGD(lr)`` one sample per batch."""
    layers = [
        Dense(n_hidden, "sigmoid", use_bias=bias, init="normal", book_errors=True),
        Dense(n_output, "sigmoid", use_bias=bias, init="normal", book_errors=True),
    ]
    net = cls(
        layers,
        input_shape=(n_input,),
        loss="quadratic",
        input_scale="book",
        targets="book",
        dtype="float64",
        optimizer=get_optimizer("sgd", lr=lr),
        batch_size=1,
        seed=0,
    )
    rng = np.random.default_rng(seed)  # drawn the book's way, (n_out, n_in [+ bias])
    for layer, (n_out, n_in) in zip(net.layers, ((n_hidden, n_input), (n_output, n_hidden))):
        w = book_weights(rng, n_out, n_in + int(bias))
        layer.params["W"][...] = w[:, :n_in].T
        if bias:
            layer.params["b"][...] = w[:, n_in]
    return net


def settings(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The full settings of an engine model of ``kind`` (``"mlp"``, ``"cnn"``, ``"book"``):
    :data:`DEFAULTS` updated with ``config``'s keys that belong to it (others are left)."""
    if kind not in DEFAULTS:
        raise ValueError(f"unknown engine model {kind!r}; expected one of {sorted(DEFAULTS)}")
    full = dict(DEFAULTS[kind])
    full.update({k: v for k, v in config.items() if k in full})
    return full


def from_config(cls: type, kind: str, config: dict[str, Any], seed: Any = 0) -> Any:
    """A ``cls`` network of ``kind`` from plain settings (missing ones at :data:`DEFAULTS`),
    its weights drawn from ``seed``."""
    s = settings(kind, config)
    if kind == "book":
        return book(cls, n_hidden=s["hidden"], bias=s["bias"], lr=s["lr"], seed=seed)
    opt = make_optimizer(
        s["optimizer"],
        s["lr"],
        momentum=s["momentum"],
        nesterov=s["nesterov"],
        weight_decay=s["weight_decay"],
    )
    common = {
        "loss": s["loss"],
        "input_scale": s["input_scale"],
        "dtype": s["dtype"],
        "optimizer": opt,
        "batch_size": s["batch_size"],
        "seed": seed,
    }
    if kind == "cnn":
        return cnn(
            cls,
            s["filters"],
            kernel_size=s["kernel_size"],
            dense=s["layers"],
            dropout=s["dropout"],
            batchnorm=s["batchnorm"],
            output=s["output"],
            **common,
        )
    return mlp(
        cls,
        s["layers"],
        activation=s["activation"],
        dropout=s["dropout"],
        output=s["output"],
        init=s["init"],
        **common,
    )


def check_sizes(config: dict[str, Any], arrays: dict[str, Any]) -> None:
    """Refuse a stored config whose input would be larger than :data:`MAX_INPUT_VALUES`
    per sample; the layers' own weights are checked against the stored arrays' shapes as
    they are built (``Layer.expected_shapes``), before anything is allocated."""
    shape = config.get("input_shape", [784])
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape
    ):
        raise ValueError(f"input_shape must be a list of whole numbers >= 1, found {shape!r}")
    values = 1
    for n in shape:
        values *= n
    if values > MAX_INPUT_VALUES:
        raise ValueError(
            f"input_shape {shape} has {values:,} values per sample; at most "
            f"{MAX_INPUT_VALUES:,} are read from a file"
        )
    layers = config.get("layers")
    if not isinstance(layers, list) or not all(isinstance(x, dict) for x in layers):
        raise ValueError(f"layers must be a list of layer specs, found {type(layers).__name__}")


def stored_shapes(arrays: dict[str, Any], index: int) -> dict[str, tuple[int, ...]]:
    """The shapes of layer ``index``'s stored arrays (``layer<index>.<name>``), by name."""
    prefix = f"layer{index}."
    return {k[len(prefix) :]: tuple(v.shape) for k, v in arrays.items() if k.startswith(prefix)}
