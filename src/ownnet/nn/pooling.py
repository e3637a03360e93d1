"""``MaxPool2D``: the largest value of each window of each channel.

The forward pass takes elementwise maxima of strided views, one per window
offset (no window copies). The backward pass sends each output's gradient to
the *first* position of its window, in row-major order, that holds the
maximum, as PyTorch does: ties are common (a digit's flat background gives
the same value everywhere) and must not send the gradient twice.

2x2 windows with stride 2 (the usual case) have a faster path: in training
the forward pass also notes, per window, whether the top pair wins and which
of each pair is larger (three boolean arrays), and the backward pass splits
each gradient with them: four multiplications and subtractions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.nn.conv import ImageLayer
from ownnet.nn.im2col import internal, out_size, public, window
from ownnet.nn.layers import register_layer

#: which position of each 2x2 window holds the first maximum: ``(up, top_left, bottom_left)``,
#: booleans ``(C, Ho, Wo, N)`` (see :func:`pool2x2`)
Flags = tuple[np.ndarray, np.ndarray, np.ndarray]


#: the four positions of each 2x2 window as views, ``(x00, x01, x10, x11)`` (row, column)
Quadrants = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def quadrants(x: np.ndarray, ho: int, wo: int) -> Quadrants:
    """The four positions of the 2x2 windows (stride 2) of batch-last ``x (C, H, W, N)``, as
    views ``(C, ho, wo, N)``."""
    return tuple(window(x, i, j, 2, ho, wo) for i in (0, 1) for j in (0, 1))  # type: ignore[return-value]


def pool2x2(
    x: Quadrants, y: np.ndarray, top: np.ndarray, bottom: np.ndarray, flags: Flags | None = None
) -> np.ndarray:
    """2x2 max pooling of the window positions ``x`` (:func:`quadrants`) into ``y (C, Ho, Wo,
    N)``; ``top`` and ``bottom`` (shaped as ``y``) are scratch. With ``flags``, also notes
    which position of each window holds its first maximum (row-major order): ``up`` (the
    top pair wins), ``top_left`` and ``bottom_left`` (the left one of each pair wins)."""
    x00, x01, x10, x11 = x
    np.maximum(x00, x01, out=top)
    np.maximum(x10, x11, out=bottom)
    np.maximum(top, bottom, out=y)
    if flags is not None:
        up, top_left, bottom_left = flags
        np.greater_equal(top, bottom, out=up)
        np.greater_equal(x00, x01, out=top_left)
        np.greater_equal(x10, x11, out=bottom_left)
    return y


def unpool2x2(
    grad: np.ndarray, flags: Flags, dx: Quadrants, upper: np.ndarray, lower: np.ndarray
) -> None:
    """The gradient of :func:`pool2x2`: each value of ``grad (C, Ho, Wo, N)`` goes to the
    window position its ``flags`` name, and 0 to the other three, in the views ``dx``
    (:func:`quadrants` of the input's gradient). ``upper`` and ``lower`` are scratch shaped
    as ``grad``: four multiplications and subtractions in all."""
    up, top_left, bottom_left = flags
    np.multiply(grad, up, out=upper)
    np.subtract(grad, upper, out=lower)
    for (first, second), share, left in (
        (dx[:2], upper, top_left),
        (dx[2:], lower, bottom_left),
    ):
        np.multiply(share, left, out=first)
        np.subtract(share, first, out=second)


@register_layer
class MaxPool2D(ImageLayer):
    """Max pooling over ``pool_size x pool_size`` windows of ``x (N, C, H, W)``.

    Args:
        pool_size: window side ``p``.
        stride: step between windows (default ``p``: windows do not overlap).
            Windows that do not fit are dropped: ``(H - p) // stride + 1``
            outputs, as PyTorch's default.
    """

    def __init__(self, pool_size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        if int(pool_size) < 1:
            raise ValueError(f"MaxPool2D pool_size must be at least 1, found {pool_size}")
        if stride is not None and int(stride) < 1:
            raise ValueError(f"MaxPool2D stride must be at least 1, found {stride}")
        self.pool_size = int(pool_size)
        self.stride = int(stride) if stride is not None else self.pool_size
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._flags: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def build(
        self, input_shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator
    ) -> tuple[int, ...]:
        c, h, w = self._image_shape(input_shape)
        ho, _, _ = out_size(h, self.pool_size, self.stride, "valid")
        wo, _, _ = out_size(w, self.pool_size, self.stride, "valid")
        super().build(input_shape, dtype, rng)
        self.output_shape = (c, ho, wo)
        #: every input pixel is in exactly one window
        covered = (ho * self.stride, wo * self.stride)
        self._tiles = self.stride == self.pool_size and (h, w) == covered
        return self.output_shape

    def flag_buffers(self, shape: tuple[int, ...]) -> Flags:
        """The kept boolean arrays for :func:`pool2x2`'s flags."""
        return tuple(self._kept(k, shape, dtype=np.bool_) for k in ("up", "tl", "bl"))  # type: ignore[return-value]

    def _offsets(self) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.pool_size) for j in range(self.pool_size)]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``(N, C, Ho, Wo)`` for ``x (N, C, H, W)``."""
        c, ho, wo = self.output_shape
        xt = internal(x)
        shape = (c, ho, wo, len(x))
        y = self._kept("y", shape)
        self._flags = None
        if self.pool_size == self.stride == 2:
            if training:  # which position of each window holds the (first) maximum
                self._flags = self.flag_buffers(shape)
            top, bottom = self._kept("top", shape), self._kept("bottom", shape)
            pool2x2(quadrants(xt, ho, wo), y, top, bottom, self._flags)
        else:
            for k, (i, j) in enumerate(self._offsets()):
                view = window(xt, i, j, self.stride, ho, wo)
                if k == 0:
                    np.copyto(y, view)
                else:
                    np.maximum(y, view, out=y)
        self._x, self._y = x, y
        return public(y)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``grad (N, C, Ho, Wo)`` -> ``dL/dx (N, C, H, W)``."""
        if not need_input_grad:
            return None
        x, y = self._x, self._y
        if x is None or y is None:
            raise RuntimeError("MaxPool2D.backward called before forward")
        c, h, w = self.input_shape
        _, ho, wo = self.output_shape
        xt, gt = internal(x), internal(grad)
        dx = self._kept("dx", (c, h, w, len(x)))
        if self._flags is not None:
            if not self._tiles:
                dx.fill(0)
            upper, lower = self._kept("top", y.shape), self._kept("bottom", y.shape)
            unpool2x2(gt, self._flags, quadrants(dx, ho, wo), upper, lower)
            return public(dx)
        dx.fill(0)
        # the gradient not yet given to a position of its window
        rest = self._kept("rest", y.shape)
        part = self._kept("part", y.shape)
        mask = self._kept("mask", y.shape, dtype=np.bool_)
        np.copyto(rest, gt)
        offsets = self._offsets()
        for k, (i, j) in enumerate(offsets):
            target = window(dx, i, j, self.stride, ho, wo)
            if k == len(offsets) - 1:  # what is left has its maximum here
                target += rest
                break
            np.equal(window(xt, i, j, self.stride, ho, wo), y, out=mask)
            np.multiply(rest, mask, out=part)
            target += part
            rest -= part
        return public(dx)

    def config(self) -> dict[str, Any]:
        return {"pool_size": self.pool_size, "stride": self.stride}
