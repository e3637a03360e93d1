"""How sure a model is: per-class confidences that sum to 1, and what they mean.

The rule is the models' own (:mod:`ownnet.classifier`, ``predict_proba``): the book's
network's ten independent sigmoid outputs (each between 0 and 1, trained towards 0.01
and 0.99, not probabilities) are divided by their sum, which ranks the digits as the
outputs do but is not a calibrated probability; a softmax network gives probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.classifier import NORMALISED, SOFTMAX, SOFTMAXED, normalise

__all__ = ["NORMALISED", "SOFTMAX", "SOFTMAXED", "confidences", "meaning", "normalise", "top_k"]


def meaning(model: Any) -> str:
    """What :func:`confidences` returns for ``model``, in words."""
    return model.proba_meaning


def confidences(model: Any, images: np.ndarray) -> tuple[np.ndarray, str]:
    """Confidences ``(n, n_classes)`` (rows sum to 1) for images ``(n, 28, 28)``, and meaning."""
    return np.atleast_2d(model.predict_proba(images)), model.proba_meaning


def top_k(conf: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` likeliest classes per row: ``(classes (n, k), confidences (n, k))``, best first."""
    order = np.argsort(-conf, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(conf, order, axis=1)
