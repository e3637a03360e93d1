"""The draw page's own preparation, in Python: the reference ``prepare.js`` is checked against.

The page that needs no server (``ownnet export``) prepares a canvas drawing in the
browser (``ownnet/web/static/prepare.js``) with the steps a clean drawing needs:
greyscale, a background plane fitted to the border (which decides the polarity), faint
noise and specks dropped, crop to the ink, thin strokes widened, the longer side scaled
to 20 px and the centre of mass put on (14, 14). This file is those steps in NumPy,
exactly as ``ownnet.data.images`` did them before it learnt pages, local light, ruled
lines, slant and stroke thinning (which a canvas drawing rarely needs and the browser
does not do); ``tests/test_web_export.py`` checks that the browser gives the same
pixels, to one grey level.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from ownnet.errors import DataError

#: Side of the prepared image and of the box the ink is scaled into (MNIST's numbers).
SIZE = 28
BOX = 20
#: Index of the pixel the centre of mass is placed on (MNIST: mean 14.0, 14.0).
CENTRE = 14.0

#: Images larger than this (longer side, pixels) are first reduced by area averaging.
MAX_WORKING_SIDE = 1200
#: The weakest contrast (0..1) between ink and background that counts as ink.
MIN_CONTRAST = 0.08
#: Ink connected components with less than this share of the ink are dropped as specks.
MIN_COMPONENT_SHARE = 0.02
#: The resampling filter for the 20 px box (Pillow's bilinear is anti-aliased when reducing).
RESAMPLE = Image.Resampling.BILINEAR
#: Strokes thinner than this (output pixels) are widened to it. MNIST's strokes, measured the
#: same way (:func:`stroke_width`), are 2.5 px (median) and thinner than 1.9 px in only 5%.
MIN_STROKE = 1.6
#: Thickening works at this many times the output resolution.
FINE = 4


class NoInkError(DataError):
    """The image has no ink that stands out from its background."""


@dataclass(frozen=True)
class Prepared:
    """The result of :func:`prepare_steps`.

    Attributes:
        image: the prepared input, uint8 ``(28, 28)``, 0 background, 255 ink.
        grey: the greyscale picture that was read, float ``(H, W)`` in 0..1
            (after any reduction of a large image).
        ink: the ink found, float ``(H, W)`` in 0..1 (1 = full ink), noise removed.
        polarity: ``"dark-on-light"`` or ``"light-on-dark"``.
        box: the ink's bounding box in ``grey`` as ``(top, left, bottom, right)``,
            bottom/right exclusive.
        scale: output pixels per ``grey`` pixel.
        name: the file name (or ``"<array>"``) used in messages.
    """

    image: np.ndarray
    grey: np.ndarray
    ink: np.ndarray
    polarity: str
    box: tuple[int, int, int, int]
    scale: float
    name: str


def prepare(source: Any, *, name: str | None = None, thicken: bool = True) -> np.ndarray:
    """An image file, array or Pillow image → MNIST-style uint8 ``(28, 28)``.

    Args:
        source: a path to a PNG/JPEG/BMP/GIF/TIFF/WebP file of any size, a
            Pillow image, or an array ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``
            (uint8 0..255, uint16 0..65535, float 0..1, or bool).
        name: what to call the image in error messages (default: the path).
        thicken: widen strokes that would be thinner than almost any in MNIST (a thin
            pen on a large photo) to :data:`MIN_STROKE` pixels.

    Returns:
        uint8 ``(28, 28)``: 0 background, 255 for the strongest ink, the ink's
        longer side 20 px, its centre of mass at pixel (14, 14).

    Raises:
        DataError: the file is missing or is not an image.
        NoInkError: the image is blank (nothing stands out from the background).
    """
    return prepare_steps(source, name=name, thicken=thicken).image


def prepare_steps(source: Any, *, name: str | None = None, thicken: bool = True) -> Prepared:
    """Like :func:`prepare`, returning the intermediate steps as :class:`Prepared`."""
    grey, alpha, label = read_grey(source, name=name)
    grey = _flatten_alpha(grey, alpha)
    grey = _reduce(grey)
    background, noise = _background(grey)
    polarity = _polarity(grey, background)
    signed = grey - background if polarity == "light-on-dark" else background - grey
    ink, box = _clean_ink(signed, noise, label)
    image, scale = _place(ink, box, thicken)
    return Prepared(image, grey, ink, polarity, box, scale, label)


# -- reading -------------------------------------------------------------------------------------
def read_grey(source: Any, *, name: str | None = None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Read ``source`` as greyscale.

    Returns:
        ``(grey, alpha, name)``: float ``(H, W)`` luminance in 0..1, the alpha
        channel float ``(H, W)`` in 0..1 or ``None`` when fully opaque, and the
        name for messages.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = name or str(path)
        return (*_grey_from_pil(open_image(path), label), label)
    if isinstance(source, Image.Image):
        label = name or "<image>"
        return (*_grey_from_pil(source, label), label)
    label = name or "<array>"
    return (*_grey_from_array(np.asarray(source), label), label)


def open_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open an image file with Pillow (first frame, EXIF rotation applied, fully loaded)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such image file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected an image file")
    try:
        with Image.open(path) as im:
            im.seek(0)
            im.load()
            im = ImageOps.exif_transpose(im) or im
            return im.copy()
    except UnidentifiedImageError as exc:
        raise DataError(
            f"{path}: not an image file (expected PNG, JPEG, BMP or GIF; Pillow cannot read it)"
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: damaged or unreadable image file: {exc}") from exc


def _grey_from_pil(im: Image.Image, label: str) -> tuple[np.ndarray, np.ndarray | None]:
    if im.width < 1 or im.height < 1:
        raise DataError(f"{label}: empty image ({im.width}x{im.height})")
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _grey_from_array(np.asarray(im), label)
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if has_alpha:
        return _grey_from_array(np.asarray(im.convert("RGBA")), label)
    return np.asarray(im.convert("L"), dtype=np.float32) / 255.0, None


def _grey_from_array(a: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray | None]:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise DataError(
            f"{label}: expected an image array (H, W), (H, W, 3) or (H, W, 4), "
            f"found shape {a.shape}"
        )
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise DataError(f"{label}: empty image array of shape {a.shape}")
    if a.dtype == np.bool_:
        v = a.astype(np.float32)
    elif a.dtype == np.uint8:
        v = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        v = a.astype(np.float32) / 65535.0
    elif np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating):
        v = a.astype(np.float32)
        if not np.isfinite(v).all():
            raise DataError(f"{label}: image array holds NaN or infinite values")
        top = float(v.max(initial=0.0))
        if float(v.min(initial=0.0)) < 0:
            raise DataError(f"{label}: negative pixel values (min {float(v.min()):g})")
        if top > 1.0:  # 0..255 or 0..65535 integers in a wider type
            v = v / (255.0 if top <= 255.0 else 65535.0)
    else:
        raise DataError(f"{label}: expected numeric pixel values, found dtype {a.dtype}")
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


def _flatten_alpha(grey: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Composite over a background opposite to the ink: transparent = background."""
    if alpha is None:
        return grey
    weight = float(alpha.sum())
    if weight <= 0:
        return np.zeros_like(grey)  # fully transparent: blank
    ink_level = float((grey * alpha).sum() / weight)
    paper = 1.0 if ink_level < 0.5 else 0.0
    return (alpha * grey + (1.0 - alpha) * paper).astype(np.float32)


