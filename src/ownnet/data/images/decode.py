"""Reading a picture: any image file, Pillow image or array → greyscale in 0..1.

:func:`open_image` opens a file (first frame, the phone's EXIF rotation applied,
checked for size before it is decoded); :func:`read_grey` turns a path, Pillow
image or array into greyscale and alpha; :func:`load_picture` adds what every
preparation starts with: transparency flattened (the transparent part is the
background) and a large photo reduced to a working size. Every failure raises
:class:`~ownnet.data.images.errors.ImageError` naming the image.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ownnet.data.images.errors import ImageError

#: Images with more pixels than this (width x height, read from the header before
#: decoding) are refused as too large: a 48-megapixel phone photo still passes.
MAX_PIXELS = 50_000_000
#: Pictures are worked on with their longer side at most this many pixels (reduced by
#: area averaging; JPEG files are decoded at a reduced scale directly).
MAX_WORKING_SIDE = 1200
#: A large JPEG is decoded at 1/2, 1/4 or 1/8 scale, keeping its longer side at least this
#: share of the working side.
DRAFT = 0.75
#: What Pillow's many format readers raise on damaged data.
DECODE_FAILURES = (
    OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, KeyError,
    TypeError, ZeroDivisionError, OverflowError, MemoryError, Image.DecompressionBombError,
    NotImplementedError, RuntimeError,  # formats Pillow knows only in part (DDS, ...)
)  # fmt: skip
#: Pillow modes with an alpha channel (transparency).
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
#: Pillow modes read as arrays of numbers (16- and 32-bit integers, floats).
NUMBER_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
#: Pillow modes without colour.
GREY_MODES = ("1", "L", "LA", "La", *NUMBER_MODES)


@dataclass(frozen=True)
class Picture:
    """A picture ready to be prepared.

    Attributes:
        grey: luminance, float32 ``(H, W)`` in 0..1, transparency flattened, reduced
            to at most :data:`MAX_WORKING_SIDE` pixels on the longer side.
        name: the file name (or ``"<array>"``, ``"<image>"``) used in messages.
        scale: ``grey`` pixels per pixel of the original image (1 or less).
        size: the original image's ``(width, height)``.
        colour: how coloured each pixel is (:func:`colourfulness`), float32 ``(H, W)``
            like ``grey``; None for a grey image.
    """

    grey: np.ndarray
    name: str
    scale: float
    size: tuple[int, int]
    colour: np.ndarray | None = None


def load_picture(
    source: Any, *, name: str | None = None, max_side: int = MAX_WORKING_SIDE
) -> Picture:
    """A path, Pillow image or array → :class:`Picture` (greyscale, working size)."""
    if isinstance(source, (str, os.PathLike)):
        im = open_image(source, max_side=max_side)
        label = name or str(Path(source))
        grey, alpha = _grey_from_pil(im, label)
        size = _original_size(im)
        colour = _colour_from_pil(im)
    elif isinstance(source, Image.Image):
        label = name or "<image>"
        grey, alpha = _grey_from_pil(source, label)
        size = source.size
        colour = _colour_from_pil(source)
    else:
        label = name or "<array>"
        a = np.asarray(source)
        grey, alpha = _grey_from_array(a, label)
        size = (grey.shape[1], grey.shape[0])
        colour = colourfulness(_unit_values(a[:, :, :3], label)) if _has_colour(a) else None
    grey = reduce(flatten_alpha(grey, alpha), max_side)
    if colour is not None:
        colour = reduce(colour if alpha is None else colour * alpha, max_side)
    return Picture(grey, label, grey.shape[1] / max(size[0], 1), size, colour)


def colourfulness(rgb: np.ndarray) -> np.ndarray:
    """How coloured each pixel of ``rgb (H, W, 3)`` (uint8, or floats in 0..1) is: the
    largest of its red, green and blue minus the smallest, float32 ``(H, W)`` in 0..1.
    Greys, white paper and its shadows are near 0; a wooden table is about 0.2 to 0.4."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]  # channel by channel: a reduction
    high = np.maximum(np.maximum(r, g), b)  # over the last axis is ten times slower
    spread = np.subtract(high, np.minimum(np.minimum(r, g), b)).astype(np.float32)
    if rgb.dtype == np.uint8:
        spread *= 1.0 / 255.0
    return spread


