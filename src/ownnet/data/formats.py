"""Readers for the three MNIST file formats: IDX (gzip or raw), the book's CSV, Keras' npz.

Every reader returns uint8 arrays and raises :class:`~ownnet.errors.DataError` naming the
file, what was expected and what was found; never a bare numpy or zlib traceback.

- IDX: ``00 00 <type> <ndim>`` then ``ndim`` big-endian uint32 sizes, then the data
  (http://yann.lecun.com/exdb/mnist/). gzip is detected from the file's first bytes, not
  its name. The data is read straight into a preallocated array, so loading the 47 MB of
  training images needs 47 MB, not twice that.
- CSV: one sample a line, ``label,p1,...,p784`` with pixels 0..255 (the book's
  ``mnist_train.csv``); a first line with letters in it is taken as a header and skipped,
  blank lines are skipped. Parsed in blocks of lines with ``np.fromstring``.
- npz: ``x_train, y_train, x_test, y_test`` as in Keras' ``mnist.npz``; read with
  ``allow_pickle=False``.
"""

from __future__ import annotations

import gzip
import io
import os
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ownnet.errors import DataError

IMAGE_SHAPE = (28, 28)
N_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
N_CLASSES = 10

#: IDX type byte -> numpy dtype (all multi-byte types are big-endian in the file).
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
#: deflate never compresses better than about 1032:1; a header that claims more than this
#: much data for its gzip file's size is corrupt (checked before allocating memory).
MAX_DEFLATE_RATIO = 1100
_CHUNK = 1 << 20


# ---------------------------------------------------------------- opening files


def _open(path: Path) -> BinaryIO:
    """Open ``path`` for reading bytes, decompressing when it is a gzip file."""
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot open: {exc.strerror or exc}") from None
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw


class _Reading:
    """Context manager that opens a file and turns decompression errors into DataError."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        self.file = _open(self.path)
        return self.file

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> None:
        assert self.file is not None
        inner = getattr(self.file, "fileobj", None)
        self.file.close()
        if inner is not None:
            inner.close()
        if exc is None or isinstance(exc, DataError):
            return
        size = self.path.stat().st_size if self.path.exists() else 0
        if isinstance(exc, EOFError):
            raise DataError(
                f"{self.path}: expected a complete gzip stream, found it ends before its "
                f"end-of-stream marker (truncated gzip file? {size:,} bytes)"
            ) from None
        if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
            raise DataError(f"{self.path}: expected valid gzip data, found: {exc}") from None
        if isinstance(exc, OSError):
            raise DataError(f"{self.path}: cannot read: {exc}") from None


def _read_exact(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    return data if data is not None else b""


def _readinto_full(f: BinaryIO, out: np.ndarray) -> int:
    """Fill the bytes of ``out`` from ``f`` in chunks; returns how many bytes were read."""
    view = memoryview(out.reshape(-1).view(np.uint8))
    pos = 0
    total = len(view)
    while pos < total:
        n = f.readinto(view[pos : pos + _CHUNK])  # type: ignore[attr-defined]
        if not n:
            break
        pos += n
    return pos


# ---------------------------------------------------------------- IDX


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip or raw) into an array of the shape its header gives.

    Multi-byte types are converted to native byte order. Raises DataError for a wrong
    magic number, an unknown type, a header that disagrees with the file size, and a
    truncated or corrupt gzip stream.
    """
    path = Path(path)
    with _Reading(path) as f:
        head = _read_exact(f, 4)
        if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in IDX_TYPES:
            raise DataError(
                f"{path}: expected an IDX file (magic bytes 00 00 <type> <ndim>, type one of "
                f"{', '.join(f'{t:02x}' for t in IDX_TYPES)}), found {head.hex(' ') or 'nothing'}"
            )
        dtype = IDX_TYPES[head[2]]
        ndim = head[3]
        dims_raw = _read_exact(f, 4 * ndim)
        if len(dims_raw) < 4 * ndim:
            raise DataError(
                f"{path}: expected a header of {4 + 4 * ndim} bytes for {ndim} dimensions, "
                f"found the file ends after {4 + len(dims_raw)} bytes"
            )
        dims = tuple(int(d) for d in np.frombuffer(dims_raw, dtype=">u4"))
        n_bytes = int(np.prod(dims, dtype=object)) * dtype.itemsize
        header = 4 + 4 * ndim
        shape_text = "x".join(str(d) for d in dims)
        file_size = path.stat().st_size
        compressed = isinstance(f, gzip.GzipFile)
        if not compressed and header + n_bytes != file_size:
            raise DataError(
                f"{path}: header says {shape_text} {dtype.name} values, so expected "
                f"{header + n_bytes:,} bytes, found a file of {file_size:,} bytes"
            )
        if compressed and n_bytes > MAX_DEFLATE_RATIO * file_size + _CHUNK:
            raise DataError(
                f"{path}: header says {shape_text} {dtype.name} values ({n_bytes:,} bytes), "
                f"found a gzip file of only {file_size:,} bytes that cannot hold that much"
            )
        out = np.empty(dims, dtype=dtype)
        got = _readinto_full(f, out)
        if got < n_bytes:
            raise DataError(
                f"{path}: header says {shape_text} {dtype.name} values, so expected "
                f"{n_bytes:,} data bytes, found only {got:,}"
            )
        extra = _read_exact(f, _CHUNK)
        if extra:
            more = len(extra)
            while chunk := _read_exact(f, _CHUNK):
                more += len(chunk)
            raise DataError(
                f"{path}: header says {shape_text} {dtype.name} values, so expected "
                f"{n_bytes:,} data bytes, found {more:,} bytes more than that"
            )
    if dtype.byteorder == ">":
        out = out.astype(dtype.newbyteorder("="))
    return out


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


