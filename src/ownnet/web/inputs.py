"""What a client sends to ``POST /api/predict`` → the network's input, uint8 ``(28, 28)``.

Two kinds of input:

* **an image** (a PNG of the drawing canvas, a photo, any file Pillow reads), sent as
  a multipart upload or as the raw request body. It is prepared exactly as
  ``ownnet predict`` prepares a file, by :func:`ownnet.data.images.prepare`
  (greyscale, polarity, crop to the ink, 20x20 box, centre of mass at 14,14);
* **pixels** as JSON: 784 numbers or 28 rows of 28, in 0..1 or 0..255, taken as
  the network's input as they are (MNIST style: 0 background, high values ink).

Every failure raises :class:`InputError` with the HTTP status to answer and a
message that says what was expected and what was found. Nothing here touches a
file: uploads are decoded from memory.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from ownnet.data.images import ImageError, Prepared, prepare_steps
from ownnet.data.images.decode import open_image_bytes

try:  # a faster JSON parser, when installed
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None

#: Largest image accepted, in pixels (width x height), checked before decoding.
MAX_IMAGE_PIXELS = 25_000_000
SIDE = 28


class InputError(Exception):
    """Bad client input: ``status`` is the HTTP status code, ``str(self)`` the message.

    (Not an :class:`ownnet.errors.OwnnetError`: it never reaches the command line.)
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def image_from_bytes(data: bytes, name: str = "upload") -> np.ndarray:
    """Encoded image bytes (PNG, JPEG, BMP, GIF, ...) → prepared uint8 ``(28, 28)``.

    Raises:
        InputError: 422 when the bytes are not an image, the image is too large,
            damaged, or has no ink.
    """
    return prepared_from_bytes(data, name).image


def prepared_from_bytes(data: bytes, name: str = "upload") -> Prepared:
    """Like :func:`image_from_bytes`, returning :func:`ownnet.data.images.prepare_steps`'s
    :class:`~ownnet.data.images.Prepared` (the 28x28 image and where the ink was)."""
    try:
        im = open_image_bytes(data, name, max_pixels=MAX_IMAGE_PIXELS)
        return prepare_steps(im, name=name)
    except ImageError as exc:  # not an image, damaged, too large, no ink
        raise InputError(422, str(exc)) from None


def pixels_from_json(body: bytes) -> np.ndarray:
    """A JSON body → uint8 ``(28, 28)``.

    Accepted forms: ``{"pixels": [...], "scale": 1 | 255}`` or a bare list, where
    the list holds 784 numbers or 28 lists of 28 numbers. ``scale`` says whether
    the values run 0..1 or 0..255; without it, values all at most 1 are taken as
    0..1, else as 0..255. Values are rounded to whole grey levels.

    Raises:
        InputError: 400 for JSON that does not parse, 422 for the wrong shape,
            NaN or infinite values, values outside the range, or non-numbers.
    """
    return pixels_from_doc(parse_json(body))[0]


