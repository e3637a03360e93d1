"""``ConvPool``: a convolution with relu and a 2x2 max pool after it, as one training stage.

Two things make it faster than the two layers one after the other, with the same numbers:

* **The relu after the pooling.** Max pooling and relu can be taken in either
  order: ``max(relu(a), relu(b)) == relu(max(a, b))``, exactly. So the stage pools
  the convolution's output first and applies the relu to a quarter as many values;
  in the backward pass the relu's derivative is taken on the pooled gradient
  before it goes back to the window maxima. Ties come out the same: where all
  four values of a window are ``<= 0`` the pooled output is 0 and no gradient
  goes back, as with the relu first; otherwise the largest values are the same.
* **Bands of rows.** The convolution's output is made a band of rows at a time
  (one matrix product of the kernel with those rows' columns), pooled at once
  while it is still in the core's cache, and never stored whole; the backward pass
  goes band by band too: the band's gradient is unpooled, multiplied into the
  kernel's gradient and (for a layer that passes its gradient on) into the
  columns' gradient, which is added back onto the input's pixels right away. The
  first layer's ``(32, 28, 28, N)`` output and the second layer's column
  gradients never travel to main memory and back.

:mod:`ownnet.nn.parallel` builds these stages for training; the layers themselves
(what model files, evaluation and the inspection tools see) stay as they are, and
the stage uses their parameters, gradients and buffers.
"""

from __future__ import annotations

import numpy as np

from ownnet.nn.conv import Conv2D
from ownnet.nn.im2col import add_columns, internal, public
from ownnet.nn.layers import Layer
from ownnet.nn.pooling import MaxPool2D, pool2x2, unpool2x2

#: activations that commute with taking a maximum, ties included
COMMUTING = ("relu", "linear")
#: bytes of a band's largest array (the output or the column gradients of its rows):
#: about half of a core's L2 cache
BAND_BYTES = 1 << 20


def fusable(conv: Layer, pool: Layer) -> bool:
    """Whether ``conv`` followed by ``pool`` can run as a :class:`ConvPool`."""
    return (
        isinstance(conv, Conv2D)
        and isinstance(pool, MaxPool2D)
        and conv.activation.name in COMMUTING
        and pool.pool_size == pool.stride == 2
    )


def band_rows(row_bytes: int, total: int, budget: int = BAND_BYTES) -> int:
    """Pooled rows per band (at least 1, at most ``total``) when two rows of the convolution's
    output (one pooled row) take ``row_bytes``."""
    return max(1, min(total, budget // max(row_bytes, 1)))


class ConvPool(Layer):
    """``pool(f(conv(x)))`` computed as ``f(pool(conv(x)))`` for a relu (or linear) ``f``,
    a band of rows at a time."""

    def __init__(self, conv: Conv2D, pool: MaxPool2D) -> None:
        super().__init__()
        if not fusable(conv, pool):
            raise ValueError(f"cannot fuse {conv!r} and {pool!r}")
        self.conv, self.pool = conv, pool
        self.params, self.grads = conv.params, conv.grads
        self.input_shape, self.output_shape = conv.input_shape, pool.output_shape
        self.dtype = conv.dtype
        #: bytes of a band's largest array
        self.band_bytes = BAND_BYTES
        self._y: np.ndarray | None = None
        self._with_ones = False

    def _bands(self, row_bytes: int) -> list[tuple[int, int]]:
        """``(first, end)`` pooled rows of each band."""
        rows = self.pool.output_shape[1]
        step = band_rows(row_bytes, rows, self.band_bytes)
        return [(p, min(p + step, rows)) for p in range(0, rows, step)]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``(N, F, Ho // 2, Wo // 2)`` for ``x (N, C, H, W)``."""
        conv, pool = self.conv, self.pool
        n = len(x)
        f, _, wo = conv.output_shape
        _, hp, wp = pool.output_shape
        cols, self._with_ones = conv.columns(x)
        w = conv._weights() if self._with_ones else conv.params["W"].reshape(-1, f)
        y = pool._kept("y", (f, hp, wp, n))
        flags = pool.flag_buffers(y.shape) if training else None
        run = wo * n  # columns per row of the output
        bands = self._bands(2 * f * run * y.itemsize)
        step = bands[0][1] - bands[0][0]
        z = self._kept("z", (f, 2 * step, wo, n))
        top, bottom = (self._kept(k, (f, step, wp, n)) for k in ("top", "bottom"))
        for p0, p1 in bands:
            rows = 2 * (p1 - p0)
            zb = z[:, :rows]
            np.matmul(w.T, cols[:, 2 * p0 * run : 2 * p1 * run], out=zb.reshape(f, -1))
            if conv.use_bias and not self._with_ones:
                zb += conv.params["b"][:, None, None, None]
            band_flags = None if flags is None else tuple(a[:, p0:p1] for a in flags)
            pool2x2(zb, y[:, p0:p1], top[:, : p1 - p0], bottom[:, : p1 - p0], band_flags)
        pool._flags = flags
        self._y = conv.activation.forward(y, y)
        return public(y)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``grad (N, F, Ho // 2, Wo // 2)`` -> ``dL/dx (N, C, H, W)``."""
        conv, pool = self.conv, self.pool
        y, flags, cols = self._y, pool._flags, conv._cols
        if y is None or flags is None or cols is None:
            raise RuntimeError("ConvPool.backward needs a forward pass in training mode first")
        f, _, wo = conv.output_shape
        kh, kw = conv.kernel_size
        c = self.input_shape[0]
        k = kh * kw * c
        n = y.shape[-1]
        g = self._kept("g", y.shape)
        conv.activation.backward(internal(grad), y, g)
        run = wo * n
        row_bytes = 2 * (k if need_input_grad else f) * run * y.itemsize
        bands = self._bands(row_bytes)
        step = bands[0][1] - bands[0][0]
        dz = self._kept("dz", (f, 2 * step, wo, n))
        if wo % 2:  # the last column of the output is in no window: its gradient is 0
            dz.fill(0)
        upper, lower = (self._kept(name, (f, step) + y.shape[2:]) for name in ("up", "low"))
        dwb = conv._kept("dwb", (len(cols), f))
        part = self._kept("part", dwb.shape)
        w2 = conv.params["W"].reshape(k, f)
        dxp = conv.padded_grad(n) if need_input_grad else None
        if dxp is not None:
            dxp.fill(0)
            dcols = self._kept("dcols", (k, 2 * step * run))
        for b, (p0, p1) in enumerate(bands):
            rows = 2 * (p1 - p0)
            dzb = dz[:, :rows]
            band_flags = tuple(a[:, p0:p1] for a in flags)
            unpool2x2(g[:, p0:p1], band_flags, dzb, upper[:, : p1 - p0], lower[:, : p1 - p0])
            d2 = dzb.reshape(f, -1)
            np.matmul(cols[:, 2 * p0 * run : 2 * p1 * run], d2.T, out=dwb if b == 0 else part)
            if b:
                dwb += part
            if dxp is not None:
                db = dcols[:, : rows * run]
                np.matmul(w2, d2, out=db)
                add_columns(db.reshape(kh, kw, c, rows, wo, n), conv.stride, dxp, 2 * p0)
        conv.grads["W"].reshape(k, f)[...] = dwb[:k]
        if conv.use_bias:
            if self._with_ones:
                conv.grads["b"][...] = dwb[k]
            else:
                np.sum(g, axis=(1, 2, 3), out=conv.grads["b"])
        return None if dxp is None else conv.unpad(dxp)