def check_labels(labels: np.ndarray, source: object) -> None:
    """Raise DataError naming ``source`` unless every label is an integer in 0..9."""
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        i = int(np.flatnonzero((labels < 0) | (labels >= N_CLASSES))[0])
        raise DataError(
            f"{source}: expected labels 0..9, found {labels[i]} at index {i} "
            f"({int(np.count_nonzero((labels < 0) | (labels >= N_CLASSES)))} bad in all)"
        )


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, compress: bool = False) -> None:
    """Write ``array`` as an IDX file (gzip when ``compress``), atomically."""
    from ownnet.atomic import atomic_open

    dtype = np.dtype(array.dtype).newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    codes = {v.str.lstrip("<>|="): k for k, v in IDX_TYPES.items()}
    code = codes[dtype.str.lstrip("<>|=")]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = np.ascontiguousarray(array, dtype=dtype).tobytes()
    with atomic_open(path) as f:
        if compress:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
                g.write(header + data)
        else:
            f.write(header + data)


# ---------------------------------------------------------------- CSV

_BLOCK = 1 << 20  # bytes of CSV text parsed at once


def _csv_blocks(f: BinaryIO) -> Iterator[list[bytes]]:
    """Yield lists of complete lines (without their newlines), about 1 MB at a time."""
    rest = b""
    while True:
        block = _read_exact(f, _BLOCK)
        if not block:
            break
        block = rest + block
        cut = block.rfind(b"\n")
        if cut < 0:
            rest = block
            continue
        rest = block[cut + 1 :]
        yield block[:cut].split(b"\n")
    if rest:
        yield [rest]


def _count_lines(path: Path) -> int:
    n = 0
    last = b"\n"
    with _Reading(path) as f:
        while chunk := _read_exact(f, _CHUNK):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _is_header(line: bytes) -> bool:
    return any(chr(c).isalpha() for c in line[:200])


