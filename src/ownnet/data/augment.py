"""Data augmentation: rotated and shifted copies of digits, vectorised over the batch.

The book (*Make Your Own Neural Network*, part 3) makes two extra training
samples from every digit, rotated by +10 and -10 degrees with
``scipy.ndimage.rotate(img, angle, cval=0.01, order=1, reshape=False)``, and
trains on the original, then the +10 copy, then the -10 copy.
:func:`with_rotations` builds that dataset in one call.

All transforms here work on a whole batch ``(n, 28, 28)`` at once with NumPy
array operations (order-1, i.e. bilinear, interpolation written out: each output
pixel mixes the four input pixels around the point it comes from) instead of a
Python loop per image; ``scipy.ndimage.rotate`` itself loops over the images of
a 3-D batch in Python. The results equal ``scipy.ndimage.rotate(img, angle,
reshape=False, order=1, mode="constant")`` per image (tests check this). They
use the same convention as ``scipy.ndimage.rotate``: a positive angle turns
the digit anticlockwise as it is displayed (row 0 at the top), about the image
centre; pixels that come from outside the image take the background value
``fill``. uint8 images come back as uint8 (rounded, clipped to 0..255); float
images come back as float64.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import numpy as np
from scipy import special

D = TypeVar("D")

#: Images per chunk in :func:`transform`: bounds the temporary arrays to ~15 MB.
CHUNK = 1024


def _as_batch(images: np.ndarray) -> tuple[np.ndarray, bool]:
    images = np.asarray(images)
    if images.ndim == 2:
        images, single = images[None], True
    elif images.ndim == 3:
        single = False
    else:
        raise ValueError(
            f"expected images (n, height, width) or (height, width), found shape {images.shape}"
        )
    if min(images.shape[1:]) < 2:
        raise ValueError(f"images must be at least 2x2 pixels, found {images.shape[1:]}")
    return images, single


def _output(batch: np.ndarray) -> np.ndarray:
    """The result array: uint8 for uint8 images, else float64; ``(n, height * width)``."""
    dtype = np.uint8 if batch.dtype == np.uint8 else np.float64
    return np.empty((len(batch), batch.shape[1] * batch.shape[2]), dtype=dtype)


def _store(out: np.ndarray, values: np.ndarray) -> None:
    """Write float ``values`` into ``out``, rounding and clipping to 0..255 for uint8."""
    if out.dtype == np.uint8:
        np.rint(values, out=values)
        np.clip(values, 0, 255, out=values)
    out[...] = values


def _source(
    angles: np.ndarray, shifts: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel is read from: ``(y, x)``, each ``(m, height * width)``.

    Output pixel ``o`` comes from ``R @ (o - shift - centre) + centre`` with
    ``scipy.ndimage.rotate``'s matrix ``R = [[cos, sin], [-sin, cos]]`` (degrees).
    """
    cos, sin = special.cosdg(angles)[:, None], special.sindg(angles)[:, None]
    cy, cx = (height - 1) / 2, (width - 1) / 2
    oy, ox = np.divmod(np.arange(height * width), width)
    dy = oy[None, :] - shifts[:, 0, None] - cy
    dx = ox[None, :] - shifts[:, 1, None] - cx
    return cos * dy + sin * dx + cy, -sin * dy + cos * dx + cx


def _bilinear(
    flat: np.ndarray, y: np.ndarray, x: np.ndarray, height: int, width: int, fill: float
) -> np.ndarray:
    """Sample images ``flat (m, height * width)`` at ``(y, x)`` ``(m or 1, height * width)``.

    Order-1 interpolation with ``scipy.ndimage``'s ``mode="constant"``: a point
    outside ``[0, height - 1] x [0, width - 1]`` takes ``fill``, a point inside
    interpolates the four pixels around it.
    """
    inside = (y >= 0) & (y <= height - 1) & (x >= 0) & (x <= width - 1)
    y0 = np.clip(np.floor(y), 0, height - 2)
    x0 = np.clip(np.floor(x), 0, width - 2)
    fy, fx = y - y0, x - x0
    i00 = (y0 * width + x0).astype(np.intp)
    if i00.shape[0] == 1:  # the same source for every image

        def at(idx: np.ndarray) -> np.ndarray:
            return flat[:, idx[0]]
    else:
        rows = np.arange(len(flat))[:, None]

        def at(idx: np.ndarray) -> np.ndarray:
            return flat[rows, idx]

    top = (1 - fx) * at(i00) + fx * at(i00 + 1)
    bottom = (1 - fx) * at(i00 + width) + fx * at(i00 + width + 1)
    out = (1 - fy) * top + fy * bottom
    return np.where(inside, out, fill)


