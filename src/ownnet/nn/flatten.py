"""``Flatten``: images ``(N, C, H, W)`` -> vectors ``(N, C * H * W)`` for the Dense layers.

The order is channel, row, column (PyTorch's ``nn.Flatten``), whatever the
memory layout of the input (the image layers hand on batch-last views, see
:mod:`ownnet.nn.im2col`: flattened, they are a transposed view, no copy); the
gradient goes back batch-last, ready for them.
"""

from __future__ import annotations

import numpy as np

from ownnet.nn.im2col import internal, public
from ownnet.nn.layers import Layer, register_layer


@register_layer
class Flatten(Layer):
    """Each sample's values as one vector; no parameters."""

    def build(
        self, input_shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator
    ) -> tuple[int, ...]:
        super().build(input_shape, dtype, rng)
        self.output_shape = (int(np.prod(self.input_shape)),)
        return self.output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``(N, prod(input_shape))`` for ``x (N, *input_shape)``: a view when ``x`` is
        contiguous or a batch-last view of a contiguous array (then the matrix products
        of the next layer read it transposed), else a copy."""
        n = len(x)
        if x.flags.c_contiguous:
            return x.reshape(n, -1)
        if x.ndim == 4 and internal(x).flags.c_contiguous:
            return internal(x).reshape(-1, n).T
        y = self._buffer("y", n, self.output_shape)
        np.copyto(y.reshape(x.shape), x)
        return y

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        if not need_input_grad:
            return None
        n = len(grad)
        if len(self.input_shape) != 3:
            return grad.reshape((n, *self.input_shape))
        # batch-last (C, H, W, N), as the image layers keep their arrays
        g = self._kept("g", (*self.input_shape, n), dtype=grad.dtype)
        np.copyto(g.reshape(-1, n), grad.T)
        return public(g)
