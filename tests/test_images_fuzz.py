"""Fuzzing image bytes: every input is read or raises ImageError, in bounded memory and time."""

from __future__ import annotations

import io
import resource
import sys

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ownnet.data.images import ImageError, load_picture, prepare
from ownnet.data.images.decode import open_image_bytes


def seeds() -> list[bytes]:
    """Small valid pictures of a bar in the formats people send (and some they don't)."""
    grey = np.full((24, 20), 230, np.uint8)
    grey[4:20, 8:12] = 20
    im = Image.fromarray(grey)
    out = []
    for fmt, mode in [("PNG", "L"), ("PNG", "RGBA"), ("JPEG", "RGB"), ("GIF", "P"),
                      ("BMP", "RGB"), ("TIFF", "L"), ("WEBP", "RGB"), ("PNG", "I;16"),
                      ("TIFF", "CMYK"), ("ICO", "RGBA"), ("PPM", "RGB")]:  # fmt: skip
        buf = io.BytesIO()
        picture = im.convert(mode) if mode != "I;16" else Image.fromarray(grey.astype(np.uint16))
        try:
            picture.save(buf, format=fmt)
        except (KeyError, OSError, ValueError):  # a format this Pillow cannot write
            continue
        out.append(buf.getvalue())
    return out


SEEDS = seeds()
#: sizes a damaged header may claim: 20000 (both byte orders), 65536, 2**32 - 1
HUGE = [b"\x00\x00\x4e\x20", b"\x20\x4e\x00\x00", b"\x00\x01\x00\x00", b"\xff\xff\xff\xff"]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A seed picture with bytes changed, cut off, inserted or its header sizes enlarged."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        how = draw(st.sampled_from(["flip", "cut", "insert", "big"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif how == "cut":
            del data[at:]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif how == "big" and len(data) > at + 4:  # a huge width or height in a header
            data[at : at + 4] = draw(st.sampled_from(HUGE))
    return bytes(data)


def peak_rss_mb() -> float:
    scale = 1024 if sys.platform != "darwin" else 1024 * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(damaged(), st.binary(max_size=300)))
def read_or_named(data: bytes) -> None:
    """One input: read into 28x28, or an ImageError of one line that names it."""
    try:
        im = open_image_bytes(data, "fuzz.png")
        out = prepare(load_picture(im, name="fuzz.png").grey)
    except ImageError as exc:
        assert "fuzz.png" in str(exc) or "<array>" in str(exc)
        assert "\n" not in str(exc)
    else:
        assert out.dtype == np.uint8 and out.shape == (28, 28)


def test_any_bytes_are_read_or_named_in_bounded_memory() -> None:
    before = peak_rss_mb()
    read_or_named()
    assert peak_rss_mb() - before < 700, "an image claimed more memory than MAX_PIXELS allows"