def _has_colour(a: np.ndarray) -> bool:
    return a.ndim == 3 and a.shape[2] >= 3 and a.dtype != np.bool_


def _colour_from_pil(im: Image.Image) -> np.ndarray | None:
    """:func:`colourfulness` of a Pillow image, or None when it is grey (or its colours
    cannot be read: they only help to find the page)."""
    if im.mode in GREY_MODES:
        return None
    try:
        return colourfulness(np.asarray(im.convert("RGB")))
    except DECODE_FAILURES:
        return None


def read_grey(source: Any, *, name: str | None = None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Read ``source`` (path, Pillow image or array) as greyscale, at full size.

    Returns:
        ``(grey, alpha, name)``: float ``(H, W)`` luminance in 0..1, the alpha
        channel float ``(H, W)`` in 0..1 or ``None`` when fully opaque, and the
        name for messages.
    """
    if isinstance(source, (str, os.PathLike)):
        label = name or str(Path(source))
        return (*_grey_from_pil(open_image(source), label), label)
    if isinstance(source, Image.Image):
        label = name or "<image>"
        return (*_grey_from_pil(source, label), label)
    label = name or "<array>"
    return (*_grey_from_array(np.asarray(source), label), label)


def open_image(path: str | os.PathLike[str], *, max_side: int | None = None) -> Image.Image:
    """Open an image file with Pillow: first frame, EXIF rotation applied, fully loaded.

    Args:
        path: the file.
        max_side: if given, a JPEG may be decoded at 1/2, 1/4 or 1/8 of its size as
            long as its longer side stays at least this long (much faster for photos).

    Raises:
        ImageError: no such file, a folder, not an image, damaged, or more than
            :data:`MAX_PIXELS` pixels.
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such image file")
    if not path.is_file():
        raise ImageError(f"{path}: is a directory or special file, expected an image file")
    return _decode(path, str(path), max_side, MAX_PIXELS)


def open_image_bytes(
    data: bytes, name: str = "upload", *, max_side: int | None = None, max_pixels: int = 0
) -> Image.Image:
    """Like :func:`open_image` for an image's bytes in memory (an upload); ``name`` is
    what messages call it; ``max_pixels`` (if given) lowers :data:`MAX_PIXELS`."""
    if not data:
        raise ImageError(f"{name}: empty upload, expected an image file (PNG, JPEG, ...)")
    return _decode(io.BytesIO(data), name, max_side, max_pixels or MAX_PIXELS)


def _decode(source: Any, label: str, max_side: int | None, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns of images over its own limit (ours, lower, refuses them) and of
            # damaged metadata it skips: neither is for the person reading digits
            warnings.simplefilter("ignore")
            return _load(Image.open(source), label, max_side, max_pixels)
    except UnidentifiedImageError:
        raise ImageError(
            f"{label}: not an image file (expected PNG, JPEG, BMP, GIF, TIFF or WebP; "
            "Pillow cannot read it)"
        ) from None
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:  # far over Pillow's limit, refused on opening
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise ImageError(
            f"{label}: image too large: {size}, at most {max_pixels:,} are read; "
            "scale it down first"
        ) from None
    except DECODE_FAILURES as exc:
        raise ImageError(f"{label}: damaged or unreadable image file ({_reason(exc)})") from None


def _load(im: Image.Image, label: str, max_side: int | None, max_pixels: int) -> Image.Image:
    """Load the first frame of ``im`` (reduced if a large JPEG), turned upright."""
    with im:
        check_size(im.size, label, max_pixels)
        if max_side and im.format == "JPEG" and max(im.size) > 1.5 * max_side:
            w, h = im.size
            f = DRAFT * max_side / max(w, h)  # the decoder halves while it stays above this
            im.draft(im.mode, (math.ceil(w * f), math.ceil(h * f)))
            im.info["original_size"] = (w, h)
        if im.tell():  # a new image is at its first frame (SPIDER files cannot seek at all)
            im.seek(0)
        im.load()
        original = tuple(im.info.get("original_size", im.size))
        upright = ImageOps.exif_transpose(im) or im
        out = upright.copy()
        out.info["original_size"] = original[::-1] if upright.size != im.size else original
        return out


def check_size(size: tuple[int, int], label: str, max_pixels: int = MAX_PIXELS) -> None:
    """Refuse an image of ``size`` ``(width, height)`` that is empty or too large."""
    w, h = size
    if w < 1 or h < 1:
        raise ImageError(f"{label}: empty image ({w}x{h} pixels)")
    if w * h > max_pixels:
        raise ImageError(
            f"{label}: image too large: {w}x{h} = {w * h:,} pixels, at most {max_pixels:,} "
            "are read; scale it down first"
        )


def _original_size(im: Image.Image) -> tuple[int, int]:
    size = im.info.get("original_size", im.size)
    return int(size[0]), int(size[1])


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:160] if text else type(exc).__name__


def _grey_from_pil(im: Image.Image, label: str) -> tuple[np.ndarray, np.ndarray | None]:
    check_size(im.size, label)
    try:
        if im.mode in NUMBER_MODES:
            return _grey_from_array(np.asarray(im), label)
        if im.mode in ALPHA_MODES or "transparency" in im.info:
            return _grey_from_array(np.asarray(im.convert("RGBA")), label)
        if im.mode == "LAB":  # the L channel is the lightness
            return np.asarray(im.getchannel(0), dtype=np.float32) / 255.0, None
        return np.asarray(im.convert("L"), dtype=np.float32) / 255.0, None
    except ImageError:
        raise
    except DECODE_FAILURES as exc:
        raise ImageError(
            f"{label}: cannot read colour mode {im.mode} as greyscale ({_reason(exc)})"
        ) from None


def _grey_from_array(a: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray | None]:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise ImageError(
            f"{label}: expected an image array (H, W), (H, W, 3) or (H, W, 4), "
            f"found shape {a.shape}"
        )
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ImageError(f"{label}: empty image array of shape {a.shape}")
    v = _unit_values(a, label)
    if v.ndim == 2:
        return v, None
    channels = v.shape[2]
    alpha = v[:, :, -1] if channels in (2, 4) else None
    colour = v[:, :, :3] if channels >= 3 else v[:, :, :1]
    grey = (
        colour @ np.array([0.299, 0.587, 0.114], np.float32)
        if colour.shape[2] == 3
        else colour[..., 0]
    )
    if alpha is not None and float(alpha.min()) >= 1.0:
        alpha = None
    return np.ascontiguousarray(grey, dtype=np.float32), alpha


def _unit_values(a: np.ndarray, label: str) -> np.ndarray:
    """Pixel values → float32 in 0..1 (uint8 /255, uint16 /65535, floats as they are)."""
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    if a.dtype == np.uint16:
        return a.astype(np.float32) / 65535.0
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ImageError(f"{label}: expected numeric pixel values, found dtype {a.dtype}")
    v = a.astype(np.float32)
    if not np.isfinite(v).all():
        raise ImageError(f"{label}: image holds NaN or infinite pixel values")
    low, top = float(v.min()), float(v.max())
    if low < 0:
        raise ImageError(f"{label}: negative pixel values (min {low:g}), expected 0 or more")
    if top > 1.0:  # 0..255 or 0..65535 integers in a wider type, or any larger range
        v = v / (255.0 if top <= 255.0 else 65535.0 if top <= 65535.0 else top)
    return v


def flatten_alpha(grey: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Composite over a background opposite to the ink: the transparent part is background.

    The ink's level is the alpha-weighted mean grey: dark ink goes on white, light ink
    on black. A fully transparent image becomes black (blank).
    """
    if alpha is None:
        return grey
    weight = float(alpha.sum())
    if weight <= 0:
        return np.zeros_like(grey)
    ink_level = float((grey * alpha).sum() / weight)
    paper = 1.0 if ink_level < 0.5 else 0.0
    return (alpha * grey + (1.0 - alpha) * paper).astype(np.float32)


def reduce(grey: np.ndarray, max_side: int = MAX_WORKING_SIDE) -> np.ndarray:
    """Reduce a large picture by a whole factor (area averaging) so that its longer side
    is at most ``max_side``; the last partial block of a side averages what it has.
    A picture only 1 or 2 pixels thin keeps at least one row or column."""
    factor = math.ceil(max(grey.shape) / max_side)
    if factor <= 1:
        return grey
    h, w = grey.shape
    ph, pw = -h % factor, -w % factor
    g = np.pad(grey, ((0, ph), (0, pw)), mode="edge") if ph or pw else grey
    hh, ww = g.shape
    return g.reshape(hh // factor, factor, ww // factor, factor).mean(axis=(1, 3), dtype=np.float32)
