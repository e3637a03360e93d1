"""Convolution layers as pictures: kernels, feature maps, and what excites a channel.

* :func:`kernels` - a conv layer's kernels ``(F, kh, kw)``: for the first layer
  (one input channel) each is a small picture of the stroke or edge it detects;
* :func:`feature_maps` - a conv layer's output channels for one input picture
  ``(F, Ho, Wo)``: where in the digit each kernel found its pattern;
* :func:`maximize_channels` - activation maximisation for a channel: the input
  picture that makes the channel's mean net input largest, by
  :func:`ownnet.inspect.maximize.maximize` with a :class:`ChannelProbe` (the
  gradient comes back through the conv and pooling layers' backward passes).

Conv layers are numbered from 1 in the order they come (``"conv1"``,
``"conv2"``, ...), apart from the dense layers' numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.inspect.grids import image_grid
from ownnet.inspect.maximize import maximize
from ownnet.inspect.stack import InspectError, input_scale, kind_of
from ownnet.nn.conv import Conv2D


def conv_layers(model: Any) -> list[tuple[int, Any]]:
    """``[(position in model.layers, Conv2D layer), ...]``, first first (empty for MLPs)."""
    if kind_of(model) != "nn":
        return []

    return [(i, layer) for i, layer in enumerate(model.layers) if isinstance(layer, Conv2D)]


def conv_number(model: Any, layer: int | str) -> int:
    """Resolve ``layer`` (``1``, ``"conv1"``, ``-1``: the last conv layer) to a 1-based number."""
    convs = conv_layers(model)
    if not convs:
        raise InspectError("this model has no convolution layers")
    text = str(layer).lower().removeprefix("conv")
    try:
        number = int(text)
    except ValueError:
        raise InspectError(f"conv layer must be conv1..conv{len(convs)}, found {layer!r}") from None
    if number < 0:
        number += len(convs) + 1
    if not 1 <= number <= len(convs):
        raise InspectError(f"this model has conv layers conv1..conv{len(convs)}; found {layer!r}")
    return number


def kernels(model: Any, layer: int | str = 1, channel: int | None = None) -> np.ndarray:
    """The kernels of conv layer ``layer`` as pictures ``(F, kh, kw)``.

    Args:
        channel: which input channel's weights (default: the only one for a
            first layer; for a deeper layer, the sum over the input channels).
    """
    _, conv = conv_layers(model)[conv_number(model, layer) - 1]
    w = np.asarray(conv.W, dtype=np.float64)  # (kh, kw, C_in, F)
    if channel is None:
        pics = w.sum(axis=2)
    else:
        if not 0 <= channel < w.shape[2]:
            raise InspectError(f"this layer has input channels 0..{w.shape[2] - 1}")
        pics = w[:, :, channel]
    return pics.transpose(2, 0, 1)


def _inputs(model: Any, pictures: np.ndarray) -> np.ndarray:
    """Network inputs ``(n, *input_shape)`` for pictures in [0, 1] ``(n, 28, 28)``."""
    a, b = input_scale(model)
    x = np.asarray(pictures, dtype=np.float64).reshape(len(pictures), -1)
    return (255.0 * a * x + b).astype(model.dtype).reshape((len(x), *model.input_shape))


def feature_maps(model: Any, image: np.ndarray, layer: int | str = 1) -> np.ndarray:
    """Conv layer ``layer``'s output (after its activation) for one uint8 picture
    ``(28, 28)``: ``(F, Ho, Wo)`` in float64."""
    pos, _ = conv_layers(model)[conv_number(model, layer) - 1]
    h = _inputs(model, np.asarray(image, dtype=np.float64)[None] / 255.0)
    for lay in model.layers[: pos + 1]:
        h = lay.forward(h, False)
    return np.array(h[0], dtype=np.float64)


def _linear_twin(model: Any, pos: int) -> Any:
    """The conv layer at ``pos`` without its activation, sharing its weights: its outputs
    are the channels' net inputs."""

    conv = model.layers[pos]
    twin = Conv2D(
        conv.filters,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        use_bias=conv.use_bias,
        init=conv.init,
    )
    twin.build(conv.input_shape, model.dtype, np.random.default_rng(0))
    twin.params = conv.params
    return twin


