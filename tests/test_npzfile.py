"""ownnet.npzfile: reads what np.savez writes exactly as np.load does, and refuses the rest
with the caller's error, before allocating."""

from __future__ import annotations

import numpy as np
import pytest

from ownnet import npyheader, npzfile
from ownnet.errors import DataError, ModelFileError
from ownnet.npzfile import NpzArchive

try:
    import mnist_files as mf
except ImportError:  # tests collected as a package
    from tests import mnist_files as mf

ARRAYS = {
    "bool": np.array([[True, False], [False, True]]),
    "int8": np.arange(-5, 5, dtype=np.int8),
    "big_endian": np.arange(6, dtype=">i4").reshape(2, 3),
    "uint64": np.array([2**64 - 1], np.uint64),
    "half": np.linspace(0, 1, 5, dtype=np.float16),
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "complex": np.array([1 + 2j, 3 - 4j]),
    "scalar": np.array(3.5),
    "empty": np.zeros((0, 28, 28), np.uint8),
    "optimizer/layer0.W/m": np.ones((3, 2), np.float32),
}


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_reads_what_numpy_writes_as_numpy_reads_it(tmp_path, save):
    path = tmp_path / "a.npz"
    save(path, **ARRAYS)
    with np.load(path, allow_pickle=False) as expected, NpzArchive(path) as npz:
        assert sorted(npz.names) == sorted(ARRAYS)
        for name in ARRAYS:
            got = npz.read(name)
            want = expected[name]
            assert got.dtype == want.dtype and got.shape == want.shape
            assert got.flags.f_contiguous == want.flags.f_contiguous
            np.testing.assert_array_equal(got, want)
        m = npz.member("fortran")
        assert (m.shape, m.dtype, m.fortran_order, m.n_bytes) == ((3, 4), np.float64, True, 96)


def test_header_versions_2_and_3(tmp_path):
    data = np.arange(4, dtype="<u2").tobytes()
    header = b"{'descr': '<u2', 'fortran_order': False, 'shape': (4,), }"
    path = tmp_path / "v.npz"
    members = {f"v{v}.npy": mf.npy_with_header(header, data, version=v) for v in (1, 2, 3)}
    path.write_bytes(mf.zip_bytes(members))
    with NpzArchive(path) as npz:
        for v in (1, 2, 3):
            np.testing.assert_array_equal(npz.read(f"v{v}"), np.arange(4))


def test_only_the_members_asked_for_are_read(tmp_path):
    good = mf.npy_bytes(np.arange(3))
    path = tmp_path / "a.npz"
    path.write_bytes(mf.zip_bytes({"good.npy": good, "bad.npy": b"not a .npy at all"}))
    with NpzArchive(path) as npz:
        np.testing.assert_array_equal(npz.read("good"), np.arange(3))
        with pytest.raises(DataError, match="bad.npy: expected a .npy array"):
            npz.read("bad")
        with pytest.raises(DataError, match="expected a member nothing.npy, found good.npy, bad"):
            npz.read("nothing")


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "plain arrays of numbers"),
        (b"{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", "found dtype '<U3'"),
        (b"{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", "dtype"),
        (b"{'descr': '<i3', 'fortran_order': False, 'shape': (1,), }", "found dtype '<i3'"),
        (b"{'descr': '<i4', 'fortran_order': 0, 'shape': (1,), }", "fortran_order True or"),
        (b"{'descr': '<i4', 'fortran_order': False, 'shape': (-1,), }", "shape of at most 32"),
        (b"{'descr': '<i4', 'fortran_order': False, 'shape': (True,), }", "shape of at most"),
        (b"{'descr': '<i4', 'fortran_order': False, 'shape': [1], }", "shape of at most"),
        (b"{'descr': '<i4', 'fortran_order': False}", "with keys"),
        (b"[1, 2]", "with keys .* found list"),
        (b"(" * 300 + b")" * 300, r"a dict literal"),
        (b"{'descr': '<i4', 'fortran_order': False, 'shape': (" + b"9" * 5000 + b",), }", "dict"),
        (b"__import__('os').system('echo hi')", "a dict literal"),
    ],
)
def test_headers_that_are_not_plain_arrays(tmp_path, header, match):
    path = tmp_path / "h.npz"
    path.write_bytes(mf.zip_bytes({"a.npy": mf.npy_with_header(header, bytes(4))}))
    with NpzArchive(path, error=ModelFileError, what="model file") as npz:
        with pytest.raises(ModelFileError, match=match) as info:
            npz.read("a")
    assert str(path) in str(info.value) and "a.npy" in str(info.value)


