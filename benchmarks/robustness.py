"""Robustness probe: many malformed and hostile inputs at each of ownnet's input boundaries.

For each class of input it prints one JSON line: how many inputs were tried and what
became of them, with the peak memory (``ru_maxrss``) of the worst single input::

    clean_error    the boundary's own answer: an OwnnetError (DataError, ModelFileError)
                   with a one-line message; HTTP 4xx or the web inputs' InputError (4xx);
                   for the command line, exit status 1 or 2 and no traceback
    accepted       read (the model then predicts on two blank images), HTTP 2xx, exit 0
    unclear_error  the boundary's own error type, but an empty or multi-line message
    traceback      any other exception; for the command line a traceback in stderr or an
                   exit status other than 0, 1, 2 (70 is ownnet's "unexpected error")
    hang           no answer within the timeout
    http_5xx       the web API answered 5xx
    long_run       the command line, given a huge count (epochs, repeats), kept printing
                   progress at the check time: it was doing what it was asked, so it
                   was stopped there and not counted as a hang

Classes: ``idx`` (IDX files, gzip and plain, also through ``load_mnist``), ``csv`` (the
book's CSV), ``npz`` (Keras-style data npz, ``.npy`` renamed), ``model`` (model files of
every kind, ``ownnet.load``), ``image`` (``ownnet.web.inputs.image_from_bytes``),
``image_cli`` (``ownnet predict MODEL FILE...``), ``web`` (``POST /api/predict`` and
``/api/inside`` through FastAPI's TestClient), ``cli`` (numeric options of ``ownnet
train/test/predict/sweep/serve``, and damaged model files given to ``test``/``predict``).

Every input is drawn from ``numpy.random.default_rng([seed, class, i])``, so input ``i``
of a class is the same in every run. Each class runs in a worker process of its own; the
worker says which input it starts, so an input that hangs (or kills the worker) is
charged to that input and the worker is started again after it. A worker's peak RSS
rises only on the input that needs more memory than all before it, so the class's peak
is the worst single input's (named in ``worst_input``). Workers run under an address
space limit (``--mem-limit-mb``). For every traceback, hang or 5xx the smallest input of
each distinct failure (exception type and place) is saved in ``--repro-dir`` with a
``.txt`` note on how to replay it.

    OMP_NUM_THREADS=1 OWNNET_DATA=path/to/mnist python benchmarks/robustness.py
    python benchmarks/robustness.py --quick --classes idx,web      # about a minute
    python benchmarks/robustness.py --count 5000 --classes model   # a longer run
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import io
import json
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CLASSES = ("idx", "csv", "npz", "model", "image", "image_cli", "web", "cli")
#: a class's inputs per --count (the command line ones cost a process each)
SHARE = {"image_cli": 0.15, "cli": 0.25}
#: seconds the parent waits for one input before calling it a hang
TIMEOUT = {"image_cli": 900.0, "cli": 900.0}
IN_PROCESS_TIMEOUT = 30.0
CLI_TIMEOUT = 60.0  # one command line run
OUTCOMES = (
    "clean_error",
    "accepted",
    "unclear_error",
    "traceback",
    "hang",
    "http_5xx",
    "long_run",
)
BAD = ("traceback", "hang", "http_5xx", "unclear_error")
#: outcomes only one class can have
OUTCOME_CLASSES = {"http_5xx": "web", "long_run": "cli"}


@dataclass
class Case:
    """One input: ``data`` (file bytes, request body), a ``kind`` naming how it was made."""

    kind: str
    data: bytes = b""
    suffix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    control: bool = False  # a valid input that must be accepted


@dataclass
class Outcome:
    outcome: str
    signature: str = ""
    message: str = ""


# ============================================================== byte mutations
EDGE_U32 = [0, 1, 2, 28, 255, 256, 0xFFFF, 0x10000, 2**31 - 1, 2**31, 2**32 - 1]


def _pos(rng: np.random.Generator, n: int) -> int:
    """A position in ``0..n``, half the time in the first 64 bytes (the headers)."""
    if n <= 0:
        return 0
    return int(rng.integers(0, min(n, 64) + 1) if rng.random() < 0.5 else rng.integers(0, n + 1))


def mutate(rng: np.random.Generator, data: bytes, n_ops: int | None = None) -> bytes:
    """``data`` with 1 to 4 byte-level changes: flips, cuts, inserts, deletes, edge u32s."""
    out = bytearray(data)
    for _ in range(n_ops or int(rng.integers(1, 5))):
        op = rng.integers(0, 6)
        p = _pos(rng, len(out))
        if op == 0 and p < len(out):
            out[p] ^= int(rng.integers(1, 256))
        elif op == 1:
            del out[p:]
        elif op == 2:
            out[p:p] = rng.bytes(int(rng.integers(1, 33)))
        elif op == 3:
            del out[p : p + int(rng.integers(1, 65))]
        elif op == 4:
            fmt = [">I", "<I", "<H"][int(rng.integers(0, 3))]
            value = EDGE_U32[int(rng.integers(0, len(EDGE_U32)))] & (
                0xFFFF if fmt == "<H" else 0xFFFFFFFF
            )
            packed = struct.pack(fmt, value)
            out[p : p + len(packed)] = packed
        elif op == 5 and len(out) > 1:
            q = int(rng.integers(0, len(out)))
            out[p:p] = out[q : q + int(rng.integers(1, 256))]
    return bytes(out)


def gz(data: bytes, level: int = 6) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


def gz_of_repeats(head: bytes, unit: bytes, total: int, tail: bytes = b"") -> bytes:
    """gzip of ``head + unit * (total // len(unit)) + tail``, without building it in memory."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(head)]
    block = unit * max(1, (1 << 20) // len(unit))
    left = total
    while left > 0:
        chunk = block[: min(left, len(block))]
        parts.append(comp.compress(chunk))
        left -= len(chunk)
    parts += [comp.compress(tail), comp.flush()]
    return b"".join(parts)


def pick(rng: np.random.Generator, items: list | tuple) -> Any:
    return items[int(rng.integers(0, len(items)))]


def tiny_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 ``(28, 28)`` pictures with a stroke of ink, and labels 0..9."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for k in range(n):
        col = int(rng.integers(8, 20))
        images[k, 4:24, col : col + 3] = rng.integers(128, 256, (20, 3))
    return images, rng.integers(0, 10, n).astype(np.uint8)


# ============================================================== 1. IDX files
def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    head = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return head + array.tobytes()


IDX_NAMES = {
    "train-images-idx3-ubyte": 0,
    "train-labels-idx1-ubyte": 1,
    "t10k-images-idx3-ubyte": 2,
    "t10k-labels-idx1-ubyte": 3,
}


class IdxProbe:
    """IDX readers: ``read_idx``, ``read_idx_images``/``labels`` and ``load_mnist``."""

    def __init__(self, work: Path, bomb_mb: int) -> None:
        from ownnet.data.formats import read_idx, read_idx_images, read_idx_labels
        from ownnet.data.mnist import load_mnist

        self.readers = [read_idx, read_idx_images, read_idx_labels]
        self.load_mnist = load_mnist
        self.work = work
        self.bomb = bomb_mb << 20
        tr, te = tiny_digits(20, 1), tiny_digits(10, 2)
        self.base = [idx_bytes(tr[0]), idx_bytes(tr[1]), idx_bytes(te[0]), idx_bytes(te[1])]

    def make(self, rng: np.random.Generator, i: int) -> Case:
        if i == 0:
            return Case("gz_bomb_holds_what_it_says", self._bomb(self.bomb, self.bomb), ".gz")
        if i == 1:  # says 1 MB, holds the bomb: the reader must stop after what it said
            return Case("gz_bomb_lies_small", self._bomb(1 << 20, self.bomb), ".gz")
        if i == 2:  # says 3 GiB (over the 2 GiB limit), holds a little
            return Case("gz_claims_3GiB", self._bomb(3 << 30, 1 << 20), ".gz")
        which = int(rng.integers(0, 4))
        base = self.base[which]
        kind = pick(
            rng,
            [
                "valid",
                "magic",
                "type",
                "ndim",
                "overflow",
                "terabytes",
                "lie",
                "truncated",
                "mutate",
                "mutate",
                "mutate",
                "random",
                "trailing",
            ],
        )
        data = base
        if kind == "magic":
            data = rng.bytes(2) + base[2:]
        elif kind == "type":
            data = base[:2] + bytes([int(rng.integers(0, 256))]) + base[3:]
        elif kind in ("ndim", "overflow", "terabytes", "lie"):
            ndim = int(rng.integers(0, 256)) if kind == "ndim" else int(rng.integers(1, 5))
            if kind == "overflow":
                dims = [2**32 - 1] * ndim
            elif kind == "terabytes":
                dims = [int(rng.integers(1 << 10, 1 << 14)) for _ in range(ndim)]
                dims[0] = min(2**32 - 1, 2**40 // max(1, int(np.prod(dims[1:], dtype=object))))
            elif kind == "lie":
                dims = [int(v) + int(rng.integers(-2, 3)) for v in (20, 28, 28)[:ndim]]
                dims = [max(d, 0) for d in dims]
            else:
                dims = [pick(rng, EDGE_U32) for _ in range(ndim)]
            head = bytes([0, 0, pick(rng, [8, 9, 11, 12, 13, 14]), ndim])
            head += b"".join(d.to_bytes(4, "big") for d in dims)
            data = head + rng.bytes(int(rng.integers(0, 2048)))
        elif kind == "truncated":
            data = base[: _pos(rng, len(base))]
        elif kind == "mutate":
            data = mutate(rng, base)
        elif kind == "random":
            data = rng.bytes(int(rng.integers(0, 4096)))
            if rng.random() < 0.5:
                data = bytes([0, 0, 8, int(rng.integers(1, 5))]) + data
        elif kind == "trailing":
            data = base + rng.bytes(int(rng.integers(1, 100)))
        compressed = rng.random() < 0.4
        if compressed:
            data = gz(data)
            if rng.random() < 0.3:  # the gzip stream itself damaged
                data = mutate(rng, data) if rng.random() < 0.6 else data[: _pos(rng, len(data))]
                kind += "+gz_damaged"
        case = Case(kind, data, ".gz" if compressed else "", control=kind == "valid")
        case.extra["which"] = which
        if rng.random() < 0.15:
            case.extra["folder"] = True  # as one of the four files of load_mnist's folder
        return case

    def _bomb(self, says: int, holds: int) -> bytes:
        n = max(1, says // 784)
        head = bytes([0, 0, 8, 3]) + np.asarray([n, 28, 28], ">u4").tobytes()
        return gz_of_repeats(head, b"\0", holds)

    def run(self, case: Case, path: Path) -> Any:
        if case.extra.get("folder"):
            folder = self.work / "folder"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            for name, k in IDX_NAMES.items():
                data = case.data if k == case.extra["which"] else gz(self.base[k])
                (
                    folder / (name + (case.suffix if k == case.extra["which"] else ".gz"))
                ).write_bytes(data)
            return self.load_mnist(folder, download=False, progress=False)
        which = case.extra.get("which", 0)
        reader = self.readers[0] if which is None else self.readers[1 + which % 2]
        if case.kind.startswith("gz_"):
            reader = self.readers[0]
        return reader(path)


# ============================================================== 2. CSV files
CSV_FIELDS = [
    "a",
    "1_0",
    "12345678901234567890",
    "-12345678901234567890",
    "1e2",
    "0x10",
    "3.0",
    "",
    " ",
    "+",
    "-",
    "nan",
    "inf",
    "256",
    "-1",
    "10",
    "\x00",
    "\uff11",
    "\u0663",
    "1 2",
    "'1'",
    '"1"',
    "\t5",
    "+5",
    "--5",
    "5-",
    "0b1",
    "9" * 400,
    "\u00a0" + "1",
    "١٢",
]


class CsvProbe:
    def __init__(self, work: Path, bomb_mb: int) -> None:
        from ownnet.data.formats import read_csv
        from ownnet.data.mnist import load_mnist

        self.read_csv = read_csv
        self.load_mnist = load_mnist
        self.work = work
        self.bomb = bomb_mb << 20
        self.images, self.labels = tiny_digits(6, 3)

    def lines(self) -> list[bytes]:
        flat = self.images.reshape(len(self.labels), -1)
        return [
            b",".join(str(int(v)).encode() for v in (lab, *row))
            for lab, row in zip(self.labels, flat, strict=True)
        ]

    def make(self, rng: np.random.Generator, i: int) -> Case:
        if i == 0:
            return Case("gz_bomb_newlines", gz_of_repeats(b"", b"\n", self.bomb), ".csv.gz")
        if i == 1:
            return Case("gz_bomb_commas", gz_of_repeats(b"", b"," * 784 + b"\n", self.bomb), ".gz")
        if i == 2:
            return Case("gz_bomb_one_long_line", gz_of_repeats(b"", b"1,", self.bomb), ".gz")
        lines = self.lines()
        kind = pick(
            rng,
            [
                "valid",
                "bom",
                "crlf",
                "header",
                "blank_lines",
                "field",
                "field",
                "field",
                "fields_count",
                "mutate",
                "truncated",
                "random",
                "nul",
                "utf16",
                "long_line",
            ],
        )
        sep = b"\n"
        head = b""
        if kind == "bom":
            head = b"\xef\xbb\xbf"
        elif kind == "crlf":
            sep = b"\r\n"
        elif kind == "header":
            head = b"label," + b",".join(b"pixel%d" % k for k in range(784)) + b"\n"
        elif kind == "blank_lines":
            lines = [x for line in lines for x in (line, b"", b"   ")]
        elif kind == "field":
            for _ in range(int(rng.integers(1, 3))):
                r = int(rng.integers(0, len(lines)))
                fields = lines[r].split(b",")
                fields[int(rng.integers(0, 785)) if rng.random() < 0.7 else 0] = pick(
                    rng, CSV_FIELDS
                ).encode("utf-8")
                lines[r] = b",".join(fields)
        elif kind == "fields_count":
            r = int(rng.integers(0, len(lines)))
            fields = lines[r].split(b",")
            k = int(rng.integers(0, 1600))
            lines[r] = b",".join((fields * 3)[:k])
        data = head + sep.join(lines) + sep
        if kind == "mutate":
            data = mutate(rng, data)
        elif kind == "truncated":
            data = (
                data[: _pos(rng, len(data))]
                if rng.random() < 0.5
                else data[: -int(rng.integers(1, 50))]
            )
        elif kind == "random":
            data = rng.bytes(int(rng.integers(0, 4096)))
        elif kind == "nul":
            data = data.replace(b",", b",\x00", int(rng.integers(1, 5)))
        elif kind == "utf16":
            data = data.decode().encode("utf-16")
        elif kind == "long_line":
            data = b"1," * int(rng.integers(600_000, 1_200_000))
        compressed = rng.random() < 0.3
        case = Case(kind, gz(data) if compressed else data, ".csv.gz" if compressed else ".csv")
        case.control = kind in ("valid", "bom", "crlf", "header", "blank_lines")
        if rng.random() < 0.15:
            case.extra["folder"] = True
        return case

    def run(self, case: Case, path: Path) -> Any:
        if case.extra.get("folder"):
            folder = self.work / "folder"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            (folder / f"mnist_train.csv{'.gz' if case.suffix.endswith('.gz') else ''}").write_bytes(
                case.data
            )
            (folder / "mnist_test.csv").write_bytes(b"\n".join(self.lines()) + b"\n")
            return self.load_mnist(folder, download=False, progress=False)
        return self.read_csv(path)


# ============================================================== 3. data npz
def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def npy_header(header: str, data: bytes = b"", version: int = 1) -> bytes:
    """A ``.npy`` file with this header text (padded as NumPy pads it)."""
    text = header.encode("latin1")
    size = 4 if version >= 2 else 2
    pad = -(10 + size - 2 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    length = struct.pack(
        "<I" if size == 4 else "<H", len(text) & (0xFFFFFFFF if size == 4 else 0xFFFF)
    )
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)
    return buf.getvalue()


def set_flag(data: bytes, bit: int) -> bytes:
    """Set a general-purpose flag bit (0: encrypted) in every zip header."""
    out = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (k := out.find(sig, start)) >= 0:
            flags = struct.unpack_from("<H", out, k + off)[0] | (1 << bit)
            struct.pack_into("<H", out, k + off, flags)
            start = k + 4
    return bytes(out)


HOSTILE_HEADERS = [
    "{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776, 28, 28), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 28, 28), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (4294967297, 4294967297, 4294967297), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (1e3, 28, 28), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': ((1,), 28), }",
    "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
    "{'descr': '<U8', 'fortran_order': False, 'shape': (2,), }",
    "{'descr': '|V8', 'fortran_order': False, 'shape': (2,), }",
    "{'descr': [('a', '<i4'), ('b', '|O')], 'fortran_order': False, 'shape': (2,), }",
    "{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }",
    "{'descr': '<M8[s]', 'fortran_order': False, 'shape': (2,), }",
    "{'descr': 'xyz', 'fortran_order': False, 'shape': (2,), }",
    "{'descr': '|u1', 'fortran_order': 'yes', 'shape': (2,), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
    "{'descr': '|u1', 'fortran_order': False}",
    "[1, 2, 3]",
    "__import__('os').system('true')",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (" + "(" * 500 + ")" * 500 + ",), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (" + "9" * 5000 + ",), }",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), " + "'k': 1, " * 2000 + "}",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (2,)",
    "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }\x00\xff",
]


class NpzProbe:
    def __init__(self, work: Path, bomb_mb: int) -> None:
        from ownnet.data.formats import read_npz
        from ownnet.data.mnist import load_mnist

        self.read_npz = read_npz
        self.load_mnist = load_mnist
        self.work = work
        self.bomb = bomb_mb << 20
        (xtr, ytr), (xte, yte) = tiny_digits(12, 4), tiny_digits(6, 5)
        self.arrays = {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}

    def make(self, rng: np.random.Generator, i: int) -> Case:
        members = {k + ".npy": npy(v) for k, v in self.arrays.items()}
        method = zipfile.ZIP_DEFLATED if rng.random() < 0.4 else zipfile.ZIP_STORED
        if i == 0:  # a deflated member of the bomb size of zeros that says so
            n = max(1, self.bomb // 784)
            head = npy_header(
                f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({n}, 28, 28), }}"
            )
            members["y_train.npy"] = npy(np.zeros(n, np.uint8))
            return Case(
                "deflate_bomb", self._zip_stream(members, "x_train.npy", head, n * 784), ".npz"
            )
        if i == 1:  # says a little, deflates to the bomb
            head = npy_header("{'descr': '|u1', 'fortran_order': False, 'shape': (12, 28, 28), }")
            return Case(
                "deflate_bomb_lies",
                self._zip_stream(members, "x_train.npy", head, self.bomb),
                ".npz",
            )
        key = pick(rng, list(self.arrays)) + ".npy"
        kind = pick(
            rng,
            [
                "valid",
                "flat_images",
                "header",
                "header",
                "pickle",
                "dtype",
                "shape",
                "missing",
                "extra_members",
                "bzip2",
                "lzma",
                "encrypted",
                "npy_renamed",
                "mutate",
                "mutate",
                "truncated",
                "random",
                "size_lie",
                "many_members",
            ],
        )
        if kind == "flat_images":
            members["x_train.npy"] = npy(self.arrays["x_train"].reshape(12, 784))
        elif kind == "header":
            members[key] = npy_header(
                pick(rng, HOSTILE_HEADERS),
                rng.bytes(int(rng.integers(0, 64))),
                version=pick(rng, [1, 2, 3]),
            )
        elif kind == "pickle":
            members[key] = npy(np.array([{"a": 1}, None], dtype=object))
        elif kind == "dtype":
            value = pick(
                rng,
                [np.float64, np.float32, np.int64, np.int8, np.bool_, np.complex64, np.float16],
            )
            arr = self.arrays[key[:-4]].astype(value)
            if value in (np.float64, np.float32) and rng.random() < 0.5:
                arr.flat[0] = pick(rng, [np.nan, np.inf, -1.0, 300.0, 1e30])
            if value is np.int64 and rng.random() < 0.5:
                arr.flat[0] = pick(rng, [-1, 256, 2**62, 10])
            members[key] = npy(arr)
        elif kind == "shape":
            shape = pick(
                rng,
                [
                    (12, 27, 28),
                    (12, 1),
                    (),
                    (0, 28, 28),
                    (13,),
                    (12, 28, 28, 1),
                    (6, 2, 28, 28),
                    (0,),
                ],
            )
            members[key] = npy(np.zeros(shape, np.uint8))
        elif kind == "missing":
            members.pop(key)
        elif kind == "extra_members":
            members.update({f"../../evil{k}.npy": npy(np.zeros(3)) for k in range(3)})
            members["dir/"] = b""
            members["notes.txt"] = b"hello"
        elif kind == "many_members":
            members.update(
                {
                    f"m{k}.npy": npy(np.zeros(1, np.uint8))
                    for k in range(int(rng.integers(100, 3000)))
                }
            )
        if kind == "npy_renamed":
            data = members[key]
        elif kind in ("bzip2", "lzma"):
            data = zip_of(members, zipfile.ZIP_BZIP2 if kind == "bzip2" else zipfile.ZIP_LZMA)
        else:
            data = zip_of(members, method)
        if kind == "encrypted":
            data = set_flag(data, 0)
        elif kind == "size_lie":  # the local header's uncompressed size made huge
            data = mutate(rng, data, 1)
            k = data.find(b"PK\x03\x04")
            data = (
                data[: k + 22] + struct.pack("<I", pick(rng, EDGE_U32)) + data[k + 26 :]
                if k >= 0
                else data
            )
        elif kind == "mutate":
            data = mutate(rng, data)
        elif kind == "truncated":
            data = data[: int(rng.integers(0, len(data)))]
        elif kind == "random":
            data = (b"PK\x03\x04" if rng.random() < 0.5 else b"") + rng.bytes(
                int(rng.integers(0, 4096))
            )
        case = Case(kind, data, ".npz", control=kind in ("valid", "flat_images", "extra_members"))
        if rng.random() < 0.15:
            case.extra["folder"] = True
        return case

    @staticmethod
    def _zip_stream(members: dict[str, bytes], name: str, head: bytes, n_zeros: int) -> bytes:
        """An npz whose member ``name`` is ``head`` + ``n_zeros`` zero bytes, deflated in a
        stream (never held whole in memory)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for key, data in members.items():
                if key != name:
                    z.writestr(key, data)
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as f:
                f.write(head)
                block, left = bytes(1 << 20), n_zeros
                while left > 0:
                    f.write(block[: min(left, len(block))])
                    left -= len(block)
        return buf.getvalue()

    def run(self, case: Case, path: Path) -> Any:
        if case.extra.get("folder"):
            folder = self.work / "folder"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            (folder / "mnist.npz").write_bytes(case.data)
            return self.load_mnist(folder, download=False, progress=False)
        return self.read_npz(path)


# ============================================================== 4. model files
TINY_MODELS = {
    "classic": {"model": "classic", "hidden": 8},
    "mlp": {"model": "mlp", "layers": [8]},
    "cnn": {"model": "cnn", "filters": [2, 2], "layers": [8]},
    "neurons": {"model": "neurons", "hidden": [4]},
    "book": {"model": "book", "hidden": 8},
}
HOSTILE_VALUES: list[Any] = [
    300000,
    -1,
    0,
    10**30,
    2**63,
    -(2**63) - 1,
    1.5,
    float("nan"),
    float("inf"),
    True,
    None,
    "8",
    "relu",
    [],
    [8],
    [300000],
    {"a": 1},
    "x" * 10000,
    [[[[[[1]]]]]],
    1e-300,
    -0.0,
]


def deep(levels: int, opener: str = "[", closer: str = "]", core: str = "1") -> str:
    return opener * levels + core + closer * levels


def walk_paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside nested dicts and lists."""
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += walk_paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for k, v in enumerate(obj):
            out += walk_paths(v, (*prefix, k))
    return out


def set_path(obj: Any, path: tuple, value: Any) -> None:
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = value


def model_zip(arrays: dict[str, bytes], meta_text: bytes | None) -> bytes:
    members = {}
    if meta_text is not None:
        members["__meta__.npy"] = npy(np.frombuffer(meta_text, np.uint8))
    members.update({k + ".npy": v for k, v in arrays.items()})
    return zip_of(members)


class ModelProbe:
    """``ownnet.load`` of damaged model files; a file that loads must then predict."""

    def __init__(self, work: Path, bomb_mb: int) -> None:
        import ownnet
        from ownnet.io import load_arrays

        self.load = ownnet.load
        self.bases: dict[str, tuple[dict[str, np.ndarray], dict]] = {}
        for name, config in TINY_MODELS.items():
            path = ownnet.from_config(config, seed=0).save(work / f"base-{name}.npz")
            self.bases[name] = load_arrays(path)
        self.blank = np.zeros((2, 28, 28), np.uint8)

    def make(self, rng: np.random.Generator, i: int) -> Case:
        name = pick(rng, list(self.bases))
        arrays, meta = self.bases[name]
        arrays = {k: npy(v) for k, v in arrays.items()}
        meta = json.loads(json.dumps(meta))
        kind = pick(
            rng,
            [
                "valid",
                "meta_value",
                "meta_value",
                "meta_value",
                "kind",
                "format_version",
                "huge_size",
                "deep_meta",
                "meta_bytes",
                "array_replace",
                "array_declared_huge",
                "array_pickle",
                "mutate",
                "truncated",
                "random",
                "no_meta",
            ],
        )
        meta_text: bytes | None = None
        if kind == "meta_value":
            for _ in range(int(rng.integers(1, 3))):
                set_path(meta, pick(rng, walk_paths(meta)), pick(rng, HOSTILE_VALUES))
        elif kind == "kind":
            meta["kind"] = pick(
                rng, [["classic"], {"k": "nn"}, 7, None, "Classic", "nn ", "x" * 1000, "__init__"]
            )
        elif kind == "format_version":
            meta["format_version"] = pick(rng, [True, -7, 0, 2, 1.0, "1", None, 10**30, [1]])
        elif kind == "huge_size":
            kind = self._huge(rng, name, meta)
        elif kind == "deep_meta":
            depth = pick(rng, [1000, 10000, 100000])
            meta_text = (
                json.dumps(meta)[:-1]
                + ', "x": '
                + deep(depth, *pick(rng, [("[", "]"), ('{"a":', "}")]))
                + "}"
            ).encode()
            kind += f"_{depth}"
        elif kind == "meta_bytes":
            meta_text = pick(
                rng,
                [
                    b"",
                    b"\xff\xfe{}",
                    b"null",
                    b"[]",
                    b'"ownnet-model"',
                    b"{" * 50,
                    b"1e999999",
                    b'{"format": "ownnet-model", "format_version": 1, "kind": "classic", '
                    b'"config": {"n_hidden": NaN}}',
                    json.dumps(meta).encode() + b" trailing",
                    b"9" * 100000,
                ],
            )
        elif kind == "array_replace":
            key = pick(rng, list(arrays))
            arrays[key] = npy(
                pick(
                    rng,
                    [
                        np.zeros((3, 3)),
                        np.zeros(()),
                        np.full((8, 784), np.nan),
                        np.zeros((8, 784), np.float16),
                        np.zeros((8, 784), np.int8),
                        np.zeros((8, 784), np.bool_),
                        np.zeros((8, 784), np.complex64),
                        np.zeros((784, 8)),
                        np.zeros((0, 784)),
                        np.zeros((8, 784, 1)),
                        np.zeros(10, ">f8"),
                    ],
                )
            )
        elif kind == "array_declared_huge":
            key = pick(rng, list(arrays))
            shape = pick(
                rng,
                [
                    "(300000, 784)",
                    "(1099511627776,)",
                    "(4294967296, 4294967296)",
                    "(8, 784, 1000000)",
                ],
            )
            arrays[key] = npy_header(
                f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}", bytes(64)
            )
        elif kind == "array_pickle":
            arrays[pick(rng, list(arrays))] = npy(np.array([None, {"a": 1}], dtype=object))
        elif kind == "no_meta":
            meta_text = None
        if kind != "no_meta" and meta_text is None:
            meta_text = json.dumps(meta).encode()
        data = model_zip(arrays, meta_text)
        if kind == "mutate":
            data = mutate(rng, data)
        elif kind == "truncated":
            data = data[: int(rng.integers(0, len(data)))]
        elif kind == "random":
            data = rng.bytes(int(rng.integers(0, 4096)))
        return Case(f"{name}:{kind}", data, ".npz", control=kind == "valid")

    @staticmethod
    def _huge(rng: np.random.Generator, name: str, meta: dict) -> str:
        size = pick(rng, [300000, 10**6, 10**9, 2**31, 2**63])
        config = meta["config"]
        if name == "classic":
            key = pick(rng, ["n_hidden", "n_input", "n_output"])
            config[key] = size
            return f"huge_{key}_{size}"
        if name == "neurons":
            k = int(rng.integers(0, 3))
            config["sizes"][k] = size
            return f"huge_sizes{k}_{size}"
        layers = config["layers"]
        dense = [layer for layer in layers if layer["type"] == "Dense"]
        conv = [layer for layer in layers if layer["type"] == "Conv2D"]
        choice = int(rng.integers(0, 3))
        if choice == 0:
            pick(rng, dense)["units"] = size
            return f"huge_units_{size}"
        if choice == 1 and conv:
            layer = pick(rng, conv)
            key = pick(rng, ["filters", "kernel_size"])
            layer[key] = size if key == "filters" else [size, size]
            return f"huge_{key}_{size}"
        config["input_shape"] = [size] if len(config["input_shape"]) == 1 else [1, size, size]
        return f"huge_input_shape_{size}"

    def run(self, case: Case, path: Path) -> Any:
        model = self.load(path)
        return model.predict(self.blank)


# ============================================================== 5. image bytes
def encode(im: Any, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int, idat: bytes = b"", mode: int = 0) -> bytes:
    """A PNG whose IHDR says ``width`` x ``height`` (8-bit, colour type ``mode``)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, mode, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat or zlib.compress(b"\0"))
        + png_chunk(b"IEND", b"")
    )


def png_bomb(width: int, height: int) -> bytes:
    """A real ``width`` x ``height`` greyscale PNG of white with one black row: a few kB."""
    comp = zlib.compressobj(9)
    row_white = b"\0" + b"\xff" * width
    parts = []
    for y in range(height):
        parts.append(comp.compress(b"\0" + b"\0" * width if y == height // 2 else row_white))
    parts.append(comp.flush())
    return png_declaring(width, height, b"".join(parts))


class ImageMaker:
    """Images made with Pillow in many formats and modes, then damaged."""

    FORMATS = [
        ("PNG", "L"),
        ("PNG", "RGB"),
        ("PNG", "RGBA"),
        ("PNG", "P"),
        ("PNG", "LA"),
        ("PNG", "1"),
        ("PNG", "I;16"),
        ("PNG", "I"),
        ("JPEG", "L"),
        ("JPEG", "RGB"),
        ("JPEG", "CMYK"),
        ("GIF", "P"),
        ("GIF", "L"),
        ("TIFF", "L"),
        ("TIFF", "RGB"),
        ("TIFF", "CMYK"),
        ("TIFF", "LAB"),
        ("TIFF", "I;16"),
        ("TIFF", "F"),
        ("TIFF", "I"),
        ("WEBP", "RGB"),
        ("WEBP", "RGBA"),
        ("BMP", "L"),
        ("BMP", "RGB"),
        ("BMP", "1"),
        ("BMP", "P"),
        ("PPM", "RGB"),
        ("TGA", "RGB"),
        ("PCX", "L"),
        ("ICO", "RGBA"),
        ("SGI", "RGB"),
        ("JPEG2000", "RGB"),
        ("SPIDER", "F"),
        ("IM", "L"),
        ("XBM", "1"),
        ("DDS", "RGBA"),
    ]
    MAGICS = [
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"GIF89a",
        b"II*\x00",
        b"MM\x00*",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"BM",
        b"%!PS-Adobe-3.0 EPSF-3.0\n",
        b"P5\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'>",
        b"%PDF-1.4\n",
        b"8BPS",
    ]

    def __init__(self, bomb_side: int) -> None:
        from PIL import Image, ImageDraw

        self.Image = Image
        self.ImageDraw = ImageDraw
        self.bomb_side = bomb_side

    def picture(
        self, rng: np.random.Generator, size: tuple[int, int], mode: str, hostile: bool = True
    ) -> Any:
        """A stroke on white in ``mode``; ``hostile``: NaN, infinite or negative values
        in the float and 32-bit modes now and then."""
        im = self.Image.new("L", size, 255)
        w, h = size
        self.ImageDraw.Draw(im).line(
            [(w // 2, h // 6), (w // 2 + int(rng.integers(-w // 4 - 1, w // 4 + 1)), h * 5 // 6)],
            fill=0,
            width=max(1, min(w, h) // 10),
        )
        if mode == "F":
            a = np.asarray(im, np.float32) / 255
            if hostile and rng.random() < 0.4:
                a.flat[int(rng.integers(0, a.size))] = pick(rng, [np.nan, np.inf, -np.inf, 1e30])
            return self.Image.fromarray(a, "F")
        if mode == "I;16":
            return self.Image.fromarray((np.asarray(im, np.uint16) * 257), "I;16")
        if mode == "I":
            return self.Image.fromarray(
                np.asarray(im, np.int32) * int(pick(rng, [1, 8421504, -1 if hostile else 257])), "I"
            )
        if mode == "LAB":
            grey = self.Image.new("L", size, 128)
            return self.Image.merge("LAB", [im, grey, grey])
        return im.convert(mode)

    def make(self, rng: np.random.Generator, i: int) -> Case:
        if i == 0:  # a tiny PNG that really decodes to bomb_side^2 pixels
            return Case(
                f"png_bomb_{self.bomb_side}", png_bomb(self.bomb_side, self.bomb_side), ".png"
            )
        if i == 1:
            return Case("png_65_bytes_says_20000x20000", png_declaring(20000, 20000), ".png")
        kind = pick(
            rng,
            [
                "valid",
                "valid",
                "mutate",
                "mutate",
                "truncated",
                "huge_header",
                "strip",
                "blank",
                "random",
                "magic_random",
                "animated",
                "exif",
                "icc",
            ],
        )
        fmt, mode = pick(rng, self.FORMATS)
        size = (int(rng.integers(8, 300)), int(rng.integers(8, 300)))
        if kind == "strip":
            n = pick(rng, [1, 2, 5000, 30000])
            size = pick(rng, [(1, n), (n, 1), (1, 1)])
        if kind == "huge_header":
            w, h = pick(
                rng,
                [
                    (20000, 20000),
                    (5000, 5000),
                    (5001, 5000),
                    (1, 25000000),
                    (65535, 65535),
                    (2**31 - 1, 1),
                    (0, 10),
                ],
            )
            data = png_declaring(w, h, mode=pick(rng, [0, 2, 6]))
            return Case(f"huge_header_png_{w}x{h}", data, ".png")
        if kind == "random":
            return Case(kind, rng.bytes(int(rng.integers(0, 4096))), ".bin")
        if kind == "magic_random":
            return Case(
                kind, pick(rng, self.MAGICS) + rng.bytes(int(rng.integers(0, 2048))), ".bin"
            )
        try:
            im = self.picture(rng, size, mode, hostile=kind != "valid")
            if kind == "blank":
                im = self.Image.new(
                    im.mode, im.size, pick(rng, [0, 255]) if im.mode in ("L", "P", "1") else None
                )
            kw: dict[str, Any] = {}
            if kind == "animated" and fmt in ("GIF", "PNG", "WEBP", "TIFF"):
                frames = [self.picture(rng, size, mode) for _ in range(int(rng.integers(2, 20)))]
                kw = {"save_all": True, "append_images": frames}
            if kind == "exif" and fmt in ("JPEG", "PNG", "TIFF", "WEBP"):
                exif = self.Image.Exif()
                exif[0x0112] = pick(rng, [0, 1, 3, 6, 8, 9, 65535, -1 & 0xFFFF])
                kw = {"exif": exif.tobytes()}
            if kind == "icc" and fmt in ("JPEG", "PNG", "TIFF", "WEBP"):
                kw = {"icc_profile": rng.bytes(int(rng.integers(1, 600)))}
            data = encode(im, fmt, **kw)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # Pillow cannot write this
            return Case(f"{fmt}-{mode}:unwritable", repr(exc).encode(), ".txt")
        if kind == "mutate":
            data = mutate(rng, data)
        elif kind == "truncated":
            data = (
                data[: _pos(rng, len(data))]
                if rng.random() < 0.5
                else data[: int(rng.integers(0, len(data) + 1))]
            )
        suffix = "." + {"JPEG2000": "jp2", "SPIDER": "spi", "IM": "im"}.get(fmt, fmt.lower())
        return Case(f"{fmt}-{mode}:{kind}", data, suffix, control=kind == "valid")


class ImageProbe:
    def __init__(self, work: Path, bomb_mb: int) -> None:
        from ownnet.web.inputs import InputError, image_from_bytes

        self.maker = ImageMaker(bomb_side=5000 if bomb_mb >= 256 else 1500)
        self.image_from_bytes = image_from_bytes
        self.InputError = InputError

    def make(self, rng: np.random.Generator, i: int) -> Case:
        return self.maker.make(rng, i)

    def run(self, case: Case, path: Path) -> Any:
        try:
            out = self.image_from_bytes(case.data, path.name)
        except self.InputError as exc:
            if 400 <= exc.status < 500:
                raise ProbeCleanError(str(exc)) from None
            raise
        if not (isinstance(out, np.ndarray) and out.shape == (28, 28) and out.dtype == np.uint8):
            raise AssertionError(
                f"image_from_bytes returned {type(out).__name__} {getattr(out, 'shape', '')}"
            )
        return out


class ProbeCleanError(Exception):
    """A boundary's own clean answer that is not an OwnnetError (the web's InputError 4xx)."""


# ============================================================== 6. web API
HOSTILE_JSON = [
    "true",
    "false",
    "null",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e308",
    "-0.0",
    "256",
    "-1",
    "18446744073709551616",
    "1" + "0" * 5000,
    '"1"',
    '""',
    "{}",
    "[]",
    "[1]",
    "0.5",
    "1.0000001",
    "1E2",
    "-1e-400",
    "255.4999",
    "255.5",
]


def random_json(rng: np.random.Generator, depth: int = 0) -> str:
    r = rng.random()
    if depth > 4 or r < 0.4:
        return pick(rng, HOSTILE_JSON)
    if r < 0.7:
        return (
            "["
            + ",".join(random_json(rng, depth + 1) for _ in range(int(rng.integers(0, 6))))
            + "]"
        )
    keys = ["pixels", "scale", "digit", "x", "", "pixels"]
    return (
        "{"
        + ",".join(
            f'"{pick(rng, keys)}": {random_json(rng, depth + 1)}'
            for _ in range(int(rng.integers(0, 4)))
        )
        + "}"
    )


def pixel_text(rng: np.random.Generator, n: int = 784, nested: bool = False, bad: int = 0) -> str:
    values = [str(int(v)) for v in rng.integers(0, 256, n)]
    for _ in range(bad):
        if values:
            values[int(rng.integers(0, len(values)))] = pick(rng, HOSTILE_JSON)
    if nested:
        return (
            "["
            + ",".join("[" + ",".join(values[r * 28 : r * 28 + 28]) + "]" for r in range(n // 28))
            + "]"
        )
    return "[" + ",".join(values) + "]"


def multipart(parts: list[tuple[bytes, bytes]], boundary: bytes = b"b0undary") -> bytes:
    out = b""
    for head, body in parts:
        out += b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + body + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


class WebProbe:
    """Requests to ``/api/predict`` and ``/api/inside`` of apps serving a classic and a CNN."""

    def __init__(self, work: Path, bomb_mb: int) -> None:
        from fastapi.testclient import TestClient

        import ownnet
        from ownnet.web.app import create_app

        self.clients = []
        self._stack = contextlib.ExitStack()
        for name in ("classic", "cnn"):
            path = ownnet.from_config(TINY_MODELS[name], seed=0).save(work / f"web-{name}.npz")
            client = TestClient(create_app(path), raise_server_exceptions=False)
            self.clients.append(self._stack.enter_context(client))
        self.images = ImageMaker(bomb_side=1500)

    def make(self, rng: np.random.Generator, i: int) -> Case:
        path = pick(
            rng, ["/api/predict", "/api/inside", "/api/inside?encoding=uint8", "/api/predict"]
        )
        ctype = "application/json"
        kind = pick(
            rng,
            [
                "valid",
                "nested_valid",
                "bad_pixels",
                "bad_pixels",
                "random_json",
                "random_json",
                "wrong_length",
                "deep",
                "huge_array",
                "digit",
                "scale",
                "raw_text",
                "content_type",
                "multipart",
                "multipart",
                "image_body",
                "query",
            ],
        )
        body = ""
        if kind == "valid":
            body = '{"pixels": ' + pixel_text(rng) + "}"
        elif kind == "nested_valid":  # 28 rows of 28; a bare list where /api/predict takes one
            body = pixel_text(rng, nested=True)
            if path.startswith("/api/inside"):
                body = '{"pixels": ' + body + "}"
        elif kind == "bad_pixels":
            body = (
                '{"pixels": '
                + pixel_text(rng, nested=rng.random() < 0.5, bad=int(rng.integers(1, 4)))
                + "}"
            )
        elif kind == "random_json":
            body = random_json(rng)
        elif kind == "wrong_length":
            n = pick(rng, [0, 1, 27, 783, 785, 28 * 27, 784 * 2, 28 * 29])
            body = (
                '{"pixels": ' + pixel_text(rng, n, nested=n % 28 == 0 and rng.random() < 0.5) + "}"
            )
        elif kind == "deep":
            depth = pick(rng, [100, 1000, 10000, 100000])
            opener, closer = pick(rng, [("[", "]"), ('{"pixels":', "}")])
            body = (
                deep(depth, opener, closer)
                if rng.random() < 0.5
                else '{"pixels": ' + deep(depth) + "}"
            )
            kind += f"_{depth}"
        elif kind == "huge_array":
            n = pick(rng, [784 * 100, 10**5, 4 * 10**5])
            body = '{"pixels": [' + ",".join(["0"] * n) + "]}"
            kind += f"_{n}"
        elif kind == "digit":
            path = "/api/inside"
            body = (
                '{"pixels": '
                + pixel_text(rng)
                + ', "digit": '
                + pick(rng, [*HOSTILE_JSON, "10", "3", "9"])
                + "}"
            )
        elif kind == "scale":
            body = '{"pixels": ' + pixel_text(rng) + ', "scale": ' + pick(rng, HOSTILE_JSON) + "}"
        elif kind == "raw_text":
            raw = pick(
                rng,
                [
                    b"",
                    b"\xff\xfe\x00{",
                    b"\xef\xbb\xbf[]",
                    b'{"pixels": [1,2]} garbage',
                    b"1e999999",
                    b'"' * 1000,
                    rng.bytes(200),
                ],
            )
            return Case(kind, raw, ".body", {"path": path, "ctype": ctype})
        elif kind == "content_type":
            ctype = pick(
                rng,
                [
                    "",
                    "text/plain",
                    "application/x-www-form-urlencoded",
                    "image/png",
                    "application/json; charset=utf-16",
                    "application/merge-patch+json",
                    "multipart/form-data",
                    "a" * 5000,
                ],
            )
            body = '{"pixels": ' + pixel_text(rng) + "}"
        elif kind == "multipart":
            return self._multipart(rng, path)
        elif kind == "image_body":
            case = self.images.make(rng, int(rng.integers(1, 10**6)))
            ctype = pick(rng, ["image/png", "application/octet-stream", "image/jpeg"])
            return Case(
                "image_body:" + case.kind, case.data, ".body", {"path": path, "ctype": ctype}
            )
        elif kind == "query":
            path = pick(
                rng,
                [
                    "/api/inside?encoding=",
                    "/api/inside?encoding=uint16",
                    "/api/inside?encoding=%00",
                    "/api/predict?x=" + "y" * 10000,
                    "/api/inside?encoding=uint8&encoding=json",
                ],
            )
            body = '{"pixels": ' + pixel_text(rng) + "}"
        return Case(
            kind,
            body.encode("utf-8", "surrogatepass"),
            ".body",
            {"path": path, "ctype": ctype},
            control=kind in ("valid", "nested_valid"),
        )

    def _multipart(self, rng: np.random.Generator, path: str) -> Case:
        image = self.images.make(rng, int(rng.integers(2, 10**6)))
        boundary = pick(rng, [b"b0undary", b"x" * 200, b"", b"a b", b"--"])
        disposition = pick(
            rng,
            [
                b'Content-Disposition: form-data; name="file"; filename="d.png"',
                b'Content-Disposition: form-data; name="file"',
                b'Content-Disposition: form-data; name="pixels"',
                b"Content-Disposition: form-data",
                b'Content-Disposition: form-data; name="file"; filename="' + b"a" * 5000 + b'"',
                b"X-Nothing: 1",
            ],
        )
        parts = [(disposition, image.data)] * pick(rng, [1, 1, 2, 50])
        body = multipart(parts, boundary)
        if rng.random() < 0.4:
            body = mutate(rng, body)
        ctype = pick(
            rng,
            [
                "multipart/form-data; boundary=" + boundary.decode(),
                "multipart/form-data",
                "multipart/form-data; boundary=other",
                "multipart/mixed; boundary=" + boundary.decode(),
            ],
        )
        return Case("multipart:" + image.kind, body, ".body", {"path": path, "ctype": ctype})

    def run(self, case: Case, path: Path) -> Any:
        client = self.clients[int(hashlib.md5(case.data).digest()[0]) % 2]
        headers = {"content-type": case.extra["ctype"]} if case.extra["ctype"] else {}
        resp = client.post(case.extra["path"], content=case.data, headers=headers)
        if resp.status_code >= 500:
            return Outcome(
                "http_5xx", f"HTTP {resp.status_code} {case.extra['path']}", resp.text[:300]
            )
        if resp.status_code >= 400:
            raise ProbeCleanError(f"HTTP {resp.status_code}: {resp.text[:200]}")
        return resp


# ============================================================== 7. command line
INT_VALUES = ["0", "-1", "nan", "1e30", "99999999999999999999", "abc"]
FLOAT_VALUES = ["0", "-1", "nan", "inf", "1e30", "1e-320"]
LIST_VALUES = ["0", "-1", "", "300000", "99999999999999999999", ",".join(["4"] * 40)]
SCHEDULE_VALUES = [
    "step:nan:1",
    "step:0.5:0",
    "cosine:inf",
    "cosine:1e30",
    "step:1e30:99999999999999999999",
    "bogus:1",
]
SWEEP_PARAMS = [
    "lr",
    "hidden",
    "epochs",
    "train_size",
    "rotate",
    "random_shift",
    "layers",
    "dropout",
    "batch_size",
]
#: the option's model (a train option that only the engine or the CNN reads is tried there)
ENGINE = {
    "--layers",
    "--dropout",
    "--batch-size",
    "--momentum",
    "--weight-decay",
    "--schedule",
    "--val-split",
    "--early-stopping",
    "--max-angle",
    "--max-shift",
}
CNN = {"--filters", "--kernel-size"}


def cli_runs() -> list[tuple[str, str, str]]:
    """``(command, option, value)`` for every numeric option ``--help`` lists."""
    import argparse as ap

    from ownnet.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, ap._SubParsersAction))
    runs = []
    for command in ("train", "test", "predict", "sweep", "serve"):
        for action in sub.choices[command]._actions:
            if not action.option_strings or action.nargs == 0 or action.choices is not None:
                continue
            option = action.option_strings[-1]
            kind = getattr(action.type, "__name__", "")
            if option == "--schedule":
                values = SCHEDULE_VALUES
            elif option == "--param":
                values = [
                    f"{p}={v}" for p in SWEEP_PARAMS for v in ("-1", "nan", "99999999999999999999")
                ]
            elif option in ("--train-size", "--test-size"):
                values = INT_VALUES
            elif kind in ("whole number", "int"):
                values = INT_VALUES
            elif kind == "number":
                values = FLOAT_VALUES
            elif kind == "int_list":
                values = LIST_VALUES
            else:
                continue
            runs += [(command, option, v) for v in values]
    return runs


class CliProbe:
    """``python -m ownnet ...`` with hostile option values on tiny data, one process each."""

    def __init__(self, work: Path, bomb_mb: int, seed: int = 0) -> None:
        import ownnet
        from ownnet.data.formats import write_idx

        self.work = work
        self.data = work / "tiny-mnist"
        self.data.mkdir(exist_ok=True)
        splits = {"train": tiny_digits(100, 6), "test": tiny_digits(50, 7)}
        real = os.environ.get("OWNNET_DATA")
        if real:
            with contextlib.suppress(Exception):
                full = ownnet.load_mnist(real, download=False, progress=False)
                splits = {
                    "train": (full.train.images[:100], full.train.labels[:100]),
                    "test": (full.test.images[:50], full.test.labels[:50]),
                }
        for (images, labels), stems in zip(
            splits.values(), (list(IDX_NAMES)[:2], list(IDX_NAMES)[2:]), strict=True
        ):
            write_idx(self.data / f"{stems[0]}.gz", images, compress=True)
            write_idx(self.data / f"{stems[1]}.gz", labels, compress=True)
        self.model = ownnet.from_config(TINY_MODELS["classic"], seed=0).save(work / "cli-model.npz")
        self.image = work / "digit.png"
        self.image.write_bytes(
            encode(ImageMaker(1500).picture(np.random.default_rng(0), (60, 80), "L"), "PNG")
        )
        self.runs = cli_runs()
        self.models = ModelProbe(work, bomb_mb)

    def make(self, rng: np.random.Generator, i: int) -> Case:
        if i % 10 == 9:  # a damaged model file for `test` or `predict`
            case = self.models.make(rng, i)
            command = pick(rng, ["test", "predict"])
            return Case(
                f"{command} MODEL={case.kind}",
                case.data,
                ".npz",
                {"command": command, "model_file": True},
            )
        command, option, value = self.runs[(i - i // 10) % len(self.runs)]
        return Case(
            f"{command} {option} {value}",
            value.encode(),
            ".txt",
            {"command": command, "option": option, "value": value},
        )

    def argv(self, case: Case, path: Path) -> list[str]:
        command = case.extra["command"]
        out = str(self.work / "out.npz")
        data = ["--data", str(self.data)]
        if case.extra.get("model_file"):
            return [command, str(path), *(data if command == "test" else [str(self.image)])]
        option, value = case.extra["option"], case.extra["value"]
        given = [f"{option}={value}"]
        if command == "train":
            model = (
                ["--model", "cnn", "--filters", "2,2", "--layers", "8"]
                if option in CNN
                else (
                    ["--model", "mlp", "--layers", "8"] if option in ENGINE else ["--hidden", "8"]
                )
            )
            epochs = [] if option == "--epochs" else ["--epochs", "1"]
            return ["train", *data, *model, *epochs, "--out", out, *given]
        if command == "sweep":
            base = [
                "sweep",
                *data,
                "--db",
                str(self.work / "sweep.db"),
                "--repeats",
                "1",
                "--param",
                "epochs=1",
                "--param",
                "hidden=8",
                "--train-size",
                "100",
                "--test-size",
                "50",
            ]
            Path(self.work / "sweep.db").unlink(missing_ok=True)
            return [*base, *given]
        if command == "predict":
            return ["predict", str(self.model), str(self.image), *given]
        if command == "serve":
            return ["serve", str(self.model), "--host", "127.0.0.1", *given]
        return [command, str(self.model), *data, *given]

    def run(self, case: Case, path: Path) -> Any:
        argv = self.argv(case, path)
        serve = case.extra["command"] == "serve" and not case.extra.get("model_file")
        rc, out, err, state = run_command(argv, self.work, serve=serve)
        return classify_cli(rc, out, err, state, " ".join(argv[:1] + argv[-1:]))


def run_command(
    argv: list[str], cwd: Path, serve: bool = False, timeout: float = CLI_TIMEOUT
) -> tuple[int | None, str, str, str]:
    """Run ``python -m ownnet *argv`` in its own session: ``(status, stdout, stderr, state)``,
    state ``done``, ``serving`` (a server that started), ``long_run`` or ``hang``."""
    import ownnet  # the command runs this ownnet, whatever the working folder

    path = os.pathsep.join(
        [str(Path(ownnet.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
    )
    env = {
        **os.environ,
        "PYTHONPATH": path,
        "OMP_NUM_THREADS": "1",
        "OWNNET_CACHE": str(cwd / "cache"),
        "PYTHONUNBUFFERED": "1",
    }
    out_f, err_f = open(cwd / "stdout.txt", "w+b"), open(cwd / "stderr.txt", "w+b")  # noqa: SIM115
    with out_f, err_f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ownnet", *argv],
            cwd=cwd,
            env=env,
            stdout=out_f,
            stderr=err_f,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        start, state, sizes = time.monotonic(), "done", []
        while proc.poll() is None:
            elapsed = time.monotonic() - start
            sizes.append(
                (elapsed, os.fstat(out_f.fileno()).st_size + os.fstat(err_f.fileno()).st_size)
            )
            if serve and elapsed > 3 and b"press Ctrl+C" in (cwd / "stdout.txt").read_bytes():
                state = "serving"
            elif not serve and elapsed > 15:
                before = [s for t, s in sizes if t < elapsed - 5]
                if before and sizes[-1][1] > before[-1] + 200:
                    state = "long_run"  # still printing progress: it is doing what it was asked
            if elapsed > timeout:
                state = "hang"
            if state != "done":
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.2)
        proc.wait()
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read().decode(errors="replace"), err_f.read().decode(errors="replace")
    return proc.returncode, out, err, state


def classify_cli(rc: int | None, out: str, err: str, state: str, what: str) -> Any:
    if state == "serving":
        return "serving"
    if state in ("hang", "long_run"):
        return Outcome(state, f"{state}: {what}", (out + err)[-300:])
    if "Traceback (most recent call last)" in err or rc not in (0, 1, 2):
        said = [line for line in err.splitlines() if line.startswith("ownnet ")]  # not warnings
        last = (said or err.strip().splitlines() or [""])[-1]
        return Outcome(
            "traceback",
            f"exit {rc}: {last.split(':', 3)[-2 if last.count(':') >= 3 else -1][:80]}",
            "\n".join(said)[-600:] or err[-600:],
        )
    if rc == 0:
        return "accepted"
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if len(lines) == 1:
        raise ProbeCleanError(lines[0])
    return Outcome("unclear_error", f"exit {rc} with {len(lines)} stderr lines", err[-300:])


class ImageCliProbe:
    """``ownnet predict MODEL FILE...``: the image class's inputs, 20 files per command."""

    BATCH = 20

    def __init__(self, work: Path, bomb_mb: int) -> None:
        import ownnet

        self.work = work
        self.images = ImageProbe(work, bomb_mb)
        self.model = ownnet.from_config(TINY_MODELS["classic"], seed=0).save(work / "cli-model.npz")
        self.pending: dict[int, Any] = {}

    def make(self, rng: np.random.Generator, i: int) -> Case:
        return self.images.make(rng, i)

    def run_batch(self, cases: list[tuple[int, Case]]) -> dict[int, Any]:
        """Outcomes of ``ownnet predict`` over several files at once; when the command
        fails as a whole, the files are split in halves until each failing one is alone."""
        folder = self.work / "batch"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        paths = {}
        for i, case in cases:
            paths[i] = folder / f"in{i}{case.suffix}"
            paths[i].write_bytes(case.data)
        return self._predict(paths)

    def _predict(self, paths: dict[int, Path]) -> dict[int, Any]:
        rc, out, err, state = run_command(
            ["predict", str(self.model), *map(str, paths.values())], self.work
        )
        failed = state != "done" or rc not in (0, 1) or "Traceback" in err
        if failed and len(paths) > 1:
            keys = list(paths)
            half = len(keys) // 2
            return {
                **self._predict({i: paths[i] for i in keys[:half]}),
                **self._predict({i: paths[i] for i in keys[half:]}),
            }
        if failed:
            ((i, path),) = paths.items()
            try:
                return {i: classify_cli(rc, out, err, state, f"predict {path.name}")}
            except ProbeCleanError as exc:
                return {i: Outcome("clean_error", message=str(exc))}
        results: dict[int, Any] = {}
        for i, path in paths.items():
            said_out = [line for line in out.splitlines() if line.startswith(str(path) + " ")]
            said_err = [  # the warnings of a file that was read are not errors
                line for line in err.splitlines() if str(path) in line and ": warning: " not in line
            ]
            if said_out and not said_err:
                results[i] = "accepted"
            elif len(said_err) == 1 and not said_out:
                results[i] = Outcome("clean_error", message=said_err[0])
            else:
                results[i] = Outcome(
                    "unclear_error",
                    "output does not say what became of the file",
                    (out + err)[-300:],
                )
        return results


