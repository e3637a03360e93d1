"""Reading pictures (ownnet.data.images.decode): every file is read or named in one line."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ownnet.data.images import ImageError, NoInkError, load_picture, open_image, prepare
from ownnet.data.images.decode import MAX_PIXELS, MAX_WORKING_SIDE, reduce
from ownnet.errors import DataError


def png_declaring(width: int, height: int) -> bytes:
    """A 65-byte PNG whose header declares ``width x height`` pixels (its data is empty)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )  # fmt: skip


def digit_picture(h: int = 120, w: int = 100) -> np.ndarray:
    grey = np.full((h, w), 235, np.uint8)
    grey[h // 5 : 4 * h // 5, w // 2 - 4 : w // 2 + 4] = 20
    return grey


def test_a_decompression_bomb_is_too_large_in_one_line(tmp_path: Path) -> None:
    data = png_declaring(20000, 20000)
    assert len(data) == 65
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(data)
    with pytest.raises(ImageError, match=r"bomb\.png: image too large: 400,000,000 pix") as caught:
        prepare(bomb)
    assert "\n" not in str(caught.value) and f"{MAX_PIXELS:,}" in str(caught.value)
    assert isinstance(caught.value, DataError)


def test_damaged_and_odd_files_are_named(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (80, 80), np.uint8)).save(
        buf, format="PNG"
    )
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError, match=r"cut\.png: damaged or unreadable image file"):
        prepare(tmp_path / "cut.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty\.jpg: not an image file"):
        prepare(tmp_path / "empty.jpg")
    with pytest.raises(ImageError, match="is a directory or special file"):
        prepare(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.png")  # opening it would wait for a writer forever
        with pytest.raises(ImageError, match=r"pipe\.png: is a directory or special file"):
            prepare(tmp_path / "pipe.png")


@pytest.mark.parametrize("shape", [(3, 4000), (4000, 3), (1, 1201), (1, 1), (2, 5)])
def test_thin_strips_are_read_or_have_no_ink(shape: tuple[int, int], tmp_path: Path) -> None:
    strip = np.full(shape, 230, np.uint8)
    strip[..., shape[-1] // 3 : shape[-1] // 2] = 10
    path = tmp_path / "strip.png"
    Image.fromarray(strip).save(path)
    picture = load_picture(path)
    assert picture.grey.size > 0 and max(picture.grey.shape) <= MAX_WORKING_SIDE
    try:
        out = prepare(path)
    except NoInkError as exc:
        assert "strip.png" in str(exc)
    else:
        assert out.shape == (28, 28) and out.max() == 255


def test_reduce_keeps_a_remainder_and_the_mean() -> None:
    grey = np.arange(7 * 2500, dtype=np.float32).reshape(7, 2500) / 17500
    small = reduce(grey, 1200)  # by 3: 7 rows -> 3, 2500 columns -> 834
    assert small.shape == (3, 834)
    assert small[0, 0] == pytest.approx(grey[:3, :3].mean(), rel=1e-6)


@pytest.mark.parametrize("mode", ["LAB", "CMYK", "YCbCr", "HSV", "I;16", "I", "F", "1", "P", "LA"])
def test_colour_modes(mode: str, tmp_path: Path) -> None:
    grey = Image.fromarray(digit_picture())
    if mode == "LAB":
        im = Image.merge(
            "LAB", [grey, Image.new("L", grey.size, 128), Image.new("L", grey.size, 128)]
        )
    elif mode in ("I;16", "I", "F"):
        im = Image.fromarray(
            np.asarray(grey).astype({"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]) * 200
        )
    elif mode == "1":  # thresholded, not dithered: a dithered grey paper is all specks
        im = grey.convert("1", dither=Image.Dither.NONE)
    else:
        im = grey.convert("RGB").convert(mode)
    reference = prepare(digit_picture())
    assert np.corrcoef(prepare(im).ravel(), reference.ravel())[0, 1] > 0.95
    if mode in ("LAB", "CMYK"):  # files of these modes too
        path = tmp_path / f"digit-{mode}.tif"
        im.save(path)
        assert np.corrcoef(prepare(path).ravel(), reference.ravel())[0, 1] > 0.95


def test_a_phone_photo_is_turned_upright_and_decoded_small(tmp_path: Path) -> None:
    grey = np.full((3000, 4000), 225, np.uint8)
    grey[600:2400, 1900:2200] = 25  # a tall bar ... stored lying down, EXIF says turn it
    lying = Image.fromarray(np.ascontiguousarray(np.rot90(grey)))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    path = tmp_path / "photo.jpg"
    lying.convert("RGB").save(path, quality=90, exif=exif)
    picture = load_picture(path)
    assert picture.size == (4000, 3000)  # the upright size of the original
    assert (
        max(picture.grey.shape) <= MAX_WORKING_SIDE
        and picture.grey.shape[1] > picture.grey.shape[0]
    )
    upright = open_image(path)
    assert upright.size == (4000, 3000)
    image = prepare(path)
    rows = np.flatnonzero((image > 40).any(axis=1))
    assert rows[-1] - rows[0] >= 18  # tall, as in the upright photo


def test_the_web_upload_of_a_bomb_is_a_422_not_a_500() -> None:
    from ownnet.web.inputs import InputError, image_from_bytes

    with pytest.raises(InputError) as caught:
        image_from_bytes(png_declaring(20000, 20000), "bomb.png")
    assert caught.value.status == 422 and "image too large" in str(caught.value)


def test_formats_pillow_knows_in_part_are_read_or_named(tmp_path: Path) -> None:
    """Found by benchmarks/robustness.py: a SPIDER file (which cannot seek) was refused and
    a DDS file with pixel-format flags 0 raised NotImplementedError."""
    spider = tmp_path / "digit.spi"
    Image.fromarray(digit_picture().astype(np.float32)).save(spider, format="SPIDER")
    assert prepare(spider).shape == (28, 28)
    dds = (
        bytes.fromhex(  # the 192-byte file the probe found
            "444453207c0000000f1000000400000004000000100000000000000000000000"
            "0000000000000000000000000000000000000000000000000000000000000000"
            "000000000000000000000000200000000000000000000000200000000000ff00"
            "00ff0000ff000000000000ff0010000000000000000000000000000000000000"
        )
        + b"\xff" * 64
    )
    (tmp_path / "odd.dds").write_bytes(dds)
    with pytest.raises(ImageError, match=r"odd\.dds: (damaged or unreadable|not an image)"):
        prepare(tmp_path / "odd.dds")


def test_a_picture_knows_how_coloured_it_is() -> None:
    rgb = np.zeros((20, 30, 4), np.uint8)
    rgb[..., :3] = (120, 80, 40)  # brown
    rgb[:, 15:, :3] = 200  # grey
    rgb[..., 3] = 255
    rgb[:10, :5, 3] = 0  # transparent: no colour
    picture = load_picture(rgb)
    assert picture.colour is not None and picture.colour.shape == picture.grey.shape
    np.testing.assert_allclose(picture.colour[15, :15], 80 / 255, rtol=1e-5)
    assert float(np.abs(picture.colour[:, 15:]).max()) == 0.0
    assert float(picture.colour[:10, :5].max()) == 0.0
    from_pil = load_picture(Image.fromarray(rgb[..., :3]))
    np.testing.assert_allclose(from_pil.colour[15, :15], 80 / 255, rtol=1e-5)
    assert load_picture(Image.fromarray(rgb[..., 0])).colour is None  # mode L
    assert load_picture(rgb[..., 0]).colour is None
    big = np.zeros((3000, 40, 3), np.uint8)
    assert load_picture(big).colour.shape == load_picture(big).grey.shape  # reduced alike
