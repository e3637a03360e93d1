"""Activation maximisation: the input picture that a chosen unit responds to most.

Gradient ascent on the input picture ``x`` (28x28 values in [0, 1], 0 black,
1 full ink, as ``pixel / 255``) to make one unit's *net input* ``z`` (its
pre-activation: ``x @ W + b`` before the sigmoid, relu or softmax) large,
with an L2 penalty that keeps the picture from filling with ink everywhere::

    J(x) = z_unit(x) - l2 * s * sum(x ** 2)

where ``s`` is the root-mean-square of ``dz/dx`` at the start, so that
``l2`` means the same for a unit with small weights as for one with large
weights. Each step moves along ``dJ/dx`` normalised to a root-mean-square of
one, times a step length that falls linearly from ``lr`` to 0, and clips back
into [0, 1]. The start is faint random noise from ``seed``.

With ``blur`` (on by default) the picture is ``x = G u``, a Gaussian smoothing
of the variable ``u`` in [0, 1] that is optimised instead (``dJ/du = G dJ/dx``,
the smoothing being symmetric). Plain gradient ascent makes isolated speckles;
this makes strokes, at little cost in ``z``.

``dz/dx`` comes from the matrix engine's own backward pass (the network's
layers, in reverse, from the chosen unit down to the input). A classic
network is first turned into the same network in the matrix engine
(:func:`ownnet.inspect.stack.as_nn`). The net input, not the activation, is
maximised because a saturated sigmoid or a silent relu has (almost) no
gradient; for an output layer with softmax it is the class score (logit).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage
from threadpoolctl import threadpool_limits

from ownnet.inspect.grids import image_grid
from ownnet.inspect.stack import InspectError, as_nn, dense_layers, input_scale, layer_number
from ownnet.nn.dense import Dense


@dataclass(frozen=True)
class Maximized:
    """Result of :func:`maximize`.

    Attributes:
        layer: the dense layer's number (1 = first hidden layer).
        units: the units ``(k,)``.
        images: the pictures ``(k, 28, 28)`` in [0, 1] (0 black, 1 full ink).
        net_input: each unit's net input ``z`` for its picture ``(k,)``.
        activation: each unit's activation for its picture ``(k,)`` (for a
            softmax layer: the class probability).
        start_net_input: ``z`` for the starting noise ``(k,)``.
    """

    layer: int
    units: np.ndarray
    images: np.ndarray
    net_input: np.ndarray
    activation: np.ndarray
    start_net_input: np.ndarray


@contextlib.contextmanager
def _true_gradients(net: Any) -> Iterator[None]:
    """Make every Dense layer pass back true gradients (not the book's errors) for a while."""

    saved = [(layer, layer.book_errors) for layer in net.layers if isinstance(layer, Dense)]
    try:
        for layer, _ in saved:
            layer.book_errors = False
        yield
    finally:
        for layer, flag in saved:
            layer.book_errors = flag


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Small matrix products run faster on one BLAS thread."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class UnitProbe:
    """Net inputs, activations and input gradients of the units of one dense layer.

    Args:
        model: a classic or nn model.
        layer: dense layer number (1 = first hidden layer, ``"output"`` or -1 = last).
    """

    def __init__(self, model: Any, layer: int | str) -> None:
        self.number = layer_number(model, layer)
        self.info = dense_layers(model)[self.number - 1]
        self.net = as_nn(model)
        self.n_units = self.info.n_out
        a, b = input_scale(model)
        self._a, self._b = 255.0 * a, b  # network input = _a * x + _b for x in [0, 1]
        self.n_pixels = int(self.net.n_pixels)

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if x.shape[1] != self.n_pixels:
            raise ValueError(f"expected pictures of {self.n_pixels} pixels, found {x.shape[1]}")
        return (self._a * x + self._b).astype(self.net.dtype)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(z, y)`` for pictures ``x (n, n_pixels)`` in [0, 1]: net inputs and activations."""
        h = self._inputs(x).reshape((len(x), *self.net.input_shape))
        pos = self.info.position
        for layer in self.net.layers[:pos]:
            h = layer.forward(h, False)
        dense = self.net.layers[pos]
        z = np.asarray(h, dtype=np.float64) @ np.asarray(dense.params["W"], dtype=np.float64)
        if dense.use_bias:
            z += dense.params["b"]
        y = dense.forward(h, False)
        for layer in self.net.layers[pos + 1 : pos + 1 + len(self.info.after)]:
            y = layer.forward(y, False)
        return z, np.array(y, dtype=np.float64)

    def values(self, x: np.ndarray, chunk: int = 2000) -> tuple[np.ndarray, np.ndarray]:
        """Net inputs and activations ``(n, n_units)`` for pictures ``x (n, 28, 28)`` in [0, 1]."""
        parts = [self._forward(x[i : i + chunk]) for i in range(0, len(x), chunk)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def values_for_images(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`values` for uint8 images ``(n, 28, 28)``."""
        return self.values(np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 255.0)

    def gradient(self, x: np.ndarray, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Net input of ``units[i]`` for picture ``x[i]`` and its gradient with respect to ``x[i]``.

        Args:
            x: pictures ``(n, 784)`` in [0, 1].
            units: one unit per picture ``(n,)``.

        Returns:
            ``(z (n,), dz/dx (n, 784))`` in float64.
        """
        units = np.asarray(units, dtype=np.intp)
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if len(units) != len(x):
            raise ValueError(f"{len(x)} pictures but {len(units)} units")
        if len(units) and (units.min() < 0 or units.max() >= self.n_units):
            raise InspectError(f"layer {self.number} has units 0..{self.n_units - 1}")
        with _true_gradients(self.net):
            z, _ = self._forward(x)
            pos = self.info.position
            grad = np.zeros((len(x), self.n_units), self.net.dtype)
            grad[np.arange(len(x)), units] = 1.0
            g = self.net.layers[pos].backward_delta(grad, True)
            for layer in reversed(self.net.layers[:pos]):
                g = layer.backward(g, True)
        g = np.asarray(g, dtype=np.float64).reshape(len(x), -1) * self._a
        return z[np.arange(len(x)), units], g


def maximize(
    model: Any,
    layer: int | str | Any,
    units: np.ndarray | list[int],
    *,
    steps: int = 200,
    lr: float = 0.05,
    l2: float = 0.1,
    blur: float = 1.0,
    seed: int = 0,
) -> Maximized:
    """Find, for each unit, a picture in [0, 1] that makes its net input large.

    Args:
        model: a classic or nn model.
        layer: dense layer number (1 = first hidden layer, ``"output"`` = the classes),
            or a probe with :class:`UnitProbe`'s ``number``, ``n_pixels``, ``gradient``
            and ``values`` (conv channels: :class:`ownnet.inspect.feature_maps.ChannelProbe`).
        units: which units of that layer (class digits for the output layer).
        steps: gradient-ascent steps.
        lr: step length (root-mean-square change per pixel per step).
        l2: weight of the ``sum(x**2)`` penalty, relative to the unit's sensitivity
            ``s`` (see the module doc).
        blur: width (pixels) of the Gaussian the picture is made with, which
            favours strokes over speckles (0: plain gradient ascent on the pixels).
        seed: seed for the starting noise.

    Returns:
        :class:`Maximized` with the pictures and the units' values for them.
    """
    probe = layer if hasattr(layer, "gradient") else UnitProbe(model, layer)
    units = np.asarray(units, dtype=np.intp).ravel()
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.1, (len(units), probe.n_pixels))
    smooth = _smoother(blur, probe.n_pixels)
    u = x  # the variable optimised; the picture is smooth(u), in [0, 1] like u
    with _one_blas_thread():
        start, g0 = probe.gradient(smooth(u), units)
        # the penalty is measured in units of each unit's own sensitivity to the input
        penalty = 2.0 * l2 * np.sqrt(np.mean(g0 * g0, axis=1, keepdims=True))
        for step in range(int(steps)):
            x = smooth(u)
            _, g = probe.gradient(x, units)
            g = smooth(g - penalty * x)  # chain rule: the smoothing is its own transpose
            rms = np.sqrt(np.mean(g * g, axis=1, keepdims=True))
            u += lr * (1.0 - step / steps) * g / np.maximum(rms, 1e-12)
            np.clip(u, 0.0, 1.0, out=u)
        x = smooth(u)
        z, y = probe.values(x)
    rows = np.arange(len(units))
    side = int(round(np.sqrt(probe.n_pixels)))
    images = x.reshape(len(units), side, side) if side * side == probe.n_pixels else x
    return Maximized(probe.number, units, images, z[rows, units], y[rows, units], start)


def _smoother(sigma: float, n_pixels: int) -> Callable[[np.ndarray], np.ndarray]:
    """A Gaussian smoothing of square pictures given as rows ``(k, n_pixels)`` (zero outside).

    With ``mode="constant"`` and a symmetric kernel the smoothing is a symmetric
    linear map, so it is also its own transpose for the chain rule.
    """

    side = int(round(np.sqrt(n_pixels)))
    if sigma <= 0 or side * side != n_pixels:
        return lambda x: x

    def smooth(x: np.ndarray) -> np.ndarray:
        pics = x.reshape(len(x), side, side)
        out = ndimage.gaussian_filter(pics, (0, sigma, sigma), mode="constant", truncate=3.0)
        return out.reshape(len(x), -1)

    return smooth


def maximize_figure(
    result: Maximized, *, title: str | None = None, ncols: int | None = None, classes: bool = False
) -> Any:
    """A grid of the maximising pictures (each scaled to its maximum), titled with unit and z."""

    name = "class" if classes else "unit"
    titles = [f"{name} {u}: z={z:.1f}" for u, z in zip(result.units, result.net_input, strict=True)]
    pics = result.images / np.maximum(result.images.max(axis=(1, 2), keepdims=True), 1e-12)
    if ncols is None and len(pics) == 10:
        ncols = 5
    return image_grid(
        pics, titles=titles, ncols=ncols, cmap="Greys", vmin=0.0, vmax=1.0, title=title
    )
