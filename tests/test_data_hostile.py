"""Issue 16, "safe to feed anything": one test per defect the audit found in the data and
model-file readers, each with the smallest input that showed it.

Every bad input must raise the reader's own error (DataError, or ModelFileError for model
files) naming the file, and never allocate memory the file is not entitled to
(``tracemalloc`` sees NumPy's allocations).
"""

from __future__ import annotations

import gzip
import struct
import threading
import tracemalloc

import numpy as np
import pytest

from ownnet import io
from ownnet.data.formats import read_csv, read_idx, read_npz
from ownnet.data.mnist import load_mnist
from ownnet.errors import DataError, ModelFileError

try:
    import mnist_files as mf
except ImportError:  # tests collected as a package
    from tests import mnist_files as mf

MiB = 2**20
IMAGES, LABELS = mf.tiny_arrays(3, seed=0)
GOOD_NPZ = mf.npz_bytes({"x_train": IMAGES, "y_train": LABELS, "x_test": IMAGES, "y_test": LABELS})
META = np.frombuffer(b'{"format": "ownnet-model", "format_version": 1}', np.uint8)
TERABYTE_HEADER = b"{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,), }"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No real $OWNNET_DATA, an empty cache of our own, and no network."""
    monkeypatch.delenv("OWNNET_DATA", raising=False)
    monkeypatch.delenv("OWNNET_MAX_BYTES", raising=False)
    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OWNNET_MIRRORS", f"http://127.0.0.1:{mf.closed_port()}/")


def _refused(error, match, fn, path, peak_mib=8):
    """``fn(path)`` raises ``error`` naming ``path`` and matching ``match``, and allocates
    at most ``peak_mib`` MiB on the way; returns the message."""
    tracemalloc.start()
    try:
        with pytest.raises(error, match=match) as info:
            fn(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    assert peak < peak_mib * MiB, f"peak {peak / MiB:.1f} MiB"
    return str(info.value)


def _npz_of(member_bytes: bytes, compress: bool = False) -> bytes:
    keys = ("x_train", "y_train", "x_test", "y_test")
    return mf.zip_bytes({f"{k}.npy": member_bytes for k in keys}, compress)


# ---------------------------------------------------------------- 1. memory bombs


def test_npy_header_claiming_a_terabyte_in_a_data_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(_npz_of(mf.npy_with_header(TERABYTE_HEADER, bytes(16))))
    _refused(DataError, r"x_train.npy: header says 1099511627776 uint8 values", read_npz, path)


def test_npy_header_claiming_a_terabyte_in_a_model_file(tmp_path):
    path = tmp_path / "m.npz"
    weights = mf.npy_with_header(TERABYTE_HEADER, b"\0")
    path.write_bytes(mf.zip_bytes({"__meta__.npy": mf.npy_bytes(META), "w.npy": weights}))
    _refused(ModelFileError, r"w.npy: header says 1099511627776", io.load_arrays, path)


def test_gzip_of_newlines_allocates_nothing(tmp_path):
    """200 KB of gzip made the CSV reader ask for lines x 784 bytes (153 GiB); 20 MB of
    newlines here (the old reader asked for 15 GiB)."""
    path = tmp_path / "mnist_train.csv.gz"
    path.write_bytes(gzip.compress(b"\n" * 20_000_000, 9))
    _refused(DataError, "found no samples", read_csv, path)


def test_npz_member_declaring_more_than_its_bytes_can_hold(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(mf.patch_zip(GOOD_NPZ, "x_train.npy", usize=0xFFFFFFFE))
    _refused(DataError, "x_train.npy: declares 4.0 GiB of data in 2,480 stored", read_npz, path)
    arrays = {"x_train": IMAGES, "y_train": LABELS, "x_test": IMAGES, "y_test": LABELS}
    deflated = mf.npz_bytes(arrays, compress=True)
    path.write_bytes(mf.patch_zip(deflated, "x_train.npy", usize=0xFFFFFFFE))
    _refused(DataError, r"declares 4.0 GiB of data in [\d,]+ deflated bytes", read_npz, path)


def test_data_over_the_size_limit_is_refused_naming_the_limit(tmp_path, monkeypatch):
    """A genuine deflate bomb (3 MB of zeros in 3 kB) and an IDX file, above a lowered
    limit: refused before allocating, naming the limit and how to raise it."""
    monkeypatch.setenv("OWNNET_MAX_BYTES", "1MiB")
    zeros = np.zeros((3000, 28, 28), np.uint8)
    path = tmp_path / "mnist.npz"
    path.write_bytes(mf.npz_bytes({"x_train": zeros, "y_train": np.zeros(3000, np.uint8),
                                   "x_test": IMAGES, "y_test": LABELS}, compress=True))  # fmt: skip
    assert path.stat().st_size < 10_000
    msg = _refused(DataError, "x_train.npy would take 2,352,128 bytes", read_npz, path, 1)
    assert "more than the limit of 1,048,576 bytes for one file" in msg
    assert "set OWNNET_MAX_BYTES (e.g. OWNNET_MAX_BYTES=16GiB) to raise it" in msg
    idx = tmp_path / "train-images-idx3-ubyte.gz"
    idx.write_bytes(mf.gz(mf.idx_bytes(zeros)))
    _refused(DataError, "3000x28x28 uint8 values its header gives would take", read_idx, idx, 1)
    monkeypatch.setenv("OWNNET_MAX_BYTES", "3MiB")
    assert read_idx(idx).shape == (3000, 28, 28)
    monkeypatch.setenv("OWNNET_MAX_BYTES", "lots")
    with pytest.raises(DataError, match="OWNNET_MAX_BYTES: expected a size .* found 'lots'"):
        read_idx(idx)


def test_idx_header_that_lies_costs_only_the_bytes_really_there(tmp_path):
    """A gzip IDX file whose header claims 100 times its data (78 MB, which deflate could
    hold): the gzip trailer disagrees, so the reader gathers what arrives (784 kB) instead
    of allocating what is claimed."""
    images, _ = mf.tiny_arrays(1000, seed=1)
    data = mf.idx_bytes(images)
    path = tmp_path / "lie.gz"
    path.write_bytes(mf.gz(data[:4] + struct.pack(">I", 100_000) + data[8:]))
    _refused(DataError, "expected 78,400,000 data bytes, found only 784,000", read_idx, path, 4)


def test_model_metadata_too_big_to_parse_safely(tmp_path):
    """JSON becomes Python objects many times its size: 9 MB of it (in 20 kB of deflate)
    is refused before it is read."""
    path = tmp_path / "m.npz"
    meta = np.frombuffer(b"[" + b"1," * 4_500_000 + b"1]", np.uint8)
    path.write_bytes(mf.npz_bytes({"__meta__": meta}, compress=True))
    msg = "expected metadata of at most 8,388,608 bytes, found 9,000,003"
    _refused(ModelFileError, msg, io.load_arrays, path, 1)


# ---------------------------------------------------------------- 2. uncaught exceptions


@pytest.mark.parametrize(
    "text",
    [b"[" * 100_000 + b"]" * 100_000, b'{"format": ' + b"9" * 5000 + b"}", b"\xff\xfe"],
    ids=["nested", "5000-digit number", "not UTF-8"],
)
def test_model_metadata_json_python_cannot_parse(tmp_path, text):
    """RecursionError and the 4300-digit ValueError escaped the model reader."""
    path = tmp_path / "m.npz"
    path.write_bytes(mf.npz_bytes({"__meta__": np.frombuffer(text, np.uint8)}))
    _refused(ModelFileError, "metadata is not valid JSON", io.load_arrays, path)


def test_idx_with_too_many_dimensions(tmp_path):
    path = tmp_path / "d200"
    path.write_bytes(bytes([0, 0, 8, 200]) + struct.pack(">200I", *[1] * 200) + b"\0")
    _refused(DataError, "expected 1 to 4 dimensions in the IDX header, found 200", read_idx, path)


def test_idx_dims_whose_product_overflows(tmp_path):
    path = tmp_path / "overflow"
    path.write_bytes(bytes([0, 0, 8, 4]) + struct.pack(">4I", 0, *[2**32 - 1] * 3))
    _refused(DataError, "0x4294967295x4294967295x4294967295 uint8 .* limit", read_idx, path)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"method": 9}, "expected a stored or deflated member .* method 9 \\(deflate64\\)"),
        ({"method": 99}, "method 99 \\(unknown\\)"),
        ({"flags": 1}, "x_train.npy: expected an unencrypted member, found an encrypted one"),
        ({"version": 70}, "found zip file version 7.0"),
    ],
)
def test_zip_entries_zipfile_cannot_read(tmp_path, fields, match):
    for error, reader, name, data in (
        (DataError, read_npz, "x_train.npy", GOOD_NPZ),
        (ModelFileError, io.load_arrays, "__meta__.npy", mf.npz_bytes({"__meta__": META})),
    ):
        path = tmp_path / "a.npz"
        patched = mf.patch_zip(data, name, **fields)
        path.write_bytes(patched)
        _refused(error, match.replace("x_train.npy", name), reader, path)


def test_damaged_npy_header(tmp_path):
    """numpy's own parser raised tokenize.TokenError for an unclosed header."""
    path = tmp_path / "mnist.npz"
    header = b"{'descr': '|u1', 'fortran_order': False, 'shape': (3, "
    path.write_bytes(_npz_of(mf.npy_with_header(header, bytes(3))))
    _refused(DataError, r"x_train.npy: expected a .npy header \(a dict literal\)", read_npz, path)


