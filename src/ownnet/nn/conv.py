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
        z = self.linear_forward(x)
        self.activation.forward(z, z)
        return public(z)

    def linear_forward(self, x: np.ndarray) -> np.ndarray:
        """The convolution before the activation: batch-last ``z (F, Ho, Wo, N)`` (kept for
        :meth:`backward`)."""
        f, ho, wo = self.output_shape
        cols, with_ones = self.columns(x)
        z = self._kept("z", (f, ho, wo, len(x)))
        w = self._weights() if with_ones else self.params["W"].reshape(-1, f)
        np.matmul(w.T, cols, out=z.reshape(f, -1))
        if self.use_bias and not with_ones:
            z += self.params["b"][:, None, None, None]
        self._y = z
        return z

    def columns(self, x: np.ndarray) -> tuple[np.ndarray, bool]:
        """The input unrolled into columns ``(kh * kw * C [+1], Ho * Wo * N)`` (kept for the
        backward pass), and whether their last row is ones (with a bias: ``[W; b]`` times
        them is the convolution plus the bias)."""
        n = len(x)
        c = self.input_shape[0]
        kh, kw = self.kernel_size
        _, ho, wo = self.output_shape
        if self.sees_input(x):
            self._x = x
            self._cols = internal(x).reshape(c, -1)  # a 1x1 kernel sees the input itself
            return self._cols, False
        xp = self.padded_input(x)
        cols = self._columns(n)
        k = kh * kw * c
        im2col(xp, kh, kw, self.stride, ho, wo, cols[:k].reshape(kh, kw, c, ho, wo, n))
        self._cols = cols
        return cols, self.use_bias

    def sees_input(self, x: np.ndarray | None = None) -> bool:
        """Whether the columns are the input itself: a 1x1 kernel, stride 1 (and ``x``, if
        given, batch-last contiguous)."""
        plain = self.kernel_size == (1, 1) and self.stride == 1
        return plain and (x is None or internal(x).flags.c_contiguous)

    def padded_input(self, x: np.ndarray) -> np.ndarray:
        """Batch-last ``x`` with its zero border ``(C, Hp, Wp, N)`` (a kept array whose border
        stays zero; ``x`` itself without padding); kept as the layer's input."""
        c, h, w = self.input_shape
        top, bottom, left, right = self._pads
        xt = internal(x)
        self._x = x
        if not (top or bottom or left or right):
            return xt
        xp = self._kept("xp", (c, h + top + bottom, w + left + right, len(x)), zero=True)
        xp[:, top : top + h, left : left + w] = xt
        return xp

    def _columns(self, n: int) -> np.ndarray:
        """The kept ``(kh * kw * C [+1], Ho * Wo * n)`` columns; with a bias, the last row is
        ones (written when the buffer is made: nothing overwrites it)."""
        kh, kw = self.kernel_size
        _, ho, wo = self.output_shape
        k = kh * kw * self.input_shape[0]
        shape = (k + self.use_bias, ho * wo * n)
        cols = self._buffers.get("cols")
        if cols is None or cols.shape != shape:
            cols = self._kept("cols", shape)
            cols[k:] = 1.0
        return cols

    def padded_grad(self, n: int) -> np.ndarray:
        """The kept gradient of the padded input ``(C, Hp, Wp, n)``."""
        c, h, w = self.input_shape
        top, bottom, left, right = self._pads
        return self._kept("dxp", (c, h + top + bottom, w + left + right, n))

    def unpad(self, dxp: np.ndarray) -> np.ndarray:
        """``dL/dx (N, C, H, W)``: the view of the padded gradient ``dxp`` without its border."""
        c, h, w = self.input_shape
        top, _, left, _ = self._pads
        return public(dxp[:, top : top + h, left : left + w])

    def _weights(self) -> np.ndarray:
        """``[W; b]`` as one ``(kh * kw * C [+1], F)`` matrix (a kept copy)."""
        w2 = self.params["W"].reshape(-1, self.filters)
        if not self.use_bias:
            return w2
        wb = self._kept("wb", (len(w2) + 1, self.filters))
        wb[:-1] = w2
        wb[-1] = self.params["b"]
        return wb

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """``grad (N, F, Ho, Wo)`` is ``dL/dy``; returns ``dL/dx (N, C, H, W)``."""
        gt = internal(grad)
        y = self._y
        if y is None:
            raise RuntimeError("Conv2D.backward called before forward")
        delta = gt if gt.flags.c_contiguous else self._kept("delta", gt.shape)
        self.activation.backward(gt, y, delta)
        return self.linear_backward(delta, need_input_grad)

    def linear_backward(self, dz: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """From ``dL/dz`` (batch-last ``(F, Ho, Wo, N)``, C-contiguous) fill ``grads`` and return
        ``dL/dx (N, C, H, W)``."""
        x, cols = self._x, self._cols
        if x is None or cols is None:
            raise RuntimeError("Conv2D.backward called before forward")
        c = self.input_shape[0]
        kh, kw = self.kernel_size
        f, ho, wo = self.output_shape
        k = kh * kw * c
        n = len(x)
        d2 = dz.reshape(f, -1)
        kept = cols is self._buffers.get("cols")
        if kept:  # one product gives [dW; db]
            dwb = self._kept("dwb", (len(cols), f))
            np.matmul(cols, d2.T, out=dwb)
            self.grads["W"].reshape(k, f)[...] = dwb[:k]
            if self.use_bias:
                self.grads["b"][...] = dwb[k]
        else:
            np.matmul(cols, d2.T, out=self.grads["W"].reshape(k, f))
            if self.use_bias:
                np.sum(d2, axis=1, out=self.grads["b"])
        if not need_input_grad:
            return None
        # the columns are used up: their gradient can take their place
        dcols = cols[:k] if kept else self._kept("dcols", (k, ho * wo * n))
        np.matmul(self.params["W"].reshape(k, f), d2, out=dcols)
        dxp = self.padded_grad(n)
        col2im(dcols.reshape(kh, kw, c, ho, wo, n), self.stride, dxp)
        return self.unpad(dxp)

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
