"""Convolution layers as pictures: kernels, feature maps, and what excites a channel.

* :func:`kernels` - a conv layer's kernels ``(F, kh, kw)``: for the first layer
  (one input channel) each is a small picture of the stroke or edge it detects;
* :func:`feature_maps` - a conv layer's output channels for one input picture
  ``(F, Ho, Wo)``: where in the digit each kernel found its pattern;
* :func:`maximize_channels` - activation maximisation for a channel: the input
  picture that makes the channel's mean net input largest, by gradient ascent
  through the matrix engine's backward pass (as
  :func:`ownnet.inspect.maximize.maximize` does for dense units).

Conv layers are numbered from 1 in the order they come (``"conv1"``,
``"conv2"``, ...), apart from the dense layers' numbers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.inspect.stack import InspectError, input_scale, kind_of


def conv_layers(model: Any) -> list[tuple[int, Any]]:
    """``[(position in model.layers, Conv2D layer), ...]``, first first (empty for MLPs)."""
    if kind_of(model) != "nn":
        return []
    from ownnet.nn.conv import Conv2D

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


@dataclass(frozen=True)
class MaximizedChannels:
    """Result of :func:`maximize_channels`: ``images (k, 28, 28)`` in [0, 1] and each
    channel's mean net input (before its activation) for its picture ``(k,)`` (and for
    the starting noise)."""

    layer: int
    channels: np.ndarray
    images: np.ndarray
    mean_net_input: np.ndarray
    start_mean_net_input: np.ndarray


def _linear_twin(model: Any, pos: int) -> Any:
    """The conv layer at ``pos`` without its activation, sharing its weights: its outputs
    are the channels' net inputs."""
    from ownnet.nn.conv import Conv2D

    conv = model.layers[pos]
    twin = Conv2D(
        conv.filters, conv.kernel_size, stride=conv.stride, padding=conv.padding,
        use_bias=conv.use_bias, init=conv.init,
    )  # fmt: skip
    twin.build(conv.input_shape, model.dtype, np.random.default_rng(0))
    twin.params = conv.params
    return twin


def _channel_means(
    model: Any, pos: int, twin: Any, x: np.ndarray, channels: np.ndarray, grad: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean net input of ``channels[i]`` of the conv layer at ``pos`` (``twin``: it without
    its activation) for picture ``x[i]`` and, if ``grad``, its gradient with respect to the
    picture ``(n, 784)``."""
    h = _inputs(model, x)
    for lay in model.layers[:pos]:
        h = lay.forward(h, False)
    h = twin.forward(h, False)
    rows = np.arange(len(x))
    means = np.asarray(h, dtype=np.float64)[rows, channels].mean(axis=(1, 2))
    if not grad:
        return means, None
    g = np.zeros(h.shape, model.dtype)
    g[rows, channels] = 1.0 / (h.shape[2] * h.shape[3])
    g = twin.backward(g, True)
    for lay in reversed(model.layers[:pos]):
        g = lay.backward(g, True)
    a, _ = input_scale(model)
    return means, np.asarray(g, dtype=np.float64).reshape(len(x), -1) * 255.0 * a


def maximize_channels(
    model: Any,
    layer: int | str,
    channels: np.ndarray | list[int],
    *,
    steps: int = 200,
    lr: float = 0.05,
    l2: float = 0.1,
    blur: float = 0.7,
    seed: int = 0,
) -> MaximizedChannels:
    """For each channel, a picture in [0, 1] that makes its mean net input large.

    The net input (before the relu) is maximised, as for dense units, because a
    silent relu channel has no gradient.

    The same gradient ascent as :func:`ownnet.inspect.maximize.maximize` (steps of
    root-mean-square length ``lr`` along the gradient minus an L2 penalty, clipped
    to [0, 1], smoothed every fourth step while ``blur`` fades out), through the
    conv, pooling and normalisation layers' backward passes.
    """
    number = conv_number(model, layer)
    pos, conv = conv_layers(model)[number - 1]
    channels = np.asarray(channels, dtype=np.intp).ravel()
    if len(channels) and (channels.min() < 0 or channels.max() >= conv.filters):
        raise InspectError(f"conv{number} has channels 0..{conv.filters - 1}")
    n_pixels = int(np.prod(model.input_shape))
    twin = _linear_twin(model, pos)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.1, (len(channels), n_pixels))
    with _one_blas_thread():
        start, g0 = _channel_means(model, pos, twin, x, channels, True)
        assert g0 is not None
        penalty = 2.0 * l2 * np.sqrt(np.mean(g0 * g0, axis=1, keepdims=True))
        for step in range(int(steps)):
            fade = 1.0 - step / steps
            if blur * fade >= 0.3 and step % 4 == 3:
                x = _smooth(x, blur * fade, model.input_shape[-1])
            _, g = _channel_means(model, pos, twin, x, channels, True)
            assert g is not None
            g -= penalty * x
            rms = np.sqrt(np.mean(g * g, axis=1, keepdims=True))
            x += lr * fade * g / np.maximum(rms, 1e-12)
            np.clip(x, 0.0, 1.0, out=x)
        final, _ = _channel_means(model, pos, twin, x, channels, False)
    side = model.input_shape[-1]
    images = x.reshape(len(channels), -1, side)
    return MaximizedChannels(number, channels, images, final, start)


def _smooth(x: np.ndarray, sigma: float, side: int) -> np.ndarray:
    """Pictures ``x (n, side * side)`` blurred by a Gaussian of ``sigma`` pixels."""
    from scipy import ndimage

    pics = ndimage.gaussian_filter(x.reshape(len(x), -1, side), (0, sigma, sigma))
    return pics.reshape(len(x), -1)


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Small products run faster on one BLAS thread (if threadpoolctl is installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# -- figures -----------------------------------------------------------------------------------


def kernels_figure(model: Any, layer: int | str = 1, *, title: str | None = None) -> Any:
    """A grid of conv kernels (red excites, blue inhibits, white is 0)."""
    from ownnet.inspect.grids import image_grid

    pics = kernels(model, layer)
    titles = [f"kernel {i}" for i in range(len(pics))]
    return image_grid(pics, titles=titles, cmap="RdBu_r", symmetric=True, title=title)


def feature_maps_figure(
    model: Any, image: np.ndarray, layer: int | str = 1, *, title: str | None = None
) -> Any:
    """The input picture, then each channel of conv layer ``layer`` for it (dark = strong)."""
    from ownnet.inspect.grids import image_grid

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


def maximize_channels_figure(result: MaximizedChannels, *, title: str | None = None) -> Any:
    """A grid of the pictures that excite each channel most, titled with the mean net input."""
    from ownnet.inspect.grids import image_grid

    titles = [
        f"ch {c}: {m:.2f}" for c, m in zip(result.channels, result.mean_net_input, strict=True)
    ]
    pics = result.images / np.maximum(result.images.max(axis=(1, 2), keepdims=True), 1e-12)
    return image_grid(pics, titles=titles, cmap="Greys", vmin=0.0, vmax=1.0, title=title)
