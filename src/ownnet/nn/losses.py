"""Costs, as small classes with ``fn`` and ``delta`` (after Nielsen's ``network2.py``).

Both are averaged over the batch: ``fn`` is the mean per-sample cost and the
gradients carry the ``1 / batch`` factor, so the learning rate does not change
meaning with the batch size (and with batch 1 they are the book's per-sample
rules).

* ``fn(a, y, z=None) -> float``: cost of outputs ``a (batch, k)`` against
  targets ``y (batch, k)``; ``z`` are the output layer's pre-activations
  where the layer keeps them (softmax does), used for a stable log-sum-exp.
* ``grad(a, y, out)``: ``dL/da``.
* ``delta(a, y, activation, out)``: ``dL/dz`` for the output layer's
  pre-activations. The cross-entropy fuses with softmax or sigmoid outputs to
  ``(a - y) / batch``; otherwise it is ``activation.backward(grad)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.nn.activations import Activation
from ownnet.nn.registry import from_spec

#: Outputs are clipped to ``[EPS, 1 - EPS]`` before a ``log`` where no logits are kept.
EPS = 1e-7


class Loss:
    """Base class."""

    name = ""

    def fn(self, a: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> float:
        """Mean cost over the batch."""
        raise NotImplementedError

    def grad(self, a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``dL/da (batch, k)``."""
        raise NotImplementedError

    def delta(
        self, a: np.ndarray, y: np.ndarray, activation: Activation, out: np.ndarray
    ) -> np.ndarray:
        """``dL/dz (batch, k)`` through the output activation; may overwrite ``a``."""
        self.grad(a, y, out)
        return activation.backward(out, a, out)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Quadratic(Loss):
    """``C = 0.5 * sum((a - y)**2)`` per sample, the book's cost.

    Its gradient ``a - y`` is minus the book's output error ``t - o``.
    """

    name = "quadratic"

    def fn(self, a: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> float:
        diff = a - y
        return 0.5 * float(np.vdot(diff, diff)) / len(a)

    def grad(self, a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.subtract(a, y, out=out)
        if len(a) != 1:
            out *= 1.0 / len(a)
        return out


class CrossEntropy(Loss):
    """Cross-entropy: ``-sum(y log a)`` for softmax outputs (computed from the logits
    with log-sum-exp), ``-sum(y log a + (1 - y) log(1 - a))`` for any other
    outputs in ``(0, 1)`` (sigmoid). With softmax or sigmoid outputs
    ``dL/dz = a - y`` (softmax: ``a * sum(y) - y`` for targets that do not sum to 1)."""

    name = "cross_entropy"

    def fn(self, a: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> float:
        n = len(a)
        if z is not None:  # softmax logits: log a = z - logsumexp(z)
            zmax = z.max(axis=1)
            shifted = np.subtract(z, zmax[:, None])
            np.exp(shifted, out=shifted)
            lse = np.log(shifted.sum(axis=1))
            lse += zmax
            total = float(np.dot(lse, y.sum(axis=1))) - float(np.vdot(y, z))
            return total / n
        a = np.clip(a, EPS, 1.0 - EPS)
        total = np.einsum("ij,ij->", y, np.log(a), dtype=np.float64) + np.einsum(
            "ij,ij->", 1.0 - y, np.log1p(-a), dtype=np.float64
        )
        return -float(total) / n

    def grad(self, a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        # binary form: (a - y) / (a (1 - a)), clipped like fn
        c = np.clip(a, EPS, 1.0 - EPS)
        np.subtract(c, y, out=out)
        out /= c * (1.0 - c)
        out *= 1.0 / len(a)
        return out

    def delta(
        self, a: np.ndarray, y: np.ndarray, activation: Activation, out: np.ndarray
    ) -> np.ndarray:
        if activation.name == "softmax":
            # a * sum(y) - y: the targets of a row may not sum to one (the book's 0.01/0.99)
            np.multiply(a, y.sum(axis=1, keepdims=True), out=out)
            np.subtract(out, y, out=out)
        elif activation.name == "sigmoid":
            np.subtract(a, y, out=out)
        else:
            return super().delta(a, y, activation, out)
        if len(a) != 1:
            out *= 1.0 / len(a)
        return out


#: Cost classes by name.
LOSSES: dict[str, type[Loss]] = {"quadratic": Quadratic, "cross_entropy": CrossEntropy}


def get_loss(spec: str | dict[str, Any] | Loss) -> Loss:
    """A cost from a name (``"quadratic"``, ``"cross_entropy"``), a spec or an instance."""
    if isinstance(spec, Loss):
        return spec
    return from_spec(LOSSES, "cost", spec)
