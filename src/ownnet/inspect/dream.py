"""What does each layer look for? Dream a picture with it (as DeepDream does).

Start from a picture ``p`` (28x28 in [0, 1]: a drawing or a photo) and change
it, a little at a time, so that one layer's response grows: gradient ascent
on the pixels for

    J(p) = 0.5 * sum(a(p) ** 2)

where ``a`` is that layer's output (after its activation). Whatever the layer
already sees a trace of in the picture, it sees more of afterwards: the first
conv layer strengthens edges and strokes of its favourite directions, deeper
layers parts of digits, the output layer the digit it reads (a softmax's
``sum(p ** 2)`` is largest for one confident answer). Each step moves along
``dJ/dp``, smoothed with a small Gaussian (strokes rather than speckles) and
scaled to a root-mean-square of ``lr`` per pixel, and clips back into [0, 1].

All layers are dreamt at once: one row of a batch per layer, each row's
gradient entering the backward pass at its own layer
(:meth:`ownnet.inspect.activations.Tracer.backward`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.inspect.activations import Tracer
from ownnet.inspect.grids import image_grid
from ownnet.inspect.maximize import _smoother


@dataclass(frozen=True)
class Dream:
    """One layer's dream.

    Attributes:
        layer: the layer's name (``"conv1"``, ``"hidden1"``, ``"output"``, ...).
        kind: its kind (``"conv"``, ``"pool"``, ``"dense"``, ``"output"``).
        image: the dreamt picture ``(28, 28)`` in [0, 1].
        start: ``J`` for the starting picture.
        end: ``J`` for the dreamt picture.
    """

    layer: str
    kind: str
    image: np.ndarray
    start: float
    end: float


def dream(
    model: Any | Tracer,
    picture: np.ndarray,
    layers: list[str] | None = None,
    *,
    steps: int = 40,
    lr: float = 0.015,
    blur: float = 0.7,
) -> list[Dream]:
    """Dream ``picture`` (``(28, 28)`` in [0, 1]) with each of ``layers`` (default: every
    layer but the input), independently.

    Args:
        model: a classic or nn model, or a :class:`Tracer` of one.
        picture: the starting picture.
        layers: layer names (see :mod:`ownnet.inspect.activations`).
        steps: gradient-ascent steps.
        lr: root-mean-square change per pixel per step.
        blur: width (pixels) of the Gaussian the gradient is smoothed with (0: none).

    Returns:
        one :class:`Dream` per layer, in the order asked.
    """
    tracer = model if isinstance(model, Tracer) else Tracer(model)
    if layers is None:
        layers = [info.name for info in tracer.layers[1:]]
    if not layers:
        raise ValueError("no layers to dream with")
    ks = [tracer.index(name) for name in layers]
    if 0 in ks:
        raise ValueError("the input layer has nothing to dream: pick a layer above it")
    if int(steps) < 0 or not lr > 0:
        raise ValueError(f"steps must be >= 0 and lr > 0, found steps={steps}, lr={lr}")
    p = np.asarray(picture, dtype=np.float64).reshape(-1)
    if p.size != tracer.net.n_pixels:
        raise ValueError(f"expected a picture of {tracer.net.n_pixels} pixels, found {p.size}")
    x = np.tile(np.clip(p, 0.0, 1.0), (len(ks), 1))
    smooth = _smoother(blur, x.shape[1])
    start = _objective(tracer, x, ks)[0]
    for _ in range(int(steps)):
        _, g = _objective(tracer, x, ks)
        g = smooth(g)
        rms = np.sqrt(np.mean(g * g, axis=1, keepdims=True))
        x += lr * g / np.maximum(rms, 1e-12)
        np.clip(x, 0.0, 1.0, out=x)
    end = _objective(tracer, x, ks, gradient=False)[0]
    shape = tracer.layers[0].shape
    kinds = [tracer.layers[k].kind for k in ks]
    return [
        Dream(name, kind, x[r].reshape(shape), float(start[r]), float(end[r]))
        for r, (name, kind) in enumerate(zip(layers, kinds, strict=True))
    ]


def _objective(
    tracer: Tracer, x: np.ndarray, ks: list[int], gradient: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """``J`` of row ``r`` for layer ``ks[r]`` ``(rows,)`` and, with ``gradient``, ``dJ/dx``
    ``(rows, n_pixels)``."""
    outputs = tracer.forward(x, until=max(ks))
    rows = np.arange(len(ks))
    objective = np.array([0.5 * np.sum(outputs[k][r] ** 2) for r, k in zip(rows, ks)])
    if not gradient:
        return objective, None
    grads: dict[int, np.ndarray] = {}
    for r, k in zip(rows, ks):
        seed = grads.setdefault(k, np.zeros_like(outputs[k]))
        seed[r] = outputs[k][r]  # d(0.5 * sum(a ** 2)) / da = a
    return objective, tracer.backward(grads)


def dream_figure(picture: np.ndarray, dreams: list[Dream], *, title: str | None = None) -> Any:
    """The starting picture and each layer's dream side by side (ink dark, as the book
    draws digits), titled with the layer and how much its response grew."""

    images = np.stack([np.asarray(picture, dtype=np.float64)] + [d.image for d in dreams])
    titles = ["start"] + [f"{d.layer}: J x{d.end / max(d.start, 1e-12):.1f}" for d in dreams]
    return image_grid(
        images, titles=titles, ncols=len(images), cmap="Greys", vmin=0.0, vmax=1.0, title=title
    )