def read_csv(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read the book's CSV: ``label,p1,...,p784`` per line, pixels 0..255.

    Returns ``(images (n, 28, 28) uint8, labels (n,) uint8)``. A wrong number of fields,
    a field that is not an integer, a label outside 0..9 or a pixel outside 0..255 raises
    DataError with the line number (1-based, counting every line of the file).
    """
    path = Path(path)
    n_max = _count_lines(path)
    images = np.empty((n_max, N_PIXELS), dtype=np.uint8)
    labels = np.empty(n_max, dtype=np.uint8)
    n = 0
    line_no = 0  # lines of the file before the current block
    with _Reading(path) as f:
        for lines in _csv_blocks(f):
            numbers, rows = _parse_lines(path, lines, first_line=line_no + 1)
            line_no += len(lines)
            k = len(numbers)
            labels[n : n + k] = numbers[:, 0]
            images[n : n + k] = numbers[:, 1:]
            n += k
    if n == 0:
        raise DataError(f"{path}: expected lines of label,784 pixels, found no samples")
    return images[:n].reshape(n, *IMAGE_SHAPE), labels[:n]


def _parse_lines(path: Path, lines: list[bytes], first_line: int) -> tuple[np.ndarray, list[int]]:
    """Parse ``lines`` (line numbers from ``first_line``) into ``(k, 785)`` int64 values."""
    line_nos = list(range(first_line, first_line + len(lines)))
    keep = [
        i
        for i, line in enumerate(lines)
        if line.strip() and not (first_line + i == 1 and _is_header(line))
    ]
    if len(keep) != len(lines):
        lines = [lines[i] for i in keep]
        line_nos = [line_nos[i] for i in keep]
    if not lines:
        return np.empty((0, N_PIXELS + 1), dtype=np.int64), []
    fields = N_PIXELS + 1
    counts = np.fromiter((line.count(b",") for line in lines), dtype=np.int64, count=len(lines))
    wrong = np.flatnonzero(counts != fields - 1)
    if wrong.size:
        i = int(wrong[0])
        raise DataError(
            f"{path}, line {line_nos[i]}: expected {fields} comma-separated fields "
            f"(label and {N_PIXELS} pixels), found {counts[i] + 1}"
        )
    text = b",".join(lines)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values = np.fromstring(text, dtype=np.int64, sep=",")
    except (ValueError, DeprecationWarning):
        values = None
    if values is None or values.size != fields * len(lines):
        _find_bad_field(path, lines, line_nos)
        # every field parses one by one (fromstring disliked something harmless)
        values = np.array([[int(v) for v in line.split(b",")] for line in lines], dtype=np.int64)
    values = values.reshape(len(lines), fields)
    bad_label = (values[:, 0] < 0) | (values[:, 0] >= N_CLASSES)
    bad_pixel = (values[:, 1:] < 0) | (values[:, 1:] > 255)
    if bad_label.any() or bad_pixel.any():
        row_l = int(np.argmax(bad_label)) if bad_label.any() else len(lines)
        rows_p = np.flatnonzero(bad_pixel.any(axis=1))
        row_p = int(rows_p[0]) if rows_p.size else len(lines)
        if row_l <= row_p:
            raise DataError(
                f"{path}, line {line_nos[row_l]}: expected a label 0..9 in field 1, "
                f"found {values[row_l, 0]}"
            )
        col = int(np.argmax(bad_pixel[row_p]))
        raise DataError(
            f"{path}, line {line_nos[row_p]}: expected pixel values 0..255, found "
            f"{values[row_p, col + 1]} in field {col + 2} (pixel {col + 1})"
        )
    return values, line_nos


def _find_bad_field(path: Path, lines: list[bytes], line_nos: list[int]) -> None:
    """Raise DataError for the first field that is not an integer."""
    for line, no in zip(lines, line_nos, strict=True):
        for j, field in enumerate(line.split(b",")):
            try:
                int(field)
            except ValueError:
                shown = field.decode("ascii", "replace")[:20]
                raise DataError(
                    f"{path}, line {no}: expected an integer in field {j + 1}, found {shown!r}"
                ) from None


def write_csv(path: str | os.PathLike[str], images: np.ndarray, labels: np.ndarray) -> None:
    """Write images ``(n, 28, 28)`` and labels ``(n,)`` in the book's CSV format, atomically."""
    from ownnet.atomic import atomic_open

    table = np.column_stack([labels.reshape(-1), images.reshape(len(labels), -1)])
    buf = io.StringIO()
    np.savetxt(buf, table, fmt="%d", delimiter=",")
    with atomic_open(path) as f:
        f.write(buf.getvalue().encode("ascii"))


# ---------------------------------------------------------------- npz

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_npz(path: str | os.PathLike[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read Keras' ``mnist.npz``: ``{"train": (images, labels), "test": (images, labels)}``.

    Images come back uint8 ``(n, 28, 28)`` (``(n, 784)`` is reshaped), labels uint8 ``(n,)``.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise DataError(f"{path}: expected an npz archive, found a single .npy array")
            missing = [k for k in NPZ_KEYS if k not in z.files]
            if missing:
                raise DataError(
                    f"{path}: expected arrays {', '.join(NPZ_KEYS)}, "
                    f"found {', '.join(z.files) or 'none'} (missing {', '.join(missing)})"
                )
            out = {}
            for split in ("train", "test"):
                x = _npz_images(path, f"x_{split}", z[f"x_{split}"])
                y = _npz_labels(path, f"y_{split}", z[f"y_{split}"])
                if len(x) != len(y):
                    raise DataError(
                        f"{path}: expected as many labels as images in the {split} set, "
                        f"found {len(x)} images (x_{split}) and {len(y)} labels (y_{split})"
                    )
                out[split] = (x, y)
            return out
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: expected a valid npz (zip) archive, found: {exc}") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: expected an npz of plain arrays, found: {exc}") from None


def _npz_images(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    if x.ndim == 2 and x.shape[1] == N_PIXELS:
        x = x.reshape(len(x), *IMAGE_SHAPE)
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{path}: expected {key} of shape (n, 28, 28), found {x.shape}")
    if x.dtype != np.uint8:
        if x.dtype.kind not in "iu":
            raise DataError(f"{path}: expected {key} as integers 0..255, found {x.dtype.name}")
        if x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(
                f"{path}: expected {key} pixel values 0..255, found {x.min()}..{x.max()}"
            )
        x = x.astype(np.uint8)
    return x


def _npz_labels(path: Path, key: str, y: np.ndarray) -> np.ndarray:
    if y.ndim != 1:
        raise DataError(f"{path}: expected {key} of shape (n,), found {y.shape}")
    if y.dtype.kind not in "iu":
        raise DataError(f"{path}: expected {key} as integers 0..9, found {y.dtype.name}")
    check_labels(y, f"{path} ({key})")
    return y.astype(np.uint8, copy=False)
