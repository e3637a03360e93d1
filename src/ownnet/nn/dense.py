"""A fully connected layer, forward and backward: the whole of backpropagation through
one layer, in one place.

For a batch of inputs ``x (batch, n_in)``, weights ``W (n_in, units)`` and biases
``b (units,)``::

    forward    z = x @ W + b                      the weighted sums
               y = f(z)                           the activation (sigmoid, relu, softmax...)

    backward   given g = dL/dy from the layer above (or the loss, for the output layer):
               delta = dL/dz = g * f'(z)          f' is read off y: sigmoid y (1 - y),
                                                  tanh 1 - y**2, relu y > 0
               dL/dW = x.T @ delta                what the optimiser steps along
               dL/db = delta summed over the batch
               dL/dx = delta @ W.T                handed to the layer below

For the output layer the loss gives ``delta`` straight away (:meth:`Dense.backward_loss`):
``Loss.delta`` fuses the loss's gradient with the activation's slope, and for
cross-entropy with softmax or sigmoid outputs that is just ``(y - t) / batch``, so the
two never meet in a division by a tiny slope.

The book's network sends back its *errors*, not gradients: ``g @ W.T``, the error at
the outputs split by the weights, without the slope (``book_errors=True``). With it
and the quadratic loss at batch size 1, this layer does exactly the book's
``wih``/``who`` updates.

Everything is written into buffers the layer keeps from batch to batch (see
:class:`ownnet.nn.layers.Layer`), so training makes no new arrays per batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.nn import activations as acts
from ownnet.nn.initializers import get_initializer
from ownnet.nn.layers import Layer, register_layer
from ownnet.nn.losses import Loss


@register_layer
class Dense(Layer):
    """Fully connected: ``y = f(x @ W + b)``, ``W (n_in, units)``, ``b (units,)``.

    Args:
        units: outputs.
        activation: name or spec of an activation (``None``: linear).
        use_bias: add ``b``.
        init: initialiser name for ``W`` (``b`` starts at zero).
        book_errors: pass back the book's hidden errors ``grad @ W.T`` (the error
            split by the weights) instead of the gradient ``(grad * f'(z)) @ W.T``.
    """

    decay = ("W",)

    def __init__(
        self,
        units: int,
        activation: str | dict[str, Any] | acts.Activation | None = None,
        *,
        use_bias: bool = True,
        init: str = "glorot",
        book_errors: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense units must be a whole number >= 1, found {units!r}")
        self.units = int(units)
        self.activation = acts.get_activation(activation)
        self.use_bias = bool(use_bias)
        self.init = init
        get_initializer(init)  # fail early on a bad name
        self.book_errors = bool(book_errors)
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._columns: np.ndarray | None = None

    def build(
        self, input_shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator
    ) -> tuple[int, ...]:
        if len(input_shape) != 1:
            raise ValueError(f"Dense needs flat inputs (n_in,), found {tuple(input_shape)}")
        super().build(input_shape, dtype, rng)
        self._init_weights(rng, (self.input_shape[0], self.units), self.init, self.use_bias)
        self.output_shape = (self.units,)
        return self.output_shape

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray | None:
        return self.params.get("b")

    # -- forward ---------------------------------------------------------------------------
    def forward(
        self, x: np.ndarray, training: bool = False, columns: np.ndarray | None = None
    ) -> np.ndarray:
        """``y = f(x @ W + b)`` for ``x (batch, n_in)`` → ``(batch, units)``.

        ``columns``: ``x`` holds only these input columns (indices into ``n_in``); the
        others are zero. Training passes the pixels that are nonzero somewhere in the
        batch, which skips about a third of the first layer's multiply-adds on MNIST and
        gives the same result.
        """
        n = len(x)
        z = self._buffer("z", n, (self.units,))
        w = self.params["W"]
        if columns is not None:
            wc = self._buffer("Wc", len(columns), (self.units,))
            w.take(columns, axis=0, out=wc, mode="clip")  # "raise" would buffer
            w = wc
        np.matmul(x, w, out=z)  # z = x @ W + b
        if self.use_bias:
            z += self.params["b"]
        act = self.activation  # y = f(z), over z itself where the activation allows
        y = act.forward(z, z if act.in_place else self._buffer("y", n, (self.units,)))
        self._x, self._z, self._y, self._columns = x, z, y, columns
        return y

    # -- backward --------------------------------------------------------------------------
    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """From ``grad = dL/dy (batch, units)``: fill ``grads``, return ``dL/dx`` (or the
        book's errors ``grad @ W.T``; ``None`` when not ``need_input_grad``)."""
        book = need_input_grad and self.book_errors
        if book:  # the book: the errors split by the weights, before grad becomes the delta
            errors = np.matmul(grad, self.params["W"].T, out=self._input_buffer())
        delta = self.activation.backward(grad, self._y, grad)  # dL/dz = g * f'(z)
        gx = self.backward_delta(delta, need_input_grad and not self.book_errors)
        return errors if book else gx

    def backward_delta(self, delta: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """From ``delta = dL/dz (batch, units)``: fill ``grads``; return ``dL/dx = delta @ W.T``
        (``None`` when not ``need_input_grad``)."""
        self._weight_grads(delta)
        if not need_input_grad:
            return None
        return np.matmul(delta, self.params["W"].T, out=self._input_buffer())

    def backward_loss(
        self, loss: Loss, targets: np.ndarray, need_input_grad: bool = True
    ) -> np.ndarray | None:
        """The output layer's backward: from the loss against ``targets (batch, units)``.

        The book's errors (``book_errors``) start from ``dL/dy = y - t``; everything else
        from the fused ``delta = dL/dz`` the loss gives (``(y - t) / batch`` for
        cross-entropy with softmax or sigmoid).
        """
        y = self._y
        if y is None:
            raise RuntimeError("Dense.backward_loss called before forward")
        delta = self._buffer("delta", len(y), (self.units,))
        if self.book_errors:
            return self.backward(loss.grad(y, targets, delta), need_input_grad)
        return self.backward_delta(loss.delta(y, targets, self.activation, delta), need_input_grad)

    def _weight_grads(self, delta: np.ndarray) -> None:
        """``dL/dW = x.T @ delta`` and ``dL/db = sum(delta)`` into ``grads``."""
        x, cols = self._x, self._columns
        if x is None:
            raise RuntimeError("Dense.backward called before forward")
        if cols is None:
            np.matmul(x.T, delta, out=self.grads["W"])
        else:  # only the rows of W that met a nonzero input have a gradient
            dwc = self._buffer("dWc", len(cols), (self.units,))
            np.matmul(x.T, delta, out=dwc)
            dw = self.grads["W"]
            dw.fill(0)
            dw[cols] = dwc
        if self.use_bias:
            delta.sum(axis=0, out=self.grads["b"])

    def _input_buffer(self) -> np.ndarray:
        if self._columns is not None:
            raise RuntimeError("no input gradient for column-compacted inputs")
        assert self._x is not None and self.input_shape is not None
        return self._buffer("gx", len(self._x), self.input_shape)

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {"units": self.units, "activation": self.activation.spec()}
        cfg.update(use_bias=self.use_bias, init=self.init)
        if self.book_errors:
            cfg["book_errors"] = True
        return cfg
