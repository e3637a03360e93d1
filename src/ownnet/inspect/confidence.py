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
    out = np.asarray(model.outputs(images), dtype=np.float64)
    how = meaning(model)
    if how == SOFTMAX:
        conf = out / out.sum(axis=1, keepdims=True)
    elif how == NORMALISED:
        conf = out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)
    else:
        z = out - out.max(axis=1, keepdims=True)
        conf = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return conf, how


def top_k(conf: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` likeliest classes per row: ``(classes (n, k), confidences (n, k))``, best first."""
    order = np.argsort(-conf, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(conf, order, axis=1)
