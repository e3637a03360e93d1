"""``BatchNorm``: normalise each channel (images) or unit (vectors) over the batch.

Training (Ioffe and Szegedy 2015)::

    x_hat = (x - mean) / sqrt(var + eps)      # mean, var of this batch (biased var)
    y = f(gamma * x_hat + beta)

and the running statistics move towards the batch's, as PyTorch's do:
``running = (1 - momentum) * running + momentum * batch`` (the running
variance takes the unbiased batch variance). In evaluation the running
statistics replace the batch's. For images ``(N, C, H, W)`` the statistics are
per channel, over ``N * H * W`` values; for vectors ``(N, D)`` per unit.

The backward pass of the training mode::

    dx = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat))

with ``g = dL/d(gamma x_hat + beta)`` and the means over the same values as the
statistics. ``gamma`` and ``beta`` are parameters (no weight decay); the
running mean and variance are kept in model files but not trained.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.nn import activations as acts
from ownnet.nn.im2col import internal, public
from ownnet.nn.layers import Layer, register_layer


@register_layer
class BatchNorm(Layer):
    """Batch normalisation with train and eval modes.

    Args:
        momentum: weight of the batch statistics in the running ones (PyTorch's 0.1).
        eps: added to the variance.
        activation: an elementwise activation applied after (``None``: linear), so
            that ``Conv2D -> BatchNorm("relu")`` needs no extra layer.
    """

    def __init__(
        self,
        momentum: float = 0.1,
        eps: float = 1e-5,
        activation: str | dict[str, Any] | acts.Activation | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 < momentum <= 1.0:
            raise ValueError(f"BatchNorm momentum must be in (0, 1], found {momentum}")
        if not eps > 0:
            raise ValueError(f"BatchNorm eps must be positive, found {eps}")
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.activation = acts.get_activation(activation)
        if not self.activation.in_place:
            raise ValueError(
                f"BatchNorm needs an elementwise activation, found {self.activation.name!r}"
            )
        self._training = False

    def build(
        self, input_shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator
    ) -> tuple[int, ...]:
        if len(input_shape) not in (1, 3):
            raise ValueError(
                f"BatchNorm needs vectors (units,) or images (channels, height, width), "
                f"found input shape {tuple(input_shape)}"
            )
        super().build(input_shape, dtype, rng)
        c = self.input_shape[0]
        self.params = {"gamma": np.ones(c, self.dtype), "beta": np.zeros(c, self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.running_mean = np.zeros(c, self.dtype)
        self.running_var = np.ones(c, self.dtype)
        return self.output_shape

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {**self.params, "running_mean": self.running_mean, "running_var": self.running_var}

    # -- layout: channels first ------------------------------------------------------------
    def _channels_first(self, x: np.ndarray) -> np.ndarray:
        """``(C, ...)`` view of ``x``: the statistics reduce over all axes but the first
        (images: the batch-last ``(C, H, W, N)``; vectors: ``(D, N)``)."""
        return internal(x) if x.ndim == 4 else x.T

    def _public(self, arr: np.ndarray) -> np.ndarray:
        return public(arr) if arr.ndim == 4 else arr.T

    def _per_channel(self, v: np.ndarray, ndim: int) -> np.ndarray:
        return v.reshape((-1,) + (1,) * (ndim - 1))

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        xc = self._channels_first(x)
        axes = tuple(range(1, xc.ndim))
        y = self._kept("y", xc.shape)
        if training:
            count = xc.size // xc.shape[0]
            mean = xc.mean(axis=axes, dtype=np.float64)
            xhat = self._kept("xhat", xc.shape)
            np.subtract(xc, self._per_channel(mean.astype(self.dtype), xc.ndim), out=xhat)
            flat = xhat.reshape(len(xhat), -1)
            var = np.einsum("ij,ij->i", flat, flat, dtype=np.float64) / count
            inv_std = 1.0 / np.sqrt(var + self.eps)
            xhat *= self._per_channel(inv_std.astype(self.dtype), xc.ndim)
            np.multiply(xhat, self._per_channel(self.params["gamma"], xc.ndim), out=y)
            y += self._per_channel(self.params["beta"], xc.ndim)
            m = self.momentum
            self.running_mean *= 1.0 - m
            self.running_mean += (m * mean).astype(self.dtype)
            unbiased = var * count / max(count - 1, 1)
            self.running_var *= 1.0 - m
            self.running_var += (m * unbiased).astype(self.dtype)
            self._inv_std = inv_std.astype(self.dtype)
        else:
            inv_std = 1.0 / np.sqrt(self.running_var.astype(np.float64) + self.eps)
            scale = (self.params["gamma"] * inv_std).astype(self.dtype)
            shift = self.params["beta"] - self.running_mean * scale
            np.multiply(xc, self._per_channel(scale, xc.ndim), out=y)
            y += self._per_channel(shift, xc.ndim)
            self._inv_std = inv_std.astype(self.dtype)
        self._x = x
        self._training = training
        self._y = self.activation.forward(y, y)
        return self._public(self._y)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        gc = self._channels_first(grad)
        g = gc if gc.flags.c_contiguous else self._kept("g", gc.shape)
        g = self.activation.backward(gc, self._y, g)
        axes = tuple(range(1, g.ndim))
        np.sum(g, axis=axes, out=self.grads["beta"])
        ndim = g.ndim
        if self._training:
            xhat = self._kept("xhat", g.shape)
        else:
            xc = self._channels_first(self._x)
            xhat = self._kept("xhat", g.shape)
            np.subtract(xc, self._per_channel(self.running_mean, ndim), out=xhat)
            xhat *= self._per_channel(self._inv_std, ndim)
        dgamma = np.einsum(
            "ij,ij->i", g.reshape(len(g), -1), xhat.reshape(len(g), -1), dtype=np.float64
        )
        self.grads["gamma"][...] = dgamma
        if not need_input_grad:
            return None
        scale = self._per_channel(self.params["gamma"] * self._inv_std, ndim)
        if self._training:
            count = g.size // g.shape[0]
            mean_g = self._per_channel((self.grads["beta"] / count).astype(self.dtype), ndim)
            mean_gx = self._per_channel((dgamma / count).astype(self.dtype), ndim)
            # g - mean(g) - x_hat * mean(g * x_hat), in place in xhat's buffer
            xhat *= mean_gx
            np.subtract(g, xhat, out=xhat)
            xhat -= mean_g
            xhat *= scale
            return self._public(xhat)
        np.multiply(g, scale, out=xhat)
        return self._public(xhat)

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {"momentum": self.momentum, "eps": self.eps}
        if self.activation.name != "linear":
            cfg["activation"] = self.activation.spec()
        return cfg
