"""The inside view's answers: every layer's output and the saliency map, pictures, dreams.

Inside-view requests are batched like predictions (:mod:`ownnet.web.batcher`):
the pictures of the requests waiting together go through one forward and one
backward pass of the thread's tracer (:meth:`ServedModel.tracer`). Values are
sent with four significant digits of each layer's largest value (enough to
draw; it keeps a CNN's answer near 300 kB instead of 900 kB).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.web.inputs import InputError, parse_json, pixels_from_doc
from ownnet.web.prediction import check_finite_outputs, dumps

#: Significant digits kept of each layer's largest value.
DIGITS = 4


def compact(values: np.ndarray) -> np.ndarray:
    """``values`` flat, rounded to :data:`DIGITS` significant digits of its largest
    magnitude, as float32 (which JSON writes shortest)."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    top = float(np.abs(v).max()) if v.size else 0.0
    decimals = DIGITS - 1 - int(np.floor(np.log10(top))) if top > 0 else 0
    return np.round(v, decimals).astype(np.float32)


def digit_field(value: Any, what: str = "digit") -> int | None:
    """A client's class choice: an int 0..9 or null."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 9:
        raise InputError(422, f"'{what}' must be a digit 0..9 or null, found {value!r:.40}")
    return value


def decode(kind: str, payload: bytes) -> tuple[np.ndarray, int | None]:
    """An inside-view request body → ``(uint8 (28, 28), digit or None)``."""
    image, extras = pixels_from_doc(parse_json(payload), extra=("digit",))
    return image, digit_field(extras.get("digit"))


def answer(served: Any, requests: list[tuple[str, tuple[np.ndarray, int | None]]]) -> list[bytes]:
    """The JSON answers to inside-view requests, one forward and backward pass for all."""
    from ownnet.inspect.saliency import class_gradient

    tracer = served.tracer()
    images = np.stack([image for _, (image, _) in requests])
    pictures = images.reshape(len(images), -1) / 255.0
    wanted = np.array([-1 if d is None else d for _, (_, d) in requests])
    classes, _, grad, layers = class_gradient(tracer, pictures, wanted)
    outputs = layers[-1].reshape(len(images), -1)
    check_finite_outputs(outputs)
    probabilities = served.confidences(outputs)
    answers = []
    for i in range(len(requests)):
        doc = {
            "layers": [
                {**info.describe(), "values": compact(values[i])}
                for info, values in zip(tracer.layers, layers, strict=True)
            ],
            "saliency": {"digit": int(classes[i]), "values": compact(pictures[i] * grad[i])},
            "probabilities": np.round(probabilities[i], 6),
            "digit": int(outputs[i].argmax()),
            "meaning": served.confidence_meaning,
            "model": served.name,
        }
        answers.append(dumps(doc))
    return answers


def class_pictures_json(served: Any) -> bytes:
    """``{"method", "images": [[784] x 10] in 0..1, "read_as": [10]}`` (cached per model)."""
    pics = served.class_pictures()
    images = np.round(pics.images.reshape(len(pics.images), -1), 3).astype(np.float32)
    return dumps({"method": pics.method, "images": images, "read_as": pics.read_as})


def dream_json(served: Any, image: np.ndarray, steps: int) -> bytes:
    """Every layer's dream of ``image`` (uint8 ``(28, 28)``):
    ``{"layers": [{"name", "kind", "image": [784], "start", "end"}]}``."""
    from ownnet.inspect.dream import dream

    dreams = dream(served.tracer(), image / 255.0, steps=steps)
    return dumps(
        {
            "layers": [
                {
                    "name": d.layer,
                    "kind": d.kind,
                    "image": np.round(d.image.reshape(-1), 3).astype(np.float32),
                    "start": d.start,
                    "end": d.end,
                }
                for d in dreams
            ],
            "model": served.name,
        }
    )
