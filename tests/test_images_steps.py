"""Each step of the preparation (ownnet.data.images), on pictures the tests draw."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from ownnet.data.images import Options, background, find_scene, prepare, prepare_steps
from ownnet.data.images.background import border_plane, polarity
from ownnet.data.images.lines import find_lines
from ownnet.data.images.page import MAX_RAGGED, find_page, raggedness, rectangularity
from ownnet.data.images.slant import TYPICAL, deslant, slant
from ownnet.data.images.stroke import MAX_STROKE, MIN_STROKE, stroke_width

SEVEN = [[(0.1, 0.05), (0.9, 0.05), (0.35, 0.95)]]
FOUR = [[(0.6, 0.0), (0.1, 0.65), (0.95, 0.65)], [(0.75, 0.3), (0.75, 1.0)]]
TWO = [[(0.1, 0.25), (0.3, 0.05), (0.7, 0.05), (0.85, 0.3), (0.1, 0.95), (0.95, 0.95)]]


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def ink(strokes, size=(200, 240), box=(60, 40, 120, 160), width=10.0, lean=0.0) -> np.ndarray:
    """Pen strokes (unit box, y down) drawn in ``box`` (left, top, width, height) of a
    ``size`` (w, h) picture: alpha float (h, w), supersampled 4x; ``lean`` moves the top
    right by that share of the height."""
    k = 4
    im = Image.new("L", (size[0] * k, size[1] * k), 0)
    draw = ImageDraw.Draw(im)
    left, top, w, h = box
    for stroke in strokes:
        pts = [((left + x * w + lean * (1 - y) * h) * k, (top + y * h) * k) for x, y in stroke]
        draw.line(pts, fill=255, width=round(width * k), joint="curve")
        r = width * k / 2
        for px, py in (pts[0], pts[-1]):
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    small = im.resize(size, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float64) / 255.0


def on_paper(alpha: np.ndarray, paper: float | np.ndarray = 0.92, pen: float = 0.1) -> np.ndarray:
    grey = paper * (1 - alpha) + pen * alpha
    return (np.clip(grey, 0, 1) * 255).round().astype(np.uint8)


# -- the page, not the table ---------------------------------------------------------------------


def page_on_table(surface: float, angle: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """A page with a 7 on it, turned a little, on a surface of grey ``surface``; and the
    page alone."""
    page = on_paper(ink(SEVEN, size=(200, 260), box=(50, 60, 100, 140)), 0.9)
    table = Image.new("L", (420, 400), round(surface * 255))
    turned = Image.fromarray(page).convert("RGBA").rotate(angle, expand=True)
    table.paste(turned, (100, 60), turned)
    return np.asarray(table), page


@pytest.mark.parametrize("surface", [0.25, 0.55])
def test_a_page_on_a_darker_table_is_cut_out(surface: float) -> None:
    photo, page = page_on_table(surface)
    found = find_page(photo.astype(np.float32) / 255)
    assert found is not None
    top, left, bottom, right = found.box
    assert 50 <= top <= 80 and 90 <= left <= 120 and 320 <= bottom <= 350 and 290 <= right <= 330
    assert rectangularity(found.mask) > 0.9
    alone = prepare(page)
    assert corr(prepare(photo), alone) > 0.85  # the page is turned by 4 degrees, and the 7
    # with it: a slant among MNIST's typical ones is kept
    if surface < 0.5:  # without the step the page itself is taken for ink
        assert corr(prepare(photo, page=False), alone) < 0.5


def test_a_page_on_a_lighter_desk_is_cut_out() -> None:
    desk = np.full((400, 420), 250, np.uint8)
    board = on_paper(ink(SEVEN, size=(200, 260), box=(50, 60, 100, 140)), 0.15, 0.95)
    desk[70:330, 110:310] = board  # a dark board with chalk on a white wall
    found = find_page(desk.astype(np.float32) / 255)
    assert found is not None
    assert corr(prepare(desk), prepare(board)) > 0.95


def test_no_page_in_a_photo_of_paper_with_a_shadow_or_a_bold_digit() -> None:
    alpha = ink(SEVEN)
    yy, xx = np.mgrid[0:240, 0:200]
    shadow = 0.92 - 0.45 / (1 + np.exp(-(xx - 0.6 * yy - 20) / 6.0))  # a sharp-edged shadow
    assert find_page(on_paper(alpha, shadow).astype(np.float32) / 255) is None
    bold = ink([[(0.5, 0.0), (0.9, 0.3), (0.9, 0.7), (0.5, 1.0), (0.1, 0.7), (0.1, 0.3),
                 (0.5, 0.0)]], size=(120, 140), box=(15, 12, 90, 116), width=30)  # fmt: skip
    assert find_page(on_paper(bold).astype(np.float32) / 255) is None


def page_box(
    page: np.ndarray, table: tuple[int, int], grey: int, at: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The box :func:`find_page` finds for ``page`` laid at ``at`` (x, y) on a table of
    size ``table`` (w, h) and grey level ``grey`` (it must find one)."""
    photo = Image.new("L", table, grey)
    photo.paste(Image.fromarray(page), at)
    found = find_page(np.asarray(photo).astype(np.float32) / 255)
    assert found is not None
    return found.box


