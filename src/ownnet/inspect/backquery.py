"""Back query: run a network backwards from an answer to the picture it stands for.

This is the book's ``backquery``. Start from a target vector (0.01 everywhere,
0.99 for the wanted digit) at the outputs and, layer by layer down to the
inputs:

1. undo the sigmoid with its inverse, ``logit(y) = log(y / (1 - y))``;
2. subtract the bias (if the layer has one);
3. send the result back through the transposed weights;
4. rescale to 0.01..0.99 (``x -= min; x /= max; x *= 0.98; x += 0.01``) so
   that the next ``logit`` is defined.

The transposed weights are not the inverse of the weights (there is none from
10 numbers to 784), so the picture is one of many that would give about the
same answer; it shows what the network has learned to look for.

Only a stack of sigmoid dense layers can be run backwards this way: relu
throws away everything below zero and softmax everything but differences, so
for those models use activation maximisation (:mod:`ownnet.inspect.maximize`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logit

from ownnet.book import TARGET_OFF, TARGET_ON, book_targets
from ownnet.inspect.grids import image_grid
from ownnet.inspect.stack import InspectError, dense_layers

#: the book rescales each back-queried layer into the targets' range
LOW, HIGH = TARGET_OFF, TARGET_ON

INVERTIBLE = ("sigmoid",)

ADVICE = (
    "use activation maximisation instead, which works for any layer type: "
    "`ownnet inspect units MODEL --layer output --method maximize`"
)


class NotInvertibleError(InspectError):
    """The model has layers that cannot be run backwards."""


@dataclass(frozen=True)
class BackqueryResult:
    """Back-queried pictures, and what the network says when they are fed forward.

    Attributes:
        labels: the digits asked for ``(k,)``.
        values: the back-queried inputs ``(k, n_in)`` in 0.01..0.99, as the book makes them.
        book_images: ``values`` as uint8 pictures ``(k, 28, 28)`` (0.01 → 0, 0.99 → 255):
            the book's grey pictures, background about mid-grey.
        images: the pictures to feed forward, uint8 ``(k, 28, 28)``: each one's
            background (its median) → 0 and its maximum → 255, as MNIST has a
            black background; values below the background become 0.
        outputs: the model's outputs for ``images`` ``(k, n_out)``.
        predicted: ``outputs.argmax(axis=1)``.
        book_predicted: what the model reads in ``book_images`` ``(k,)``.
    """

    labels: np.ndarray
    values: np.ndarray
    book_images: np.ndarray
    images: np.ndarray
    outputs: np.ndarray
    predicted: np.ndarray
    book_predicted: np.ndarray

    @property
    def n_correct(self) -> int:
        """How many of ``images`` are classified as the digit they were made from."""
        return int(np.sum(self.predicted == self.labels))

    @property
    def n_book_correct(self) -> int:
        """How many of ``book_images`` are classified as their digit."""
        return int(np.sum(self.book_predicted == self.labels))


def rescale(x: np.ndarray, low: float = LOW, high: float = HIGH) -> np.ndarray:
    """The book's rescale of each row of ``x (k, n)`` to ``low..high`` (a constant row → middle)."""
    x = np.asarray(x, dtype=np.float64)
    lo = x.min(axis=-1, keepdims=True)
    span = x.max(axis=-1, keepdims=True) - lo
    unit = np.divide(x - lo, span, out=np.full_like(x, 0.5), where=span > 0)
    return unit * (high - low) + low


def check_invertible(model: Any) -> None:
    """Raise :class:`NotInvertibleError` unless ``model`` is a stack of sigmoid dense layers."""
    try:
        layers = dense_layers(model)
    except InspectError as exc:
        raise NotInvertibleError(f"back query needs dense layers only: {exc}; {ADVICE}") from None
    bad = [f"layer {x.number} is {x.activation}" for x in layers if x.activation not in INVERTIBLE]
    extra = [
        f"layer {x.number} is followed by {name}"
        for x in layers
        for name in x.after
        if name != "Dropout"
    ]
    if bad or extra:
        raise NotInvertibleError(
            "back query runs each layer backwards through the inverse of the sigmoid, but "
            + ", ".join(bad + extra)
            + " (relu discards negative values and softmax keeps only differences, so they "
            f"cannot be undone); {ADVICE}"
        )


