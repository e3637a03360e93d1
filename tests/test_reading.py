"""Finding the digits of a number (ownnet.data.images.digits) and reading them (ownnet.reading)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_images_steps import FOUR, SEVEN, ink, on_paper

from ownnet.data.images import find_scene, prepare
from ownnet.data.images.digits import find_blobs, split_blob, writing_slant
from ownnet.reading import read, survey

ONE = [[(0.5, 0.0), (0.5, 1.0)]]
FIVE = [[(0.25, 0.05), (0.2, 0.45), (0.55, 0.38), (0.85, 0.6), (0.7, 0.95), (0.15, 0.9)]]
FIVE_BAR = [[(0.28, 0.0), (0.9, 0.0)]]


def number(glyphs, gap: float = 30, lean: float = 0.0, height: int = 120, width: float = 9):
    """Glyphs side by side (each 70 px wide unless a 1), dark on light paper: uint8."""
    alpha = np.zeros((height + 80, 60 + 100 * len(glyphs) + int(lean * height)))
    x = 30
    for strokes in glyphs:
        w = 20 if strokes is ONE else 70
        part = ink(strokes, size=alpha.shape[::-1], box=(x, 40, w, height), width=width,
                   lean=lean)  # fmt: skip
        alpha = np.maximum(alpha, part)
        x += w + gap
    return on_paper(alpha)


@pytest.fixture(scope="module")
def model(mnist_dir: Path):
    """The book's network trained for one epoch on 10,000 MNIST images (about 1 s)."""
    from ownnet.classic import Network
    from ownnet.data.mnist import load_mnist

    net = Network(seed=0)
    net.fit(load_mnist(mnist_dir, progress=False).train.subset(10_000), epochs=1, verbose=0)
    return net


def blobs_of(grey: np.ndarray):
    return find_blobs(find_scene(grey).ink)


def test_digits_are_found_left_to_right_and_broken_ones_kept_whole() -> None:
    grey = number([ONE, SEVEN, FIVE, FOUR])
    five_bar = ink(FIVE_BAR, size=grey.shape[::-1], box=(250, 40, 70, 120), width=9)
    grey = np.minimum(grey, on_paper(five_bar))  # the 5's bar, written apart from its body
    blobs = blobs_of(grey)
    assert len(blobs) == 4 and [b.row for b in blobs] == [0] * 4
    lefts = [b.box[1] for b in blobs]
    assert lefts == sorted(lefts)
    assert blobs[2].box[0] <= 42  # the bar belongs to the 5: its box reaches up to it


def test_specks_and_rules_are_not_digits_and_rows_are_kept_apart() -> None:
    grey = number([SEVEN, ONE])
    grey[5:9, 5:9] = 20  # a speck far from the digits
    grey[185:188, 10:-10] = 30  # an underline longer than the digits are tall
    assert len(blobs_of(grey)) == 2
    two_rows = np.vstack([number([SEVEN, ONE]), number([ONE, FOUR])])
    blobs = blobs_of(two_rows)
    assert [b.row for b in blobs] == [0, 0, 1, 1]


def test_a_digit_in_a_lighter_pen_is_kept_and_a_faint_smear_below_is_not() -> None:
    """Marks much fainter than the writing are dropped (shading, smudges); a faint mark as
    tall and heavy as the digits and in their row is a digit (a lighter pen, a shaded field)."""
    alpha = np.zeros((240, 460))
    x = 30
    for i, strokes in enumerate([SEVEN, FOUR, SEVEN, ONE]):
        w = 20 if strokes is ONE else 70
        part = ink(strokes, size=(460, 240), box=(x, 40, w, 120), width=9)
        alpha = np.maximum(alpha, part * (0.3 if i == 1 else 1.0))
        x += w + 30
    blobs = blobs_of(on_paper(alpha))
    assert len(blobs) == 4 and blobs[1].box[1] < 150 < blobs[1].box[3]  # the light 4
    smear = ink([[(0.0, 0.5), (1.0, 0.5)]], size=(460, 240), box=(60, 185, 90, 40), width=28)
    blobs = blobs_of(on_paper(np.maximum(alpha, 0.3 * smear)))  # as heavy, but below the row
    assert len(blobs) == 4 and max(b.box[2] for b in blobs) <= 170


