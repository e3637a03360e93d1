"""Model files: round trips, and clear errors for files that aren't ours."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from ownnet import io
from ownnet.classic import Network
from ownnet.errors import ModelFileError


def test_classic_round_trip(tmp_path):
    net = Network(784, 12, 10, lr=0.2, bias=True, error_split="equal", seed=3)
    path = io.save_model(tmp_path / "m.npz", net, seed=3, test_accuracy=0.5, training={"e": 1})
    loaded, meta = io.load_model(path)
    assert isinstance(loaded, Network)
    np.testing.assert_array_equal(loaded.wih, net.wih)
    np.testing.assert_array_equal(loaded.who, net.who)
    assert (loaded.bias, loaded.lr, loaded.error_split) == (True, 0.2, "equal")
    assert meta["kind"] == "classic" and meta["seed"] == 3 and meta["test_accuracy"] == 0.5
    assert meta["format"] == "ownnet-model" and meta["format_version"] == io.FORMAT_VERSION
    assert meta["config"]["n_hidden"] == 12
    # an ordinary npz, readable without pickle
    with np.load(path, allow_pickle=False) as npz:
        assert set(npz.files) == {"__meta__", "wih", "who"}


def test_numpy_values_in_metadata(tmp_path):
    path = io.save_arrays(tmp_path / "a.npz", {"w": np.ones(3)}, {"acc": np.float32(0.5)})
    _, meta = io.load_arrays(path)
    assert meta["acc"] == 0.5


def test_no_temporary_files_left(tmp_path):
    io.save_model(tmp_path / "m.npz", Network(784, 5, 10))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        io.load_model(tmp_path / "nope.npz")


def test_truncated_file(tmp_path):
    path = io.save_model(tmp_path / "m.npz", Network(784, 5, 10))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"m\.npz.*truncated or foreign"):
        io.load_model(path)


def test_text_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(ModelFileError, match="notes.npz"):
        io.load_model(path)


def test_foreign_npz(tmp_path):
    path = tmp_path / "keras.npz"
    np.savez(path, x_train=np.zeros(3))
    with pytest.raises(ModelFileError, match="not an ownnet model file.*x_train"):
        io.load_model(path)


def test_pickled_object_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, __meta__=np.array([{"format": "ownnet-model"}], dtype=object))
    with pytest.raises(ModelFileError, match="evil.npz"):
        io.load_model(path)


def _rewrite_meta(path, **changes):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop("__meta__").tobytes())
    meta.update(changes)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, **arrays)


def test_newer_format_asks_for_upgrade(tmp_path):
    path = io.save_model(tmp_path / "m.npz", Network(784, 5, 10))
    _rewrite_meta(path, format_version=io.FORMAT_VERSION + 1)
    with pytest.raises(ModelFileError, match="newer.*upgrade ownnet"):
        io.load_model(path)
    for bad in (True, -7, 0, "1"):  # format_version true or -7 was once accepted
        _rewrite_meta(path, format_version=bad)
        with pytest.raises(ModelFileError, match=f"found {bad!r}"):
            io.load_model(path)


def test_a_model_reads_only_the_arrays_it_needs(tmp_path):
    """An extra member in a model file is never read (a 3 GiB one cost 3.2 GB before)."""
    import tracemalloc

    net = Network(784, 5, 10)
    arrays, config = net.state()
    huge = np.zeros(30_000_000, np.uint8)  # 30 MB of zeros: a small file once compressed
    path = io.save_arrays(tmp_path / "m.npz", {**arrays, "junk": huge}, {"kind": "classic",
                          "config": config})  # fmt: skip
    tracemalloc.start()
    loaded, _ = io.load_model(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000, peak
    np.testing.assert_array_equal(loaded.wih, net.wih)


def test_unknown_kind_and_bad_shapes(tmp_path):
    path = io.save_model(tmp_path / "m.npz", Network(784, 5, 10))
    _rewrite_meta(path, kind="transformer")
    with pytest.raises(ModelFileError, match="unknown model kind 'transformer'"):
        io.load_model(path)
    path = io.save_model(tmp_path / "n.npz", Network(784, 5, 10))
    _rewrite_meta(path, config={"n_input": 784, "n_hidden": 6, "n_output": 10})
    with pytest.raises(ModelFileError, match=r"wih has shape \(5, 784\), expected \(6, 784\)"):
        io.load_model(path)


def test_bad_json(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, __meta__=np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        io.load_model(path)
    assert zipfile.is_zipfile(path)
