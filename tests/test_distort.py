"""Distortions of handwriting (ownnet.data.distort) and the reader's augmentation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from ownnet.data.augment import sample, transform
from ownnet.data.distort import (
    add_strokes,
    change_gamma,
    change_thickness,
    elastic_fields,
    erase_spots,
    stroke_widths,
    warp,
)
from ownnet.data.images import stroke_width
from ownnet.data.images.slant import slant
from ownnet.reader import Handwriting


def bars(n: int = 4, width: int = 3) -> np.ndarray:
    """Upright bars ``width`` px wide, 16 px tall, in 28x28 uint8 images."""
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 6:22, 14 - width // 2 : 14 - width // 2 + width] = 255
    return images


def test_sample_equals_scipy_map_coordinates_grid_constant() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((5, 12, 10))
    y = rng.uniform(-2, 13, (5, 120))
    x = rng.uniform(-2, 11, (5, 120))
    ours = sample(images, y, x, fill=0.25).reshape(5, -1)
    for i in range(5):
        ref = ndimage.map_coordinates(
            images[i], [y[i], x[i]], order=1, mode="grid-constant", cval=0.25
        )
        np.testing.assert_allclose(ours[i], ref, atol=1e-12)


def test_warp_without_changes_is_the_identity_and_turns_like_rotate() -> None:
    images = bars()
    assert np.array_equal(warp(images), images)
    angles = np.array([10.0, -20.0, 35.0, 0.0])
    turned = warp(images, angles=angles)
    reference = transform(images, angles)
    inner = (slice(None), slice(2, 26), slice(2, 26))  # the edges differ by one pixel's blend
    assert np.abs(turned[inner].astype(int) - reference[inner].astype(int)).max() <= 1


def test_positive_shear_leans_right_and_stretch_stretches() -> None:
    images = bars(2)
    leaning = warp(images, shears=np.array([0.4, -0.4]))
    assert slant(leaning[0].astype(float)) == pytest.approx(-0.4, abs=0.05)  # top to the right
    assert slant(leaning[1].astype(float)) == pytest.approx(0.4, abs=0.05)
    wide = warp(images, scales=np.array([[1.0, 2.0], [0.5, 1.0]]))
    cols = (wide[0] > 100).any(axis=0).sum()
    rows = (wide[1] > 100).any(axis=1).sum()
    assert 5 <= cols <= 7 and 7 <= rows <= 9  # 3 px wide doubled; 16 px tall halved


def test_elastic_fields_are_smooth_and_as_large_as_asked() -> None:
    rng = np.random.default_rng(1)
    dy, dx = elastic_fields(200, rng, size=1.3)
    assert dy.shape == dx.shape == (200, 784)
    rms = np.sqrt(np.mean(np.concatenate([dy, dx]) ** 2))
    assert rms == pytest.approx(1.3, rel=1e-5)
    field = dy.reshape(200, 28, 28)
    step = np.abs(np.diff(field, axis=2)).mean()
    assert step < 0.2 * np.abs(field).mean()  # neighbours move together


def test_thickness_changes_the_pen_by_about_a_pixel_a_side() -> None:
    images = bars(3, width=4)
    out = change_thickness(images, np.array([1.0, 0.0, -1.0]))
    widths = stroke_widths(out)
    base = stroke_width(images[0] / 255.0)
    assert stroke_widths(images) == pytest.approx([base] * 3, rel=1e-6)
    # a w x L bar measures w L / (w + L) (2 area / perimeter); one pixel a side: w +- 2, L +- 2
    assert base == pytest.approx(4 * 16 / 20, abs=0.15)
    assert widths[0] == pytest.approx(6 * 18 / 24, abs=0.3)
    assert widths[1] == pytest.approx(base, rel=1e-6)
    assert widths[2] == pytest.approx(2 * 14 / 16, abs=0.3)
    assert out.dtype == np.uint8


def test_gamma_darkens_or_fades_the_edges_only() -> None:
    grey = np.full((2, 5, 5), 128, np.uint8)
    grey[:, 2, 2] = 255
    out = change_gamma(grey, np.array([0.5, 2.0]))
    assert out[0, 0, 0] > 128 > out[1, 0, 0]
    assert out[0, 2, 2] == out[1, 2, 2] == 255


def test_handwriting_is_reproducible_and_keeps_shape_and_labels_free() -> None:
    images = np.repeat(bars(1), 50, axis=0).reshape(50, 784)
    a = Handwriting()(images, np.random.default_rng(3))
    b = Handwriting()(images, np.random.default_rng(3))
    assert a.shape == images.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    changed = (a != images).any(axis=1).mean()
    assert 0.7 <= changed <= 0.97  # about 15% are kept as they are
    spec = Handwriting(keep=0.5).spec()
    assert spec["name"] == "handwriting" and spec["keep"] == 0.5
    again = Handwriting.from_spec(json.loads(json.dumps(spec)))
    assert again.spec() == spec


def test_stray_strokes_land_near_the_edge_and_gaps_on_the_ink() -> None:
    rng = np.random.default_rng(5)
    blank = np.zeros((200, 28, 28), np.uint8)
    strays = add_strokes(blank, rng)
    assert (strays.reshape(200, -1).max(axis=1) >= 120).all()
    inner = strays[:, 6:22, 6:22].astype(float).sum()
    assert inner < 0.25 * strays.astype(float).sum()  # mostly outside MNIST's 20x20 box
    images = bars(50, width=4)
    gapped = erase_spots(images, rng)
    lost = images.astype(int) - gapped.astype(int)
    assert (lost >= 0).all() and (lost.reshape(50, -1).sum(axis=1) > 255).all()
    assert (lost[:, :, :10] == 0).all()  # only where there was ink
