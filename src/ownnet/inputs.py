"""What every ownnet model accepts as images and labels, checked in one place.

Images come as uint8 pixel values 0..255 (as MNIST stores them) or as floats 0..1 (a
pixel divided by 255), one image ``(28, 28)`` or ``(784,)`` or a batch ``(n, 28, 28)`` or
``(n, 784)``. Labels are whole numbers ``0..n_classes-1``. Training data come as a
``Dataset`` (anything with ``images`` and ``labels``), as a pair ``(x, y)``, or as ``x``
and ``y`` given separately, as Keras and scikit-learn take them.

Anything else is an :class:`InputError` that names the argument, what was expected and
what was found. Arrays are returned flat, ``(n, n_pixels)``, without copying uint8 data;
the models scale them to their own inputs at their edge, a batch at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.errors import OwnnetError


class InputError(OwnnetError, ValueError):
    """Images or labels handed to a model are not what it takes."""


def _describe(x: np.ndarray) -> str:
    return f"shape {x.shape} dtype {x.dtype}"


def as_images(
    x: Any, n_pixels: int, what: str = "x", *, pixels: bool = True
) -> tuple[np.ndarray, bool]:
    """Images → ``(flat (n, n_pixels), single)``.

    ``flat`` is uint8 (as given) or float32/float64 in 0..1; ``single`` says one image
    was given rather than a batch (``predict`` then returns one answer). With ``pixels``
    False (a model of tabular features) any finite numbers are taken, as floats.
    """
    if isinstance(x, (list, tuple)):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise InputError(
            f"{what}: expected images as a NumPy array (n, {n_pixels}) or one image, "
            f"found {type(x).__name__}"
        )
    side = int(round(n_pixels**0.5))
    square = pixels and side * side == n_pixels  # one picture may come as rows of pixels
    one_shapes = {(n_pixels,)} | ({(side, side)} if square else set())
    if x.shape in one_shapes:
        single = True
        flat = x.reshape(1, n_pixels)
    elif x.ndim >= 2 and int(np.prod(x.shape[1:])) == n_pixels:
        single = False
        flat = x.reshape(len(x), n_pixels)
    else:
        expected = (
            f"(n, {side}, {side}) or (n, {n_pixels})"
            if side * side == n_pixels
            else (f"(n, {n_pixels})")
        )
        raise InputError(f"{what}: expected images {expected}, or one image, found {_describe(x)}")
    if not pixels:
        return _features(flat, x, what), single
    if flat.dtype == np.uint8:
        return flat, single
    if flat.dtype.kind != "f":
        raise InputError(
            f"{what}: expected uint8 pixel values 0..255 or floats 0..1, found {_describe(x)}"
        )
    if flat.dtype not in (np.float32, np.float64):
        flat = flat.astype(np.float64)
    if flat.size:
        low, high = float(flat.min()), float(flat.max())
        if not (0.0 <= low and high <= 1.0):  # also false for NaN
            raise InputError(
                f"{what}: expected float pixel values 0..1 (uint8 for 0..255), found values "
                f"{low:g}..{high:g} ({_describe(x)})"
            )
    return flat, single


def _features(flat: np.ndarray, x: np.ndarray, what: str) -> np.ndarray:
    """Features of any finite value, as float32/float64."""
    if flat.dtype.kind not in "biuf":
        raise InputError(f"{what}: expected numbers, found {_describe(x)}")
    if flat.dtype not in (np.float32, np.float64):
        flat = flat.astype(np.float64)
    if flat.size and not np.all(np.isfinite(flat)):
        raise InputError(f"{what}: expected finite numbers, found NaN or infinity ({_describe(x)})")
    return flat


def as_labels(y: Any, n: int, n_classes: int, what: str = "y") -> np.ndarray:
    """Labels ``(n,)`` of whole numbers ``0..n_classes-1`` → ``intp (n,)``."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise InputError(f"{what}: expected {n} labels, one per image, found shape {y.shape}")
    if y.dtype.kind == "f":
        if y.size and not np.all(np.isfinite(y) & (y == np.round(y))):
            raise InputError(f"{what}: expected whole-number labels, found {_describe(y)}")
    elif y.dtype.kind not in "iu":
        raise InputError(
            f"{what}: expected whole-number labels 0..{n_classes - 1}, found {_describe(y)}"
        )
    labels = y.astype(np.intp)
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise InputError(
            f"{what}: expected labels 0..{n_classes - 1}, found "
            f"{int(labels.min())}..{int(labels.max())}"
        )
    return labels


def split_xy(x: Any, y: Any = None, what: str = "x") -> tuple[Any, Any]:
    """``(images, labels)`` from a Dataset, a pair ``(x, y)``, or ``x`` and ``y``."""
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        raise InputError(
            f"y: expected labels, one per image, found the number {y!r} "
            f"(the number of epochs goes as epochs={y!r})"
        )
    if y is not None:
        return x, y
    if hasattr(x, "images") and hasattr(x, "labels"):
        return x.images, x.labels
    if isinstance(x, tuple) and len(x) == 2:
        return x
    raise InputError(
        f"{what}: expected a Dataset, a pair (images, labels), or images with labels y, "
        f"found {type(x).__name__} without labels"
    )


def as_training_data(
    x: Any, y: Any, n_pixels: int, n_classes: int, what: str = "x", *, pixels: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Training or test data in any accepted form → ``(images (n, n_pixels), labels intp (n,))``
    (``pixels`` False: any finite features, see :func:`as_images`)."""
    images, labels = split_xy(x, y, what)
    flat, _ = as_images(images, n_pixels, f"{what} images" if y is None else what, pixels=pixels)
    if len(flat) == 0:
        raise InputError(f"{what}: expected at least one image, found none")
    return flat, as_labels(labels, len(flat), n_classes, "labels" if y is None else "y")
