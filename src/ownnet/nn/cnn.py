"""The default convolutional network for MNIST (``ownnet train --model cnn``).

::

    input (1, 28, 28)
    Conv2D(32, 3x3, same, relu)  -> (32, 28, 28)
    MaxPool2D(2)                 -> (32, 14, 14)
    Conv2D(64, 3x3, same, relu)  -> (64, 14, 14)
    MaxPool2D(2)                 -> (64, 7, 7)
    Flatten                      -> 3136
    Dense(128, relu), Dropout(0.5)
    Dense(10, softmax)

421,642 parameters. Each stage can be changed (``filters``, ``kernel_size``,
``dense``, ``dropout``), and ``batchnorm=True`` puts a :class:`BatchNorm`
between each convolution and its relu (the convolutions then have no bias).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ownnet.nn.batchnorm import BatchNorm
from ownnet.nn.conv import Conv2D
from ownnet.nn.dense import Dense
from ownnet.nn.flatten import Flatten
from ownnet.nn.layers import Dropout, Layer
from ownnet.nn.pooling import MaxPool2D

#: the default architecture's settings
DEFAULTS: dict[str, Any] = {
    "filters": (32, 64),
    "kernel_size": 3,
    "dense": 128,
    "dropout": 0.5,
    "batchnorm": False,
}


def cnn_layers(
    filters: Sequence[int] = DEFAULTS["filters"],
    *,
    kernel_size: int = DEFAULTS["kernel_size"],
    dense: int | Sequence[int] | None = DEFAULTS["dense"],
    dropout: float = DEFAULTS["dropout"],
    batchnorm: bool = DEFAULTS["batchnorm"],
    n_output: int = 10,
    output: str = "softmax",
) -> list[Layer]:
    """Per entry of ``filters``: a ``same`` convolution with relu and a 2x2 max pool; then
    per entry of ``dense`` (an int or several; none if empty or ``None``) ``Dense(units,
    relu)`` followed by ``Dropout(dropout)`` (if not 0); then ``Dense(n_output, output)``."""
    if not filters:
        raise ValueError("a CNN needs at least one conv layer (filters)")
    layers: list[Layer] = []
    for f in filters:
        if batchnorm:
            layers += [
                Conv2D(int(f), kernel_size, padding="same", use_bias=False),
                BatchNorm(activation="relu"),
            ]
        else:
            layers.append(Conv2D(int(f), kernel_size, padding="same", activation="relu"))
        layers.append(MaxPool2D(2))
    layers.append(Flatten())
    units = [dense] if isinstance(dense, int) else list(dense or [])
    for u in units:
        layers.append(Dense(int(u), "relu", init="he"))
        if dropout:
            layers.append(Dropout(dropout))
    layers.append(Dense(n_output, output))
    return layers


def multiply_adds(net: Any) -> int:
    """Multiply-adds of one sample's forward pass through the Conv2D and Dense layers
    (training costs about three times as many: forward, input and weight gradients)."""
    total = 0
    for layer in net.layers:
        if isinstance(layer, Conv2D):
            f, ho, wo = layer.output_shape
            total += f * ho * wo * int(np.prod(layer.W.shape[:-1]))
        elif isinstance(layer, Dense):
            total += int(layer.W.size)
    return total
