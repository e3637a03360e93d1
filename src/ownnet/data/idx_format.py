"""IDX files (gzip or raw): read them, within limits, and write them.

The format (http://yann.lecun.com/exdb/mnist/): ``00 00 <type> <ndim>``, then ``ndim``
big-endian uint32 sizes, then the values, big-endian. gzip is detected from the file's
first bytes, not its name.

Every size is checked before memory is allocated: the header must give 1 to
:data:`MAX_DIMS` dimensions, a raw file must be exactly as long as its header says, a
gzip file no shorter than deflate allows (about 1/1032), and the data within
:func:`ownnet.inputfile.max_bytes`. A raw file is read straight into its array; a gzip
file into a buffer that grows as the data arrives (the 47 MB of training images need
about 53 MB), so a header that lies costs only the bytes that are really there.
"""

from __future__ import annotations

import gzip
import math
import os
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ownnet.atomic import atomic_open
from ownnet.data.layout import IMAGE_SHAPE, check_labels
from ownnet.data.streams import CHUNK, Reading, count_rest, read_exact
from ownnet.errors import DataError
from ownnet.inputfile import MAX_DEFLATE_RATIO, check_size, fill, read_at_most

#: IDX type byte -> numpy dtype (all multi-byte types are big-endian in the file).
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
MAX_DIMS = 4  # labels 1, images 3; a fourth for channels


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip or raw) into an array of the shape its header gives.

    Multi-byte types come back in native byte order. Raises DataError for a wrong magic
    number, an unknown type, too many dimensions, a header that disagrees with the file
    size or exceeds the size limit, and a truncated or corrupt gzip stream.
    """
    path = Path(path)
    reading = Reading(path)
    with reading as f:
        dims, dtype = _read_header(path, f)
        header = 4 + 4 * len(dims)
        n_bytes = math.prod(dims) * dtype.itemsize
        shape = "x".join(map(str, dims))
        said = f"header says {shape} {dtype.name} values"
        size = reading.file_size
        if not reading.gzip and header + n_bytes != size:
            raise DataError(
                f"{path}: {said}, so expected {header + n_bytes:,} bytes, "
                f"found a file of {size:,} bytes"
            )
        if reading.gzip and n_bytes > MAX_DEFLATE_RATIO * size + CHUNK:
            raise DataError(
                f"{path}: {said} ({n_bytes:,} bytes), found a gzip file of only "
                f"{size:,} bytes that cannot hold that much"
            )
        span = math.prod(max(d, 1) for d in dims) * dtype.itemsize
        check_size(path, max(n_bytes, span), f"the {shape} {dtype.name} values its header gives")
        if reading.gzip:  # memory follows the data that really comes, not the claim
            data = read_at_most(f, n_bytes)
            got = len(data)
            out = np.frombuffer(data, dtype=dtype, count=got // dtype.itemsize)
        else:  # the file's size was checked: read straight into the array
            out = np.empty(dims, dtype=dtype)
            got = fill(f, out)
        if got < n_bytes:
            raise DataError(
                f"{path}: {said}, so expected {n_bytes:,} data bytes, found only {got:,}"
            )
        out = out.reshape(dims)
        extra = count_rest(f)
        if extra:
            raise DataError(
                f"{path}: {said}, so expected {n_bytes:,} data bytes, found "
                f"{extra:,}{' or more' if extra >= 64 * CHUNK else ''} bytes more than that"
            )
    if dtype.byteorder == ">":
        out = out.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return out


def _read_header(path: Path, f: BinaryIO) -> tuple[tuple[int, ...], np.dtype]:
    """The dimensions and dtype an IDX header gives, checked."""
    head = read_exact(f, 4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise DataError(
            f"{path}: expected an IDX file (magic bytes 00 00 <type> <ndim>), "
            f"found {head.hex(' ') or 'nothing'}"
        )
    if head[2] not in IDX_TYPES:
        known = ", ".join(f"{t:02x}" for t in IDX_TYPES)
        raise DataError(f"{path}: expected an IDX type byte ({known}), found {head[2]:02x}")
    ndim = head[3]
    if not 1 <= ndim <= MAX_DIMS:
        raise DataError(
            f"{path}: expected 1 to {MAX_DIMS} dimensions in the IDX header, found {ndim}"
        )
    raw = read_exact(f, 4 * ndim)
    if len(raw) < 4 * ndim:
        raise DataError(
            f"{path}: expected a header of {4 + 4 * ndim} bytes for {ndim} dimensions, "
            f"found the file ends after {4 + len(raw)} bytes"
        )
    dims = tuple(int.from_bytes(raw[i : i + 4], "big") for i in range(0, 4 * ndim, 4))
    return dims, IDX_TYPES[head[2]]


def read_idx_images(
    path: str | os.PathLike[str], shape: tuple[int, int] | None = IMAGE_SHAPE
) -> np.ndarray:
    """Read an IDX image file: uint8 ``(n, rows, cols)``, ``(n, 28, 28)`` unless ``shape=None``."""
    arr = read_idx(path)
    if arr.dtype != np.uint8 or arr.ndim != 3:
        raise DataError(
            f"{path}: expected images, a 3-d IDX file of unsigned bytes (type 08), "
            f"found {arr.ndim}-d {arr.dtype.name} data of shape {arr.shape}"
        )
    if shape is not None and arr.shape[1:] != tuple(shape):
        raise DataError(
            f"{path}: expected images of {shape[0]}x{shape[1]} pixels, "
            f"found {arr.shape[1]}x{arr.shape[2]}"
        )
    return arr


def read_idx_labels(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX label file: uint8 ``(n,)`` with every label in 0..9."""
    arr = read_idx(path)
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise DataError(
            f"{path}: expected labels, a 1-d IDX file of unsigned bytes (type 08), "
            f"found {arr.ndim}-d {arr.dtype.name} data of shape {arr.shape}"
        )
    check_labels(arr, path)
    return arr


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, compress: bool = False) -> None:
    """Write ``array`` (1 to 4 dimensions, of a type IDX has) as an IDX file, atomically;
    gzip-compressed when ``compress``."""

    array = np.asarray(array)
    codes = {dtype.str.lstrip("<>|="): code for code, dtype in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder(">").str.lstrip("<>|="))
    if code is None or not 1 <= array.ndim <= MAX_DIMS or max(array.shape) >= 2**32:
        raise DataError(
            f"{path}: IDX holds arrays of 1 to {MAX_DIMS} dimensions (each under 2**32) of "
            f"uint8, int8, int16, int32, float32 or float64; found {array.dtype.name} "
            f"of shape {array.shape}"
        )
    big = IDX_TYPES[code]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = np.ascontiguousarray(array, dtype=big).tobytes()
    with atomic_open(path) as f:
        if compress:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
                g.write(header + data)
        else:
            f.write(header + data)
