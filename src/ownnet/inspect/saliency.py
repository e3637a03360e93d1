"""Which pixels pushed the answer: a saliency map, gradient x input.

For a picture ``p`` (28x28, each pixel 0 black .. 1 full ink) and a class ``c``
the network's *net input* for that class, ``z_c`` (its score before the softmax
or sigmoid), is a function of the pixels. Its gradient ``dz_c/dp`` says how
``z_c`` would change if a pixel got a little more ink; multiplied by the
pixel's own ink it is the pixel's share of the answer in a first-order sense::

    saliency[i] = p[i] * dz_c/dp[i]

Positive values pushed the network towards ``c``, negative ones away from it;
pixels without ink have none. (Simonyan et al. 2013 draw ``|dz_c/dp|``;
"gradient x input" keeps the sign and is Shrikumar et al.'s 2016 baseline.)
The net input rather than the probability is used because a saturated sigmoid
or softmax has almost no gradient left, and a softmax's probability for ``c``
also moves when the *other* classes' scores move.

The gradient comes from the matrix engine's own backward pass
(:class:`ownnet.inspect.activations.Tracer`); the book's network is first made
the same network in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.inspect.activations import Tracer


@dataclass(frozen=True)
class Saliency:
    """Result of :func:`saliency` for ``n`` pictures.

    Attributes:
        classes: the class of each picture the map is for ``(n,)``.
        net_input: that class's net input ``z_c`` for the picture ``(n,)``.
        gradient: ``dz_c/dp`` ``(n, 28, 28)``.
        values: ``p * dz_c/dp`` ``(n, 28, 28)``: positive pushed towards ``c``.
        outputs: the network's outputs ``(n, n_classes)``.
    """

    classes: np.ndarray
    net_input: np.ndarray
    gradient: np.ndarray
    values: np.ndarray
    outputs: np.ndarray


def class_gradient(
    tracer: Tracer, pictures: np.ndarray, classes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """One forward and one backward pass: ``(classes (n,), z_c (n,), dz_c/dp (n, n_pixels),
    layer outputs)`` for pictures ``(n, 28, 28)`` in [0, 1].

    ``classes`` defaults to each picture's top answer (so does a class of -1); the
    layer outputs are :meth:`Tracer.forward`'s (the input first), for showing alongside.
    """
    layers = tracer.forward(pictures)
    outputs = layers[-1].reshape(len(layers[-1]), -1)
    n, k = outputs.shape
    top_answers = outputs.argmax(axis=1)
    if classes is None:
        classes = top_answers
    classes = np.asarray(classes, dtype=np.intp).reshape(-1)
    if len(classes) != n:
        raise ValueError(f"{n} pictures but {len(classes)} classes")
    classes = np.where(classes == -1, top_answers, classes)
    if n and (classes.min() < 0 or classes.max() >= k):
        raise ValueError(f"classes must be 0..{k - 1}, found {classes.min()}..{classes.max()}")
    top = len(tracer.layers) - 1
    rows = np.arange(n)
    z = tracer.net_input(top)[rows, classes]
    seed = np.zeros((n, k))
    seed[rows, classes] = 1.0
    grad = tracer.backward({top: seed}, net_input=True)
    return classes, z, grad, layers


def saliency(
    model: Any | Tracer, pictures: np.ndarray, classes: np.ndarray | None = None
) -> Saliency:
    """Gradient x input maps ``(n, 28, 28)`` of ``pictures (n, 28, 28)`` in [0, 1], for
    ``classes (n,)`` (default: the top answer for each picture).

    ``model``: a classic or nn model, or a :class:`Tracer` of one (reused: no copy).
    """
    tracer = model if isinstance(model, Tracer) else Tracer(model)
    p = np.asarray(pictures, dtype=np.float64).reshape(len(pictures), -1)
    classes, z, grad, layers = class_gradient(tracer, p, classes)
    shape = (len(p), *tracer.layers[0].shape)
    outputs = layers[-1].reshape(len(p), -1)
    return Saliency(classes, z, grad.reshape(shape), (p * grad).reshape(shape), outputs)
