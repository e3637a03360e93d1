"""Rotations and shifts (ownnet.data.augment) against scipy.ndimage, image by image."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from ownnet.book import INPUTS as SCALE
from ownnet.data.augment import random_transform, rotate, transform, with_rotations
from ownnet.data.dataset import Dataset
from ownnet.data.mnist import load_mnist


def seven() -> np.ndarray:
    """A smooth '7' drawn analytically: two strokes 2 px wide, 5 px clear of the border."""
    y, x = np.mgrid[0:28, 0:28].astype(float)

    def stroke(y0: float, x0: float, y1: float, x1: float) -> np.ndarray:
        d = np.array([y1 - y0, x1 - x0])
        t = np.clip(((y - y0) * d[0] + (x - x0) * d[1]) / (d @ d), 0, 1)
        dist = np.hypot(y - (y0 + t * d[0]), x - (x0 + t * d[1]))
        return np.exp(-((dist / 1.5) ** 2))

    ink = np.maximum(stroke(8, 8, 8, 20), stroke(8, 20, 19, 13))
    return (255 * ink).round().astype(np.uint8)


def framed(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random float images whose content stays 5 px clear of the border."""
    images = np.zeros((n, 28, 28))
    images[:, 5:23, 5:23] = rng.random((n, 18, 18))
    return images


@pytest.mark.parametrize("angle", [10.0, -10.0, 23.5, 45.0, 90.0, 180.0, 0.0])
def test_batch_rotation_equals_scipy_per_image(angle: float) -> None:
    rng = np.random.default_rng(1)
    images = rng.random((25, 28, 28))  # content up to the border: the edges are tested too
    for fill in (0.0, 0.01):
        ours = rotate(images, angle, fill=fill)
        ref = np.stack(
            [ndimage.rotate(im, angle, reshape=False, order=1, cval=fill) for im in images]
        )
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_one_angle_per_image_equals_scipy() -> None:
    rng = np.random.default_rng(2)
    images = rng.random((40, 28, 28))
    angles = rng.uniform(-40, 40, 40)
    ours = transform(images, angles, fill=0.3)
    ref = np.stack(
        [
            ndimage.rotate(im, a, reshape=False, order=1, cval=0.3)
            for im, a in zip(images, angles, strict=True)
        ]
    )
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_rotation_and_shift_equal_scipy_rotate_then_shift() -> None:
    rng = np.random.default_rng(3)
    images = framed(rng, 30)
    angles = rng.uniform(-15, 15, 30)
    shifts = rng.integers(-3, 4, (30, 2))
    ours = transform(images, angles, shifts)
    ref = np.stack(
        [
            ndimage.shift(ndimage.rotate(im, a, reshape=False, order=1), s, order=1)
            for im, a, s in zip(images, angles, shifts, strict=True)
        ]
    )
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_whole_pixel_shift_moves_pixels_by_hand() -> None:
    image = np.zeros((28, 28), np.uint8)
    image[10, 12] = 200
    image[0, 0] = 50  # shifted off the image
    out = transform(image[None], 0.0, np.array([[2, -3]]))[0]
    expected = np.zeros((28, 28), np.uint8)
    expected[12, 9] = 200
    np.testing.assert_array_equal(out, expected)


def test_uint8_in_uint8_out_rounded_like_scipy() -> None:
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    ours = rotate(images, 17.0)
    assert ours.dtype == np.uint8 and ours.shape == images.shape
    ref = np.stack(
        [ndimage.rotate(im.astype(float), 17.0, reshape=False, order=1) for im in images]
    )
    # Equal after rounding; a value within 1e-9 of .5 may round either way.
    diff = np.abs(ours.astype(float) - np.rint(ref))
    near_half = np.abs(ref - np.floor(ref) - 0.5) < 1e-9
    assert np.all((diff == 0) | near_half)


