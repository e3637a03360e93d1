"""The header of a ``.npy`` array, read and checked without allocating anything for it.

The format: ``\\x93NUMPY``, a major and a minor version byte, the header length (2 bytes
little-endian in version 1, 4 in versions 2 and 3), then a Python dict literal
``{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`` padded with spaces, then
the raw data (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).

The header is at most :data:`MAX_HEADER` bytes and parsed with :func:`ast.literal_eval`
(which builds values, never runs code); only plain number dtypes (bool, integer, float,
complex) and shapes of at most :data:`MAX_DIMS` sizes >= 0 are accepted.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable
from typing import IO

import numpy as np

from ownnet.errors import OwnnetError

NPY_MAGIC = b"\x93NUMPY"
MAX_HEADER = 10_000  # what np.load allows by default
MAX_DIMS = 32


def read_npy_header(
    stream: IO[bytes], fail: Callable[[str], OwnnetError], filename: str
) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    """Read a ``.npy`` header from ``stream``: ``(shape, dtype, fortran_order, bytes before
    the data)``. Problems raise ``fail(message)``, the message naming ``filename``."""
    start = stream.read(8)
    if len(start) < 8 or start[:6] != NPY_MAGIC:
        raise fail(f"{filename}: expected a .npy array (magic \\x93NUMPY), found {start[:8]!r}")
    major, minor = start[6], start[7]
    if major not in (1, 2, 3):
        raise fail(f"{filename}: expected .npy format version 1, 2 or 3, found {major}.{minor}")
    width = 2 if major == 1 else 4
    raw = stream.read(width)
    length = int.from_bytes(raw, "little")
    if len(raw) < width or length > MAX_HEADER:
        found = "the member ends" if len(raw) < width else f"{length:,} bytes"
        raise fail(
            f"{filename}: expected a .npy header of at most {MAX_HEADER:,} bytes, found {found}"
        )
    text = stream.read(length)
    if len(text) < length:
        raise fail(f"{filename}: expected a .npy header of {length} bytes, found {len(text)}")
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" in a damaged header
            warnings.simplefilter("ignore")
            header = ast.literal_eval(text.decode("utf-8" if major == 3 else "latin1"))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, UnicodeError):
        shown = text[:60].decode("latin1")
        raise fail(
            f"{filename}: expected a .npy header (a dict literal), found {shown!r}"
        ) from None
    keys = {"descr", "fortran_order", "shape"}
    if not isinstance(header, dict) or set(header) != keys:
        found = sorted(map(str, header)) if isinstance(header, dict) else type(header).__name__
        raise fail(f"{filename}: expected a .npy header with keys {sorted(keys)}, found {found}")
    dtype = _plain_dtype(header["descr"])
    if dtype is None:
        raise fail(
            f"{filename}: expected plain arrays of numbers (bool, integer, float or "
            f"complex), found dtype {str(header['descr'])[:40]!r}"
        )
    shape, fortran = header["shape"], header["fortran_order"]
    if not isinstance(fortran, bool):
        raise fail(f"{filename}: expected fortran_order True or False, found {fortran!r}")
    if (
        not isinstance(shape, tuple)
        or len(shape) > MAX_DIMS
        or not all(type(d) is int and d >= 0 for d in shape)
    ):
        raise fail(
            f"{filename}: expected a shape of at most {MAX_DIMS} sizes >= 0, "
            f"found {str(shape)[:60]}"
        )
    return shape, dtype, fortran, 8 + width + length


def _plain_dtype(descr: object) -> np.dtype | None:
    """The dtype of ``descr`` when it is a plain number type (``'<f4'``), else None."""
    if not isinstance(descr, str) or not re.fullmatch(r"[<>|=]?[biufc]\d{1,2}", descr):
        return None
    try:
        dtype = np.dtype(descr)
    except TypeError:
        return None
    return dtype if dtype.kind in "biufc" and dtype.itemsize > 0 else None
