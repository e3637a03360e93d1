"""Reading a digit in five places: where it was put, and one pixel up, down, left and right.

A network without convolutions (the book's network, an MLP) gives each of the 784
pixels its own weights, so it reads a digit best in exactly the place MNIST's
digits sit. Preparation puts a digit there by its centre of mass, as MNIST did, but
a hand's strokes can move that centre by a pixel. Reading the digit also shifted
one pixel each way and taking the mean of the five confidences steadies the answer:
book networks trained from three seeds each read more single digits and more whole
numbers this way on the evaluation sets of ``benchmarks/reader.py`` (the handwriting
guide's ablation table gives the default model's numbers). A convolutional network
already tolerates such shifts (its filters slide and its pooling forgets exact
places), and was trained on shifted digits, so it reads each digit once
(:func:`helps`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.nn.conv import Conv2D

#: ``(rows, columns)`` each digit is moved by; the first is the digit as prepared.
SHIFTS = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0))


def shifted(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``images (n, h, w)`` moved ``rows`` down and ``cols`` right (negative: up, left); the
    pixels moved in are 0 (no ink), the ones moved out are dropped."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(rows, 0) : h + min(rows, 0), max(cols, 0) : w + min(cols, 0)] = images[
        :, max(-rows, 0) : h + min(-rows, 0), max(-cols, 0) : w + min(-cols, 0)
    ]
    return out


def with_shifts(images: np.ndarray) -> np.ndarray:
    """``images (n, h, w)`` in every place of :data:`SHIFTS`: ``(len(SHIFTS) * n, h, w)``,
    copy ``k`` of image ``i`` at ``k * n + i``."""
    return np.concatenate([shifted(images, r, c) for r, c in SHIFTS])


def mean_over_shifts(confidences: np.ndarray, n: int) -> np.ndarray:
    """The mean ``(n, classes)`` of the confidences ``(len(SHIFTS) * n, classes)`` of
    :func:`with_shifts` copies of ``n`` images."""
    return confidences.reshape(len(SHIFTS), n, -1).mean(axis=0)


def helps(model: Any) -> bool:
    """Whether ``model`` reads better in five places: it has no convolutions (a model
    without ``layers``, such as the book's network, has none)."""
    return not any(isinstance(layer, Conv2D) for layer in getattr(model, "layers", ()))