def test_rotating_back_gives_the_digit_again() -> None:
    digit = seven()
    for angle in (5.0, 10.0, 20.0):
        there = rotate(digit, angle)
        assert there.shape == (28, 28)
        assert np.abs(there.astype(int) - digit).max() > 30  # it did turn
        back = rotate(there, -angle).astype(float)
        # Two order-1 resamplings blur the 2 px strokes a little; nothing is cut off.
        assert np.abs(back - digit).mean() < 5.0  # of 255
        assert np.abs(back - digit).max() < 80
        assert np.corrcoef(back.ravel(), digit.ravel())[0, 1] > 0.98
        assert abs(float(back.sum()) - float(digit.sum())) < 0.03 * float(digit.sum())


def test_rotating_back_real_digits(mnist_dir) -> None:
    test = load_mnist(mnist_dir, progress=False).test.subset(200)
    images = test.images.astype(float)
    back = rotate(rotate(test.images, 10.0), -10.0).astype(float)
    corr = [np.corrcoef(b.ravel(), i.ravel())[0, 1] for b, i in zip(back, images, strict=True)]
    assert min(corr) > 0.93 and np.mean(corr) > 0.97
    assert np.abs(back - images).mean() < 12  # of 255


def test_positive_angle_turns_anticlockwise() -> None:
    image = np.zeros((29, 29))
    image[14, 24] = 1.0  # a dot right of the centre (14, 14)
    out = rotate(image, 90.0)
    assert out[4, 14] == pytest.approx(1.0)  # now above the centre, as displayed


def test_with_rotations_is_the_books_augmented_set() -> None:
    rng = np.random.default_rng(5)
    images = np.stack([np.roll(seven(), k, axis=1) for k in range(-3, 3)])
    labels = rng.integers(0, 10, len(images)).astype(np.uint8)
    data = Dataset(images, labels, "sevens", "test")
    out = with_rotations(data, 10.0)
    assert isinstance(out, Dataset) and len(out) == 3 * len(data)
    np.testing.assert_array_equal(out.labels, np.repeat(labels, 3))
    np.testing.assert_array_equal(out.images[0::3], images)
    np.testing.assert_array_equal(out.images[1::3], rotate(images, 10.0))
    np.testing.assert_array_equal(out.images[2::3], rotate(images, -10.0))
    # The book rotates the scaled inputs with cval=0.01 (= pixel 0): same up to uint8 rounding.
    for i, image in enumerate(images):
        for k, angle in ((1, 10), (2, -10)):
            book = ndimage.rotate(SCALE[image], angle, cval=0.01, order=1, reshape=False)
            ours = SCALE[out.images[3 * i + k]]
            np.testing.assert_allclose(ours, book, rtol=0, atol=0.5 / 255 * 0.99 + 1e-12)


def test_random_transform_is_seeded_and_keeps_labels() -> None:
    rng = np.random.default_rng(6)
    images = (framed(rng, 64) * 255).round().astype(np.uint8)
    labels = rng.integers(0, 10, 64).astype(np.uint8)
    data = Dataset(images, labels, "framed", "test")
    a = random_transform(data, np.random.default_rng(7), max_angle=15, max_shift=2)
    b = random_transform(data, np.random.default_rng(7), max_angle=15, max_shift=2)
    c = random_transform(data, np.random.default_rng(8), max_angle=15, max_shift=2)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
    np.testing.assert_array_equal(a.labels, labels)
    assert random_transform(data, rng) is data  # nothing to do


def test_random_shifts_are_whole_pixels_in_range() -> None:
    rng = np.random.default_rng(9)
    images = (framed(rng, 40) * 255).round().astype(np.uint8)
    data = Dataset(images, np.zeros(40, np.uint8), "framed", "test")
    out = random_transform(data, np.random.default_rng(10), max_shift=2).images
    seen = set()
    for image, moved in zip(images, out, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.array_equal(np.roll(image, (dy, dx), axis=(0, 1)), moved)
        ]
        assert len(matches) == 1  # content is 5 px from the border: roll == shift
        seen.add(matches[0])
    assert len(seen) > 8  # and the shifts do vary
