"""Downloading from mirrors: a loopback http.server plays good, corrupt and dropping mirrors."""

from __future__ import annotations

import gzip
import hashlib
import socket

import numpy as np
import pytest

from ownnet.data import download as dl
from ownnet.data.mnist import load_mnist
from ownnet.errors import DataError

try:
    import mnist_files as mf
except ImportError:  # tests collected as a package
    from tests import mnist_files as mf

SPLITS = mf.tiny_splits(30, 10, seed=7)
FILES = mf.idx_files(SPLITS)  # {filename: gz bytes}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of our own, no $OWNNET_DATA, and the tiny files' checksums."""
    monkeypatch.delenv("OWNNET_DATA", raising=False)
    monkeypatch.delenv("OWNNET_MIRRORS", raising=False)
    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(dl.FILES, "mnist", mf.remote_table(FILES))
    return tmp_path / "cache" / "mnist"


@pytest.fixture
def server():
    with mf.mirror_server(FILES) as (url, requests):
        yield url, requests


def _entries(folder):
    """Every entry in ``folder``, hidden temporary files included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _check_loaded(splits):
    for split in ("train", "test"):
        images, labels = SPLITS[split]
        np.testing.assert_array_equal(getattr(splits, split).images, images)
        np.testing.assert_array_equal(getattr(splits, split).labels, labels)


def test_download_into_cache_then_load_from_it(cache, server, monkeypatch):
    url, requests = server
    monkeypatch.setenv("OWNNET_MIRRORS", f"{url}/good/")
    splits = load_mnist(progress=False)
    _check_loaded(splits)
    assert _entries(cache) == sorted(FILES)
    for name, data in FILES.items():
        assert (cache / name).read_bytes() == data
    assert str(cache) in splits.train.source
    n = len(requests)
    assert n == 4
    _check_loaded(load_mnist(progress=False))
    assert len(requests) == n  # the second time comes from the cache


def test_corrupt_mirror_is_rejected_and_the_next_one_tried(cache, server):
    url, requests = server
    dl.download("mnist", mirrors=[f"{url}/corrupt", f"{url}/good"], progress=False)
    assert _entries(cache) == sorted(FILES)
    for name, data in FILES.items():
        assert (cache / name).read_bytes() == data
    assert [r.split("/")[1] for r in requests] == ["corrupt", "good"] * 4


def test_only_a_corrupt_mirror_caches_nothing(cache, server, monkeypatch):
    url, _ = server
    monkeypatch.setenv("OWNNET_MIRRORS", f"{url}/corrupt/")
    with pytest.raises(DataError) as info:
        load_mnist(progress=False)
    msg = str(info.value)
    assert f"{url}/corrupt/train-images-idx3-ubyte.gz: checksum mismatch" in msg
    assert _entries(cache) == []


def test_dropped_connection_leaves_no_partial_file(cache, server):
    url, requests = server
    with pytest.raises(DataError, match="connection closed after") as info:
        dl.download("mnist", mirrors=[f"{url}/drop/"], progress=False)
    assert f"{url}/drop/train-images-idx3-ubyte.gz" in str(info.value)
    assert _entries(cache) == []
    dl.download("mnist", mirrors=[f"{url}/drop/", f"{url}/good/"], progress=False)
    assert _entries(cache) == sorted(FILES)
    assert [r.split("/")[1] for r in requests[1:]] == ["drop", "good"] * 4


def test_recompressed_mirror_is_accepted_by_content(cache, server):
    url, _ = server
    paths = dl.download("mnist", mirrors=[f"{url}/recompressed/"], progress=False)
    for path in paths:
        assert path.read_bytes() != FILES[path.name]  # other gzip bytes ...
        assert gzip.decompress(path.read_bytes()) == gzip.decompress(FILES[path.name])
    _check_loaded(load_mnist(download=False))


def test_missing_file_on_mirror(cache, server):
    url, _ = server
    with pytest.raises(DataError, match=r"/nothing-here/train-images-idx3-ubyte.gz: HTTP 404"):
        dl.download("mnist", mirrors=[f"{url}/nothing-here/"], progress=False)


def test_no_network_names_every_place_and_mirror(cache, tmp_path, monkeypatch):
    mirrors = [f"http://127.0.0.1:{mf.closed_port()}/a/", f"http://127.0.0.1:{mf.closed_port()}/b/"]
    monkeypatch.setenv("OWNNET_MIRRORS", " ".join(mirrors))
    monkeypatch.setenv("OWNNET_DATA", str(tmp_path / "env"))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "opt", progress=False)
    msg = str(info.value)
    assert msg.startswith("no mnist data found, and downloading it failed")
    for origin, where in [
        ("--data", tmp_path / "opt" / "mnist"),
        ("--data", tmp_path / "opt"),
        ("$OWNNET_DATA", tmp_path / "env" / "mnist"),
        ("$OWNNET_DATA", tmp_path / "env"),
        ("cache", cache),
    ]:
        assert f"{origin} {where}: no such directory" in msg
    for mirror in mirrors:
        assert f"{mirror}train-images-idx3-ubyte.gz: cannot connect" in msg
    assert "pass --data DIR or set OWNNET_DATA=DIR" in msg
    assert _entries(cache) == []


def test_unreachable_mirror_is_not_retried_for_each_file(cache, server, monkeypatch):
    url, _ = server
    dead = f"http://127.0.0.1:{mf.closed_port()}/"
    calls = []
    fetch = dl._fetch
    monkeypatch.setattr(dl, "_fetch", lambda u, *a: (calls.append(u), fetch(u, *a))[1])
    dl.download("mnist", mirrors=[dead, f"{url}/good/"], progress=False)
    assert [c.startswith(dead) for c in calls] == [True, False, False, False, False]


def test_timeout_is_short_and_reported(cache):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections (the kernel does) but never answers
    try:
        port = listener.getsockname()[1]
        with pytest.raises(DataError, match="timed out after 0.3 s"):
            dl.download("mnist", mirrors=[f"http://127.0.0.1:{port}/"], timeout=0.3)
    finally:
        listener.close()


def test_oversized_download_is_refused(cache, server, monkeypatch):
    url, _ = server
    monkeypatch.setattr(dl, "MAX_BYTES", 1000)
    with pytest.raises(DataError, match="refused"):
        dl.download("mnist", mirrors=[f"{url}/good/"], progress=False)
    assert _entries(cache) == []


def test_good_cache_files_are_kept_and_bad_ones_replaced(cache, server):
    url, requests = server
    cache.mkdir(parents=True)
    for name, data in FILES.items():
        (cache / name).write_bytes(data)
    (cache / "t10k-images-idx3-ubyte.gz").write_bytes(b"junk")
    dl.download("mnist", mirrors=[f"{url}/good/"], progress=False)
    assert requests == ["/good/t10k-images-idx3-ubyte.gz"]
    assert (cache / "t10k-images-idx3-ubyte.gz").read_bytes() == FILES["t10k-images-idx3-ubyte.gz"]


def test_unwritable_cache(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path / "file"))
    with pytest.raises(DataError, match="cannot create the download folder"):
        dl.download("mnist", progress=False)


def test_progress_bar_is_shown(cache, server, capsys):
    url, _ = server
    dl.download("mnist", mirrors=[f"{url}/good/"], progress=True)
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err


def test_mirror_list(monkeypatch):
    monkeypatch.delenv("OWNNET_MIRRORS", raising=False)
    assert dl.mirror_list("mnist")[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert len(dl.mirror_list("mnist")) == 3 and len(dl.mirror_list("fashion-mnist")) == 3
    monkeypatch.setenv("OWNNET_MIRRORS", "http://a/{name}, http://b/x/\nfile:///c")
    assert dl.mirror_list("fashion-mnist") == [
        "http://a/fashion-mnist/",
        "http://b/x/",
        "file:///c/",
    ]
    assert dl.mirror_list("mnist", ["http://z"]) == ["http://z/"]


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv("OWNNET_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert dl.cache_dir("mnist") == tmp_path / "xdg" / "ownnet" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert (
        dl.cache_dir("fashion-mnist") == tmp_path / "home" / ".cache" / "ownnet" / "fashion-mnist"
    )


# ---------------------------------------------------------------- the real files


def _readme_md5():
    text = mf.require_readme()
    table = mf.readme_md5_table(text)
    assert len(table) == 4, table
    return text, table


def test_checksum_table_agrees_with_the_readme():
    text, table = _readme_md5()
    for remote in dl.FILES["mnist"]:
        assert (remote.gz_md5, remote.md5) == table[remote.filename]
    for remote in dl.FILES["fashion-mnist"]:
        stem = remote.filename.split("-idx")[0]
        assert f"{stem} {remote.md5}" in text  # "train-images f4a8..., ..."


def test_real_mnist_downloads_verified_by_the_readme_md5(tmp_path, monkeypatch):
    """Serve the real shared files; the only accepted hashes are the README's gz md5s."""
    folder = mf.require_real("mnist")
    text, table = _readme_md5()
    files = {name: (folder / name).read_bytes() for name in table}
    for name, data in files.items():  # the shared files are the published ones
        assert hashlib.md5(data).hexdigest() == table[name][0]
    readme_only = tuple(
        dl.RemoteFile(r.filename, gz_md5=table[r.filename][0], md5="", sha256="-")
        for r in dl.FILES["mnist"]
    )
    monkeypatch.setitem(dl.FILES, "mnist", readme_only)
    monkeypatch.delenv("OWNNET_DATA", raising=False)
    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path / "cache"))
    with mf.mirror_server(files) as (url, _):
        monkeypatch.setenv("OWNNET_MIRRORS", f"{url}/corrupt/ {url}/good/")
        splits = load_mnist(progress=False)
    counts = mf.readme_label_counts(text)
    assert splits.train.label_counts().tolist() == counts["train"]
    assert splits.test.label_counts().tolist() == counts["test"]


@pytest.mark.parametrize("name, expected", [("mnist", "file"), ("fashion-mnist", "content")])
def test_real_files_match_the_built_in_table(name, expected):
    folder = mf.require_real(name)
    for remote in dl.FILES[name]:
        assert dl.published_match(folder / remote.filename, remote) == expected
