"""How sure a model is: per-class confidences that sum to 1, and what they mean.

The classic network's outputs are ten independent sigmoids (each between 0
and 1, trained towards 0.01 and 0.99), not probabilities: they need not sum
to 1. Its confidences here are the outputs divided by their sum. They rank
the digits exactly as the outputs do but are not calibrated probabilities.
An nn model with a softmax output layer gives probabilities directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.inspect.stack import InspectError, dense_layers

NORMALISED = "sigmoid outputs divided by their sum (not calibrated probabilities)"
SOFTMAX = "softmax probabilities"
SOFTMAXED = "softmax of the outputs"


def meaning(model: Any) -> str:
    """What :func:`confidences` returns for ``model``, in words."""
    try:
        activation = dense_layers(model)[-1].activation
    except InspectError:  # a model the inspection tools cannot take apart
        activation = "unknown"
    if activation == "softmax":
        return SOFTMAX
    if activation == "sigmoid":
        return NORMALISED
    return SOFTMAXED


def confidences(model: Any, images: np.ndarray) -> tuple[np.ndarray, str]:
    """Confidences ``(n, n_out)`` (rows sum to 1) for uint8 images ``(n, 28, 28)``, and meaning."""
    how = meaning(model)
    return normalise(model.outputs(images), how), how


def normalise(outputs: np.ndarray, how: str) -> np.ndarray:
    """Outputs ``(..., n_out)`` → confidences summing to 1 along the last axis, by the rule
    :func:`meaning` names: softmax or sigmoid outputs divided by their sum, anything else
    through a softmax."""
    out = np.asarray(outputs, dtype=np.float64)
    if how in (SOFTMAX, NORMALISED):
        return out / np.maximum(out.sum(axis=-1, keepdims=True), 1e-300)
    e = np.exp(out - out.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def top_k(conf: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` likeliest classes per row: ``(classes (n, k), confidences (n, k))``, best first."""
    order = np.argsort(-conf, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(conf, order, axis=1)