def backquery(model: Any, targets: np.ndarray) -> np.ndarray:
    """Back-query ``targets (k, n_out)`` (values strictly between 0 and 1) → inputs ``(k, n_in)``.

    The inputs are rescaled to 0.01..0.99, as the book does.
    """
    check_invertible(model)
    layers = dense_layers(model)
    y = np.atleast_2d(np.asarray(targets, dtype=np.float64))
    if y.shape[1] != layers[-1].n_out:
        raise ValueError(f"expected targets with {layers[-1].n_out} values, found {y.shape[1]}")
    if np.any(y <= 0) or np.any(y >= 1):
        raise ValueError("targets must lie strictly between 0 and 1 (the sigmoid's range)")
    for layer in reversed(layers):
        z = logit(y)
        if layer.bias is not None:
            z = z - layer.bias
        x = z @ np.asarray(layer.weights, dtype=np.float64).T  # (k, n_out) @ (n_out, n_in)
        y = rescale(x)
    return y


def to_image(values: np.ndarray, side: int = 28) -> np.ndarray:
    """Inputs ``(k, side*side)`` in 0.01..0.99 → uint8 ``(k, side, side)``: 0.01 → 0, 0.99 → 255."""
    v = (np.asarray(values, dtype=np.float64) - LOW) / (HIGH - LOW)
    return np.round(np.clip(v, 0, 1) * 255).astype(np.uint8).reshape(len(v), side, side)


def ink_image(values: np.ndarray, side: int = 28) -> np.ndarray:
    """Inputs ``(k, side*side)`` → uint8 pictures with the background at 0, as in MNIST.

    The book's rescale leaves the background of a back-queried picture at about
    mid-grey; the network was trained on digits with a black background, so fed
    forward like that most pictures read as an 8. Here each picture's median
    (its background) becomes 0, its maximum 255, and values below the median 0:
    what is left is where the network wants ink.
    """
    v = np.asarray(values, dtype=np.float64)
    background = np.median(v, axis=1, keepdims=True)
    span = v.max(axis=1, keepdims=True) - background
    x = np.divide(v - background, span, out=np.zeros_like(v), where=span > 0)
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8).reshape(len(v), side, side)


def backquery_digits(model: Any, labels: np.ndarray | None = None) -> BackqueryResult:
    """Back-query each digit (default: every output, 0..9) and feed the pictures forward again."""
    n_out = dense_layers(model)[-1].n_out
    labels = np.arange(n_out) if labels is None else np.asarray(labels, dtype=np.intp)
    values = backquery(model, book_targets(labels, n_out))
    side = int(round(np.sqrt(values.shape[1])))
    if side * side != values.shape[1]:
        raise InspectError(f"the model's {values.shape[1]} inputs are not a square picture")
    book_images = to_image(values, side)
    images = ink_image(values, side)
    outputs = np.asarray(model.outputs(images), dtype=np.float64)
    book_predicted = np.asarray(model.outputs(book_images)).argmax(axis=1)
    return BackqueryResult(
        labels, values, book_images, images, outputs, outputs.argmax(axis=1), book_predicted
    )


def backquery_figure(
    result: BackqueryResult, *, book: bool = False, title: str | None = None
) -> Any:
    """A grid (2x5 for ten digits) of the back-queried pictures, titled with what the network reads.

    ``book``: show the book's grey pictures (and what the network reads in them)
    instead of the pictures with the background set to 0.
    """

    images = result.book_images if book else result.images
    read = result.book_predicted if book else result.predicted
    titles = [
        f"{d} \u2192 read {p}" + (" \u2713" if p == d else " \u2717")
        for d, p in zip(result.labels, read, strict=True)
    ]
    ncols = 5 if len(result.labels) == 10 else None
    return image_grid(
        images, titles=titles, ncols=ncols, cmap="Greys", vmin=0, vmax=255, title=title
    )