# ============================================================== the worker
PROBES: dict[str, Callable[..., Any]] = {
    "idx": IdxProbe,
    "csv": CsvProbe,
    "npz": NpzProbe,
    "model": ModelProbe,
    "image": ImageProbe,
    "image_cli": ImageCliProbe,
    "web": WebProbe,
    "cli": CliProbe,
}


def signature(exc: BaseException) -> str:
    """``TypeName at file:line`` of the innermost frame in ownnet (else the innermost)."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if "ownnet" in f.filename and "benchmarks" not in f.filename] or frames
    where = f"{Path(own[-1].filename).name}:{own[-1].lineno}" if own else "?"
    return f"{type(exc).__name__} at {where}"


def judge(probe: Any, case: Case, path: Path) -> Outcome:
    from ownnet.errors import OwnnetError

    try:
        result = probe.run(case, path)
    except (OwnnetError, ProbeCleanError) as exc:
        text = str(exc)
        if text.strip() and "\n" not in text.strip():
            return Outcome("clean_error", message=text[:300])
        return Outcome(
            "unclear_error", f"{type(exc).__name__}: multi-line or empty message", text[:600]
        )
    except RecursionError as exc:
        return Outcome("traceback", signature(exc), "RecursionError")
    except Exception as exc:  # noqa: BLE001 - what the probe is looking for
        return Outcome("traceback", signature(exc), f"{type(exc).__name__}: {str(exc)[:300]}")
    if isinstance(result, Outcome):
        return result
    return Outcome("accepted")


def save_repro(repro: Path, cls: str, case: Case, outcome: Outcome, i: int) -> str:
    """Keep the smallest input of each failure signature; returns the file's name."""
    repro.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(f"{cls}|{outcome.outcome}|{outcome.signature}".encode()).hexdigest()[:10]
    name = f"{cls}-{outcome.outcome}-{key}{case.suffix or '.bin'}"
    target = repro / name
    if not target.exists() or target.stat().st_size > len(case.data):
        target.write_bytes(case.data)
        note = {
            "class": cls,
            "input": i,
            "kind": case.kind,
            "outcome": outcome.outcome,
            "signature": outcome.signature,
            "message": outcome.message,
            "extra": case.extra,
            "bytes": len(case.data),
        }
        target.with_suffix(target.suffix + ".txt").write_text(
            json.dumps(note, indent=1, default=str)
        )
    return name


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def worker(args: argparse.Namespace) -> int:
    """Run inputs ``args.start..`` of one class, one JSON line before and after each."""
    cls = args.worker
    work = Path(args.work)
    limit = args.mem_limit_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    probe = PROBES[cls](work, args.bomb_mb)
    emit = sys.stdout.write
    who = resource.RUSAGE_CHILDREN if cls in ("cli", "image_cli") else resource.RUSAGE_SELF
    emit(json.dumps({"event": "ready", "rss_mb": rss_mb(resource.RUSAGE_SELF)}) + "\n")
    sys.stdout.flush()
    index = CLASSES.index(cls)
    cases = []
    for i in range(args.start, args.n):
        try:
            case = probe.make(np.random.default_rng([args.seed, index, i]), i)
        except Exception as exc:  # noqa: BLE001 - a bug of the probe: say so, go on
            emit(json.dumps({"event": "probe_error", "i": i, "error": repr(exc)[:200]}) + "\n")
            continue
        if cls == "image_cli":
            cases.append((i, case))
            if len(cases) < ImageCliProbe.BATCH and i < args.n - 1:
                continue
            emit(json.dumps({"event": "start", "i": cases[0][0], "kind": "batch"}) + "\n")
            sys.stdout.flush()
            results = probe.run_batch(cases)
            for j, c in cases:
                report(emit, args, cls, j, c, _as_outcome(results[j]), rss_mb(who))
            cases = []
            continue
        path = work / f"input{case.suffix}"
        path.write_bytes(case.data)
        (work / "current.json").write_text(
            json.dumps(
                {"i": i, "kind": case.kind, "suffix": case.suffix, "extra": case.extra}, default=str
            )
        )
        emit(json.dumps({"event": "start", "i": i, "kind": case.kind}) + "\n")
        sys.stdout.flush()
        outcome = judge(probe, case, path)
        report(emit, args, cls, i, case, outcome, rss_mb(who))
    emit(json.dumps({"event": "end"}) + "\n")
    sys.stdout.flush()
    os._exit(0)  # no slow teardown (the web app's threads, big buffers)


