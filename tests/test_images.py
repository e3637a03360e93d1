"""Your own images → MNIST-style 28x28 (ownnet.data.images)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from ownnet.data.images import NoInkError, prepare, prepare_steps, stroke_width
from ownnet.data.images.level import solid_cores
from ownnet.data.images.stroke import MIN_STROKE
from ownnet.errors import DataError


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path):
    from ownnet.data.mnist import load_mnist

    return load_mnist(mnist_dir, progress=False)


@pytest.fixture(scope="module")
def model(mnist):
    """The book's network trained for one epoch on 10,000 MNIST images (about 1 s)."""
    from ownnet.classic import Network

    net = Network(seed=0)
    net.fit(mnist.train.subset(10_000), epochs=1, verbose=0)
    return net


#: the steps that change the hand or the ink's level switched off: what is left only
#: reframes the digit
AS_MNIST = {"deslant": False, "thin": False, "hairlines": False, "level": False}


def enlarged(digit: np.ndarray, factor: int = 5) -> Image.Image:
    return Image.fromarray(digit).resize((28 * factor, 28 * factor), Image.Resampling.BICUBIC)


# -- the round trip of the issue: MNIST digit → photo-like → prepare → MNIST digit ---------------


def canvas_dark_on_white(digit: np.ndarray) -> Image.Image:
    """The digit 5x larger, dark ink on white, off-centre on a 300x200 canvas."""
    canvas = Image.new("L", (300, 200), 255)
    canvas.paste(Image.fromarray(255 - np.asarray(enlarged(digit))), (150, 45))
    return canvas


def canvas_rgba(digit: np.ndarray, ink: tuple[int, int, int]) -> Image.Image:
    """The digit 5x larger as coloured ink whose alpha is the digit, on a transparent canvas."""
    canvas = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    layer = Image.new("RGBA", (140, 140), (*ink, 255))
    layer.putalpha(enlarged(digit))
    canvas.paste(layer, (20, 30))
    return canvas


def as_jpeg(im: Image.Image, path: Path) -> Path:
    im.save(path, format="JPEG", quality=85)
    return path


@pytest.mark.parametrize("variant", ["dark-on-white", "rgba-dark", "rgba-light", "jpeg"])
def test_round_trip_of_mnist_digits(mnist, model, variant: str, tmp_path: Path) -> None:
    for i in range(10):
        digit = mnist.test.images[i]
        if variant == "dark-on-white":
            source = canvas_dark_on_white(digit)
        elif variant == "rgba-dark":
            source = canvas_rgba(digit, (20, 20, 120))
        elif variant == "rgba-light":
            source = canvas_rgba(digit, (250, 240, 200))
        else:
            source = as_jpeg(canvas_dark_on_white(digit), tmp_path / f"digit{i}.jpg")
        out = prepare(source, **AS_MNIST)
        assert out.dtype == np.uint8 and out.shape == (28, 28)
        assert corr(out, digit) >= 0.9, (variant, i, corr(out, digit))
        assert model.predict(out[None])[0] == model.predict(digit[None])[0]


def test_prepare_is_nearly_the_identity_on_mnist_digits(mnist) -> None:
    digits = mnist.test.images[:100]
    c = [corr(prepare(d, **AS_MNIST), d) for d in digits]
    assert np.median(c) >= 0.95


# -- what MNIST's recipe promises, checked against scipy's centre of mass ----------------------


