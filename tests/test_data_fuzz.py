"""Fuzzing every reader of outside files: IDX (raw and gzip), CSV, data npz, model files.

Each input either loads or raises the reader's own error (DataError, or ModelFileError for
model files), and the reader's peak allocation (``tracemalloc``, which sees NumPy's
buffers) stays within what the input can hold: 4 MiB plus twice what deflate could
inflate it to. Inputs start from valid files, then bytes are flipped, cut, inserted,
deleted, header fields set to edge values, CSV fields replaced and ``.npy`` headers
rewritten; some are random bytes.

CI runs a fixed set of examples (about a minute in all). For a long run, set
``OWNNET_FUZZ_EXAMPLES`` (examples per reader, drawn afresh) and ``-s`` to see a JSON line
per reader with its outcomes and peak allocation::

    OWNNET_FUZZ_EXAMPLES=20000 pytest tests/test_data_fuzz.py -s
"""

from __future__ import annotations

import json
import os
import re
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ownnet.data.formats import read_csv, read_idx, read_npz
from ownnet.errors import DataError, ModelFileError
from ownnet.inputfile import MAX_DEFLATE_RATIO
from ownnet.io import load_arrays, save_arrays

try:
    import mnist_files as mf
except ImportError:  # tests collected as a package
    from tests import mnist_files as mf

LONG = int(os.environ.get("OWNNET_FUZZ_EXAMPLES", "0"))
SLOW = 20.0  # seconds for one input of a few kB: a reader that takes this long hangs


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=LONG or examples,
        deadline=None,  # a busy CI machine must not fail a test; Fuzz times each input
        derandomize=not LONG,  # CI: the same inputs every run
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------- mutations

EDGE_U32 = [0, 1, 2, 3, 28, 255, 256, 0xFFFF, 0x10000, 2**31 - 1, 2**31, 2**32 - 1]
_position = st.one_of(st.integers(0, 64), st.integers(0, 1 << 16))
_op = st.one_of(
    st.tuples(st.just("flip"), _position, st.integers(1, 255)),
    st.tuples(st.just("cut"), _position),
    st.tuples(st.just("insert"), _position, st.binary(min_size=1, max_size=32)),
    st.tuples(st.just("delete"), _position, st.integers(1, 64)),
    st.tuples(st.sampled_from([">I", "<I", "<H"]), _position, st.sampled_from(EDGE_U32)),
)
ops = st.lists(_op, min_size=1, max_size=4)


def mutate(data: bytes, operations: list[tuple]) -> bytes:
    """Apply byte-level ``operations`` (positions wrap around the data's length)."""
    out = bytearray(data)
    for kind, pos, *arg in operations:
        pos %= len(out) + 1
        if kind == "flip" and pos < len(out):
            out[pos] ^= arg[0]
        elif kind == "cut":
            del out[pos:]
        elif kind == "insert":
            out[pos:pos] = arg[0]
        elif kind == "delete":
            del out[pos : pos + arg[0]]
        elif kind in (">I", "<I", "<H"):
            width = 2 if kind == "<H" else 4
            value = arg[0] % (1 << (8 * width))
            out[pos : pos + width] = value.to_bytes(width, "big" if kind == ">I" else "little")
    return bytes(out)


def mutated(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """A seed with mutations, or random bytes."""
    from_seed = st.builds(mutate, st.sampled_from(seeds), ops)
    return st.one_of(from_seed, from_seed, from_seed, st.binary(max_size=4096))


# ---------------------------------------------------------------- seeds

IMAGES, LABELS = mf.tiny_arrays(3, seed=0)
IDX_SEEDS = [
    mf.idx_bytes(IMAGES),
    mf.idx_bytes(LABELS),
    mf.idx_bytes(np.arange(-6, 6, dtype=np.int16).reshape(3, 4), 0x0B),
    mf.idx_bytes(np.linspace(0, 1, 6).reshape(2, 3), 0x0E),
]


def idx_inputs(compress: bool) -> st.SearchStrategy[bytes]:
    if not compress:
        return mutated(IDX_SEEDS)
    content_mutated = st.builds(mf.gz, mutated(IDX_SEEDS))  # valid gzip, bad content
    return st.one_of(content_mutated, mutated([mf.gz(s) for s in IDX_SEEDS]))


CSV_TOKENS = ["1_0", "1e2", "9" * 20, "-" + "9" * 20, "", " ", "+", "-", "-1", "256", "0x10",
              "3.0", "\ufeff1", "label", "pixel0", "1x1", "\r", "\n", "\n\n", "٣",
              "nan", "\x00"]  # fmt: skip
KAGGLE_HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))
CSV_SEEDS = [
    mf.csv_text(IMAGES[:2], LABELS[:2]),
    KAGGLE_HEADER + "\r\n" + mf.csv_text(IMAGES[:1], LABELS[:1]),
    "\n\n" + mf.csv_text(IMAGES[:1], LABELS[:1]) + "\n",
]


