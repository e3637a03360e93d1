"""``ownnet data info`` and ``ownnet data download``."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import ownnet.cli as cli
from ownnet.data import download as dl

try:
    import mnist_files as mf
except ImportError:  # tests collected as a package
    from tests import mnist_files as mf

SPLITS = mf.tiny_splits(23, 11, seed=2)
FILES = mf.idx_files(SPLITS)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Only the data command (others may be unfinished), our own cache, no network."""
    monkeypatch.setattr(cli, "COMMANDS", ["data"])
    monkeypatch.delenv("OWNNET_DATA", raising=False)
    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OWNNET_MIRRORS", f"http://127.0.0.1:{mf.closed_port()}/")


def _counts_row(labels: np.ndarray) -> list[int]:
    counts = np.bincount(labels, minlength=10)
    return [int(c) for c in counts] + [len(labels)]


def _row(out: str, name: str) -> list[int]:
    line = next(line for line in out.splitlines() if line.startswith(name + " "))
    return [int(v) for v in line.split()[1:]]


def test_info_on_tiny_idx_folder(tmp_path, capsys):
    folder = mf.write_idx_dir(tmp_path / "d", SPLITS)
    assert cli.main(["data", "info", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"-> --data {folder}: IDX files" in out
    assert f"--data {folder / 'mnist'}: no such directory" in out
    assert "$OWNNET_DATA: not set" in out
    for name, data in FILES.items():
        sha = hashlib.sha256(data).hexdigest()[:12]
        line = next(line for line in out.splitlines() if name in line)
        assert f"{len(data):,} bytes" in line and sha in line and "NOT the published" in line
    assert _row(out, "mnist-train") == _counts_row(SPLITS["train"][1])
    assert _row(out, "mnist-test") == _counts_row(SPLITS["test"][1])
    images, labels = SPLITS["train"]
    checksum = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()[:16]
    assert f"mnist-train: 23 images 28x28 uint8, checksum {checksum}" in out


def test_info_on_csv_from_env(tmp_path, capsys, monkeypatch):
    folder = mf.write_csv_dir(tmp_path / "books", SPLITS)
    monkeypatch.setenv("OWNNET_DATA", str(folder))
    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert f"-> $OWNNET_DATA {folder}: CSV files" in out and "(csv)" in out
    assert _row(out, "mnist-test") == _counts_row(SPLITS["test"][1])


def test_info_when_nothing_is_found(tmp_path, capsys):
    assert cli.main(["data", "info", "--name", "fashion-mnist"]) == 1
    out = capsys.readouterr().out
    assert f"cache {tmp_path / 'cache' / 'fashion-mnist'}: no such directory" in out
    assert "ownnet data download --name fashion-mnist" in out


def test_info_bad_file_is_an_error_without_traceback(tmp_path, capsys):
    folder = mf.write_idx_dir(tmp_path / "d", SPLITS)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"\x00\x00\x08\x01junk")
    assert cli.main(["data", "info", "--data", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ownnet data: error: ") and "train-labels-idx1-ubyte.gz" in err
    assert "Traceback" not in err


def test_data_without_action_prints_help(capsys):
    assert cli.main(["data"]) == 2
    assert "info" in capsys.readouterr().out


def test_download_then_info(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(dl.FILES, "mnist", mf.remote_table(FILES))
    with mf.mirror_server(FILES) as (url, requests):
        args = ["data", "download", "--quiet", "--mirror", f"{url}/drop", "--mirror", f"{url}/good"]
        assert cli.main(args) == 0
        assert cli.main(args) == 0  # already there: nothing fetched
    assert len(requests) == 8
    out = capsys.readouterr().out
    cache = tmp_path / "cache" / "mnist"
    assert f"mnist is in {cache}" in out and out.count("checksum ok") == 8
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)
    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert f"-> cache {cache}: IDX files" in out and "published file" in out
    assert _row(out, "mnist-train") == _counts_row(SPLITS["train"][1])


def test_download_failure_is_one_clear_error(capsys):
    assert cli.main(["data", "download", "--quiet", "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert "could not download train-images-idx3-ubyte.gz from any mirror" in err
    assert "cannot connect" in err and "Traceback" not in err


def test_info_on_the_real_mnist(capsys):
    folder = mf.require_real("mnist")
    text = mf.require_readme()
    assert cli.main(["data", "info", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    counts = mf.readme_label_counts(text)
    assert _row(out, "mnist-train") == counts["train"] + [60000]
    assert _row(out, "mnist-test") == counts["test"] + [10000]
    assert out.count("published file") == 4


def test_info_on_the_books_small_csv_files(tmp_path, capsys):
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "mnist_train_100.csv").write_text(mf.csv_text(*SPLITS["train"]))
    (folder / "mnist_test_10.csv").write_text(mf.csv_text(*SPLITS["test"]))
    assert cli.main(["data", "info", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"-> --data {folder}: CSV files mnist_train_100.csv, mnist_test_10.csv" in out
    assert f"using {folder} (csv)" in out
    for name in ("mnist_train_100.csv", "mnist_test_10.csv"):
        data = (folder / name).read_bytes()
        line = next(line for line in out.splitlines() if name in line and "bytes" in line)
        assert f"{len(data):,} bytes" in line and hashlib.sha256(data).hexdigest()[:12] in line
    assert _row(out, "mnist-train") == _counts_row(SPLITS["train"][1])
    assert "labels: not the published labels of mnist or fashion-mnist (23 and 11 samples" in out


def test_info_on_a_folder_named_for_the_other_dataset(tmp_path, capsys):
    folder = mf.write_idx_dir(tmp_path / "fashion-mnist", SPLITS)
    assert cli.main(["data", "info", "--data", str(folder)]) == 1
    captured = capsys.readouterr()
    assert f"-> --data {folder}: named for fashion-mnist, not mnist" in captured.out
    assert captured.err.startswith(f"ownnet data: error: --data {folder}: expected a folder")
    assert "pass --name fashion-mnist" in captured.err and "Traceback" not in captured.err
    assert cli.main(["data", "info", "--data", str(folder), "--name", "fashion-mnist"]) == 0


def test_info_says_the_real_labels_are_the_published_ones(capsys):
    folder = mf.require_real("fashion-mnist")
    assert cli.main(["data", "info", "--data", str(folder), "--name", "fashion-mnist"]) == 0
    out = capsys.readouterr().out
    assert (
        "labels: train = the published fashion-mnist train labels, "
        "test = the published fashion-mnist test labels" in out
    )
