"""Data files as byte streams: regular files only, gzip detected by content, every
decompression error turned into a :class:`~ownnet.errors.DataError` naming the file."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import BinaryIO

from ownnet.errors import DataError
from ownnet.inputfile import open_regular

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20


class Reading:
    """Context manager: ``with Reading(path) as f`` gives the file's bytes, decompressed
    when it is a gzip file, and turns decompression errors into DataError.

    ``gzip`` tells whether it was; ``file_size`` is the size of the file on disk.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.raw: BinaryIO | None = None
        self.file: BinaryIO | None = None
        self.gzip = False
        self.file_size = 0

    def __enter__(self) -> BinaryIO:
        raw = self.raw = open_regular(self.path, DataError, "file")
        try:
            self.file_size = os.fstat(raw.fileno()).st_size
            self.gzip = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
        except OSError as exc:
            raw.close()
            raise DataError(f"{self.path}: cannot read: {exc}") from None
        self.file = gzip.GzipFile(fileobj=raw, mode="rb") if self.gzip else raw  # type: ignore[assignment]
        assert self.file is not None
        return self.file

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> None:
        assert self.file is not None and self.raw is not None
        self.file.close()
        self.raw.close()
        if exc is None or isinstance(exc, DataError):
            return
        if isinstance(exc, EOFError):
            raise DataError(
                f"{self.path}: expected a complete gzip stream, found it ends before its "
                f"end-of-stream marker (truncated gzip file? {self.file_size:,} bytes)"
            ) from None
        if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
            raise DataError(f"{self.path}: expected valid gzip data, found: {exc}") from None
        if isinstance(exc, OSError):
            raise DataError(f"{self.path}: cannot read: {exc}") from None


def read_exact(f: BinaryIO, n: int) -> bytes:
    """Up to ``n`` bytes of ``f`` (fewer only at its end)."""
    data = f.read(n)
    return data if data is not None else b""


def count_rest(f: BinaryIO, cap: int = 64 * CHUNK) -> int:
    """Read ``f`` to its end, or until ``cap`` bytes; returns how many bytes it read."""
    n = 0
    while n < cap and (chunk := read_exact(f, CHUNK)):
        n += len(chunk)
    return n