def _replace_field(text: str, line: int, field: int, token: str) -> bytes:
    lines = text.split("\n")
    fields = lines[line % len(lines)].split(",")
    fields[field % len(fields)] = token
    lines[line % len(lines)] = ",".join(fields)
    return "\n".join(lines).encode("utf-8")


_csv_fields = st.builds(
    _replace_field,
    st.sampled_from(CSV_SEEDS),
    st.integers(0, 3),
    st.integers(0, 785),
    st.one_of(st.sampled_from(CSV_TOKENS), st.text(max_size=12)),
)
_csv_plain = st.one_of(_csv_fields, mutated([s.encode() for s in CSV_SEEDS]))
csv_inputs = st.one_of(_csv_plain, _csv_plain, st.builds(mf.gz, _csv_plain))

SHAPES = ["(1099511627776,)", "(2, 28, 28)", "(0, 28, 28)", "(-1,)", "()", "(2**64,)", "(3, ",
          "(4294967295, 4294967295)", "(1,) * 70", "'x'", "(True,)", "(1.5,)"]  # fmt: skip
DESCRS = ["'|u1'", "'<i8'", "'>f4'", "'|O'", "'<U1'", "'|V8'", "[('a', '<i4')]", "'<i3'", "1"]


def _npy_header(descr: str, shape: str, fortran: str) -> bytes:
    header = f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}"
    return mf.npy_with_header(header.encode(), bytes(64))


_npy_members = st.builds(
    _npy_header,
    st.sampled_from(DESCRS),
    st.sampled_from(SHAPES),
    st.sampled_from(["False", "True", "0", "None"]),
)


def zip_inputs(arrays: dict[str, np.ndarray], extra_seeds: list[bytes]) -> st.SearchStrategy:
    """Mutated archives of ``arrays``: at the zip level, or one member's ``.npy`` bytes or
    header changed inside an intact zip (stored or deflated)."""
    members = {f"{k}.npy": mf.npy_bytes(v) for k, v in arrays.items()}
    seeds = [mf.zip_bytes(members), mf.zip_bytes(members, compress=True), *extra_seeds]

    def one_member(name: str, data: bytes, compress: bool) -> bytes:
        return mf.zip_bytes({**members, name: data}, compress)

    names = st.sampled_from(sorted(members))
    fields = st.dictionaries(st.sampled_from(sorted(mf.ZIP_FIELDS)), st.sampled_from(EDGE_U32))
    patched = st.builds(_patch, st.sampled_from(seeds[:2]), names, fields)
    member_bytes = st.one_of(
        _npy_members, st.builds(mutate, st.sampled_from(list(members.values())), ops)
    )
    inner = st.builds(one_member, names, member_bytes, st.booleans())
    return st.one_of(mutated(seeds), mutated(seeds), inner, patched)


def _patch(data: bytes, member: str, fields: dict[str, int]) -> bytes:
    """A zip with ``fields`` of ``member``'s headers set (flags, method, sizes, version)."""
    fields = {
        k: v % (1 << 16) if k in ("version", "flags", "method") else v for k, v in fields.items()
    }
    return mf.patch_zip(data, member, **fields)


NPZ_ARRAYS = {
    "x_train": IMAGES[:2],
    "y_train": LABELS[:2],
    "x_test": IMAGES[2:],
    "y_test": LABELS[2:],
}