def pixels_from_doc(doc: Any, extra: tuple[str, ...] = ()) -> tuple[np.ndarray, dict[str, Any]]:
    """A parsed JSON document (see :func:`pixels_from_json`) → uint8 ``(28, 28)`` and the
    values of the ``extra`` fields it may also hold (absent ones are left out)."""
    scale: Any = None
    extras: dict[str, Any] = {}
    if isinstance(doc, dict):
        known = {"pixels", "scale", *extra}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise InputError(422, f"unknown field(s) {unknown}: expected {sorted(known)}")
        if "pixels" not in doc:
            raise InputError(422, "missing field 'pixels': expected 784 numbers or 28 rows of 28")
        pixels, scale = doc["pixels"], doc.get("scale")
        extras = {k: doc[k] for k in extra if k in doc}
    elif extra:
        raise InputError(
            422, f"expected an object with 'pixels' (and {list(extra)}), found {_kind(doc)}"
        )
    else:
        pixels = doc
    if scale is not None and (isinstance(scale, bool) or scale not in (1, 255)):
        raise InputError(
            422, f"'scale' must be 1 (values 0..1) or 255 (values 0..255), found {scale!r}"
        )
    values = _fast_numbers(pixels)
    if values is None:  # not a plain list of numbers: find what is wrong, for the message
        values = _numbers(pixels)
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        what = "NaN" if np.isnan(values[bad]) else "infinite"
        raise InputError(
            422,
            f"pixel {bad} is {what}: expected finite numbers 0..255 or 0..1 "
            f"({int((~np.isfinite(values)).sum())} NaN or infinite values found)",
        )
    lo, hi = float(values.min()), float(values.max())
    if scale is None:
        scale = 1 if hi <= 1.0 else 255
    if lo < 0 or hi > scale:
        raise InputError(
            422,
            f"pixel values must be in 0..{scale}, found {lo:g}..{hi:g}",
        )
    image = np.rint(values * (255.0 / scale)).astype(np.uint8).reshape(SIDE, SIDE)
    return image, extras


def parse_json(body: bytes) -> Any:
    """Parse a JSON request body (with orjson when installed); NaN and Infinity literals
    are read as such (and refused later, with a message that says where).

    Raises:
        InputError: 400 for a body that is not JSON or is nested too deeply.
    """
    if orjson is not None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            if "depth" in str(exc):
                raise InputError(400, f"request body is nested too deeply: {exc}") from None
            # else the standard parser reads NaN/Infinity, and its messages say where
    try:
        return json.loads(body)
    except RecursionError:
        raise InputError(400, "request body is nested too deeply to be read") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(400, f"request body is not valid JSON: {exc}") from None


def _fast_numbers(pixels: Any) -> np.ndarray | None:
    """784 numbers or 28 rows of 28 → float64 ``(784,)`` in one NumPy call, else None."""
    if not isinstance(pixels, list):
        return None
    try:
        arr = np.array(pixels)
    except (ValueError, TypeError, OverflowError):
        return None
    if arr.dtype.kind not in "iuf" or arr.shape not in ((SIDE * SIDE,), (SIDE, SIDE)):
        return None
    # NumPy reads JSON true/false among numbers as 1/0: those are not pixels
    rows = pixels if arr.ndim == 2 else [pixels]
    if any(bool in set(map(type, row)) for row in rows):
        return None
    return arr.reshape(-1).astype(np.float64, copy=False)


def _numbers(pixels: Any) -> np.ndarray:
    """A list of 784 numbers or of 28 lists of 28 → float64 ``(784,)``."""
    if not isinstance(pixels, list):
        raise InputError(
            422, f"'pixels' must be a list of 784 numbers or 28 rows of 28, found {_kind(pixels)}"
        )
    if len(pixels) == SIDE and all(isinstance(row, list) for row in pixels):
        lengths = [len(row) for row in pixels]
        if any(n != SIDE for n in lengths):
            row = next(i for i, n in enumerate(lengths) if n != SIDE)
            raise InputError(
                422, f"wrong length: row {row} has {lengths[row]} numbers, expected 28 rows of 28"
            )
        flat = [v for row in pixels for v in row]
    elif len(pixels) == SIDE * SIDE:
        flat = pixels
    else:
        rows = " (a list of lists)" if pixels and isinstance(pixels[0], list) else ""
        raise InputError(
            422,
            f"wrong length: expected 784 numbers or 28 rows of 28, found {len(pixels)} items{rows}",
        )
    for i, v in enumerate(flat):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(422, f"pixel {i} is {_kind(v)}, expected a number")
    try:
        return np.array(flat, dtype=np.float64)
    except OverflowError:
        raise InputError(422, "a pixel value is too large to be a number") from None


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if isinstance(v, str):
        return f"a string ({v[:20]!r})"
    return f"a {type(v).__name__}"