def _reduce(grey: np.ndarray) -> np.ndarray:
    """Reduce a very large picture by an integer factor (area averaging)."""
    factor = math.ceil(max(grey.shape) / MAX_WORKING_SIDE)
    if factor <= 1:
        return grey
    h, w = (grey.shape[0] // factor) * factor, (grey.shape[1] // factor) * factor
    g = grey[:h, :w]
    return g.reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3), dtype=np.float32)


# -- background, polarity, noise -------------------------------------------------------------------
def _border_mask(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    b = max(1, round(0.02 * min(h, w)))
    mask = np.zeros(shape, bool)
    mask[:b], mask[-b:], mask[:, :b], mask[:, -b:] = True, True, True, True
    return mask


def _background(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """Fit a plane ``a + b*y + c*x`` to the border (robustly): returns ``(plane (H, W), noise)``.

    ``noise`` is the robust standard deviation of the border around the plane.
    """
    h, w = grey.shape
    mask = _border_mask(grey.shape)
    ys, xs = np.nonzero(mask)
    v = grey[mask].astype(np.float64)
    yn, xn = ys / max(h - 1, 1) - 0.5, xs / max(w - 1, 1) - 0.5
    design = np.column_stack([np.ones_like(yn), yn, xn])
    keep = np.ones(len(v), bool)
    coef = np.array([np.median(v), 0.0, 0.0])
    for _ in range(3):
        if keep.sum() < 3:
            break
        coef = np.linalg.lstsq(design[keep], v[keep], rcond=None)[0]
        r = v - design @ coef
        mad = 1.4826 * float(np.median(np.abs(r[keep] - np.median(r[keep]))))
        keep = np.abs(r) <= max(3.0 * mad, 0.02)
    r = v - design @ coef
    noise = 1.4826 * float(np.median(np.abs(r[keep] - np.median(r[keep])))) if keep.any() else 0.0
    yy = (np.arange(h) / max(h - 1, 1) - 0.5)[:, None]
    xx = (np.arange(w) / max(w - 1, 1) - 0.5)[None, :]
    plane = (coef[0] + coef[1] * yy + coef[2] * xx).astype(np.float32)
    return plane, noise


def _polarity(grey: np.ndarray, background: np.ndarray) -> str:
    """Dark ink on light paper or light ink on a dark background, decided by the background.

    A clearly light background (mean above 0.7) means dark ink and a clearly dark
    one (below 0.3) light ink; in between, the stronger of the two contrasts wins.
    """
    level = float(background.mean())
    if level >= 0.7:
        return "dark-on-light"
    if level <= 0.3:
        return "light-on-dark"
    smooth = ndimage.gaussian_filter(grey - background, 1.0)
    return "dark-on-light" if -float(smooth.min()) >= float(smooth.max()) else "light-on-dark"


def _clean_ink(
    signed: np.ndarray, noise: float, label: str
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Ink strength ``(H, W)`` in 0..1 with faint noise and specks removed, and its bounding box."""
    raw = np.clip(signed, 0.0, None)
    smooth = ndimage.gaussian_filter(raw, 1.0)
    peak = float(smooth.max())
    # noise of the smoothed image: a Gaussian of sigma 1 divides white noise by ~2 sqrt(pi)
    noise_smooth = noise / (2.0 * math.sqrt(math.pi))
    if peak < max(MIN_CONTRAST, 6.0 * noise_smooth):
        raise NoInkError(
            f"{label}: no ink found (the strongest mark differs from the background by "
            f"{peak:.3f} of full contrast; at least {max(MIN_CONTRAST, 6 * noise_smooth):.3f} "
            "is needed) - is the image blank?"
        )
    threshold = max(0.2 * peak, 4.0 * noise_smooth)
    mask = smooth > threshold
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n > 1:
        mask = _drop_specks(labels, n, smooth)
    core = smooth > 0.5 * peak
    level = float(np.median(raw[core & mask])) if (core & mask).any() else peak
    level = max(level, peak)  # the solid ink level: not below the smoothed peak
    floor = min(2.0 * noise, 0.25 * level)
    ink = np.clip((raw - floor) / max(level - floor, 1e-6), 0.0, 1.0) * mask
    strong = ink >= 0.04
    if not strong.any():
        raise NoInkError(f"{label}: no ink found (only faint marks after removing noise)")
    rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    return ink.astype(np.float32), box


def _drop_specks(labels: np.ndarray, n: int, smooth: np.ndarray) -> np.ndarray:
    """Keep the ink components that belong to the digit; returns the mask of kept pixels.

    A component stays when it holds at least 10% of the ink of the largest one,
    or at least 2% of all the ink and lies near the largest one (within a quarter
    of its size): a detached bar of a 5 stays, dust in a corner goes.
    """
    ids = np.arange(1, n + 1)
    mass = np.asarray(ndimage.sum(smooth, labels, index=ids))
    boxes = ndimage.find_objects(labels)
    big = int(np.argmax(mass))
    by, bx = boxes[big]
    reach = 0.25 * max(by.stop - by.start, bx.stop - bx.start)
    keep = []
    for i, (sy, sx) in enumerate(boxes):
        gap_y = max(by.start - sy.stop, sy.start - by.stop, 0)
        gap_x = max(bx.start - sx.stop, sx.start - bx.stop, 0)
        near = max(gap_y, gap_x) <= reach
        if mass[i] >= 0.1 * mass[big] or (near and mass[i] >= MIN_COMPONENT_SHARE * mass.sum()):
            keep.append(i + 1)
    return np.isin(labels, keep)


# -- placing -------------------------------------------------------------------------------------
def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width of ``ink (H, W)`` in pixels, as ``2 * area / perimeter``.

    The area is the sum of the ink and the perimeter the sum of its gradient
    magnitude (exact for anti-aliased shapes by the coarea formula); for long
    strokes of width ``w`` the ratio is ``w``.
    """
    ink = np.pad(np.asarray(ink, dtype=np.float64), 1)  # ink ends at the edge of the crop
    gy, gx = np.gradient(ink)
    perimeter = float(np.hypot(gy, gx).sum())
    return 2.0 * float(ink.sum()) / perimeter if perimeter > 0 else 0.0


def _thicken(crop: np.ndarray, scale: float) -> tuple[np.ndarray, float]:
    """Widen strokes that would be thinner than :data:`MIN_STROKE` output pixels.

    The crop is resampled to 4x the output scale, where the stroke width is
    measured (:func:`stroke_width`) and, if too thin, grown by a grey dilation
    with a disk. Returns the new crop and its scale (output px per crop px);
    strokes wide enough leave the crop as it was.
    """
    h, w = crop.shape
    fine = FINE * scale  # pixels of the fine picture per crop pixel, the same both ways
    size = (math.ceil(w * fine), math.ceil(h * fine))
    margin = math.ceil(1.0 / fine) + 1
    padded = Image.fromarray(np.pad(crop, ((0, margin), (0, margin))))
    box = (0.0, 0.0, size[0] / fine, size[1] / fine)
    small = np.asarray(padded.resize(size, RESAMPLE, box=box), dtype=np.float32)
    small = small / max(float(small.max()), 1e-6)
    width = stroke_width(small)
    target = MIN_STROKE * FINE
    if width >= target:
        return crop, scale
    radius = (target - width) / 2.0
    r = int(math.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = yy * yy + xx * xx <= radius * radius + 0.25
    wide = ndimage.grey_dilation(np.pad(small, r + 1), footprint=disk)
    return wide, 1.0 / FINE


def _place(
    ink: np.ndarray, box: tuple[int, int, int, int], thicken: bool = True
) -> tuple[np.ndarray, float]:
    """Scale the boxed ink so its longer side is 20 px, centre of mass at (14, 14), in 28x28.

    With ``thicken``, strokes that would come out thinner than :data:`MIN_STROKE`
    output pixels are widened first (a grey dilation at 4x the output scale).
    """
    top, left, bottom, right = box
    crop = np.ascontiguousarray(ink[top:bottom, left:right], dtype=np.float32)
    scale = result_scale = BOX / max(crop.shape)
    if thicken:
        crop, scale = _thicken(crop, scale)
    h, w = crop.shape
    cy, cx = (float(c) + 0.5 for c in ndimage.center_of_mass(crop))  # pixel i covers [i, i+1]
    target = CENTRE + 0.5  # the centre of output pixel 14
    x0, x1 = cx - target / scale, cx + (SIZE - target) / scale
    y0, y1 = cy - target / scale, cy + (SIZE - target) / scale
    pad = int(math.ceil(max(-x0, -y0, x1 - w, y1 - h, 0.0))) + 2
    padded = Image.fromarray(np.pad(crop, pad))
    out = padded.resize((SIZE, SIZE), RESAMPLE, box=(x0 + pad, y0 + pad, x1 + pad, y1 + pad))
    arr = np.clip(np.asarray(out, dtype=np.float64), 0.0, None)
    top_value = float(arr.max())
    if top_value <= 0:
        raise NoInkError("no ink found after scaling")
    arr = np.clip(arr / top_value, 0.0, 1.0)
    return np.round(arr * 255.0).astype(np.uint8), result_scale
