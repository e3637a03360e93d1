"""What every ownnet model does with its outputs: pick a label, count the right ones."""

from __future__ import annotations

from typing import Any

import numpy as np


class Classifier:
    """``predict`` and ``evaluate`` for a model whose ``outputs(images)`` gives one row of
    class scores ``(n, n_classes)`` per uint8 image."""

    def outputs(self, images: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted labels ``(n,)`` for uint8 images ``(n, 28, 28)``."""
        return self.outputs(images).argmax(axis=1)

    def evaluate(self, dataset: Any) -> float:
        """Fraction of ``dataset`` (uint8 ``images``, ``labels``) classified right."""
        if len(dataset.labels) == 0:
            raise ValueError("cannot evaluate on an empty dataset")
        return float(np.mean(self.predict(dataset.images) == np.asarray(dataset.labels)))