def test_a_number_written_uphill_is_one_row() -> None:
    """Rows are grouped heaviest mark first: the bold 4 at the lower end starts a row, the
    bold 5 at the upper end overlaps it too little and starts another, and the digits
    between join the first and stretch it up to the 5. The two rows are then one."""
    glyphs = [(FIVE, 10, 24, 11), (ONE, 130, 34, 5), (SEVEN, 230, 40, 6), (FOUR, 390, 70, 11)]
    alpha = np.zeros((150, 480))
    for strokes, x, top, width in glyphs:
        w = 20 if strokes is ONE else 60
        part = ink(strokes, size=(480, 150), box=(x, top, w, 58), width=width)
        alpha = np.maximum(alpha, part)
    alpha = np.maximum(alpha, ink(SEVEN, size=(480, 150), box=(300, 52, 60, 58), width=6))
    blobs = blobs_of(on_paper(alpha))
    assert len(blobs) == 5 and {b.row for b in blobs} == {0}
    lefts = [b.box[1] for b in blobs]
    assert lefts == sorted(lefts)


def test_italic_digits_are_not_merged() -> None:
    grey = number([ONE, SEVEN, ONE, FOUR], gap=8, lean=0.5)  # their boxes overlap sideways
    ink_ = find_scene(grey).ink
    assert writing_slant(ink_) < -0.2
    assert len(find_blobs(ink_)) == 4


def test_touching_digits_are_cut_where_little_ink_is() -> None:
    grey = number([SEVEN, FOUR], gap=-28)
    (blob,) = blobs_of(grey)
    left, right = split_blob(blob, 2, writing_slant(blob.ink))
    assert left.box[3] <= right.box[3] and left.box[1] < right.box[1]
    assert 50 <= left.width <= 90 and 55 <= right.width <= 95
    assert left.cut == right.cut and left.cut < 3 * 9  # crossed about one stroke


def test_reading_a_number(model) -> None:
    grey = number([ONE, SEVEN, ONE, SEVEN], gap=25)
    reading = read(model, grey)
    assert reading.number == "1717"
    assert reading.digit is None and len(reading.digits) == 4
    js = reading.to_json()
    assert js["number"] == "1717" and [d["digit"] for d in js["digits"]] == [1, 7, 1, 7]


def test_touching_digits_are_read_apart(model) -> None:
    grey = number([FOUR, SEVEN, FOUR], gap=-28)
    surveyed = survey(grey)
    assert len(surveyed.blobs) == 1 and 1.3 < surveyed.counts[0] < 1.7  # wider than a digit...
    assert set(surveyed.ways[0]) == {1, 2}  # ... so it may be cut in two, or more if asked
    assert set(survey(grey, digits=3).ways[0]) == {1, 2, 3}
    assert read(model, grey, digits=3).number == "474"
    bold = on_paper(ink(FOUR, width=30))  # one wide, bold digit is left whole
    assert read(model, bold).number == "4"


def test_one_digit_reads_as_prepare_prepares_it(model) -> None:
    grey = on_paper(ink(SEVEN))
    reading = read(model, grey)
    assert reading.number == "7" and reading.digit == 7
    assert np.array_equal(reading.image, prepare(grey))
    assert 0 < reading.confidence <= 1 and reading.top3[0] == (7, reading.confidence)


def test_boxes_are_in_the_original_pictures_pixels(tmp_path: Path) -> None:
    grey = number([SEVEN, ONE, FOUR])
    big = Image.fromarray(grey).resize((grey.shape[1] * 6, grey.shape[0] * 6))
    path = tmp_path / "big.png"
    big.save(path)
    small, large = survey(grey), survey(path)
    assert large.scene.picture.scale < 1
    for a, b in zip(small.blobs, large.blobs, strict=True):
        assert abs(a.box[1] * 6 - b.box[1] / large.scene.picture.scale) < 12