def test_a_strip_of_paper_with_a_number_on_a_dark_table_is_cut_out() -> None:
    """A long strip keeps its height on the small copy the page is looked for on."""
    strip = on_paper(ink(SEVEN + [[(x + 1.3, y) for x, y in s] for s in TWO], size=(760, 150),
                         box=(60, 30, 150, 90)), 0.9)  # fmt: skip
    top, left, bottom, right = page_box(strip, table=(900, 230), grey=60, at=(70, 40))
    assert 40 <= top <= 60 and 70 <= left <= 90 and 170 <= bottom <= 190 and 810 <= right <= 830


def test_a_page_with_a_big_bold_digit_on_a_dark_table_is_cut_out() -> None:
    """Strokes wider than the page's margins cut the page apart; found with them wiped out."""
    eight = [[(0.5, 0.0), (0.9, 0.25), (0.5, 0.5), (0.1, 0.75), (0.5, 1.0), (0.9, 0.75),
              (0.5, 0.5), (0.1, 0.25), (0.5, 0.0)]]  # fmt: skip
    page = on_paper(ink(eight, size=(200, 240), box=(45, 35, 110, 170), width=30), 0.9)
    top, left, bottom, right = page_box(page, table=(340, 380), grey=70, at=(70, 70))
    assert 70 <= top <= 90 and 70 <= left <= 90 and 290 <= bottom <= 310 and 250 <= right <= 270


def test_no_page_where_a_shadow_runs_along_a_digit() -> None:
    """The darker half of a shadowed sheet, with the digit that reaches into the light
    half, is not a page: its outline runs along the writing."""
    yy, _ = np.mgrid[0:240, 0:200]
    shadow = 0.92 - 0.4 / (1 + np.exp(-(yy - 100) / 1.5))  # lower half in shadow
    photo = on_paper(ink(FOUR, box=(60, 50, 80, 120)), shadow)
    assert find_page(photo.astype(np.float32) / 255) is None


def test_no_page_where_a_patch_of_light_ends_at_a_digit() -> None:
    """A strip of paper lit brightly up to its last digit: the bright part is not a page
    (the digit just outside its outline is writing, not a table's grain)."""
    alpha = sum(ink(d, size=(600, 200), box=(x, 50, 80, 100))
                for d, x in ((SEVEN, 40), (TWO, 200), (FOUR, 400)))  # fmt: skip
    yy, xx = np.mgrid[0:200, 0:600]
    light = 0.55 + 0.4 / (1 + np.exp(-(420 - xx + 8 * np.sin(yy / 9.0)) / 1.5))
    photo = on_paper(np.clip(alpha, 0, 1), light)
    assert find_page(photo.astype(np.float32) / 255) is None