def rotate(images: np.ndarray, angle: float, *, fill: float = 0.0) -> np.ndarray:
    """Rotate every image by the same ``angle`` degrees (anticlockwise), keeping the size.

    Equal (to rounding) to ``scipy.ndimage.rotate(img, angle, reshape=False, order=1,
    cval=fill)`` for each image: the four source pixels and weights of each output
    pixel are computed once and applied to the whole batch.

    Args:
        images: ``(n, 28, 28)`` or one ``(28, 28)`` image, uint8 or float.
        angle: degrees; positive turns the digit anticlockwise.
        fill: background value for pixels from outside the image (0 for uint8
            pixels; the book's scaled inputs use 0.01).

    Returns:
        Rotated images, same shape, uint8 if the input is uint8 else float64.
    """
    batch, single = _as_batch(images)
    n, height, width = batch.shape
    y, x = _source(np.array([float(angle)]), np.zeros((1, 2)), height, width)
    out = _output(batch)
    flat = batch.reshape(n, -1)
    for start in range(0, n, CHUNK):
        chunk = flat[start : start + CHUNK].astype(np.float64)
        _store(out[start : start + CHUNK], _bilinear(chunk, y, x, height, width, fill))
    out = out.reshape(batch.shape)
    return out[0] if single else out


def transform(
    images: np.ndarray,
    angles: np.ndarray | float = 0.0,
    shifts: np.ndarray | None = None,
    *,
    fill: float = 0.0,
) -> np.ndarray:
    """Rotate each image by its own angle about the centre, then shift it, in one resampling.

    Args:
        images: ``(n, 28, 28)`` (or one ``(28, 28)``), uint8 or float.
        angles: degrees, a scalar or ``(n,)``; positive turns the digit anticlockwise.
        shifts: ``(n, 2)`` or ``(2,)`` as ``(down, right)`` in pixels, or ``None``.
        fill: background value for pixels from outside the image.

    Returns:
        Same shape as ``images``. Without shifts, image ``i`` equals
        ``scipy.ndimage.rotate(images[i], angles[i], reshape=False, order=1, cval=fill)``;
        with shifts it equals that image shifted by ``ndimage.shift(..., order=1)``
        wherever the rotation kept the digit inside the frame (a single
        resampling keeps what a rotate-then-shift would cut off at the edge).
    """
    batch, single = _as_batch(images)
    n, height, width = batch.shape
    angles = np.broadcast_to(np.asarray(angles, dtype=np.float64), (n,))
    shifts = np.zeros((n, 2)) if shifts is None else np.asarray(shifts, dtype=np.float64)
    shifts = np.broadcast_to(shifts, (n, 2))
    out = _output(batch)
    flat = batch.reshape(n, -1)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        y, x = _source(angles[start:stop], shifts[start:stop], height, width)
        chunk = flat[start:stop].astype(np.float64)
        _store(out[start:stop], _bilinear(chunk, y, x, height, width, fill))
    out = out.reshape(batch.shape)
    return out[0] if single else out


def _replace(dataset: D, images: np.ndarray, labels: np.ndarray, suffix: str) -> D:
    """A dataset of the same type with new images and labels, its name marked with ``suffix``."""
    changes: dict[str, Any] = {"images": images, "labels": labels}
    if hasattr(dataset, "name"):
        changes["name"] = f"{dataset.name}{suffix}"
    return dataclasses.replace(dataset, **changes)  # type: ignore[type-var]


def with_rotations(dataset: D, angle: float, *, fill: float = 0.0) -> D:
    """The book's augmented training set: every sample, then it at +angle, then at -angle.

    Order-1 interpolation, no reshape, background ``fill``, as the book's
    ``scipy.ndimage.rotate(..., cval=0.01, order=1, reshape=False)`` on scaled
    inputs (0.01 is pixel value 0). Sample ``3 * i`` is the original ``i``,
    ``3 * i + 1`` rotated by ``+angle``, ``3 * i + 2`` by ``-angle``, so training
    in file order sees them as the book does.

    Args:
        dataset: a ``Dataset`` (any dataclass with uint8 ``images (n, 28, 28)``
            and ``labels (n,)``).
        angle: degrees, e.g. 10.

    Returns:
        A dataset of the same type with ``3 * n`` samples.
    """
    images = np.asarray(dataset.images)
    labels = np.asarray(dataset.labels)
    if angle == 0:
        return dataset
    out = np.empty((len(images), 3) + images.shape[1:], dtype=images.dtype)
    out[:, 0] = images
    out[:, 1] = rotate(images, angle, fill=fill)
    out[:, 2] = rotate(images, -angle, fill=fill)
    return _replace(
        dataset,
        out.reshape((3 * len(images),) + images.shape[1:]),
        np.repeat(labels, 3),
        f" +-{angle:g}deg",
    )