def _saved_npz(**arrays: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # with the zip64 extras NumPy writes
    return buf.getvalue()


def _model_file_bytes() -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = save_arrays(Path(folder) / "m.npz", MODEL_ARRAYS, {"kind": "nn", "config": {}})
        return path.read_bytes()


MODEL_ARRAYS = {
    "layer0.W": np.arange(12, dtype=np.float32).reshape(4, 3),
    "layer0.b": np.zeros(3, np.float32),
    "optimizer/layer0.W/m": np.asfortranarray(np.ones((4, 3))),
}


# ---------------------------------------------------------------- running one reader


class Fuzz:
    """Feeds inputs to one reader, checks each outcome and its peak allocation, counts."""

    def __init__(self, name: str, reader: Callable, error: type[Exception], folder) -> None:
        self.name, self.reader, self.error = name, reader, error
        self.path = folder / "input.bin"
        self.outcomes: Counter[str] = Counter()
        self.worst = (0, 0, "")  # peak bytes, input size, outcome
        self.slowest, self.slowest_input = 0.0, b""
        self.failures: list[bytes] = []

    def __call__(self, data: bytes) -> None:
        self.path.write_bytes(data)
        tracemalloc.start()
        start = time.perf_counter()
        try:
            self.reader(self.path)
            outcome = "accepted"
        except self.error as exc:
            message = str(exc)
            assert str(self.path) in message or message.startswith("$OWNNET"), message
            assert "\n" not in message, message
            outcome = "clean error"
        except Exception as exc:
            if not LONG:
                raise
            outcome = f"traceback {type(exc).__name__}"  # counted; the run fails at its end
            self.failures.append(data)
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if time.perf_counter() - start > self.slowest:
            self.slowest, self.slowest_input = time.perf_counter() - start, data
        assert self.slowest < SLOW, f"{self.name}: {self.slowest:.1f} s for one input"
        self.outcomes[outcome] += 1
        bound = 4 * 2**20 + 2 * MAX_DEFLATE_RATIO * len(data)
        assert peak <= bound, f"{self.name}: peak {peak:,} bytes for a {len(data):,}-byte input"
        if peak > self.worst[0]:
            self.worst = (peak, len(data), outcome)

    def report(self) -> None:
        if LONG:
            print(json.dumps({
                "reader": self.name, "inputs": sum(self.outcomes.values()), **self.outcomes,
                "worst_peak_bytes": self.worst[0], "its_input_bytes": self.worst[1],
                "its_outcome": self.worst[2], "slowest_s": round(self.slowest, 3),
            }))  # fmt: skip
            if os.environ.get("OWNNET_FUZZ_SHOW_SLOWEST"):
                print(repr(self.slowest_input))


def _run(fuzz: Fuzz, inputs: st.SearchStrategy[bytes], examples: int) -> None:
    @fuzz_settings(examples)
    @given(inputs)
    def check(data: bytes) -> None:
        fuzz(data)

    check()
    fuzz.report()
    assert not fuzz.failures, f"{len(fuzz.failures)} inputs raised tracebacks: {fuzz.failures[:3]}"
    assert sum(fuzz.outcomes.values()) >= (LONG or examples) // 2  # none silently skipped


# ---------------------------------------------------------------- the readers


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_fuzz_idx(tmp_path, compress):
    _run(Fuzz(f"idx-{'gz' if compress else 'raw'}", read_idx, DataError, tmp_path),
         idx_inputs(compress), 700)  # fmt: skip


def test_fuzz_csv(tmp_path):
    _run(Fuzz("csv", read_csv, DataError, tmp_path), csv_inputs, 700)


def test_fuzz_data_npz(tmp_path):
    seeds = [_saved_npz(**NPZ_ARRAYS)]
    _run(Fuzz("npz", read_npz, DataError, tmp_path), zip_inputs(NPZ_ARRAYS, seeds), 700)


def test_fuzz_model_file(tmp_path):
    seeds = [_model_file_bytes()]
    meta = np.frombuffer(b'{"format": "ownnet-model", "format_version": 1}', np.uint8)
    arrays = {**MODEL_ARRAYS, "__meta__": meta}
    _run(Fuzz("model file", load_arrays, ModelFileError, tmp_path), zip_inputs(arrays, seeds), 700)


_field_text = st.text(alphabet="0123456789+- \t\r\x0b\x0c.eEx_\x00٣", max_size=5)
_PLAIN = re.compile(r"[ \t\r\x0b\x0c]*([+-]?)[ \t\r\x0b\x0c]*([0-9]+)[ \t\r\x0b\x0c]*")


@fuzz_settings(300)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 784), _field_text), max_size=4))
def test_csv_values_are_what_the_fields_say(edits):
    """Fast path or slow, a field is read as the plain decimal integer it spells (blanks
    around it, an optional sign), or the file is refused: never a 0 for a blank field."""
    import tempfile
    from pathlib import Path

    rows = [[str(y)] + [str(p) for p in x.ravel()] for x, y in zip(IMAGES[:2], LABELS[:2])]
    for row, col, text in edits:
        rows[row][col] = text
    matches = [[_PLAIN.fullmatch(f) for f in r] for r in rows]
    values = [[int(m[1] + m[2]) if m else None for m in r] for r in matches]
    ok = all(None not in r and 0 <= r[0] <= 9 and all(0 <= v <= 255 for v in r[1:]) for r in values)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mnist_test.csv"
        path.write_bytes("\n".join(",".join(r) for r in rows).encode())
        try:
            images, labels = read_csv(path)
        except DataError:
            assert not ok, rows
            return
    assert ok, rows
    np.testing.assert_array_equal(labels, [r[0] for r in values])
    np.testing.assert_array_equal(images.reshape(2, -1), [r[1:] for r in values])