def _as_outcome(result: Any) -> Outcome:
    if isinstance(result, Outcome):
        return result
    return Outcome("accepted" if result in ("accepted", "serving") else str(result))


def report(
    emit: Callable[[str], Any],
    args: argparse.Namespace,
    cls: str,
    i: int,
    case: Case,
    outcome: Outcome,
    rss: float,
) -> None:
    if outcome.outcome == "serving":
        outcome = Outcome("accepted")
    line = {
        "event": "done",
        "i": i,
        "kind": case.kind,
        "outcome": outcome.outcome,
        "rss_mb": rss,
        "bytes": len(case.data),
        "control": case.control,
    }
    if outcome.outcome in BAD or outcome.outcome == "long_run":
        line["signature"] = outcome.signature
        line["message"] = outcome.message[:300]
        line["repro"] = save_repro(Path(args.repro_dir), cls, case, outcome, i)
    elif case.control and outcome.outcome != "accepted":
        line["message"] = outcome.message[:200]
    emit(json.dumps(line, default=str) + "\n")
    sys.stdout.flush()


# ============================================================== the parent
def run_class(cls: str, n: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Run ``n`` inputs of ``cls`` in workers; returns the class's summary."""
    work = root / cls
    work.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    findings: dict[tuple[str, str], dict[str, Any]] = {}
    refused_controls: list[str] = []
    probe_errors: list[str] = []
    peak, base, worst = 0.0, None, ""
    start_i, t0 = 0, time.monotonic()
    timeout = TIMEOUT.get(cls, IN_PROCESS_TIMEOUT)
    while start_i < n:
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            cls,
            "--n",
            str(n),
            "--start",
            str(start_i),
            "--seed",
            str(args.seed),
            "--work",
            str(work),
            "--repro-dir",
            str(args.repro_dir),
            "--mem-limit-mb",
            str(args.mem_limit_mb),
            "--bomb-mb",
            str(args.bomb_mb),
        ]
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        with open(work / "worker-stderr.txt", "ab") as err:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=err, env=env, start_new_session=True
            )
        assert proc.stdout is not None
        current, last_rss, ended = None, 0.0, False
        buf = b""
        deadline = time.monotonic() + 300  # the worker builds its models and apps first
        while True:
            wait = deadline - time.monotonic()
            ready = select.select([proc.stdout], [], [], max(wait, 0))[0] if wait > 0 else []
            if not ready:  # no word within the timeout: the current input hangs
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                if current is None:
                    raise RuntimeError(f"{cls} worker did not start; see {work}/worker-stderr.txt")
                counts["hang"] += 1
                repro = _save_hang(args, cls, work, current)
                findings.setdefault(
                    ("hang", current["kind"]),
                    {
                        "outcome": "hang",
                        "signature": f"over {timeout:g} s",
                        "kind": current["kind"],
                        "input": current["i"],
                        "repro": repro,
                    },
                )
                start_i = current["i"] + 1
                break
            chunk = os.read(proc.stdout.fileno(), 1 << 16)
            if not chunk:  # the worker died (a crash, the memory limit)
                proc.wait()
                if current is not None and current["kind"] == "?" and not ended:
                    raise RuntimeError(
                        f"{cls}: the probe failed making input {current['i']}; "
                        f"see {work}/worker-stderr.txt"
                    )
                if current is not None and not ended:
                    counts["traceback"] += 1
                    tail = (work / "worker-stderr.txt").read_text(errors="replace").strip()
                    tail = (tail.splitlines() or [""])[-1][-200:]
                    findings.setdefault(
                        ("died", current["kind"]),
                        {
                            "outcome": "traceback",
                            "signature": f"worker died with status {proc.returncode}",
                            "kind": current["kind"],
                            "input": current["i"],
                            "message": tail,
                        },
                    )
                    start_i = current["i"] + 1
                else:
                    start_i = n
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                msg = json.loads(raw)
                deadline = time.monotonic() + timeout
                if msg["event"] == "ready":
                    base = msg["rss_mb"] if base is None else base
                elif msg["event"] == "start":
                    current = msg
                elif msg["event"] == "done":
                    counts[msg["outcome"]] += 1
                    if msg["rss_mb"] > last_rss:
                        if msg["rss_mb"] > peak:
                            peak, worst = (
                                msg["rss_mb"],
                                f"{msg['kind']} (#{msg['i']}, {msg['bytes']:,} bytes)",
                            )
                        last_rss = msg["rss_mb"]
                    if "repro" in msg:
                        key = (msg["outcome"], msg["signature"])
                        old = findings.get(key)
                        if old is None or old["bytes"] > msg["bytes"]:
                            findings[key] = {
                                k: msg[k]
                                for k in (
                                    "outcome",
                                    "signature",
                                    "kind",
                                    "i",
                                    "bytes",
                                    "repro",
                                    "message",
                                )
                            }
                    if msg["control"] and msg["outcome"] != "accepted":
                        refused_controls.append(
                            f"{msg['kind']}: {msg.get('message', msg['outcome'])}"[:160]
                        )
                    current = {"i": msg["i"] + 1, "kind": "?"}
                elif msg["event"] == "probe_error":
                    probe_errors.append(f"#{msg['i']}: {msg['error']}")
                elif msg["event"] == "end":
                    ended = True
    tried = sum(counts.values())
    summary = {
        "class": cls,
        "inputs": tried,
        **{k: counts.get(k, 0) for k in OUTCOMES if OUTCOME_CLASSES.get(k, cls) == cls},
        "peak_rss_mb": round(peak, 1),
        "base_rss_mb": round(base or 0.0, 1),
        "worst_input": worst,
        "seconds": round(time.monotonic() - t0, 1),
    }
    if probe_errors:
        summary["probe_errors"] = probe_errors[:5]
    if refused_controls:
        summary["valid_inputs_refused"] = refused_controls[:5]
    if findings:
        summary["findings"] = sorted(
            findings.values(), key=lambda f: (f["outcome"], f.get("signature", ""))
        )
    return summary


