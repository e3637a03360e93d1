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

from ownnet.data.augment import transform
from ownnet.nn.conv import Conv2D

#: ``(rows, columns)`` each digit is moved by; the first is the digit as prepared.
SHIFTS = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0))


def with_shifts(images: np.ndarray) -> np.ndarray:
    """``images (n, h, w)`` in every place of :data:`SHIFTS`: ``(len(SHIFTS) * n, h, w)``,
    copy ``k`` of image ``i`` at ``k * n + i``; the pixels moved in are 0 (no ink)
    (:func:`~ownnet.data.augment.transform`: whole-pixel shifts are exact)."""
    return np.concatenate([transform(images, 0.0, shift) for shift in SHIFTS])


def mean_over_shifts(confidences: np.ndarray, n: int) -> np.ndarray:
    """The mean ``(n, classes)`` of the confidences ``(len(SHIFTS) * n, classes)`` of
    :func:`with_shifts` copies of ``n`` images."""
    return confidences.reshape(len(SHIFTS), n, -1).mean(axis=0)


def helps(model: Any) -> bool:
    """Whether ``model`` reads better in five places: it has no convolutions (a model
    without ``layers``, such as the book's network, has none)."""
    return not any(isinstance(layer, Conv2D) for layer in getattr(model, "layers", ()))