@pytest.mark.parametrize("polarity", ["dark-on-light", "light-on-dark"])
def test_centre_of_mass_box_and_polarity(polarity: str) -> None:
    # an off-centre, tall, thick ring on a large canvas
    yy, xx = np.mgrid[0:240, 0:320]
    r = np.hypot((yy - 90) / 60.0, (xx - 230) / 35.0)
    ink = ((r > 0.75) & (r < 1.0)).astype(float)
    grey = 1.0 - ink if polarity == "dark-on-light" else ink
    steps = prepare_steps((grey * 255).astype(np.uint8))
    assert steps.polarity == polarity
    out = steps.image.astype(float)
    cy, cx = ndimage.center_of_mass(out)
    assert abs(cy - 14.0) < 0.1 and abs(cx - 14.0) < 0.1
    rows = np.flatnonzero((out > 25).any(axis=1))
    cols = np.flatnonzero((out > 25).any(axis=0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert 19 <= height <= 21  # the longer side is 20 px
    assert 10 <= width <= 14  # aspect kept: 35/60 of 20 = 11.7
    assert out.max() == 255 and out[0].max() == 0 and out[:, 0].max() == 0


def test_noise_and_specks_do_not_move_the_box() -> None:
    rng = np.random.default_rng(0)
    grey = np.full((200, 200), 0.9)
    grey[60:140, 95:105] = 0.1  # a "1"
    clean = prepare((grey * 255).astype(np.uint8))
    noisy = grey + rng.normal(0, 0.06, grey.shape)
    noisy[5, 5] = noisy[190, 180] = noisy[10, 170] = 0.0  # dust in the corners
    out = prepare((np.clip(noisy, 0, 1) * 255).astype(np.uint8))
    assert corr(out, clean) > 0.95
    cy, cx = ndimage.center_of_mass(out.astype(float))
    assert abs(cy - 14) < 0.3 and abs(cx - 14) < 0.3


def test_lighting_gradient_is_not_ink() -> None:
    yy, xx = np.mgrid[0:150, 0:150]
    paper = 0.75 + 0.2 * xx / 150  # brighter to the right
    grey = paper.copy()
    grey[40:110, 70:78] -= 0.5
    out = prepare((grey * 255).astype(np.uint8))
    cols = np.flatnonzero((out > 25).any(axis=0))
    assert cols[-1] - cols[0] + 1 <= 6  # only the stroke, not the bright side of the page


def test_a_large_photo_gives_what_a_small_one_gives() -> None:
    def ring(height: int, width: int) -> np.ndarray:
        yy, xx = np.mgrid[0:height, 0:width] / height
        r = np.hypot((yy - 0.5) / 0.3, (xx - 0.4 * width / height) / 0.2)
        return np.where((r > 0.7) & (r < 1.0), 20, 235).astype(np.uint8)

    small, large = prepare(ring(300, 400)), prepare(ring(1500, 2000))  # reduced 2x first
    assert corr(small, large) > 0.97


def test_thin_strokes_are_thickened() -> None:
    grey = np.zeros((400, 400), np.uint8)
    grey[50:350, 199:202] = 255  # a 3 px stroke, 300 px tall: 0.2 px wide at 20 px
    # level would brighten it; a shear (the line stands at slant 0) would soften it more
    thin = prepare(grey, thicken=False, hairlines=False, level=False, deslant=False)
    thin = thin.astype(float)
    thick = prepare(grey, deslant=False).astype(float)
    assert thick.sum() > thin.sum()
    assert stroke_width(thin / 255) < MIN_STROKE - 0.05  # softened by the resampling only
    assert stroke_width(thick / 255) > MIN_STROKE - 0.15
    # a stroke as wide as MNIST's is left alone
    grey[50:350, 180:220] = 255
    assert np.array_equal(prepare(grey), prepare(grey, thicken=False))


def test_solid_cores_leave_mnist_digits_and_fill_faint_strokes(mnist) -> None:
    digits = mnist.test.images[:200]
    leveled = np.stack([solid_cores(d) for d in digits])
    change = leveled.reshape(200, -1).sum(1) / digits.reshape(200, -1).sum(1).astype(float)
    assert abs(np.median(change) - 1) < 0.02  # MNIST's own strokes are already solid
    block = np.zeros((28, 28), np.uint8)
    block[8:20, 10:18] = 255
    assert np.array_equal(solid_cores(block), block)  # solid ink is never made fainter
    grey = np.full((120, 100), 230, np.uint8)
    grey[20:100, 47:53] = 150  # a grey stroke with soft edges
    grey = ndimage.gaussian_filter(grey.astype(float), 2).astype(np.uint8)
    plain, solid = prepare(grey, level=False), prepare(grey)
    ink = plain >= 0.12 * plain.max()
    assert np.percentile(plain[ink], 70) < 230  # only the strongest pixel is full
    assert 250 <= np.percentile(solid[ink], 70) <= 253 and solid.sum() > plain.sum()
    assert corr(solid, plain) > 0.98  # the same digit, brighter


def test_stroke_width_of_a_bar() -> None:
    # hand calculation: 2 * area / perimeter of a w x L bar = 2 w L / (2 (w + L)) = w L / (w + L)
    bar = np.zeros((240, 40))
    bar[20:220, 18:22] = 1.0  # w = 4, L = 200
    assert stroke_width(bar) == pytest.approx(4 * 200 / 204, rel=0.02)


# -- reading files -----------------------------------------------------------------------------


def test_file_formats(tmp_path: Path) -> None:
    grey = np.full((60, 50), 255, np.uint8)
    grey[10:50, 20:30] = 0
    reference = prepare(grey)
    im = Image.fromarray(grey)
    for name in ("a.png", "a.bmp", "a.gif"):
        im.save(tmp_path / name)
        assert np.array_equal(prepare(tmp_path / name), reference), name
    im.convert("RGB").save(tmp_path / "a.jpg", quality=95)
    assert corr(prepare(tmp_path / "a.jpg"), reference) > 0.98
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "a16.png")
    assert np.array_equal(prepare(tmp_path / "a16.png"), reference)
    # palette image with a transparent background colour
    pal = Image.fromarray(np.where(grey == 0, 1, 0).astype(np.uint8), mode="P")
    pal.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    pal.info["transparency"] = 0
    pal.save(tmp_path / "t.gif", transparency=0)
    assert corr(prepare(tmp_path / "t.gif"), reference) > 0.98
    assert np.array_equal(prepare(str(tmp_path / "a.png")), reference)  # a str path too


def test_arrays_of_every_kind() -> None:
    grey = np.zeros((40, 40))
    grey[8:32, 18:23] = 1.0
    reference = prepare((grey * 255).astype(np.uint8))
    assert np.array_equal(prepare(grey), reference)  # float 0..1
    assert np.array_equal(prepare(grey > 0.5), reference)  # bool
    rgb = np.repeat((grey * 255).astype(np.uint8)[:, :, None], 3, axis=2)
    assert np.array_equal(prepare(rgb), reference)


def test_blank_image_says_no_ink(tmp_path: Path) -> None:
    Image.new("L", (64, 48), 200).save(tmp_path / "blank.png")
    with pytest.raises(NoInkError, match=r"blank\.png: no ink found"):
        prepare(tmp_path / "blank.png")
    rng = np.random.default_rng(1)
    noise_only = np.clip(0.8 + rng.normal(0, 0.03, (100, 100)), 0, 1)
    with pytest.raises(NoInkError, match="no ink found"):
        prepare(noise_only)
    with pytest.raises(NoInkError, match="no ink found"):
        prepare(Image.new("RGBA", (30, 30), (0, 0, 0, 0)))


def test_not_an_image_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    with pytest.raises(DataError, match=r"notes\.png: not an image file"):
        prepare(bad)
    with pytest.raises(DataError, match=r"missing\.png: no such image file"):
        prepare(tmp_path / "missing.png")
    with pytest.raises(DataError, match="expected an image array"):
        prepare(np.zeros((3, 4, 5, 6)))


# -- photo-like digits -------------------------------------------------------------------------


def test_rendered_photo_like_digits_are_read(model, tmp_path: Path) -> None:
    from ownnet.inspect.sample_digits import label_from_name, write_samples

    written = write_samples(tmp_path, 20, seed=0)
    files = sorted(tmp_path.iterdir())
    assert len(files) == 20 and {f.suffix for f in files} == {".png", ".jpg"}
    shapes = {Image.open(f).size for f in files}
    assert len(shapes) > 10  # all sizes
    polarity = {prepare_steps(f).polarity for f in files}
    assert polarity == {"dark-on-light", "light-on-dark"}
    images = np.stack([prepare(f) for f in files])
    labels = np.array([label_from_name(f) for f in files])
    assert sorted(labels.tolist()) == sorted(label for _, label in written)
    right = int(np.sum(model.predict(images) == labels))
    assert right >= 18, f"{right}/20"
