"""Hidden units as pictures: the first layer's weights, one 28x28 picture per unit.

A first-layer unit computes ``sum(w_i * x_i)`` over the 784 pixels, so its
784 weights, laid out as the image, show which pixels excite it (positive,
red) and which inhibit it (negative, blue). Each picture is scaled on its own
to ``[-m, m]`` with ``m`` its largest absolute weight, so white is zero.

Deeper units have no such picture of their own; for them (and for any unit)
use activation maximisation (:mod:`ownnet.inspect.maximize`). In a
convolutional network the first dense layer reads conv features, not pixels;
its pictures are the conv kernels and feature maps
(:mod:`ownnet.inspect.feature_maps`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ownnet.inspect.feature_maps import conv_layers
from ownnet.inspect.grids import image_grid
from ownnet.inspect.stack import InspectError, dense_layers


def first_layer_weights(model: Any, units: np.ndarray | list[int] | None = None) -> np.ndarray:
    """The first dense layer's weights as pictures ``(k, 28, 28)`` (default: every unit)."""

    if conv_layers(model):
        raise InspectError(
            "this model's first dense layer reads conv features, not pixels: draw its conv "
            "kernels instead (--layer conv1)"
        )
    layer = dense_layers(model)[0]
    w = np.asarray(layer.weights, dtype=np.float64)  # (n_in, n_out)
    side = math.isqrt(layer.n_in)
    if side * side != layer.n_in:
        raise InspectError(f"the first layer's {layer.n_in} inputs are not a square picture")
    idx = np.arange(layer.n_out) if units is None else np.asarray(units, dtype=np.intp)
    if len(idx) and (idx.min() < 0 or idx.max() >= layer.n_out):
        raise InspectError(f"the first layer has units 0..{layer.n_out - 1}")
    return w[:, idx].T.reshape(len(idx), side, side)


def choose_units(n_units: int, count: int | None, units: list[int] | None) -> np.ndarray:
    """The units to show: ``units`` as given, else the first ``count`` (default: up to 100)."""
    if units:
        chosen = np.asarray(units, dtype=np.intp)
        if chosen.min() < 0 or chosen.max() >= n_units:
            raise InspectError(f"this layer has units 0..{n_units - 1}, found {units}")
        return chosen
    return np.arange(min(n_units, count if count is not None else 100))


def weights_figure(model: Any, units: np.ndarray, *, title: str | None = None) -> Any:
    """A grid of first-layer weight pictures (red excites, blue inhibits, white is 0)."""

    pics = first_layer_weights(model, units)
    titles = [f"unit {u}" for u in units]
    return image_grid(pics, titles=titles, cmap="RdBu_r", symmetric=True, title=title)
