"""Activation functions and their derivatives, computed in place.

Each activation is a small object with

* ``forward(z, out) -> out``: ``out = f(z)``; ``out`` may be ``z`` itself when
  :attr:`Activation.in_place` is true;
* ``backward(grad, y, out) -> out``: ``dL/dz`` from ``grad = dL/dy`` and the
  forward output ``y``. It may overwrite ``y`` (the layer's own output, which
  is no longer needed once the layer above has taken its gradients).

All of them take their derivative from the *output* ``y`` (sigmoid
``y (1 - y)``, tanh ``1 - y**2``, relu ``y > 0``), so a layer keeps one buffer
per batch. None of them warns or overflows for inputs of ``±1000``.

The registry :data:`ACTIVATIONS` maps names to classes, as in scikit-learn's
``neural_network/_base.py``. PReLU has a learned slope, so it is a layer
(:class:`ownnet.nn.layers.PReLU`), not an activation here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.nn.registry import from_spec


class Activation:
    """Base class: the identity (``"linear"``)."""

    name = "linear"
    #: ``forward`` may write its result over its input.
    in_place = True

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out = f(z)`` for pre-activations ``z (batch, units)``."""
        if out is not z:
            np.copyto(out, z)
        return out

    def backward(self, grad: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``dL/dz`` from ``grad = dL/dy (batch, units)`` and outputs ``y``; may overwrite ``y``."""
        if out is not grad:
            np.copyto(out, grad)
        return out

    def spec(self) -> dict[str, Any]:
        """JSON-ready description, for :func:`get_activation`."""
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Activation):
    """``f(z) = z``."""


class Sigmoid(Activation):
    """``f(z) = 1 / (1 + exp(-z))``; ``f' = y (1 - y)``."""

    name = "sigmoid"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        # 1 / (1 + exp(-z)): twice as fast as scipy's expit in float32; exp(1000)
        # overflows to inf, which gives the right 0.0
        with np.errstate(over="ignore"):
            np.negative(z, out=out)
            np.exp(out, out=out)
        out += 1.0
        return np.reciprocal(out, out=out)

    def backward(self, grad: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.multiply(grad, y, out=out)
        np.subtract(1.0, y, out=y)
        return np.multiply(out, y, out=out)


class Tanh(Activation):
    """``f(z) = tanh(z)``; ``f' = 1 - y**2``."""

    name = "tanh"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=out)

    def backward(self, grad: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.multiply(y, y, out=y)
        np.subtract(1.0, y, out=y)
        return np.multiply(grad, y, out=out)


class ReLU(Activation):
    """``f(z) = max(z, 0)``; ``f' = 1`` where ``y > 0`` else 0."""

    name = "relu"

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        # z * (z > 0) is about twice as fast as np.maximum(z, 0), which checks for NaN.
        return np.multiply(z, z > 0, out=out)

    def backward(self, grad: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.multiply(grad, y > 0, out=out)


class LeakyReLU(Activation):
    """``f(z) = z`` for ``z > 0`` else ``alpha z``; ``f' = 1`` or ``alpha``."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"leaky_relu alpha must be in (0, 1), found {alpha}")
        self.alpha = float(alpha)

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        # max(z, alpha z) for 0 < alpha < 1
        scaled = np.multiply(z, self.alpha)
        return np.maximum(z, scaled, out=out)

    def backward(self, grad: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        # the sign of y is the sign of z because alpha > 0
        slope = np.where(y > 0, 1.0, self.alpha).astype(y.dtype, copy=False)
        return np.multiply(grad, slope, out=out)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "alpha": self.alpha}

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class Softmax(Activation):
    """``f(z)_i = exp(z_i) / sum_j exp(z_j)`` along each row, shifted by the row max.

    Not in place: the layer keeps the logits ``z`` so that the cross-entropy
    can use log-sum-exp and never takes ``log(0)``.
    """

    name = "softmax"
    in_place = False

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.subtract(z, z.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def backward(self, grad: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        # dL/dz = y * (g - sum(g * y))   (the softmax Jacobian times g, row by row)
        dot = np.einsum("ij,ij->i", grad, y)[:, None]
        np.subtract(grad, dot, out=out)
        return np.multiply(out, y, out=out)


#: Activation classes by name.
ACTIVATIONS: dict[str, type[Activation]] = {
    "linear": Linear,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softmax": Softmax,
}


def get_activation(spec: str | dict[str, Any] | Activation | None) -> Activation:
    """An activation from a name (``"relu"``), a spec (``{"name": "leaky_relu", "alpha": 0.1}``),
    an instance, or ``None`` (linear)."""
    if spec is None:
        return Linear()
    if isinstance(spec, Activation):
        return spec
    return from_spec(ACTIVATIONS, "activation", spec)