def test_plain_npy_named_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(mf.npy_bytes(IMAGES))
    _refused(DataError, "expected an npz archive .*found no zip directory", read_npz, path)
    _refused(ModelFileError, "expected a model file .*no zip directory", io.load_arrays, path)


@pytest.mark.parametrize("fmt", ["idx", "npz", "csv"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_empty_train_or_test_set(tmp_path, fmt, split):
    splits = mf.tiny_splits(4, 2)
    splits[split] = (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    folder = tmp_path / "d"
    if fmt == "idx":
        mf.write_idx_dir(folder, splits)
    elif fmt == "npz":
        mf.write_npz(folder / "mnist.npz", splits)
    else:
        mf.write_csv_dir(folder, splits)
        (folder / f"mnist_{split}.csv").write_text("\n")
    match = f"expected at least one {split} sample, found none" if fmt != "csv" else "no samples"
    with pytest.raises(DataError, match=match):
        load_mnist(folder, download=False)


@pytest.mark.parametrize(
    ("field", "match"),
    [
        ("1_0", "line 1: expected an integer in field 2, found '1_0'"),
        ("9" * 20, "line 1: expected pixel values 0..255, found 99999999999999999999 in field 2"),
        (" ", "line 1: expected an integer in field 2, found ''"),  # fromstring reads 0
        ("+", "line 1: expected an integer in field 2, found '\\+'"),
    ],
)
def test_csv_fields_python_or_numpy_would_misread(tmp_path, field, match):
    line = mf.csv_text(IMAGES[:1], LABELS[:1]).strip().split(",")
    line[1] = field
    path = tmp_path / "mnist_test.csv"
    path.write_text(",".join(line) + "\n")
    _refused(DataError, match, read_csv, path)
    line[2] = "1_0"  # a bad field beside a 20-digit one made int64 conversion overflow
    line[1] = "9" * 20
    path.write_text(",".join(line) + "\n")
    _refused(DataError, "field 3, found '1_0'", read_csv, path)


# ---------------------------------------------------------------- 3. silent data loss in CSV


def test_csv_byte_order_mark_keeps_the_first_sample(tmp_path):
    path = tmp_path / "mnist_test.csv"
    path.write_bytes(b"\xef\xbb\xbf" + mf.csv_text(IMAGES, LABELS).encode())
    images, labels = read_csv(path)
    np.testing.assert_array_equal(labels, LABELS)
    np.testing.assert_array_equal(images, IMAGES)
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    path.write_bytes(b"\xef\xbb\xbf" + (header + "\n" + mf.csv_text(IMAGES, LABELS)).encode())
    np.testing.assert_array_equal(read_csv(path)[1], LABELS)  # Kaggle's other header


def test_csv_malformed_first_line_is_an_error_not_a_header(tmp_path):
    lines = mf.csv_text(IMAGES, LABELS).splitlines()
    fields = lines[0].split(",")
    fields[5] = "1e2"
    path = tmp_path / "mnist_train.csv"
    path.write_text("\n".join([",".join(fields), *lines[1:]]) + "\n")
    _refused(DataError, "line 1: expected an integer in field 6, found '1e2'", read_csv, path)
    path.write_text("pixel0,pixel1\n" + "\n".join(lines) + "\n")  # a header without labels
    _refused(DataError, "line 1: expected 785 comma-separated fields", read_csv, path)


# ---------------------------------------------------------------- 4. IDX header bytes


@pytest.mark.parametrize(
    ("head", "match"),
    [
        (bytes([0, 1, 8, 1]), "expected an IDX file .*found 00 01 08 01"),
        (bytes([1, 0, 8, 1]), "expected an IDX file .*found 01 00 08 01"),
        (bytes([0, 0, 0x0A, 1]), r"expected an IDX type byte \(08, 09, 0b, 0c, 0d, 0e\), found 0a"),
        (bytes([0, 0, 0x08, 0]), "expected 1 to 4 dimensions in the IDX header, found 0"),
    ],
)
def test_idx_magic_type_and_dimension_bytes_are_checked(tmp_path, head, match):
    path = tmp_path / "labels"
    path.write_bytes(head + struct.pack(">I", 1) + b"\x05")
    _refused(DataError, match, read_idx, path)


# ---------------------------------------------------------------- 7. FIFOs and other non-files


def _finishes(fn, *args, **kwargs) -> BaseException | None:
    """Run ``fn(*args, **kwargs)`` in a thread; it must end within 5 s. Returns what it
    raised."""
    outcome: list[BaseException | None] = []

    def run():
        try:
            fn(*args, **kwargs)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(5)
    assert outcome, f"{fn.__name__} hung on a FIFO"
    return outcome[0]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs os.mkfifo (POSIX)")
@pytest.mark.parametrize(
    ("reader", "error"),
    [(read_idx, DataError), (read_csv, DataError), (read_npz, DataError),
     (io.load_arrays, ModelFileError), (io.load_model, ModelFileError)],
)  # fmt: skip
def test_fifo_is_refused_at_once(tmp_path, reader, error):
    import os

    path = tmp_path / "train-images-idx3-ubyte"
    os.mkfifo(path)
    exc = _finishes(reader, path)
    assert isinstance(exc, error) and "expected a regular" in str(exc) and "FIFO" in str(exc)
    folder = tmp_path / "dir.npz"
    folder.mkdir()
    exc = _finishes(reader, folder)
    assert isinstance(exc, error) and str(folder) in str(exc) and "directory" in str(exc)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs os.mkfifo (POSIX)")
def test_fifo_among_data_files_is_never_opened(tmp_path):
    import os

    folder = mf.write_idx_dir(tmp_path / "d", mf.tiny_splits(4, 2))
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    os.mkfifo(folder / "train-labels-idx1-ubyte.gz")
    exc = _finishes(load_mnist, folder, "mnist", download=False)
    assert isinstance(exc, DataError)
    assert "incomplete IDX set, missing train-labels-idx1-ubyte" in str(exc)
