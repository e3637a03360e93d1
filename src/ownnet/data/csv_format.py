"""The book's CSV files (plain or gzip): one sample a line, ``label,p1,...,p784``.

The text is read about 1 MB at a time and parsed with ``np.fromstring`` when it is plain
digits and commas, field by field otherwise (``np.fromstring`` would read a field of only
blanks or a sign as 0), which also says which field is wrong. Memory grows with the
samples parsed, never with what the text merely looks like: a file of a million blank
lines, or of lines of commas, costs nothing.

What is accepted: a UTF-8 byte-order mark at the start; a header line, only as the first
line and only when it is one (its first field is ``label`` and no other field is a
number, as in Kaggle's ``label,pixel0,...`` and ``label,1x1,...``); blank lines; CRLF
line ends; blanks around fields. A field is an integer in plain decimal digits with an
optional sign: ``1e2``, ``1_0``, ``0x10`` or ``3.0`` are errors, as is anything else that
is not a sample, with its line number.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ownnet.atomic import atomic_open
from ownnet.data.layout import IMAGE_SHAPE, N_CLASSES, N_PIXELS
from ownnet.data.streams import Reading, read_exact
from ownnet.errors import DataError
from ownnet.inputfile import check_size, max_bytes

_BLOCK = 1 << 20  # bytes of CSV text parsed at once
MAX_LINE = 1 << 20  # a sample line is 1,569 to about 4,000 bytes
FIELDS = N_PIXELS + 1
BOM = b"\xef\xbb\xbf"
_INTEGER = re.compile(rb"\s*[+-]?\s*[0-9]+\s*")
#: What np.fromstring skips or reads as a sign; a field of only these it reads as 0.
_BLANKS = b" \t\r\n\x0b\x0c"
_ODD = (b" ", b"\t", b"\x0b", b"\x0c", b"+", b"-", b",\r")


def read_csv(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read the book's CSV: ``label,p1,...,p784`` per line, pixels 0..255.

    Returns ``(images (n, 28, 28) uint8, labels (n,) uint8)``. A wrong number of fields,
    a field that is not an integer, a label outside 0..9 or a pixel outside 0..255 raises
    DataError with the line number (1-based, counting every line of the file).
    """
    path = Path(path)
    limit = max_bytes()
    images, labels = bytearray(), bytearray()  # grow with the samples parsed
    with Reading(path) as f:
        for first, block in _blocks(path, f):
            values = _parse_lines(path, block, first).astype(np.uint8)
            labels += values[:, 0].tobytes()
            images += values[:, 1:].tobytes()
            if len(images) + len(labels) > limit:
                check_size(path, len(images) + len(labels), f"its first {len(labels):,} samples")
    n = len(labels)
    if n == 0:
        raise DataError(f"{path}: expected lines of label,784 pixels, found no samples")
    return np.frombuffer(images, np.uint8).reshape(n, *IMAGE_SHAPE), np.frombuffer(labels, np.uint8)


def _blocks(path: Path, f: BinaryIO) -> Iterator[tuple[int, list[bytes]]]:
    """Yield ``(line number of the first, lines)`` for the text's lines (without their
    newlines), about 1 MB at a time; blocks of blank lines are only counted."""
    rest = b""
    line_no = 1
    start = True
    while block := read_exact(f, _BLOCK):
        if start:
            block = block.removeprefix(BOM)
            start = False
        block = rest + block
        cut = block.rfind(b"\n")
        if cut < 0:
            if len(block) > MAX_LINE:
                raise DataError(
                    f"{path}, line {line_no}: expected a line of at most {MAX_LINE:,} bytes, "
                    f"found a longer one"
                )
            rest = block
            continue
        rest = block[cut + 1 :]
        text = block[:cut]
        if text.strip():
            lines = text.split(b"\n")
            yield line_no, lines
            line_no += len(lines)
        else:
            line_no += text.count(b"\n") + 1
    if rest.strip():
        yield line_no, [rest]


def _is_header(line: bytes) -> bool:
    """Whether ``line`` is a CSV header: ``label`` first, and no number among the rest."""
    fields = [field.strip().strip(b"\"'").lower() for field in line.split(b",")]
    return fields[0] == b"label" and all(f and not _INTEGER.fullmatch(f) for f in fields[1:])


