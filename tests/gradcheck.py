"""Central-difference gradients for the gradient tests (float64 only)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EPS = 1e-6


def numeric_grad(f: Callable[[], float], arr: np.ndarray, eps: float = EPS) -> np.ndarray:
    """d f / d arr by central differences, perturbing ``arr`` in place (same shape as ``arr``)."""
    grad = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        plus = f()
        arr[idx] = old - eps
        minus = f()
        arr[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def check(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-4) -> None:
    """The analytic gradient equals the numeric one; ``floor`` makes sure the check is not
    vacuous (some numeric entry must exceed it, else a zero gradient would pass)."""
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    assert np.abs(numeric).max() > floor, "the check would pass for a zero gradient"
