"""The skeleton of a shape and the hairlines of a font (ownnet.data.images.skeleton, .stroke)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from ownnet.data.images import prepare, prepare_steps
from ownnet.data.images.place import FINE, crop_to_ink, to_fine
from ownnet.data.images.skeleton import skeleton
from ownnet.data.images.stroke import MIN_STROKE, output_width, widen_hairlines

EIGHT = np.ones((3, 3), bool)


def pieces(mask: np.ndarray) -> int:
    return int(ndimage.label(mask, structure=EIGHT)[1])


def holes(mask: np.ndarray) -> int:
    """Background regions (4-connected) that do not touch the border."""
    labels, n = ndimage.label(~np.pad(mask, 1))
    return n - 1


def blobs(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    seeds = rng.random((90, 70)) < 0.004
    return ndimage.binary_dilation(seeds, iterations=int(rng.integers(2, 7)))


@pytest.mark.parametrize("seed", range(12))
def test_skeleton_keeps_pieces_and_holes_and_is_one_pixel_wide(seed: int) -> None:
    mask = blobs(seed)
    lines = skeleton(mask)
    assert not (lines & ~mask).any()  # inside the shape
    assert pieces(lines) == pieces(mask)
    assert holes(lines) == holes(mask)
    # one pixel wide: thinning again removes nothing, and a 2x2 block of it is rare
    assert np.array_equal(skeleton(lines), lines)
    blocks = lines[:-1, :-1] & lines[1:, :-1] & lines[:-1, 1:] & lines[1:, 1:]
    assert blocks.sum() <= 2
    assert lines.sum() < 0.35 * mask.sum()


def test_the_skeleton_of_a_bar_runs_along_its_middle() -> None:
    bar = np.zeros((30, 60), bool)
    bar[10:19, 5:55] = True  # 9 rows: the middle is row 14
    lines = skeleton(bar)
    rows = np.flatnonzero(lines.any(axis=1))
    assert set(rows) <= {13, 14, 15}
    cols = np.flatnonzero(lines[14])
    assert cols.min() <= 12 and cols.max() >= 47  # nearly as long as the bar
    ring = np.hypot(*np.mgrid[-20:21, -20:21]) <= 15
    ring &= np.hypot(*np.mgrid[-20:21, -20:21]) >= 9
    circle = skeleton(ring)
    radius = np.hypot(*np.nonzero(circle) - np.array([[20], [20]]))
    assert holes(circle) == 1 and 10.5 <= radius.min() and radius.max() <= 13.5


def font_two(hairline: float, bold: float = 12.0) -> np.ndarray:
    """A 2 in a font's style: a bold curve and a base ``hairline`` px thick, alpha (h, w)."""
    k = 4
    im = Image.new("L", (160 * k, 200 * k), 0)
    draw = ImageDraw.Draw(im)
    curve = [(40, 70), (55, 40), (90, 35), (115, 60), (100, 100), (40, 160)]
    draw.line([(x * k, y * k) for x, y in curve], fill=255, width=round(bold * k), joint="curve")
    draw.line([(40 * k, 160 * k), (125 * k, 160 * k)], fill=255, width=round(hairline * k))
    return np.asarray(im.resize((160, 200), Image.Resampling.BOX), dtype=np.float64) / 255.0


def base_width(image: np.ndarray) -> float:
    """How thick the base of a prepared 2 (uint8 (28, 28)) is: its ink per column in pixels
    of full ink, where the base is all there is (right of the curve's end, below its
    bend)."""
    ink = image / 255.0
    bottom = ink[20:, 15:20]
    return float(bottom.sum() / bottom.shape[1])


def test_a_fonts_hairline_is_widened_to_mnists_thinnest_pen() -> None:
    paper = (255 * (0.92 - 0.82 * font_two(hairline=1.5))).astype(np.uint8)
    assert base_width(prepare(paper, hairlines=False)) < 0.6  # a faint hairline
    assert base_width(prepare(paper)) >= MIN_STROKE  # as wide as a pen, and solid


def test_only_the_hairline_changes() -> None:
    fine = to_fine(crop_to_ink(font_two(hairline=1.5, bold=16.0)))
    assert output_width(fine) > MIN_STROKE  # the curve is wide enough as it is
    out = widen_hairlines(fine)
    pad = (out.shape[0] - fine.shape[0]) // 2
    changed = np.abs(out - np.pad(fine, pad)) > 0.1 * fine.max()
    rows = np.nonzero(changed)[0] - pad
    base = fine.shape[0] - 2  # the base runs along the bottom of the ink
    in_base = (rows >= base - MIN_STROKE * FINE - 2) & (rows <= base + MIN_STROKE * FINE)
    assert in_base.mean() > 0.95  # elsewhere only a corner of a flat stroke end
    assert in_base.sum() > 2 * fine.shape[1]  # the base is widened along its length
    assert out.min() >= 0 and np.all(out[pad:-pad, pad:-pad] >= fine)  # ink is only added


def test_strokes_as_wide_as_the_pen_are_left_alone() -> None:
    fine = to_fine(crop_to_ink(font_two(hairline=16.0, bold=16.0)))  # one round pen
    assert output_width(fine) > MIN_STROKE + 0.5
    out = widen_hairlines(fine)
    pad = (out.shape[0] - fine.shape[0]) // 2
    changed = np.abs(out[pad:-pad, pad:-pad] - fine) > 0.1 * fine.max()
    assert pad > 0 and changed.sum() < 0.01 * (fine > 0.1).sum()  # a few corners of the
    # pen's flat ends
    assert np.all(out[:pad] == 0) and np.all(out[-pad:] == 0)


def test_hairlines_are_switched_off_like_the_other_steps() -> None:
    paper = (255 * (0.92 - 0.82 * font_two(hairline=1.5))).astype(np.uint8)
    on = prepare_steps(paper).placement.stroke
    off = prepare_steps(paper, hairlines=False).placement.stroke
    assert on[0] == off[0]  # measured the same before
    assert on[1] > off[1]  # the widened base makes the mean stroke wider


def test_a_speck_stays_a_speck_but_a_short_hairline_is_widened() -> None:
    fine = to_fine(crop_to_ink(font_two(hairline=16.0, bold=16.0)))
    fine = np.pad(fine, ((0, 0), (20, 0)))  # room on the left, away from the 2
    top = float(fine.max())
    fine[2:6, 2:6] = top  # a speck of noise in the top left corner, 4x4 px
    fine[40:41, 2:14] = top  # a hairline 12 px long: longer than the pen is wide
    out = widen_hairlines(fine)
    pad = (out.shape[0] - fine.shape[0]) // 2
    inner = out[pad:-pad, pad:-pad]
    near_speck = (slice(0, 12), slice(0, 14))
    assert np.array_equal(inner[near_speck], fine[near_speck])  # not drawn into a dot
    pen = MIN_STROKE * max(fine.shape) / 20  # the pen's width in fine px
    column = inner[30:52, 8] / top
    assert column.sum() >= pen - 0.5 > 1.0  # the hairline: as wide as the pen
