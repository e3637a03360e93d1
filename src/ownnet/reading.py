"""Reading your own handwriting with a model: a photo in, the digit and how sure out.

:func:`read` prepares the image the way MNIST digits were made
(:func:`ownnet.data.images.prepare`) and asks the model for its per-class confidences
(``predict_proba``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.data.images import prepare


@dataclass(frozen=True)
class Reading:
    """What a model read in one image.

    Attributes:
        digit: the answer.
        confidence: its score from ``predict_proba`` (see the model's ``proba_meaning``).
        top3: the three best ``(digit, confidence)`` pairs, best first.
        image: the prepared input, uint8 ``(28, 28)``.
        probabilities: all the scores ``(n_classes,)``.
    """

    digit: int
    confidence: float
    top3: list[tuple[int, float]]
    image: np.ndarray
    probabilities: np.ndarray

    @property
    def number(self) -> str:
        """The digits read, as text."""
        return str(self.digit)

    def __str__(self) -> str:
        others = ", ".join(f"{d} {c:.2f}" for d, c in self.top3[1:])
        return f"{self.number} (confidence {self.confidence:.2f}; then {others})"


def read(model: Any, source: Any, *, thicken: bool = True) -> Reading:
    """Read the digit in ``source`` (an image path, bytes-like file, Pillow image or array
    ``(H, W)``/``(H, W, 3|4)``) with ``model``."""
    image = prepare(source, thicken=thicken)
    proba = np.asarray(model.predict_proba(image), dtype=np.float64)
    order = np.argsort(-proba, kind="stable")[:3]
    top3 = [(int(k), float(proba[k])) for k in order]
    return Reading(top3[0][0], top3[0][1], top3, image, proba)
