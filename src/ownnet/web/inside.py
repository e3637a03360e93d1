"""The inside view's answers: every layer's output and the saliency map, pictures, dreams.

Inside-view requests are batched like predictions (:mod:`ownnet.web.batcher`):
the pictures of the requests waiting together go through one forward and one
backward pass of the thread's tracer (:meth:`ServedModel.tracer`).

Two encodings of the same answer:

* JSON (the default): values with three significant digits of each layer's
  largest value (a thousand levels, more than a picture shows); about 200 kB
  for the default CNN, most of it the 25,088 values of conv1;
* ``uint8`` (what the draw page asks for, as it draws at every stroke): a
  4-byte little-endian length, a JSON header that describes the layers as the
  JSON answer does but gives each one ``low``, ``high``, ``offset`` and ``size``
  instead of ``values``, then one byte per value: ``low + (high - low) * byte /
  255``. A quarter of the size, and no number formatting (which took most of
  the time of an answer).
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from ownnet.inspect.dream import dream
from ownnet.inspect.saliency import class_gradient
from ownnet.web.inputs import InputError, pixels_from_doc
from ownnet.web.prediction import check_finite_outputs, dumps

#: Significant digits kept of each layer's largest value (JSON).
DIGITS = 3
#: The request kinds of the batcher: the answer's encoding.
ENCODINGS = {"inside": "json", "inside-uint8": "uint8"}


def compact(values: np.ndarray) -> np.ndarray:
    """Rows ``(n, m)`` rounded to :data:`DIGITS` significant digits of each row's largest
    magnitude, as float32 (which JSON writes shortest)."""
    v = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    top = np.abs(v).max(axis=1, keepdims=True) if v.size else np.zeros((len(v), 1))
    exponent = np.floor(np.log10(np.where(top > 0, top, 1.0)))
    unit = 10.0 ** (exponent - (DIGITS - 1))  # the last digit kept
    return (np.rint(v / unit) * unit).astype(np.float32)


def short_step(step: np.ndarray) -> np.ndarray:
    """``step`` rounded up to 8 significant bits (0 stays 0): a multiple of it by a
    number below 256 is exact in float64."""
    mantissa, exponent = np.frexp(step)  # step = mantissa * 2**exponent, mantissa in [0.5, 1)
    return np.ldexp(np.ceil(mantissa * 256.0) / 256.0, exponent)


def quantize(values: np.ndarray, symmetric: bool = False) -> tuple[np.ndarray, list, list]:
    """Rows ``(n, m)`` as uint8 codes ``(n, m)`` and each row's ``low`` and ``high``
    (a value is ``low + (high - low) * code / 255``).

    ``symmetric`` (for signed maps): codes 0..254 with 0 exactly at code 127, so that
    what was 0 is 0 again: ``low = -127 s``, ``high = 128 s`` for a step ``s`` just at or
    above ``max |v| / 127`` with 8 significant bits, which makes ``high - low``, the step
    ``(high - low) / 255`` and ``low + 127 * step == 0`` exact in float64.
    """
    v = np.asarray(values).reshape(len(values), -1)
    if v.dtype not in (np.float32, np.float64):
        v = v.astype(np.float64)
    work = np.empty_like(v)  # in the values' own precision: float32 is half the work
    if symmetric:
        step = short_step(np.abs(v).max(axis=1, keepdims=True).astype(np.float64) / 127.0)
        scale = np.where(step > 0, 1.0 / np.where(step > 0, step, 1.0), 0.0)
        np.multiply(v, scale.astype(v.dtype), out=work)
        work += 127.0
        low, high = -127.0 * step, 128.0 * step
    else:
        low = v.min(axis=1, keepdims=True).astype(np.float64)
        high = v.max(axis=1, keepdims=True).astype(np.float64)
        span = np.where(high > low, high - low, 1.0)
        np.subtract(v, low.astype(v.dtype), out=work)
        work *= (255.0 / span).astype(v.dtype)
    np.rint(work, out=work)
    np.clip(work, 0, 255, out=work)  # (float32 rounding can step a hair past the ends)
    return work.astype(np.uint8), low[:, 0].tolist(), high[:, 0].tolist()


def digit_field(value: Any, what: str = "digit") -> int | None:
    """A client's class choice: an int 0..9 or null."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 9:
        raise InputError(422, f"'{what}' must be a digit 0..9 or null, found {value!r:.40}")
    return value


def decode(kind: str, doc: Any) -> tuple[np.ndarray, int | None]:
    """An inside-view request's JSON document → ``(uint8 (28, 28), digit or None)``."""
    image, extras = pixels_from_doc(doc, extra=("digit",))
    return image, digit_field(extras.get("digit"))


def answer(served: Any, requests: list[tuple[str, tuple[np.ndarray, int | None]]]) -> list[bytes]:
    """The answers to inside-view requests (each in the encoding its kind names), one
    forward and one backward pass for all."""
    tracer = served.tracer()
    images = np.stack([image for _, (image, _) in requests])
    pictures = images.reshape(len(images), -1) / 255.0
    wanted = np.array([-1 if d is None else d for _, (_, d) in requests])
    classes, _, grad, layers = class_gradient(tracer, pictures, wanted)
    outputs = layers[-1].reshape(len(images), -1)
    check_finite_outputs(outputs)
    probabilities = np.round(served.confidences(outputs), 6)
    maps = [*layers, pictures * grad]  # the layers, then the saliency maps
    kinds = [kind for kind, _ in requests]
    rounded = [compact(m) for m in maps] if "inside" in kinds else None
    coded = None
    if "inside-uint8" in kinds:
        coded = [quantize(m, symmetric=k == len(maps) - 1) for k, m in enumerate(maps)]
    answers = []
    for i, kind in enumerate(kinds):
        head = {
            "layers": [info.describe() for info in tracer.layers],
            "saliency": {"digit": int(classes[i])},
            "probabilities": probabilities[i].tolist(),
            "digit": int(outputs[i].argmax()),
            "meaning": served.confidence_meaning,
            "model": served.name,
        }
        parts = [*head["layers"], head["saliency"]]
        if ENCODINGS[kind] == "json":
            for part, values in zip(parts, rounded, strict=True):
                part["values"] = values[i]
            answers.append(dumps(head))
            continue
        offset, blobs = 0, []
        for part, (codes, low, high) in zip(parts, coded, strict=True):
            row = codes[i]
            part.update(offset=offset, size=row.size, low=low[i], high=high[i])
            blobs.append(row.tobytes())
            offset += row.size
        text = json.dumps(head, separators=(",", ":")).encode()
        answers.append(struct.pack("<I", len(text)) + text + b"".join(blobs))
    return answers


def class_pictures_json(served: Any) -> bytes:
    """``{"method", "images": [[784] x 10] in 0..1, "read_as": [10]}`` (cached per model)."""
    pics = served.class_pictures()
    images = np.round(pics.images.reshape(len(pics.images), -1), 3).astype(np.float32)
    return dumps({"method": pics.method, "images": images, "read_as": pics.read_as})


def dream_json(served: Any, image: np.ndarray, steps: int) -> bytes:
    """Every layer's dream of ``image`` (uint8 ``(28, 28)``):
    ``{"layers": [{"name", "kind", "image": [784], "start", "end"}]}``."""
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
