"""Weight initialisers: ``f(rng, (n_in, n_out), dtype) -> array``.

* ``normal``: ``N(0, 1/sqrt(n_in))``, the book's choice;
* ``he``: ``N(0, sqrt(2/n_in))`` for relu layers (He et al. 2015);
* ``glorot``: ``U(-l, l)`` with ``l = sqrt(6/(n_in + n_out))`` (Glorot and Bengio
  2010, Keras' default);
* ``zeros``.

For shapes with more than two axes (convolution kernels) ``n_in`` and
``n_out`` are the fan-in and fan-out: the product of all axes but the last,
and the last axis.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Initializer = Callable[[np.random.Generator, tuple[int, ...], np.dtype], np.ndarray]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape ``(..., n_in, n_out)``."""
    if len(shape) < 2:
        raise ValueError(f"weights need at least 2 axes, found shape {shape}")
    return int(np.prod(shape[:-1])), int(shape[-1])


def normal(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``N(0, n_in ** -0.5)``, as the book draws its weights."""
    n_in, _ = fans(shape)
    return rng.normal(0.0, n_in**-0.5, shape).astype(dtype)


def he(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``N(0, sqrt(2 / n_in))``."""
    n_in, _ = fans(shape)
    return rng.normal(0.0, (2.0 / n_in) ** 0.5, shape).astype(dtype)


def glorot(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``U(-l, l)``, ``l = sqrt(6 / (n_in + n_out))``."""
    n_in, n_out = fans(shape)
    limit = (6.0 / (n_in + n_out)) ** 0.5
    return rng.uniform(-limit, limit, shape).astype(dtype)


def zeros(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """All zeros."""
    return np.zeros(shape, dtype)


#: Initialisers by name.
INITIALIZERS: dict[str, Initializer] = {
    "normal": normal,
    "he": he,
    "glorot": glorot,
    "zeros": zeros,
}


def get_initializer(name: str) -> Initializer:
    """The initialiser called ``name``."""
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initialiser {name!r}; expected one of {sorted(INITIALIZERS)}")
    return INITIALIZERS[name]
