"""The rules every reader of a data or model file follows before it trusts a byte.

A file may come from anywhere, so a reader

- opens only regular files: a FIFO, a device or a directory given as a data or model
  path is refused at once (opening a FIFO for reading would wait forever for a writer);
- checks every size a file declares (IDX dimensions, ``.npy`` headers, zip member sizes)
  against what the file can hold and against :func:`max_bytes` *before* it allocates
  memory for it; and where only decompressing can tell whether the claim is true, grows
  its buffer with the data that arrives (:func:`read_at_most`) instead.

The size limit is on the decoded data of one file (or, for an npz archive, of the
members read from it): 2 GiB unless the environment variable ``OWNNET_MAX_BYTES`` says
otherwise (bytes, or with a unit: ``OWNNET_MAX_BYTES=8GiB``). All of MNIST's training
images are 47 MB.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ownnet.errors import DataError, OwnnetError

MAX_BYTES_ENV = "OWNNET_MAX_BYTES"
#: deflate never compresses better than about 1032:1, so a gzip file or a deflated zip
#: member that declares more than this many bytes per compressed byte is corrupt.
MAX_DEFLATE_RATIO = 1100
DEFAULT_MAX_BYTES = 2 * 2**30
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_UNITS |= {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}


def max_bytes() -> int:
    """The most bytes of decoded data one file may hold: ``$OWNNET_MAX_BYTES`` or 2 GiB.

    Raises :class:`~ownnet.errors.DataError` when the variable is set to something that is
    not a size (``"3000000000"``, ``"3GB"``, ``"2.5GiB"`` are sizes).
    """
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    m = re.fullmatch(r"(\d{1,20}(?:\.\d{1,9})?)\s*([a-zA-Z]*)", text)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS:
        raise DataError(
            f"${MAX_BYTES_ENV}: expected a size in bytes such as 3000000000 or 3GiB, found {text!r}"
        )
    return int(float(m.group(1)) * _UNITS[unit])


def size_text(n: int) -> str:
    """``n`` bytes for a message: ``"47,040,000 bytes"`` or ``"3.5 TiB"`` for big ones."""
    if n < 10 * 2**20:
        return f"{n:,} bytes"
    if n >= 2**60:
        return f"{n:.2e} bytes"
    for unit, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} bytes"  # pragma: no cover - the loop always returns


def check_size(
    source: object, n_bytes: int, what: str, error: type[OwnnetError] = DataError
) -> None:
    """Raise ``error`` naming ``source`` when ``n_bytes`` of ``what`` exceed :func:`max_bytes`.

    Called with the size a file *declares*, before anything is allocated for it.
    """
    limit = max_bytes()
    if n_bytes > limit:
        raise error(
            f"{source}: {what} would take {size_text(n_bytes)}, more than the limit of "
            f"{size_text(limit)} for one file; set {MAX_BYTES_ENV} (e.g. "
            f"{MAX_BYTES_ENV}=16GiB) to raise it"
        )


def fill(f: BinaryIO, out: np.ndarray, chunk: int = 1 << 20) -> int:
    """Fill the bytes of ``out`` from ``f`` a chunk at a time; returns the bytes read."""
    view = memoryview(out.reshape(-1).view(np.uint8))
    pos = 0
    while pos < len(view):
        n = f.readinto(view[pos : pos + chunk])  # type: ignore[attr-defined]
        if not n:
            break
        pos += n
    return pos


def read_at_most(f: BinaryIO, n_bytes: int, chunk: int = 1 << 20) -> bytearray:
    """Up to ``n_bytes`` of ``f``, in a buffer that grows only as data really arrives.

    For compressed data, whose size a header only claims: memory follows what the stream
    delivers (about 1.1 times it, as a bytearray grows in place), never the claim.
    ``np.frombuffer`` turns the result into a writable array without a copy.
    """
    out = bytearray()
    while len(out) < n_bytes:
        data = f.read(min(chunk, n_bytes - len(out)))
        if not data:
            break
        out += data
    return out


def open_regular(
    path: str | os.PathLike[str], error: type[OwnnetError] = DataError, what: str = "file"
) -> BinaryIO:
    """Open ``path`` for reading bytes if it is a regular file; else raise ``error``.

    The file is opened without blocking and checked with ``fstat`` on the open descriptor,
    so a FIFO is refused at once and nothing can swap the file between check and read.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{path}: expected a {what}, found a directory") from None
    except OSError as exc:
        raise error(f"{path}: cannot open: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{path}: expected a regular {what}, found {_kind(mode)}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((text for test, text in kinds if test(mode)), "not a regular file")
