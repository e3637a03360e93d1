"""The book's encoding: how *Make Your Own Neural Network* turns pixels into inputs and
labels into targets.

* A pixel ``p`` (0..255) becomes the input ``p / 255 * 0.99 + 0.01``: never exactly 0,
  so that every weight from a pixel can learn (``x = 0`` would switch its update off).
* A label ``k`` becomes ten targets: 0.01 everywhere and 0.99 at ``k``. A sigmoid never
  reaches 0 or 1, so asking for them would push the weights without end.
* A layer's first weights, ``(n_out, n_in)`` as the book writes them, are drawn from
  ``normal(0, n ** -0.5)`` with ``n`` the links into a node (:func:`book_weights`).

Every model that speaks the book's language (``ownnet.classic``, ``ownnet.neurons``, and
the matrix engine with ``input_scale="book"``/``targets="book"``) takes these numbers
from here.
"""

from __future__ import annotations

import numpy as np

#: the inputs span ``PIXEL_OFFSET .. PIXEL_OFFSET + PIXEL_RANGE``: a pixel ``x`` in 0..1 becomes
#: ``PIXEL_RANGE * x + PIXEL_OFFSET``, a uint8 pixel ``p`` ``PIXEL_SCALE * p + PIXEL_OFFSET``
PIXEL_RANGE = 0.99
PIXEL_OFFSET = 0.01
PIXEL_SCALE = PIXEL_RANGE / 255.0
#: the targets: ``TARGET_OFF`` for the wrong classes, ``TARGET_ON`` for the label
TARGET_OFF = 0.01
TARGET_ON = 0.99

#: ``INPUTS[p]`` is the book's input for the uint8 pixel value ``p`` (a lookup table:
#: ``INPUTS[images]`` scales a batch without arithmetic)
INPUTS = np.arange(256, dtype=np.float64) / 255.0 * 0.99 + 0.01


def book_inputs(pixels: np.ndarray) -> np.ndarray:
    """Pixels → the book's inputs, float64 of the same shape.

    ``pixels`` are uint8 values 0..255, or floats 0..1 (a pixel already divided by 255):
    ``x * 0.99 + 0.01``.
    """
    pixels = np.asarray(pixels)
    if pixels.dtype == np.uint8:
        return INPUTS[pixels]
    return pixels.astype(np.float64) * PIXEL_RANGE + PIXEL_OFFSET


def book_targets(labels: np.ndarray, n_output: int = 10) -> np.ndarray:
    """Labels ``(n,)`` → the book's targets ``(n, n_output)``: 0.01, and 0.99 at the label."""
    labels = np.asarray(labels, dtype=np.intp)
    targets = np.full((len(labels), n_output), TARGET_OFF)
    targets[np.arange(len(labels)), labels] = TARGET_ON
    return targets


def book_weights(
    rng: np.random.Generator, n_out: int, n_in: int, fan: int | None = None
) -> np.ndarray:
    """A layer's first weights as the book draws them: ``(n_out, n_in)`` from
    ``normal(0, fan ** -0.5)``, ``fan`` the links into each node (``n_in``, the book's text)
    unless given (its printed code uses the receiving layer's size)."""
    return rng.normal(0.0, (n_in if fan is None else fan) ** -0.5, (n_out, n_in))
