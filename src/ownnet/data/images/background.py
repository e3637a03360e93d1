"""The paper and the light: where the background is, which way the ink goes, how strong it is.

A photo's paper is rarely one grey: the light falls off across the page, a hand
or phone casts a soft shadow, a pencil is barely darker than the paper. Ink is
therefore measured against the paper *around it*:

1. :func:`border_plane` fits a plane (a level plus a lighting gradient) to the
   image's border, robustly; its level decides the :func:`polarity` (dark ink on
   light paper, or light ink on a dark board or screen);
2. :func:`local_background` estimates the paper's brightness everywhere: the
   brightest part of each block of the picture (the paper between the strokes),
   a smooth surface fitted to those, and the blocks that are much darker than
   the surface (covered by ink) replaced by it;
3. :func:`ink_contrast` gives each pixel's ink strength: how much darker (or
   lighter) than the paper there it is, as a fraction of the paper's brightness,
   so a stroke in the shadow counts as much as one in the light.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ownnet.data.images.shading import unshade

#: Blocks of the local background: about this many along the picture's longer side.
BLOCKS = 14
#: Percentile of each block taken as its paper brightness.
PAPER_PERCENTILE = 90
#: Statistics over the whole picture use at most this many pixels (a regular sample).
SAMPLE = 60_000
#: Shadows up to this fraction of the ink's contrast are followed; darker blocks are ink.
SHADOW = 0.4
#: The darker and the lighter tail of the picture are a tie within this share.
TIE = 0.15
#: A block level strays from the paper's smooth surface (:func:`roughness`) when it is
#: further from it than this share of the ink's contrast (the larger tail).
STRAY = 0.5


@dataclass(frozen=True)
class Contrast:
    """Ink strength of a picture (:func:`ink_contrast`).

    Attributes:
        strength: float32 ``(H, W)``: 0 on the paper, positive on ink (the fraction of
            the paper's brightness the ink takes away; 1 = black ink on any paper).
        polarity: ``"dark-on-light"`` or ``"light-on-dark"``.
        noise: robust standard deviation of ``strength`` on the paper.
        background: float32 ``(H, W)``: the paper's grey level estimated at each pixel.
    """

    strength: np.ndarray
    polarity: str
    noise: float
    background: np.ndarray


def ink_contrast(grey: np.ndarray, *, local: bool = True) -> Contrast:
    """Ink strength of ``grey (H, W)`` (0..1) against the paper around each pixel.

    Args:
        grey: the picture.
        local: estimate the paper's brightness locally (:func:`local_background`),
            following uneven light; ``False`` uses only the plane fitted to the border.
    """
    plane, _ = border_plane(grey)
    pol = polarity(grey, plane)
    paper = grey if pol == "dark-on-light" else 1.0 - grey
    level = plane if pol == "dark-on-light" else 1.0 - plane
    background = local_background(paper, level) if local else level
    background = np.maximum(_level_with(paper, background), 0.02).astype(np.float32)
    strength = ((background - paper) / background).astype(np.float32)
    noise = _paper_noise(strength)
    if local:  # a shaded field of a form is paper of another shade
        plain = np.maximum(_level_with(paper, level), 0.02)
        strength = unshade(strength, ((plain - paper) / plain).astype(np.float32), noise)
    grey_background = background if pol == "dark-on-light" else 1.0 - background
    return Contrast(strength, pol, noise, grey_background)


def _border_mask(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    b = max(1, round(0.02 * min(h, w)))
    mask = np.zeros(shape, bool)
    mask[:b], mask[-b:], mask[:, :b], mask[:, -b:] = True, True, True, True
    return mask


def border_plane(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """Fit a plane ``a + b*y + c*x`` to the border (robustly): ``(plane (H, W), noise)``.

    ``noise`` is the robust standard deviation of the border around the plane.
    """
    h, w = grey.shape
    mask = _border_mask(grey.shape)
    ys, xs = np.nonzero(mask)
    if len(ys) > SAMPLE:  # a regular sample of a large picture's border
        ys, xs = ys[:: len(ys) // SAMPLE], xs[:: len(xs) // SAMPLE]
        mask = np.zeros_like(mask)
        mask[ys, xs] = True
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


def polarity(grey: np.ndarray, background: np.ndarray) -> str:
    """Dark ink on light paper or light ink on a dark background.

    * When most of the picture is unlike its border (a page on a table, the border of
      which is the table), the paper is the picture's median grey, and the ink the
      tail of the greys further from it (0.5% each side);
    * else a clearly light border (mean above 0.75) means dark ink and a clearly dark
      one (below 0.25) light ink;
    * in between (a grey photo, a vignette), the ink is what stands out most from its
      surroundings: the darker or the lighter tail of the picture less its local mean;
    * when the two tails are within :data:`TIE` of each other (a bold digit: the paper
      beside its strokes is as far above the local mean as the ink is below it), the
      paper is the side that is smooth: the brightest and the darkest part of each block
      (:func:`block_levels`) each get a smooth surface, and fewer of the paper's blocks
      stray from theirs (:func:`roughness`): the ink comes and goes from block to block.
    """
    level = float(background.mean())
    sample = grey.ravel()[:: max(1, grey.size // SAMPLE)]
    low, middle, high = np.percentile(sample, [0.5, 50, 99.5])
    if abs(middle - level) > 0.25:
        return "dark-on-light" if middle - low >= high - middle else "light-on-dark"
    if level >= 0.75:
        return "dark-on-light"
    if level <= 0.25:
        return "light-on-dark"
    size = max(5, round(min(grey.shape) / 6))
    detail = (grey - ndimage.uniform_filter(grey, size, mode="nearest")).ravel()
    detail = detail[:: max(1, detail.size // SAMPLE)]
    dark, light = -float(np.percentile(detail, 0.5)), float(np.percentile(detail, 99.5))
    if abs(dark - light) < TIE * max(dark, light):
        block = block_size(grey.shape)
        if min(grey.shape) >= 3 * block:
            stray = STRAY * max(dark, light)
            bright = roughness(block_levels(grey, block), stray)
            shade = roughness(block_levels(grey, block, 100 - PAPER_PERCENTILE), stray)
            return "dark-on-light" if bright <= shade else "light-on-dark"
    return "dark-on-light" if dark >= light else "light-on-dark"


def roughness(levels: np.ndarray, stray: float) -> float:
    """How much of a map of block levels ``(by, bx)`` strays from a smooth surface: the
    share of blocks more than ``stray`` away from a quadratic surface fitted to the
    blocks near the median level, then refitted to those it fits. Paper under uneven
    light is smooth; the blocks a digit's strokes cover stray."""
    by, bx = levels.shape
    design = _quadratic_design(by, bx)
    v = levels.ravel().astype(np.float64)
    keep = np.abs(v - np.median(v)) <= stray
    for _ in range(3):
        if keep.sum() < design.shape[1] + 2:
            break
        coef = np.linalg.lstsq(design[keep], v[keep], rcond=None)[0]
        keep = np.abs(v - design @ coef) <= stray
    return float(1.0 - keep.mean())


def block_size(shape: tuple[int, ...]) -> int:
    """The side of the square blocks of a picture of ``shape (H, W)``: about :data:`BLOCKS`
    along its longer side, at least 4 pixels."""
    return max(4, math.ceil(max(shape) / BLOCKS))


def block_levels(paper: np.ndarray, block: int, percentile: float = PAPER_PERCENTILE) -> np.ndarray:
    """The ``percentile`` of each ``block x block`` block of ``paper (H, W)``:
    ``(ceil(H / block), ceil(W / block))`` (the last blocks repeat the edge)."""
    h, w = paper.shape
    p = np.pad(paper, ((0, -h % block), (0, -w % block)), mode="edge")
    by, bx = p.shape[0] // block, p.shape[1] // block
    step = max(1, block // 24)  # every pixel of small blocks, a regular sample of large ones
    blocks = p.reshape(by, block, bx, block)[:, ::step, :, ::step]
    blocks = blocks.transpose(0, 2, 1, 3).reshape(by, bx, -1)
    return np.percentile(blocks, percentile, axis=2).astype(np.float32)


def _quadratic_design(by: int, bx: int) -> np.ndarray:
    yy, xx = np.mgrid[0:by, 0:bx]
    y = (yy.ravel() + 0.5) / by - 0.5
    x = (xx.ravel() + 0.5) / bx - 0.5
    return np.column_stack([np.ones_like(y), y, x, y * y, x * y, x * x])


def local_background(paper: np.ndarray, plane: np.ndarray) -> np.ndarray:
    """The paper's brightness at every pixel of ``paper (H, W)`` (paper bright, ink dark).

    Each block's :data:`PAPER_PERCENTILE` is its paper level unless ink covers it. A
    quadratic surface is fitted to the block levels, robustly (blocks much darker
    than it do not count); a block darker than the surface by more than
    :data:`SHADOW` of the ink's contrast is taken to be ink and given the surface's
    value, a lighter one keeps its own (a shadow, a bright patch). The block map is
    smoothed and spread over the pixels bilinearly. Pictures too small for
    blocks get the border ``plane``.
    """
    h, w = paper.shape
    block = block_size(paper.shape)
    if min(h, w) < 2 * block:
        return plane
    levels = block_levels(paper, block)
    by, bx = levels.shape
    design = _quadratic_design(by, bx)
    v = levels.ravel().astype(np.float64)
    keep = np.ones(len(v), bool)
    for _ in range(4):
        if keep.sum() < design.shape[1] + 2:
            return plane
        coef = np.linalg.lstsq(design[keep], v[keep], rcond=None)[0]
        r = v - design @ coef
        mad = 1.4826 * float(np.median(np.abs(r[keep])))
        keep = r >= -max(3.0 * mad, 0.02)  # only darker blocks are suspect (ink)
    surface = (design @ coef).reshape(by, bx)
    ink_level = float(np.percentile(paper, 0.5))
    contrast = max(float(np.median(surface)) - ink_level, 0.05)
    lower, upper = surface - SHADOW * contrast, surface + SHADOW * contrast
    levels = np.where(levels < lower, surface, np.minimum(levels, upper))
    if min(by, bx) >= 3:
        levels = ndimage.median_filter(levels, size=3, mode="nearest")
    # the surface carries the trend out to the edges; the blocks add what it misses
    residual = _spread((levels - surface).astype(np.float32), block, h, w)
    return (_surface_pixels(coef, block, by, bx, h, w) + residual).astype(np.float32)


def _surface_pixels(coef: np.ndarray, block: int, by: int, bx: int, h: int, w: int) -> np.ndarray:
    """The quadratic surface fitted on the block grid, evaluated at every pixel ``(h, w)``."""
    y = ((np.arange(h) + 0.5) / block / by - 0.5)[:, None]
    x = ((np.arange(w) + 0.5) / block / bx - 0.5)[None, :]
    a, b, c, d, e, f = coef
    return (a + b * y + c * x + d * y * y + e * x * y + f * x * x).astype(np.float32)


def _spread(levels: np.ndarray, block: int, h: int, w: int) -> np.ndarray:
    """Block values ``(by, bx)`` at the block centres → ``(h, w)``, bilinearly."""
    by, bx = levels.shape
    ys = np.clip((np.arange(h) + 0.5) / block - 0.5, 0, by - 1)
    xs = np.clip((np.arange(w) + 0.5) / block - 0.5, 0, bx - 1)
    y0 = np.minimum(np.floor(ys).astype(int), max(by - 2, 0))
    x0 = np.minimum(np.floor(xs).astype(int), max(bx - 2, 0))
    y1, x1 = np.minimum(y0 + 1, by - 1), np.minimum(x0 + 1, bx - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = levels[y0][:, x0] * (1 - fx) + levels[y0][:, x1] * fx
    bottom = levels[y1][:, x0] * (1 - fx) + levels[y1][:, x1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def _level_with(paper: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``background`` moved so that the paper's pixels lie on it on the whole: a high
    percentile of noisy paper is brighter than the paper's mean level."""
    d = (paper - background).ravel()
    if d.size > SAMPLE:
        d = d[:: d.size // SAMPLE]
    paper_part = d[d >= np.percentile(d, 25)]  # the ink is the darkest part
    return background + float(np.median(paper_part))


def _paper_noise(strength: np.ndarray) -> float:
    """Robust standard deviation of ``strength`` over the paper (most pixels)."""
    r = strength.ravel()
    if r.size > SAMPLE:
        r = r[:: r.size // SAMPLE]
    m = float(np.median(r))
    mad = float(np.median(np.abs(r - m)))
    near = r[np.abs(r - m) <= 5.0 * 1.4826 * mad + 1e-6]
    return 1.4826 * float(np.median(np.abs(near - np.median(near)))) if near.size else 0.0