def page_on_wood(noise: float) -> np.ndarray:
    """RGB uint8: a white page, lit unevenly, with a thin blue 2, on a brown table with a
    smooth grain, running off the bottom of a photo with sensor noise ``noise``."""
    rng = np.random.default_rng(0)
    grain = ndimage.gaussian_filter(rng.standard_normal((300, 260)), 6)
    photo = np.array([0.28, 0.18, 0.1]) + 0.06 * grain[:, :, None] / grain.std()
    alpha = ink(TWO, size=(160, 240), box=(45, 60, 70, 110), width=3.0)
    light = np.broadcast_to(np.linspace(0.95, 0.75, 160), (240, 160))
    blue = (0.2, 0.3, 0.75)
    photo[60:, 50:210] = np.stack([light * (1 - alpha) + c * alpha for c in blue], axis=2)
    photo = photo + rng.normal(0, noise, photo.shape)
    return (np.clip(photo, 0, 1) * 255).round().astype(np.uint8)


def test_a_page_on_a_brown_table_is_told_by_its_colour() -> None:
    """On a dark table, a photo's noise is as strong as thin writing, and the wood's grain
    is too smooth to tell it from paper: in grey, nothing says the table is not a shadow on
    the same paper. Its colour does."""
    photo = page_on_wood(noise=0.03)
    found = find_scene(photo).page
    assert found is not None
    top, left, bottom, right = found.box
    assert 60 <= top <= 75 and 50 <= left <= 65 and bottom == 300 and 195 <= right <= 210
    grey = np.asarray(Image.fromarray(photo).convert("L"), np.float32) / 255
    alone = find_page(grey)  # in grey it is missed, or only its brighter half is found
    assert alone is None or alone.box[3] < 180


def test_colour_does_not_make_a_shadow_a_page() -> None:
    """A shadow keeps the paper's colour: a warm-lit photo of shadowed paper has no page."""
    yy, _ = np.mgrid[0:240, 0:200]
    shadow = 0.92 - 0.4 / (1 + np.exp(-(yy - 100) / 1.5))
    grey = on_paper(ink(FOUR, box=(60, 50, 80, 120)), shadow).astype(np.float32) / 255
    warm = np.clip(grey[:, :, None] * np.array([1.0, 0.93, 0.8]), 0, 1)
    assert find_scene(warm).page is None