def _parse_lines(path: Path, lines: list[bytes], first_line: int) -> np.ndarray:
    """Parse ``lines`` (numbered from ``first_line``) into ``(k, 785)`` int64 values."""
    line_nos = range(first_line, first_line + len(lines))
    keep = [
        i
        for i, line in enumerate(lines)
        if line.strip() and not (line_nos[i] == 1 and _is_header(line))
    ]
    if not keep:
        return np.empty((0, FIELDS), dtype=np.int64)
    lines = [lines[i] for i in keep]
    numbers = [line_nos[i] for i in keep]
    counts = np.fromiter((line.count(b",") for line in lines), dtype=np.int64, count=len(lines))
    wrong = np.flatnonzero(counts != FIELDS - 1)
    if wrong.size:
        i = int(wrong[0])
        raise DataError(
            f"{path}, line {numbers[i]}: expected {FIELDS} comma-separated fields "
            f"(label and {N_PIXELS} pixels), found {counts[i] + 1}"
        )
    text = b",".join(lines)
    values = None
    if not any(odd in text for odd in _ODD) and not text.startswith(b"\r"):
        try:  # the plain case: digits and commas (and CRs at line ends) only
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                values = np.fromstring(text, dtype=np.int64, sep=",")
        except (ValueError, DeprecationWarning):
            values = None
    if values is None or values.size != FIELDS * len(lines):
        values = _parse_strict(path, lines, numbers)
    values = values.reshape(len(lines), FIELDS)
    bad_label = (values[:, 0] < 0) | (values[:, 0] >= N_CLASSES)
    bad_pixel = (values[:, 1:] < 0) | (values[:, 1:] > 255)
    if bad_label.any() or bad_pixel.any():
        row_l = int(np.argmax(bad_label)) if bad_label.any() else len(lines)
        rows_p = np.flatnonzero(bad_pixel.any(axis=1))
        row_p = int(rows_p[0]) if rows_p.size else len(lines)
        row = min(row_l, row_p)
        col = 0 if row_l <= row_p else int(np.argmax(bad_pixel[row_p])) + 1
        found = _field_text(lines[row].split(b",")[col])
        if col == 0:
            raise DataError(
                f"{path}, line {numbers[row]}: expected a label 0..9 in field 1, found {found}"
            )
        raise DataError(
            f"{path}, line {numbers[row]}: expected pixel values 0..255, found {found} "
            f"in field {col + 1} (pixel {col})"
        )
    return values


def _parse_strict(path: Path, lines: list[bytes], numbers: list[int]) -> np.ndarray:
    """Parse field by field, each a plain decimal integer, else DataError naming it.

    The slow way, for blocks ``np.fromstring`` did not parse or might misread (it reads a
    field of only blanks or a sign as 0). Values are clipped to -1..256, enough for the
    range checks, which quote the field as written."""
    rows = []
    for line, no in zip(lines, numbers, strict=True):
        row = []
        for j, field in enumerate(line.split(b",")):
            if not _INTEGER.fullmatch(field):
                raise DataError(
                    f"{path}, line {no}: expected an integer in field {j + 1}, "
                    f"found {_field_text(field)!r}"
                )
            row.append(min(max(int(field.translate(None, _BLANKS)), -1), 256))
        rows.append(row)
    return np.array(rows, dtype=np.int64)


def _field_text(field: bytes) -> str:
    text = field.strip().decode("ascii", "replace")
    return text if len(text) <= 24 else text[:21] + "..."


def write_csv(path: str | os.PathLike[str], images: np.ndarray, labels: np.ndarray) -> None:
    """Write images ``(n, 28, 28)`` (or ``(n, 784)``) and labels ``(n,)`` in the book's
    CSV format, atomically."""

    images, labels = np.asarray(images), np.asarray(labels)
    n = len(labels) if labels.ndim == 1 else -1
    if n < 0 or images.shape not in ((n, *IMAGE_SHAPE), (n, N_PIXELS)):
        raise DataError(
            f"{path}: expected images (n, 28, 28) and labels (n,), found images of shape "
            f"{images.shape} and labels of shape {labels.shape}"
        )
    for what, arr, top in (("labels", labels, N_CLASSES - 1), ("pixels", images, 255)):
        if arr.dtype.kind not in "iu" and arr.size:
            raise DataError(f"{path}: expected {what} as integers 0..{top}, found {arr.dtype.name}")
        if arr.size and (arr.min() < 0 or arr.max() > top):
            raise DataError(
                f"{path}: expected {what} as integers 0..{top}, found {arr.min()}..{arr.max()}"
            )
    table = np.column_stack([labels, images.reshape(n, -1)])
    buf = io.StringIO()
    np.savetxt(buf, table, fmt="%d", delimiter=",")
    with atomic_open(path) as f:
        f.write(buf.getvalue().encode("ascii"))
