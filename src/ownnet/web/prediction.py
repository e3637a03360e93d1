"""Predict requests, batched (:mod:`ownnet.web.batcher`): body → 28x28 input → JSON answer."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ownnet.web.inputs import InputError, image_from_bytes, orjson, pixels_from_json


def decode(kind: str, payload: bytes) -> np.ndarray:
    """A request body → the network's input, uint8 ``(28, 28)`` (in a worker thread)."""
    return pixels_from_json(payload) if kind == "pixels" else image_from_bytes(payload)


def answer(served: Any, requests: list[tuple[str, np.ndarray]]) -> list[bytes]:
    """The JSON answers to ``[(kind, image (28, 28)), ...]``, one network call for all."""
    outputs = served.outputs(np.stack([image for _, image in requests]))
    check_finite_outputs(outputs)
    return [encode(served, kind, image, out) for (kind, image), out in zip(requests, outputs)]


def check_finite_outputs(outputs: np.ndarray) -> None:
    """Refuse to answer with outputs that are not numbers (the weights are finite, so only an
    overflow inside the network makes them)."""
    if not np.isfinite(outputs).all():
        raise InputError(
            422,
            "the model's outputs for this input are not finite numbers (an overflow "
            "inside the network): no answer",
        )


def encode(served: Any, kind: str, image: np.ndarray, outputs: np.ndarray) -> bytes:
    """The JSON answer for one image and its outputs ``(10,)``."""
    outputs = np.asarray(outputs, dtype=np.float64)
    probabilities = served.confidences(outputs)
    result = {
        "digit": int(outputs.argmax()),
        "probabilities": np.round(probabilities, 6),
        "meaning": served.confidence_meaning,
        "outputs": outputs,
        "input": image.reshape(-1),
        "source": kind,
        "model": served.name,
    }
    return dumps(result)


def dumps(doc: dict[str, Any]) -> bytes:
    """JSON bytes of ``doc`` whose values may be NumPy arrays."""
    if orjson is not None:
        return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)
    plain = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in doc.items()}
    return json.dumps(plain, separators=(",", ":"), default=_plain).encode()


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")
