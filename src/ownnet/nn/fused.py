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
from ownnet.nn.im2col import (
    add_columns,
    add_columns_pairs,
    im2col,
    im2col_pairs,
    internal,
    public,
)
from ownnet.nn.layers import Layer
from ownnet.nn.pooling import MaxPool2D, Quadrants, pool2x2, quadrants, unpool2x2

#: activations that commute with taking a maximum, ties included
COMMUTING = ("relu", "linear")
#: bytes of a band's arrays (its columns and its output): about two of a core's L2 caches
BAND_BYTES = 2 << 20
#: order a band's columns by column parity when a column has at most this many values
PAIRS_MAX_ROWS = 32


def fusable(conv: Layer, pool: Layer) -> bool:
    """Whether ``conv`` followed by ``pool`` can run as a :class:`ConvPool`."""
    return (
        isinstance(conv, Conv2D)
        and isinstance(pool, MaxPool2D)
        and conv.activation.name in COMMUTING
        and pool.pool_size == pool.stride == 2
    )


def band_rows(row_bytes: int, total: int, budget: int = BAND_BYTES) -> int:
    """Pooled rows per band (at least 1, at most ``total``) when one pooled row of a band (two
    rows of the convolution's output) takes ``row_bytes``."""
    return max(1, min(total, budget // max(row_bytes, 1)))


class ConvPool(Layer):
    """``pool(f(conv(x)))`` computed as ``f(pool(conv(x)))`` for a relu (or linear) ``f``,
    a band of rows at a time.

    With few input channels (the first layer: ``3 * 3 * 1`` values per column) each
    band's columns are ordered by column parity (:func:`~ownnet.nn.im2col.im2col_pairs`):
    copying them is cheap, and the pooling, which would otherwise compare runs of ``N``
    values, then compares whole rows.
    """

    def __init__(self, conv: Conv2D, pool: MaxPool2D) -> None:
        super().__init__()
        if not fusable(conv, pool):
            raise ValueError(f"cannot fuse {conv!r} and {pool!r}")
        self.conv, self.pool = conv, pool
        self.params, self.grads = conv.params, conv.grads
        self.input_shape, self.output_shape = conv.input_shape, pool.output_shape
        self.dtype = conv.dtype
        kh, kw = conv.kernel_size
        #: values per column (rows of the columns matrix, without the bias row)
        self.k = kh * kw * self.input_shape[0]
        #: bytes of a band's arrays
        self.band_bytes = BAND_BYTES
        #: order each band's columns by column parity
        self.pairs = self.k <= PAIRS_MAX_ROWS
        self._y: np.ndarray | None = None
        self._xp = np.empty(0)
        self._sees_input = False

    def _bands(self, n: int) -> list[tuple[int, int]]:
        """``(first, end)`` pooled rows of each band for a batch of ``n``."""
        f, _, wo = self.conv.output_shape
        rows = self.pool.output_shape[1]
        step = band_rows(2 * (self.k + 1 + f) * wo * n * self.dtype.itemsize, rows, self.band_bytes)
        return [(p, min(p + step, rows)) for p in range(0, rows, step)]

    def _shape(self, lead: int, rows: int, n: int) -> tuple[int, ...]:
        """The shape of a band's ``(lead, ...)`` array over ``rows`` output rows."""
        _, _, wo = self.conv.output_shape
        wp = self.pool.output_shape[2]
        return (lead, rows, 2, wp, n) if self.pairs else (lead, rows, wo, n)

    def _quadrants(self, band: np.ndarray) -> Quadrants:
        """The 2x2 windows' four positions in a band's output or its gradient."""
        if self.pairs:
            return band[:, 0::2, 0], band[:, 0::2, 1], band[:, 1::2, 0], band[:, 1::2, 1]
        _, hp, wp = self.pool.output_shape
        return quadrants(band, band.shape[1] // 2, wp)

    def _columns(self, p0: int, p1: int, step: int) -> np.ndarray:
        """The columns ``(k [+1], ...)`` of the output rows ``2 * p0 .. 2 * p1 - 1`` (a view of
        the input itself for a 1x1 kernel)."""
        conv, k = self.conv, self.k
        xp = self._xp
        n = xp.shape[-1]
        rows = 2 * (p1 - p0)
        if self._sees_input:
            run = conv.output_shape[2] * n
            return xp.reshape(k, -1)[:, 2 * p0 * run : 2 * p1 * run]
        kept = self._kept("cols", self._shape(k + conv.use_bias, 2 * step, n))
        if conv.use_bias:
            kept[k] = 1.0
        band = kept[:, :rows]
        kh, kw = conv.kernel_size
        cols = band[:k].reshape(kh, kw, self.input_shape[0], *band.shape[1:])
        if self.pairs:
            im2col_pairs(xp, kh, kw, conv.stride, rows, band.shape[3], cols, 2 * p0)
        else:
            im2col(xp, kh, kw, conv.stride, rows, band.shape[2], cols, 2 * p0)
        return band.reshape(len(band), -1)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``(N, F, Ho // 2, Wo // 2)`` for ``x (N, C, H, W)``."""
        conv, pool = self.conv, self.pool
        n = len(x)
        f = conv.filters
        _, hp, wp = pool.output_shape
        self._sees_input = conv.sees_input(x) and not self.pairs
        self._xp = internal(x) if self._sees_input else conv.padded_input(x)
        with_ones = conv.use_bias and not self._sees_input
        w = conv._weights() if with_ones else conv.params["W"].reshape(self.k, f)
        y = pool._kept("y", (f, hp, wp, n))
        flags = pool.flag_buffers(y.shape) if training else None
        bands = self._bands(n)
        step = bands[0][1] - bands[0][0]
        z = self._kept("z", self._shape(f, 2 * step, n))
        top, bottom = (self._kept(name, (f, step, wp, n)) for name in ("top", "bottom"))
        for p0, p1 in bands:
            zb = z[:, : 2 * (p1 - p0)]
            np.matmul(w.T, self._columns(p0, p1, step), out=zb.reshape(f, -1))
            if conv.use_bias and not with_ones:
                zb += conv.params["b"].reshape((f,) + (1,) * (zb.ndim - 1))
            band_flags = None if flags is None else tuple(a[:, p0:p1] for a in flags)
            rows = p1 - p0
            pool2x2(self._quadrants(zb), y[:, p0:p1], top[:, :rows], bottom[:, :rows], band_flags)
        pool._flags = flags
        self._y = conv.activation.forward(y, y)
        return public(y)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``grad (N, F, Ho // 2, Wo // 2)`` -> ``dL/dx (N, C, H, W)``."""
        conv, pool, k = self.conv, self.pool, self.k
        y, flags = self._y, pool._flags
        if y is None or flags is None:
            raise RuntimeError("ConvPool.backward needs a forward pass in training mode first")
        f = conv.filters
        kh, kw = conv.kernel_size
        c = self.input_shape[0]
        n = y.shape[-1]
        g = self._kept("g", y.shape)
        conv.activation.backward(internal(grad), y, g)
        bands = self._bands(n)
        step = bands[0][1] - bands[0][0]
        dz = self._kept("dz", self._shape(f, 2 * step, n))
        if not self.pairs and conv.output_shape[2] % 2:
            dz.fill(0)  # the last column of the output is in no window: its gradient is 0
        upper, lower = (self._kept(name, (f, step) + y.shape[2:]) for name in ("up", "low"))
        with_ones = conv.use_bias and not self._sees_input
        dwb = conv._kept("dwb", (k + with_ones, f))
        part = self._kept("part", dwb.shape)
        w2 = conv.params["W"].reshape(k, f)
        dxp = conv.padded_grad(n) if need_input_grad else None
        if dxp is not None:
            dxp.fill(0)
            if self._sees_input:
                dcols = self._kept("dcols", (k, dz[0].size))
        for b, (p0, p1) in enumerate(bands):
            rows = p1 - p0
            dzb = dz[:, : 2 * rows]
            band_flags = tuple(a[:, p0:p1] for a in flags)
            unpool2x2(
                g[:, p0:p1], band_flags, self._quadrants(dzb), upper[:, :rows], lower[:, :rows]
            )
            d2 = dzb.reshape(f, -1)
            cols = self._columns(p0, p1, step)
            np.matmul(cols, d2.T, out=dwb if b == 0 else part)
            if b:
                dwb += part
            if dxp is not None:
                # the band's columns are used up: their gradient can take their place
                db = dcols[:, : d2.shape[1]] if self._sees_input else cols[:k]
                np.matmul(w2, d2, out=db)
                db = db.reshape(kh, kw, c, *dzb.shape[1:])
                if self.pairs:
                    add_columns_pairs(db, conv.stride, dxp, 2 * p0)
                else:
                    add_columns(db, conv.stride, dxp, 2 * p0)
        conv.grads["W"].reshape(k, f)[...] = dwb[:k]
        if conv.use_bias:
            if with_ones:
                conv.grads["b"][...] = dwb[k]
            else:
                np.sum(g, axis=(1, 2, 3), out=conv.grads["b"])
        return None if dxp is None else conv.unpad(dxp)