def _save_hang(args: argparse.Namespace, cls: str, work: Path, current: dict[str, Any]) -> str:
    """Keep the input that hung (the worker wrote it before starting it)."""
    repro = Path(args.repro_dir)
    repro.mkdir(parents=True, exist_ok=True)
    meta = work / "current.json"
    info = json.loads(meta.read_text()) if meta.exists() else {"suffix": ""}
    source = work / f"input{info.get('suffix', '')}"
    name = f"{cls}-hang-{current['i']}{info.get('suffix') or '.bin'}"
    if source.exists():
        shutil.copyfile(source, repro / name)
        (repro / (name + ".txt")).write_text(
            json.dumps({"class": cls, **info}, indent=1, default=str)
        )
    return name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--classes", default=",".join(CLASSES), help=f"comma-separated, of {', '.join(CLASSES)}"
    )
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        help="inputs per class (default 1000, --quick 40; image_cli gets 15%%, cli 25%%, and "
        "without --quick every numeric option and value at least once)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small run (about a minute): --count 40, small bombs"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repro-dir", default="robustness-repro", help="where failing inputs are saved"
    )
    parser.add_argument(
        "--mem-limit-mb", type=int, default=4096, help="address space limit of a worker"
    )
    parser.add_argument(
        "--bomb-mb",
        type=int,
        default=None,
        help="size of the decompression bombs (default 1024, quick 32)",
    )
    parser.add_argument("--worker", choices=CLASSES, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bomb_mb is None:
        args.bomb_mb = 32 if args.quick else 1024
    if args.worker:
        return worker(args)
    count = args.count or (40 if args.quick else 1000)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    unknown = sorted(set(classes) - set(CLASSES))
    if unknown:
        parser.error(f"unknown classes {unknown}: expected some of {', '.join(CLASSES)}")
    args.repro_dir = str(Path(args.repro_dir).resolve())
    with tempfile.TemporaryDirectory(prefix="ownnet-robustness-") as root:
        for cls in classes:
            n = max(4, int(count * SHARE.get(cls, 1.0)))
            if cls == "cli" and not args.quick:
                n = max(n, len(cli_runs()) * 10 // 9 + 1)  # every option and value once
            print(json.dumps(run_class(cls, n, args, Path(root))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