def test_header_size_and_version_limits(tmp_path):
    path = tmp_path / "h.npz"
    long = mf.npy_with_header(b" " * (npyheader.MAX_HEADER + 1), version=2)
    path.write_bytes(mf.zip_bytes({"a.npy": long, "b.npy": b"\x93NUMPY\x04\x00" + bytes(8)}))
    with NpzArchive(path) as npz:
        with pytest.raises(DataError, match="header of at most 10,000 bytes, found 10,001"):
            npz.read("a")
        with pytest.raises(DataError, match="expected .npy format version 1, 2 or 3, found 4.0"):
            npz.read("b")


def test_a_huge_zip_directory_is_refused_before_zipfile_reads_it(tmp_path, monkeypatch):
    monkeypatch.setattr(npzfile, "MAX_DIRECTORY", 1000)
    path = tmp_path / "many.npz"
    path.write_bytes(mf.zip_bytes({f"a{i}.npy": b"" for i in range(40)}))
    with pytest.raises(DataError, match=r"zip directory of at most 1,000 bytes, found one of"):
        NpzArchive(path)


def test_member_data_shorter_or_longer_than_its_header(tmp_path):
    array = mf.npy_bytes(np.arange(10, dtype=np.int32))
    path = tmp_path / "a.npz"
    path.write_bytes(mf.zip_bytes({"short.npy": array[:-4], "long.npy": array + b"\0"}))
    with NpzArchive(path) as npz:
        for name, size in (("short", 164), ("long", 169)):
            with pytest.raises(DataError, match=f"expected 168 bytes in the member, found {size}"):
                npz.read(name)


def test_corrupt_deflate_data_and_bad_crc(tmp_path):
    data = mf.npz_bytes({"a": np.zeros(10_000, np.uint8)}, compress=True)
    path = tmp_path / "a.npz"
    at = data.index(b"a.npy") + 5 + 40  # inside the deflated data
    path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
    with NpzArchive(path) as npz, pytest.raises(DataError, match="a.npy: .*expected"):
        npz.read("a")
    stored = bytearray(mf.npz_bytes({"a": np.zeros(100, np.uint8)}))
    stored[stored.index(b"a.npy") + 5 + 130] = 1  # a data byte: the CRC no longer matches
    path.write_bytes(bytes(stored))
    with (
        NpzArchive(path) as npz,
        pytest.raises(DataError, match="a.npy: expected intact member data, found Bad CRC-32"),
    ):
        npz.read("a")


def test_a_member_without_a_name(tmp_path):
    """zipfile's own ZipInfo.is_dir() raised IndexError for it (found by the long fuzz)."""
    import struct

    data = bytearray(mf.zip_bytes({"z": b"", "a.npy": mf.npy_bytes(np.arange(3))}))
    entry = data.find(b"PK\x01\x02")  # the central directory entry of "z"
    struct.pack_into("<H", data, entry + 28, 0)  # its name's length
    del data[entry + 46]  # its name
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<L", data, end + 12, struct.unpack_from("<L", data, end + 12)[0] - 1)
    path = tmp_path / "a.npz"
    path.write_bytes(bytes(data))
    with NpzArchive(path) as npz:
        assert npz.filenames == ["", "a.npy"] and npz.names == ["a"]
        np.testing.assert_array_equal(npz.read("a"), np.arange(3))


def test_a_damaged_header_warns_nothing(tmp_path):
    """Python warns about invalid escapes when it parses "'\\s'": a header says what it
    is wrong about in its error, never in a warning (or an error, under -W error)."""
    import warnings

    header = b"{'descr': '\\s', 'fortran_order': False, 'shape': (1,), }"
    path = tmp_path / "h.npz"
    path.write_bytes(mf.zip_bytes({"a.npy": mf.npy_with_header(header, bytes(1))}))
    with warnings.catch_warnings(), NpzArchive(path) as npz:
        warnings.simplefilter("error")
        with pytest.raises(DataError, match=r"found dtype '\\\\s'"):
            npz.read("a")