def random_transform(
    dataset: D,
    rng: np.random.Generator,
    *,
    max_angle: float = 0.0,
    max_shift: int = 0,
    fill: float = 0.0,
) -> D:
    """A copy of ``dataset`` with each image rotated and shifted at random (for one epoch).

    Angles are uniform in ``[-max_angle, max_angle]`` degrees; shifts are whole
    pixels, uniform in ``-max_shift..max_shift`` down and right independently.
    Labels are unchanged; the number of samples is the same.
    """
    if max_angle < 0 or max_shift < 0:
        raise ValueError(f"max_angle and max_shift must be >= 0, found {max_angle}, {max_shift}")
    if max_angle == 0 and max_shift == 0:
        return dataset
    out = random_transform_images(
        np.asarray(dataset.images), rng, max_angle=max_angle, max_shift=max_shift, fill=fill
    )
    return _replace(dataset, out, np.asarray(dataset.labels), " (random transform)")


def random_transform_images(
    images: np.ndarray,
    rng: np.random.Generator,
    *,
    max_angle: float = 0.0,
    max_shift: int = 0,
    fill: float = 0.0,
) -> np.ndarray:
    """:func:`transform` with a random angle and shift per image of ``images (n, h, w)``.

    Draws from ``rng`` the angles (``uniform(-max_angle, max_angle, n)``, if
    ``max_angle``), then the shifts (``integers(-max_shift, max_shift, (n, 2))``
    inclusive, if ``max_shift``): :func:`random_transform` and
    :class:`ownnet.nn.augmentation.RandomTransform` both draw through here.
    """
    n = len(images)
    angles = rng.uniform(-max_angle, max_angle, n) if max_angle else np.zeros(n)
    shifts = rng.integers(-max_shift, max_shift, (n, 2), endpoint=True) if max_shift else None
    return transform(images, angles, shifts, fill=fill)


def sample(images: np.ndarray, y: np.ndarray, x: np.ndarray, *, fill: float = 0.0) -> np.ndarray:
    """Read each image at its own points, with bilinear interpolation (any warp of a batch).

    The image is taken to be surrounded by ``fill``: a point within one pixel outside
    the image mixes its edge with ``fill``, a point further out is ``fill``
    (``scipy.ndimage``'s ``mode="grid-constant"``, order 1).

    Args:
        images: ``(n, height, width)``, uint8 or float.
        y, x: where output pixel ``k`` of image ``i`` is read from, ``(n, height * width)``
            (row and column in the image).
        fill: background value.

    Returns:
        ``(n, height, width)``, uint8 if ``images`` is uint8 (worked out in float32,
        rounded, clipped), else float64.
    """
    batch, single = _as_batch(images)
    n, height, width = batch.shape
    work = np.float32 if batch.dtype == np.uint8 else np.float64  # float32 is ample for 0..255
    y = np.asarray(y, dtype=work).reshape(n, -1)
    x = np.asarray(x, dtype=work).reshape(n, -1)
    out = _output(batch)
    row = width + 2  # the padded image's row length
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        padded = np.full((stop - start, height + 2, row), fill, dtype=work)
        padded[:, 1:-1, 1:-1] = batch[start:stop]
        yy = np.clip(y[start:stop], -1, height)
        xx = np.clip(x[start:stop], -1, width)
        y0 = np.minimum(np.floor(yy), height - 1)
        x0 = np.minimum(np.floor(xx), width - 1)
        fy, fx = yy - y0, xx - x0
        offsets = np.arange(stop - start)[:, None] * ((height + 2) * row)
        i00 = (y0.astype(np.intp) + 1) * row + x0.astype(np.intp) + 1 + offsets
        flat = padded.ravel()
        a, b = flat.take(i00), flat.take(i00 + 1)
        c, d = flat.take(i00 + row), flat.take(i00 + row + 1)
        top = a + fx * (b - a)
        top += fy * (c + fx * (d - c) - top)
        _store(out[start:stop], top)
    out = out.reshape(batch.shape)
    return out[0] if single else out
