"""Readers for IDX, the book's CSV and Keras' npz: good files and every kind of bad one."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from ownnet.data import csv_format, formats
from ownnet.data.formats import read_csv, read_idx, read_idx_images, read_idx_labels, read_npz
from ownnet.errors import DataError

try:
    from mnist_files import csv_text, gz, idx_bytes, tiny_arrays, tiny_splits, write_npz
except ImportError:  # tests collected as a package
    from tests.mnist_files import csv_text, gz, idx_bytes, tiny_arrays, tiny_splits, write_npz


def _raises(match: str, path, fn, *args):
    """Call ``fn``; it must raise DataError whose message names ``path`` and matches."""
    with pytest.raises(DataError, match=match) as info:
        fn(*args)
    assert str(path) in str(info.value)
    return str(info.value)


# ---------------------------------------------------------------- IDX, good


@pytest.mark.parametrize("compress", [False, True])
def test_idx_images_and_labels_round_trip(tmp_path, compress):
    images, labels = tiny_arrays(7, seed=3)
    for stem, arr in (("img", images), ("lab", labels)):
        data = idx_bytes(arr)
        (tmp_path / stem).write_bytes(gz(data) if compress else data)
    got_images = read_idx_images(tmp_path / "img")
    got_labels = read_idx_labels(tmp_path / "lab")
    assert got_images.dtype == np.uint8 and got_images.shape == (7, 28, 28)
    assert got_labels.dtype == np.uint8 and got_labels.shape == (7,)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    images, _ = tiny_arrays(2, seed=0)
    (tmp_path / "a.gz").write_bytes(idx_bytes(images))  # raw bytes named .gz
    (tmp_path / "b").write_bytes(gz(idx_bytes(images)))  # gzip without .gz
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "b"), images)


@pytest.mark.parametrize(("code", "dtype"), [(0x09, np.int8), (0x0B, np.int16), (0x0D, np.float32)])
def test_other_idx_types_are_read_in_native_byte_order(tmp_path, code, dtype):
    arr = np.array([[1, -2, 300 if dtype != np.int8 else 100], [4, 5, 6]], dtype=dtype)
    (tmp_path / "x").write_bytes(idx_bytes(arr, code))
    got = read_idx(tmp_path / "x")
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


# ---------------------------------------------------------------- IDX, bad


def test_wrong_magic(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    _raises("expected an IDX file .*found 50 4b 03 04", path, read_idx, path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    _raises("found nothing", path, read_idx, path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope"
    _raises("no such file", path, read_idx, path)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("delta", [-28 * 28, -1, 1, 28 * 28])
def test_header_dims_disagree_with_file_size(tmp_path, compress, delta):
    images, _ = tiny_arrays(3, seed=0)
    data = idx_bytes(images)
    data = data[:delta] if delta < 0 else data + bytes(delta)
    path = tmp_path / "imgs"
    path.write_bytes(gz(data) if compress else data)
    _raises("header says 3x28x28", path, read_idx, path)


def test_header_too_big_for_gzip_is_refused_before_allocating(tmp_path):
    head = struct.pack(">BBBBIII", 0, 0, 8, 3, 4_000_000_000, 28, 28)
    path = tmp_path / "huge.gz"
    path.write_bytes(gz(head + bytes(100)))
    _raises("cannot hold that much", path, read_idx, path)


def test_header_cut_short(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 8, 3, 5))
    _raises("expected a header of 16 bytes", path, read_idx, path)


def test_truncated_gzip(tmp_path):
    images, _ = tiny_arrays(5, seed=0)
    data = gz(idx_bytes(images))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(data[: len(data) // 2])
    _raises("truncated gzip file", path, read_idx, path)


def test_corrupt_gzip(tmp_path):
    images = np.zeros((50, 28, 28), np.uint8)  # compresses well: a flipped byte breaks inflate
    data = bytearray(gz(idx_bytes(images)))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    _raises("gzip", path, read_idx, path)


def test_label_outside_0_to_9(tmp_path):
    labels = np.array([0, 1, 10, 3, 12], np.uint8)
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(labels))
    msg = _raises("expected labels 0..9, found 10 at index 2", path, read_idx_labels, path)
    assert "2 bad" in msg


def test_images_file_given_as_labels_and_back(tmp_path):
    images, labels = tiny_arrays(3, seed=0)
    (tmp_path / "i").write_bytes(idx_bytes(images))
    (tmp_path / "l").write_bytes(idx_bytes(labels))
    _raises("expected labels, a 1-d IDX file", tmp_path / "i", read_idx_labels, tmp_path / "i")
    _raises("expected images, a 3-d IDX file", tmp_path / "l", read_idx_images, tmp_path / "l")


def test_images_of_wrong_size(tmp_path):
    path = tmp_path / "i"
    path.write_bytes(idx_bytes(np.zeros((2, 20, 20), np.uint8)))
    _raises("expected images of 28x28 pixels, found 20x20", path, read_idx_images, path)
    assert read_idx_images(path, shape=None).shape == (2, 20, 20)


# ---------------------------------------------------------------- CSV


def test_csv_round_trip(tmp_path):
    images, labels = tiny_arrays(6, seed=4)
    path = tmp_path / "mnist_test.csv"
    path.write_text(csv_text(images, labels))
    got_images, got_labels = read_csv(path)
    assert got_images.dtype == np.uint8 and got_images.shape == (6, 28, 28)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_csv_header_blank_lines_crlf_no_final_newline(tmp_path):
    images, labels = tiny_arrays(4, seed=1)
    lines = csv_text(images, labels).splitlines()
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    text = "\r\n".join([header, lines[0], "", lines[1], lines[2], "  ", lines[3]])
    path = tmp_path / "k.csv"
    path.write_bytes(text.encode())
    got_images, got_labels = read_csv(path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_csv_gzip(tmp_path):
    images, labels = tiny_arrays(3, seed=2)
    path = tmp_path / "m.csv.gz"
    path.write_bytes(gzip.compress(csv_text(images, labels).encode()))
    np.testing.assert_array_equal(read_csv(path)[0], images)


def _csv_with(tmp_path, line_no: int, edit):
    """A 6-line CSV whose line ``line_no`` (1-based) is passed through ``edit``."""
    images, labels = tiny_arrays(6, seed=5)
    lines = csv_text(images, labels).splitlines()
    lines[line_no - 1] = edit(lines[line_no - 1])
    path = tmp_path / "mnist_train.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: s.rsplit(",", 1)[0], "line 4: expected 785 comma-separated fields.*found 784"),
        (lambda s: s + ",0", "line 4: expected 785 .*found 786"),
        (lambda s: s.replace(",", ",256,", 1).rsplit(",", 1)[0], "line 4: .*0..255, found 256"),
        (lambda s: s.rsplit(",", 1)[0] + ",-1", "line 4: .*0..255, found -1 in field 785"),
        (lambda s: "10" + s[1:], "line 4: expected a label 0..9 in field 1, found 10"),
        (lambda s: s.rsplit(",", 1)[0] + ",3.5", "line 4: expected an integer in field 785"),
        (lambda s: s.rsplit(",", 1)[0] + ",x", "line 4: expected an integer .*'x'"),
        (lambda s: s.rsplit(",", 1)[0] + ",", "line 4: expected an integer in field 785"),
    ],
)
def test_csv_bad_line(tmp_path, edit, match):
    path = _csv_with(tmp_path, 4, edit)
    _raises(match, path, read_csv, path)


def test_csv_line_numbers_across_blocks_header_and_blanks(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_format, "_BLOCK", 5000)  # a line is about 2.8 kB: many blocks
    images, labels = tiny_arrays(30, seed=6)
    lines = csv_text(images, labels).splitlines()
    lines[25] = lines[25].rsplit(",", 1)[0] + ",999"
    text = "label,a\n\n" + "\n".join(lines[:10]) + "\n\n" + "\n".join(lines[10:]) + "\n"
    path = tmp_path / "big.csv"
    path.write_text(text)
    # line 1 header, 2 blank, 3..12 = samples 0..9, 13 blank, 14.. = samples 10..
    _raises("line 29: .*found 999 in field 785", path, read_csv, path)
    lines[25] = lines[24]
    path.write_text("\n".join(lines) + "\n")
    got_images, got_labels = read_csv(path)
    assert len(got_labels) == 30
    np.testing.assert_array_equal(got_images[:25], images[:25])


def test_csv_empty(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("\n\n")
    _raises("found no samples", path, read_csv, path)


# ---------------------------------------------------------------- npz


def test_npz_round_trip_and_flat_images(tmp_path):
    splits = tiny_splits(8, 4)
    path = write_npz(tmp_path / "mnist.npz", splits)
    got = read_npz(path)
    for split in ("train", "test"):
        np.testing.assert_array_equal(got[split][0], splits[split][0])
        np.testing.assert_array_equal(got[split][1], splits[split][1])
        assert got[split][0].dtype == np.uint8 and got[split][1].dtype == np.uint8
    (xt, yt), (xs, ys) = splits["train"], splits["test"]
    np.savez(
        path,
        x_train=xt.reshape(8, 784).astype(np.int64),
        y_train=yt.astype(np.int64),
        x_test=xs,
        y_test=ys,
    )
    got = read_npz(path)
    assert got["train"][0].shape == (8, 28, 28) and got["train"][0].dtype == np.uint8
    np.testing.assert_array_equal(got["train"][0], xt)


def _npz(tmp_path, **changes):
    (xt, yt), (xs, ys) = tiny_splits(8, 4).values()
    arrays = {"x_train": xt, "y_train": yt, "x_test": xs, "y_test": ys, **changes}
    arrays = {k: v for k, v in arrays.items() if v is not None}
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"y_test": None}, "missing y_test"),
        (
            {"x_train": np.zeros((8, 28, 28), np.float32)},
            "x_train as integers 0..255, found float32",
        ),
        ({"x_train": np.full((8, 28, 28), 300, np.int16)}, "x_train pixel values 0..255"),
        ({"x_train": np.zeros((8, 27, 28), np.uint8)}, r"x_train of shape \(n, 28, 28\)"),
        ({"y_train": np.full(8, 11, np.uint8)}, "y_train.*expected labels 0..9, found 11"),
        ({"y_train": np.zeros(7, np.uint8)}, "8 images .* 7 labels"),
        ({"y_test": np.array(["a"] * 4, dtype=object)}, "plain arrays"),
    ],
)
def test_npz_bad(tmp_path, changes, match):
    path = _npz(tmp_path, **changes)
    _raises(match, path, read_npz, path)


def test_npz_not_a_zip(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    _raises("npz", path, read_npz, path)


# ---------------------------------------------------------------- writers


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(("code", "dtype"), list(formats.IDX_TYPES.items()))
def test_write_idx_writes_what_the_format_defines(tmp_path, compress, code, dtype):
    arr = (np.arange(24) - (0 if dtype.kind == "u" else 7)).reshape(2, 3, 4).astype(dtype)
    path = tmp_path / "x.idx"
    formats.write_idx(path, arr.astype(dtype.newbyteorder("=")), compress=compress)
    data = path.read_bytes()
    assert (data[:2] == b"\x1f\x8b") == compress
    assert (gzip.decompress(data) if compress else data) == idx_bytes(arr, code)
    got = read_idx(path)
    assert got.dtype == dtype.newbyteorder("=") and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)
    assert [p.name for p in tmp_path.iterdir()] == ["x.idx"]  # no temporary file left


@pytest.mark.parametrize(
    "array",
    [
        np.zeros(3, np.int64),
        np.zeros(3, bool),
        np.zeros((), np.uint8),
        np.zeros((1,) * 5, np.uint8),
    ],
)
def test_write_idx_refuses_what_idx_cannot_hold(tmp_path, array):
    _raises("IDX holds arrays of 1 to 4 dimensions", tmp_path / "x", formats.write_idx,
            tmp_path / "x", array)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_write_csv_writes_the_books_format(tmp_path):
    images, labels = tiny_arrays(5, seed=9)
    path = tmp_path / "mnist_test.csv"
    formats.write_csv(path, images, labels)
    assert path.read_text() == csv_text(images, labels)
    got_images, got_labels = read_csv(path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    formats.write_csv(path, images.reshape(5, 784).astype(np.int64), labels.astype(np.int32))
    assert path.read_text() == csv_text(images, labels)
    assert [p.name for p in tmp_path.iterdir()] == ["mnist_test.csv"]


@pytest.mark.parametrize(
    ("images", "labels", "match"),
    [
        (np.zeros((3, 28, 28), np.uint8), np.zeros(2, np.uint8), r"images of shape \(3, 28, 28\)"),
        (np.zeros((3, 27, 28), np.uint8), np.zeros(3, np.uint8), r"found images of shape"),
        (np.zeros((3, 28, 28), np.uint8), np.full(3, 10), "labels as integers 0..9, found 10..10"),
        (
            np.full((3, 28, 28), 0.5),
            np.zeros(3, np.uint8),
            "pixels as integers 0..255, found float",
        ),
        (np.full((3, 28, 28), 256), np.zeros(3, np.uint8), "pixels .* found 256..256"),
    ],
)
def test_write_csv_refuses_what_is_not_mnist(tmp_path, images, labels, match):
    _raises(match, tmp_path / "c.csv", formats.write_csv, tmp_path / "c.csv", images, labels)
    assert list(tmp_path.iterdir()) == []