def test_raggedness_tells_a_sheet_from_a_patch_of_light() -> None:
    sheet = np.zeros((60, 90), bool)
    sheet[8:52, 10:80] = True
    edge = np.where((np.arange(60) // 4) % 2 == 0, 40, 48)  # an edge in bays and capes
    patch = np.arange(90)[None, :] < edge[:, None]
    assert raggedness(sheet) < 0.35 and raggedness(patch) > MAX_RAGGED


# -- which way the ink goes ----------------------------------------------------------------------


def vignetted(digit, width: float, paper: float, pen: float) -> np.ndarray:
    """A bold ``digit`` filling a photo whose light falls off to the corners, float 0..1."""
    yy, xx = np.mgrid[0:240, 0:150]
    light = paper - 0.6 * ((yy / 240 - 0.5) ** 2 + (xx / 150 - 0.5) ** 2)
    alpha = ink(digit, size=(150, 240), box=(15, 10, 120, 220), width=width)
    return on_paper(alpha, light, pen=pen).astype(np.float32) / 255


@pytest.mark.parametrize("digit", [SEVEN, FOUR, TWO])
def test_a_bold_digit_filling_a_grey_photo_is_dark_ink(digit, monkeypatch) -> None:
    """Beside a bold stroke the paper is as far above the local mean as the ink is below
    it: the tie goes to the side whose block levels are smooth (the paper)."""
    photo = vignetted(digit, width=22, paper=0.82, pen=0.12)
    plane, _ = border_plane(photo)
    assert 0.25 < float(plane.mean()) < 0.75  # the border alone cannot tell
    assert polarity(photo, plane) == "dark-on-light"
    board = vignetted(digit, width=22, paper=0.55, pen=0.9)  # chalk on a grey board
    assert polarity(board, border_plane(board)[0]) == "light-on-dark"
    monkeypatch.setattr(background, "TIE", 0.0)  # the tails alone get the photo wrong
    assert polarity(photo, plane) == "light-on-dark"


def test_the_tie_goes_both_ways(monkeypatch) -> None:
    """A white bold 2 on a small grey picture is light ink; a soft pencil 4 on unevenly
    lit paper is dark ink. The tails alone get both wrong."""
    chalk = on_paper(ink(TWO, size=(40, 40), box=(8, 5, 24, 30), width=9), 0.3, pen=1.0)
    yy, xx = np.mgrid[0:160, 0:130]
    light = 0.75 - 0.5 * ((yy / 160 - 0.5) ** 2 + (xx / 130 - 0.3) ** 2)
    pencil = on_paper(ink(FOUR, size=(130, 160), box=(30, 30, 70, 100), width=14), light, 0.55)
    cases = [(chalk, "light-on-dark"), (pencil, "dark-on-light")]
    for picture, expected in cases:
        grey = picture.astype(np.float32) / 255
        assert polarity(grey, border_plane(grey)[0]) == expected
    monkeypatch.setattr(background, "TIE", 0.0)
    for picture, expected in cases:
        grey = picture.astype(np.float32) / 255
        assert polarity(grey, border_plane(grey)[0]) != expected


# -- uneven light and faint pencil ---------------------------------------------------------------


def test_a_digit_in_a_shaded_field_is_read_against_the_field() -> None:
    """A 7 and a 4 on a form, the 4 in a grey box: the box is paper of another shade."""
    size = (360, 160)
    alpha = ink(SEVEN, size=size, box=(60, 45, 45, 70), width=6)
    alpha = np.clip(alpha + ink(FOUR, size=size, box=(230, 45, 45, 70), width=6), 0, 1)
    clean = on_paper(alpha)
    form = clean.copy()
    field = np.zeros(clean.shape, bool)
    field[30:130, 210:295] = True
    form[field] = on_paper(alpha, 0.7)[field]  # the field's paper is darker
    scene = find_scene(form, options=Options(page=False))
    assert float(np.median(scene.ink[field])) == 0.0  # the field's paper is not ink
    assert corr(scene.ink, find_scene(clean).ink) > 0.95
    # a grey bar with nothing written in it stays ink
    bar = clean.copy()
    bar[30:130, 210:295] = round(0.6 * 255)
    assert float(np.median(find_scene(bar, options=Options(page=False)).ink[field])) > 0.3


def test_a_shadow_across_the_digit_is_not_ink() -> None:
    alpha = ink(FOUR)
    clean = prepare(on_paper(alpha))
    yy, xx = np.mgrid[0:240, 0:200]
    light = 1 - 0.6 / (1 + np.exp(-(xx - 100) / 12.0))  # the right half in shadow
    light = light * (1 - 0.3 * ((yy / 240 - 0.5) ** 2 + (xx / 200 - 0.5) ** 2))  # vignette
    photo = on_paper(alpha, 0.92 * light, pen=0.45 * light)  # a soft pencil
    assert corr(prepare(photo), clean) > 0.93
    assert corr(prepare(photo), clean) > corr(prepare(photo, light=False), clean) + 0.05


def test_faint_pencil_is_read_like_ink() -> None:
    alpha = ink(TWO, width=5)
    rng = np.random.default_rng(0)
    clean = prepare(on_paper(alpha))
    pencil = 0.85 * (1 - alpha) + 0.7 * alpha + rng.normal(0, 0.012, alpha.shape)
    out = prepare((np.clip(pencil, 0, 1) * 255).astype(np.uint8))
    assert corr(out, clean) > 0.9


# -- ruled and grid paper ------------------------------------------------------------------------


def ruled(alpha: np.ndarray, spacing: int, grid: bool = False, tilt: float = 1.5) -> np.ndarray:
    h, w = alpha.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    t = math.tan(math.radians(tilt))
    lines = np.abs(((yy + t * xx) % spacing) - spacing / 2) > spacing / 2 - 1.5
    if grid:
        lines |= np.abs(((xx - t * yy) % spacing) - spacing / 2) > spacing / 2 - 1.5
    paper = np.where(lines, 0.65, 0.93)
    return on_paper(alpha, paper)


@pytest.mark.parametrize("grid", [False, True])
def test_ruled_and_grid_lines_are_removed(grid: bool) -> None:
    alpha = ink(FOUR, size=(300, 240), box=(100, 50, 110, 150), width=9)
    clean = prepare(on_paper(alpha))
    photo = ruled(alpha, 45, grid)
    steps = prepare_steps(photo)
    lines = steps.scene.lines
    horizontal = sum(ln.horizontal for ln in lines)
    assert horizontal >= 4 and (len(lines) - horizontal >= 5 if grid else horizontal == len(lines))
    assert corr(steps.image, clean) > 0.9
    assert corr(prepare(photo, lines=False), clean) < corr(steps.image, clean) - 0.1


def test_a_seven_cut_tight_keeps_its_bar() -> None:
    # the bar runs across the whole picture, as bold as the rest: writing, not a ruled line
    alpha = ink(SEVEN, size=(100, 140), box=(-6, 4, 112, 130), width=12)
    scene = find_scene(on_paper(alpha))
    assert scene.lines == [] and not find_lines(scene.contrast.strength, scene.contrast.noise)


# -- slant and stroke width ----------------------------------------------------------------------


def test_deslant_brings_the_slant_to_mnists_and_keeps_rows() -> None:
    alpha = ink(FOUR, size=(300, 240), box=(40, 40, 100, 160), lean=0.7)
    assert slant(alpha) < -0.3
    upright, before = deslant(alpha.astype(np.float32))
    assert before == pytest.approx(slant(alpha))
    assert slant(upright) == pytest.approx(TYPICAL[0], abs=0.02)  # the nearer end
    assert upright.shape[0] == alpha.shape[0]
    assert upright.sum() == pytest.approx(alpha.sum(), rel=0.01)
    leaning = prepare_steps(on_paper(alpha))
    assert leaning.placement.slant == pytest.approx(slant(alpha), abs=0.05)
    kept = prepare(on_paper(alpha), deslant=False)
    assert slant(leaning.image.astype(float)) > slant(kept.astype(float)) + 0.2


@pytest.mark.parametrize(
    "lean, typical", [(-0.5, False), (0.0, False), (0.2, True), (0.25, True), (0.4, False)]
)
def test_deslant_leaves_a_typical_slant_alone(lean: float, typical: bool) -> None:
    # this 4 stands at slant 0.14 (leaning left) when drawn with no lean
    alpha = ink(FOUR, size=(300, 240), box=(40, 40, 100, 160), lean=lean).astype(np.float32)
    out, before = deslant(alpha)
    low, high = TYPICAL
    assert (low < before < high) == typical
    if typical:
        assert out is alpha
    else:  # to the range's nearer end
        assert slant(out) == pytest.approx(high if before > high else low, abs=0.02)


@pytest.mark.parametrize("width", [8.0, 28.0, 60.0])
def test_strokes_end_in_mnists_range(width: float) -> None:
    alpha = ink(TWO, size=(260, 300), box=(40, 40, 170, 220), width=width)
    steps = prepare_steps(on_paper(alpha))
    before, after = steps.placement.stroke
    measured = stroke_width(steps.image / 255.0)
    assert MIN_STROKE - 0.35 <= measured <= MAX_STROKE + 0.35
    if width == 28.0:
        # already like MNIST's: left alone (the hairline pen adds a trace at stroke ends)
        assert after == pytest.approx(before, abs=0.02)
    else:
        assert (after > before) == (width < 28.0)
    if width == 60.0:  # a marker: thinned
        bold = prepare(on_paper(alpha), thin=False)
        assert stroke_width(bold / 255.0) > measured + 0.5
