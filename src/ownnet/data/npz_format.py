"""Keras' ``mnist.npz``: ``x_train, y_train, x_test, y_test`` in an npz archive.

Read through :class:`ownnet.npzfile.NpzArchive`: no pickle, every declared size checked
before anything is allocated, and only the four arrays read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ownnet.data.layout import IMAGE_SHAPE, N_PIXELS, check_labels
from ownnet.errors import DataError
from ownnet.npzfile import NpzArchive, listing

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_npz(path: str | os.PathLike[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read Keras' ``mnist.npz``: ``{"train": (images, labels), "test": (images, labels)}``.

    Images come back uint8 ``(n, 28, 28)`` (``(n, 784)`` is reshaped), labels uint8 ``(n,)``.
    """
    path = Path(path)
    with NpzArchive(path, error=DataError, what="npz archive") as z:
        missing = [k for k in NPZ_KEYS if k not in z]
        if missing:
            raise DataError(
                f"{path}: expected arrays {', '.join(NPZ_KEYS)}, "
                f"found {listing(z.names)} (missing {', '.join(missing)})"
            )
        for split in ("train", "test"):  # shapes from the headers, before reading any data
            x, y = z.member(f"x_{split}"), z.member(f"y_{split}")
            _check_shapes(path, split, x.shape, y.shape)
        out = {}
        for split in ("train", "test"):
            x = _npz_images(path, f"x_{split}", z.read(f"x_{split}"))
            y = _npz_labels(path, f"y_{split}", z.read(f"y_{split}"))
            out[split] = (x, y)
        return out


def _check_shapes(path: Path, split: str, x: tuple[int, ...], y: tuple[int, ...]) -> None:
    if not (len(x) == 3 and x[1:] == IMAGE_SHAPE) and not (len(x) == 2 and x[1] == N_PIXELS):
        raise DataError(f"{path}: expected x_{split} of shape (n, 28, 28), found {x}")
    if len(y) != 1:
        raise DataError(f"{path}: expected y_{split} of shape (n,), found {y}")
    if x[0] != y[0]:
        raise DataError(
            f"{path}: expected as many labels as images in the {split} set, "
            f"found {x[0]} images (x_{split}) and {y[0]} labels (y_{split})"
        )


def _npz_images(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    if x.ndim == 2:
        x = x.reshape(len(x), *IMAGE_SHAPE)
    if x.dtype != np.uint8:
        if x.dtype.kind not in "iu":
            raise DataError(f"{path}: expected {key} as integers 0..255, found {x.dtype.name}")
        if x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(
                f"{path}: expected {key} pixel values 0..255, found {x.min()}..{x.max()}"
            )
        x = x.astype(np.uint8)
    return np.ascontiguousarray(x)


def _npz_labels(path: Path, key: str, y: np.ndarray) -> np.ndarray:
    if y.dtype.kind not in "iu":
        raise DataError(f"{path}: expected {key} as integers 0..9, found {y.dtype.name}")
    check_labels(y, f"{path} ({key})")
    return y.astype(np.uint8, copy=False)
