"""``Conv2D``: a 2-D convolution (cross-correlation, as in every deep-learning library).

Inputs are ``(batch, channels, height, width)``; the kernel is kept as
``W (kh, kw, C_in, F)`` (the matrix engine's ``(n_in, n_out)`` with the inputs
spelt out: fan-in ``kh * kw * C_in``), the bias as ``b (F,)``.
``W.transpose(3, 2, 0, 1)`` is PyTorch's ``(F, C_in, kh, kw)``.

Each batch is one matrix product (see :mod:`ownnet.nn.im2col`):
``z = W.T @ cols`` with ``cols (kh * kw * C_in, Ho * Wo * N)``. The backward
pass is two more: ``dW = cols @ dz.T`` and ``dcols = W @ dz``, whose columns are
summed back onto the input's pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.nn import activations as acts
from ownnet.nn.im2col import col2im, im2col, internal, out_size, public
from ownnet.nn.initializers import get_initializer
from ownnet.nn.layers import Layer, register_layer


def _pair(value: int | tuple[int, int] | list[int], what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(pair) != 2 or any(int(v) < 1 for v in pair):
        raise ValueError(f"{what} must be a positive int or a pair of them, found {value!r}")
    return int(pair[0]), int(pair[1])


class ImageLayer(Layer):
    """Base for the image layers: checks their input shape.

    Their outputs are batch-last ``(C, H, W, N)`` buffers (:meth:`Layer._kept`)
    handed on as ``(N, C, H, W)`` views (:func:`ownnet.nn.im2col.public`).
    """

    def _image_shape(self, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
        if len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} needs images (channels, height, width), "
                f"found input shape {tuple(input_shape)}"
            )
        c, h, w = (int(n) for n in input_shape)
        return c, h, w


@register_layer
class Conv2D(ImageLayer):
    """2-D convolution: ``y = f(conv(x, W) + b)`` for ``x (N, C, H, W)``.

    Args:
        filters: output channels ``F``.
        kernel_size: ``k`` or ``(kh, kw)``.
        stride: step between windows (the same along both axes).
        padding: ``"valid"`` (no padding) or ``"same"`` (zeros around, so that the
            output is ``ceil(size / stride)``; an odd pad goes after, as in Keras).
        activation: an elementwise activation (name or spec; ``None``: linear).
        use_bias: add ``b``.
        init: initialiser for ``W`` (default ``"he"``, for relu layers; fan-in
            ``kh * kw * C_in``).
    """

    decay = ("W",)

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] | list[int] = 3,
        *,
        stride: int = 1,
        padding: str = "valid",
        activation: str | dict[str, Any] | acts.Activation | None = None,
        use_bias: bool = True,
        init: str = "he",
    ) -> None:
        super().__init__()
        if int(filters) < 1:
            raise ValueError(f"Conv2D filters must be at least 1, found {filters}")
        if int(stride) < 1:
            raise ValueError(f"Conv2D stride must be at least 1, found {stride}")
        if padding not in ("valid", "same"):
            raise ValueError(f"Conv2D padding must be 'valid' or 'same', found {padding!r}")
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = int(stride)
        self.padding = padding
        self.activation = acts.get_activation(activation)
        if not self.activation.in_place:
            raise ValueError(
                f"Conv2D needs an elementwise activation, found {self.activation.name!r}"
            )
        self.use_bias = bool(use_bias)
        self.init = init
        get_initializer(init)  # fail early on a bad name
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._cols: np.ndarray | None = None

    def build(
        self, input_shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator
    ) -> tuple[int, ...]:
        c, h, w = self._image_shape(input_shape)
        kh, kw = self.kernel_size
        ho, top, bottom = out_size(h, kh, self.stride, self.padding)
        wo, left, right = out_size(w, kw, self.stride, self.padding)
        super().build(input_shape, dtype, rng)
        self._pads = (top, bottom, left, right)
        self._init_weights(rng, (kh, kw, c, self.filters), self.init, self.use_bias)
        self.output_shape = (self.filters, ho, wo)
        return self.output_shape

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray | None:
        return self.params.get("b")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``(N, F, Ho, Wo)`` for ``x (N, C, H, W)``."""
        n = len(x)
        c, h, w = self.input_shape
        kh, kw = self.kernel_size
        f, ho, wo = self.output_shape
        k = kh * kw * c
        top, bottom, left, right = self._pads
        xt = internal(x)
        if kh == kw == 1 and self.stride == 1 and xt.flags.c_contiguous:
            cols = xt  # a 1x1 kernel sees the input itself
        else:
            xp = xt
            if top or bottom or left or right:  # the border of the kept array stays zero
                xp = self._kept("xp", (c, h + top + bottom, w + left + right, n), zero=True)
                xp[:, top : top + h, left : left + w] = xt
            cols = self._kept("cols", (kh, kw, c, ho, wo, n))
            im2col(xp, kh, kw, self.stride, ho, wo, cols)
        z = self._kept("z", (f, ho, wo, n))
        w2 = self.params["W"].reshape(k, f)
        np.matmul(w2.T, cols.reshape(k, -1), out=z.reshape(f, -1))
        if self.use_bias:
            z += self.params["b"][:, None, None, None]
        self.activation.forward(z, z)
        self._x, self._y, self._cols = x, z, cols
        return public(z)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``grad (N, F, Ho, Wo)`` is ``dL/dy``; returns ``dL/dx (N, C, H, W)``."""
        x, y, cols = self._x, self._y, self._cols
        if x is None or y is None or cols is None:
            raise RuntimeError("Conv2D.backward called before forward")
        c, h, w = self.input_shape
        kh, kw = self.kernel_size
        f, ho, wo = self.output_shape
        k = kh * kw * c
        n = len(x)
        gt = internal(grad)
        delta = gt if gt.flags.c_contiguous else self._kept("delta", gt.shape)
        self.activation.backward(gt, y, delta)
        d2 = delta.reshape(f, -1)
        if self.use_bias:
            np.sum(d2, axis=1, out=self.grads["b"])
        np.matmul(cols.reshape(k, -1), d2.T, out=self.grads["W"].reshape(k, f))
        if not need_input_grad:
            return None
        # the columns are used up: their gradient can take their place
        dcols = cols if cols is self._buffers.get("cols") else self._kept("dcols", cols.shape)
        np.matmul(self.params["W"].reshape(k, f), d2, out=dcols.reshape(k, -1))
        top, bottom, left, right = self._pads
        dxp = self._kept("dxp", (c, h + top + bottom, w + left + right, n))
        col2im(dcols.reshape(kh, kw, c, ho, wo, n), self.stride, dxp)
        return public(dxp[:, top : top + h, left : left + w])

    def config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "stride": self.stride,
            "padding": self.padding,
            "activation": self.activation.spec(),
            "use_bias": self.use_bias,
            "init": self.init,
        }
