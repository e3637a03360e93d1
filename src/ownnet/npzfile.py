"""Bounded reading of npz archives: NumPy's zip of ``.npy`` arrays, from anyone.

``np.load`` trusts what a file says: a ``.npy`` header that claims terabytes makes it
allocate terabytes, an encrypted or bzip2 member gives a ``RuntimeError`` or a
``NotImplementedError``, a damaged header a ``tokenize.TokenError``. :class:`NpzArchive`
reads the same files and checks every size first:

- the zip's central directory is at most :data:`MAX_DIRECTORY` bytes (zipfile builds a
  Python object per entry);
- a member is stored or deflated (what ``np.savez`` and ``np.savez_compressed`` write),
  not encrypted, and declares no more bytes than its compressed size can hold;
- its ``.npy`` header (read by :mod:`ownnet.npyheader`: at most 10,000 bytes, parsed
  with :func:`ast.literal_eval`) gives a plain number dtype (bool, integer, float or
  complex, never ``object``) and a shape whose size is exactly what the member declares,
  and within :func:`ownnet.inputfile.max_bytes`;

and only then reads it, 1 MB at a time: a stored member straight into its array (the
archive holds its bytes), a deflated one into a buffer that grows as the data arrives (a
claim that deflate could hold but the data does not bear out costs nothing). Only the
members asked for are read. Every problem raises the error class the caller passes
(``DataError`` for datasets, ``ModelFileError`` for model files) with one line naming the
file and member.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ownnet.errors import DataError, OwnnetError
from ownnet.inputfile import (
    MAX_DEFLATE_RATIO,
    check_size,
    fill,
    max_bytes,
    open_regular,
    read_at_most,
    size_text,
)
from ownnet.npyheader import read_npy_header

MAX_DIRECTORY = 1 << 20  # bytes of zip central directory: thousands of members
_CHUNK = 1 << 20
_SUPPORTED = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
#: Errors the zipfile and zlib modules raise for damaged archives.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    struct.error,
)


@dataclass(frozen=True)
class Member:
    """One array of an archive as its headers describe it (nothing of its data read)."""

    name: str  #: the key, ``"x_train"``
    filename: str  #: the zip member, ``"x_train.npy"``
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    n_bytes: int  #: bytes of array data: ``prod(shape) * dtype.itemsize``
    stored: bool  #: stored as is in the archive (else deflated)


class NpzArchive:
    """An npz file opened for bounded reading; use it in a ``with`` block.

    ``error`` is the exception class raised for every problem (a subclass of
    :class:`~ownnet.errors.OwnnetError`), ``what`` names the kind of file in messages.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        error: type[OwnnetError] = DataError,
        what: str = "npz archive",
    ) -> None:
        self.path = Path(path)
        self.error = error
        self.what = what
        self._read_bytes = 0
        self._file = open_regular(self.path, error, what)
        try:
            size = os.fstat(self._file.fileno()).st_size
            self._check_directory(size)
            self._zip = zipfile.ZipFile(self._file)
            self._size = size
            infos = [i for i in self._zip.infolist() if not i.filename.endswith("/")]
        except OwnnetError:
            self._file.close()
            raise
        except _ZIP_ERRORS as exc:
            self._file.close()
            why = "" if isinstance(exc, NotImplementedError) else " (truncated or foreign?)"
            raise self._fail(
                f"expected {_a(what)} (a zip archive), found {_reason(exc)}{why}"
            ) from None
        self._infos = {i.filename: i for i in infos}

    # -------------------------------------------------------------- listing

    @property
    def filenames(self) -> list[str]:
        """Every member's file name, in archive order."""
        return list(self._infos)

    @property
    def names(self) -> list[str]:
        """The keys of the ``.npy`` members (``"x_train"`` for ``x_train.npy``)."""
        return [f.removesuffix(".npy") for f in self._infos if f.endswith(".npy")]

    def __contains__(self, name: str) -> bool:
        return f"{name}.npy" in self._infos

    def member(self, name: str) -> Member:
        """What member ``name`` holds, from its zip entry and ``.npy`` header only."""
        stream, member = self._open(name)
        stream.close()
        return member

    # -------------------------------------------------------------- reading

    def read(self, name: str) -> np.ndarray:
        """The array stored under ``name``, after every check; its shape and dtype are the
        header's (Fortran-ordered arrays come back as NumPy would give them)."""
        stream, m = self._open(name)
        try:
            total = self._read_bytes + m.n_bytes
            check_size(self.path, total, f"the arrays read from this {self.what}", self.error)
            if m.stored:  # the archive holds these bytes: read straight into the array
                out = np.empty(math.prod(m.shape), dtype=m.dtype)
                got = fill(stream, out)
            else:  # deflated: memory follows the data that really comes, not the claim
                data = read_at_most(stream, m.n_bytes, _CHUNK)
                got = len(data)
                out = np.frombuffer(data, dtype=m.dtype, count=got // m.dtype.itemsize)
            if got < m.n_bytes:
                raise self._fail(
                    f"{m.filename}: header says {_shape(m.shape)} {m.dtype.name} values, so "
                    f"expected {m.n_bytes:,} data bytes, found only {got:,}"
                )
            stream.read(1)  # reach the end: zipfile checks the CRC there
        except OwnnetError:
            raise
        except _ZIP_ERRORS as exc:
            raise self._fail(
                f"{m.filename}: expected intact member data, found {_reason(exc)}"
            ) from None
        finally:
            stream.close()
        self._read_bytes = total
        if m.fortran_order:
            return out.reshape(m.shape[::-1]).transpose()
        return out.reshape(m.shape)

    def close(self) -> None:
        """Close the archive and its file."""
        self._zip.close()
        self._file.close()

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- checks

    def _fail(self, text: str) -> OwnnetError:
        return self.error(f"{self.path}: {text}")

    def _check_directory(self, size: int) -> None:
        """Refuse a central directory over MAX_DIRECTORY before zipfile reads it."""
        self._file.seek(max(0, size - (22 + 65535 + 20 + 56)))
        tail = self._file.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            kind = "an empty file" if size == 0 else "no zip directory at its end"
            raise self._fail(
                f"expected {_a(self.what)} (a zip archive), found {kind} (truncated or foreign?)"
            )
        entries, cd_size = struct.unpack("<10xHL6x", tail[at : at + 22])
        zip64 = tail[at - 76 : at - 20] if at >= 76 else b""  # record, then its locator
        if zip64[:4] == b"PK\x06\x06" and tail[at - 20 : at - 16] == b"PK\x06\x07":
            entries, cd_size = struct.unpack("<32xQQ8x", zip64)
        if cd_size > MAX_DIRECTORY:
            raise self._fail(
                f"expected a zip directory of at most {MAX_DIRECTORY:,} bytes, "
                f"found one of {cd_size:,} bytes ({entries:,} members)"
            )

    def _open(self, name: str) -> tuple[IO[bytes], Member]:
        """Open member ``name`` after checking its zip entry; read and check its header.

        Returns the stream positioned at the array data, and the member's description.
        """
        filename = f"{name}.npy"
        info = self._infos.get(filename)
        if info is None:
            raise self._fail(f"expected a member {filename}, found {listing(self.filenames)}")
        self._check_entry(info)
        try:
            stream = self._zip.open(info)
        except _ZIP_ERRORS as exc:
            raise self._fail(f"{filename}: cannot open: {_reason(exc)}") from None
        try:
            shape, dtype, fortran, header = read_npy_header(stream, self._fail, filename)
        except OwnnetError:
            stream.close()
            raise
        except _ZIP_ERRORS as exc:
            stream.close()
            raise self._fail(
                f"{filename}: expected intact member data, found {_reason(exc)}"
            ) from None
        except BaseException:
            stream.close()
            raise
        span = math.prod(max(d, 1) for d in shape) * dtype.itemsize
        n_bytes = math.prod(shape) * dtype.itemsize
        if span > max(max_bytes(), n_bytes):
            stream.close()
            raise self._fail(f"{filename}: expected a shape that fits in memory, found {shape}")
        if header + n_bytes != info.file_size:
            stream.close()
            raise self._fail(
                f"{filename}: header says {_shape(shape)} {dtype.name} values, so expected "
                f"{header + n_bytes:,} bytes in the member, found {info.file_size:,}"
            )
        stored = info.compress_type == zipfile.ZIP_STORED
        return stream, Member(name, filename, shape, dtype, fortran, n_bytes, stored)

    def _check_entry(self, info: zipfile.ZipInfo) -> None:
        """Refuse what zipfile cannot read or what could not hold the size it declares."""
        name = info.filename
        if info.flag_bits & 0x1:
            raise self._fail(f"{name}: expected an unencrypted member, found an encrypted one")
        if info.compress_type not in _SUPPORTED:
            method = zipfile.compressor_names.get(info.compress_type, "unknown")
            raise self._fail(
                f"{name}: expected a stored or deflated member (as NumPy writes), found "
                f"compression method {info.compress_type} ({method})"
            )
        if info.extract_version > zipfile.MAX_EXTRACT_VERSION:
            raise self._fail(
                f"{name}: expected a member needing zip version {zipfile.MAX_EXTRACT_VERSION / 10}"
                f" at most, found version {info.extract_version / 10}"
            )
        if info.header_offset + 30 + info.compress_size > self._size:
            raise self._fail(
                f"{name}: expected {info.compress_size:,} bytes of data at offset "
                f"{info.header_offset:,}, found a file of only {self._size:,} bytes (truncated?)"
            )
        stored = info.compress_type == zipfile.ZIP_STORED
        bound = info.compress_size if stored else MAX_DEFLATE_RATIO * info.compress_size + 1024
        if info.file_size > bound:
            raise self._fail(
                f"{name}: declares {size_text(info.file_size)} of data in "
                f"{info.compress_size:,} {_SUPPORTED[info.compress_type]} bytes, which "
                f"cannot hold that much"
            )
        check_size(self.path, info.file_size, f"member {name}", self.error)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "scalar"


def listing(names: list[str], most: int = 8) -> str:
    """``names`` for a message: ``"a, b, c"``, the first ``most`` of them and how many in all."""
    if not names:
        return "none"
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown}, ... ({len(names):,} in all)"


def _a(what: str) -> str:
    """``what`` with its article: "an npz archive", "a model file"."""
    return f"{'an' if what[0] in 'aeinou' else 'a'} {what}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