class ChannelProbe:
    """The channels of one conv layer as units for :func:`ownnet.inspect.maximize.maximize`:
    a channel's net input is the mean over its positions of its pre-activation (a silent
    relu channel would have no gradient), its activation the mean of its output.

    Args:
        model: an nn model with conv layers.
        layer: ``"conv1"``, ``2``, ... (see :func:`conv_number`).
    """

    def __init__(self, model: Any, layer: int | str) -> None:
        self.number = conv_number(model, layer)
        self.position, conv = conv_layers(model)[self.number - 1]
        self.model = model
        self.n_units = conv.filters
        self.n_pixels = int(np.prod(model.input_shape))
        self._twin = _linear_twin(model, self.position)
        self._a = 255.0 * input_scale(model)[0]

    def _below(self, x: np.ndarray) -> np.ndarray:
        """The conv layer's input for pictures ``x (n, n_pixels)`` in [0, 1]."""
        h = _inputs(self.model, x)
        for lay in self.model.layers[: self.position]:
            h = lay.forward(h, False)
        return h

    def values(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean net input and mean output of every channel ``(n, F)`` for pictures ``x``."""
        h = self._below(x)
        z = np.asarray(self._twin.forward(h, False), dtype=np.float64).mean(axis=(2, 3))
        y = self.model.layers[self.position].forward(h, False)
        return z, np.asarray(y, dtype=np.float64).mean(axis=(2, 3))

    def gradient(self, x: np.ndarray, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean net input of channel ``units[i]`` for picture ``x[i]`` ``(n,)`` and its gradient
        with respect to the picture ``(n, n_pixels)``."""
        units = np.asarray(units, dtype=np.intp)
        if len(units) and (units.min() < 0 or units.max() >= self.n_units):
            raise InspectError(f"conv{self.number} has channels 0..{self.n_units - 1}")
        z = self._twin.forward(self._below(x), False)
        rows = np.arange(len(x))
        means = np.asarray(z, dtype=np.float64)[rows, units].mean(axis=(1, 2))
        g = np.zeros(z.shape, self.model.dtype)
        g[rows, units] = 1.0 / (z.shape[2] * z.shape[3])
        g = self._twin.backward(g, True)
        for lay in reversed(self.model.layers[: self.position]):
            g = lay.backward(g, True)
        return means, np.asarray(g, dtype=np.float64).reshape(len(x), -1) * self._a


def maximize_channels(
    model: Any, layer: int | str, channels: np.ndarray | list[int], **options: Any
) -> Any:
    """For each channel of conv layer ``layer``, a picture in [0, 1] that makes its mean net
    input large: :func:`ownnet.inspect.maximize.maximize` (same ``options``: steps, lr, l2,
    blur, seed) through the conv, pooling and normalisation layers' backward passes.
    Returns its :class:`~ownnet.inspect.maximize.Maximized`."""

    return maximize(model, ChannelProbe(model, layer), channels, **options)


# -- figures -----------------------------------------------------------------------------------


def kernels_figure(model: Any, layer: int | str = 1, *, title: str | None = None) -> Any:
    """A grid of conv kernels (red excites, blue inhibits, white is 0)."""

    pics = kernels(model, layer)
    titles = [f"kernel {i}" for i in range(len(pics))]
    return image_grid(pics, titles=titles, cmap="RdBu_r", symmetric=True, title=title)


def feature_maps_figure(
    model: Any, image: np.ndarray, layer: int | str = 1, *, title: str | None = None
) -> Any:
    """The input picture, then each channel of conv layer ``layer`` for it (dark = strong)."""

    maps = feature_maps(model, image, layer)
    img = np.asarray(image, dtype=np.float64) / 255.0
    pics = [img] + [_resize(m, img.shape) / (m.max() if m.max() > 0 else 1.0) for m in maps]
    titles = ["input"] + [f"channel {i}" for i in range(len(maps))]
    return image_grid(np.stack(pics), titles=titles, cmap="Greys", vmin=0.0, vmax=1.0, title=title)


def _resize(m: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``m`` enlarged by whole pixels to about ``shape`` (so all pictures of a grid match)."""
    if m.shape == shape:
        return np.clip(m, 0.0, None)
    ry, rx = max(1, round(shape[0] / m.shape[0])), max(1, round(shape[1] / m.shape[1]))
    big = np.kron(np.clip(m, 0.0, None), np.ones((ry, rx)))
    out = np.zeros(shape)
    h, w = min(shape[0], big.shape[0]), min(shape[1], big.shape[1])
    out[:h, :w] = big[:h, :w]
    return out
