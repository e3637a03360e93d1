"""What one MNIST sample is: a 28x28 image of uint8 pixels and a label 0..9."""

from __future__ import annotations

import numpy as np

from ownnet.errors import DataError

IMAGE_SHAPE = (28, 28)
N_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
N_CLASSES = 10


def check_labels(labels: np.ndarray, source: object) -> None:
    """Raise DataError naming ``source`` unless every label is an integer in 0..9."""
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        bad = (labels < 0) | (labels >= N_CLASSES)
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{source}: expected labels 0..9, found {labels[i]} at index {i} "
            f"({int(np.count_nonzero(bad))} bad in all)"
        )
