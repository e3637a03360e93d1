"""Dataset, where the data is looked for, and load_mnist (tiny files and the real MNIST)."""

from __future__ import annotations

import collections
import hashlib
import shutil

import numpy as np
import pytest

from ownnet.data import download as dl
from ownnet.data.mnist import Dataset, Splits, find_data, load_mnist, search
from ownnet.errors import DataError

try:
    import mnist_files as mf
except ImportError:  # tests collected as a package
    from tests import mnist_files as mf


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No real $OWNNET_DATA, an empty cache of our own, and no network."""
    monkeypatch.delenv("OWNNET_DATA", raising=False)
    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OWNNET_MIRRORS", f"http://127.0.0.1:{mf.closed_port()}/")


# ---------------------------------------------------------------- Dataset


def _dataset(n=12, seed=0):
    images, labels = mf.tiny_arrays(n, seed)
    return Dataset(images, labels, "tiny-train", "here"), images, labels


def test_dataset_basics_and_label_counts():
    ds, images, labels = _dataset(25)
    assert len(ds) == 25
    assert ds.images.dtype == np.uint8 and ds.labels.dtype == np.uint8
    counter = collections.Counter(labels.tolist())
    assert ds.label_counts().tolist() == [counter.get(k, 0) for k in range(10)]
    assert ds.label_counts().shape == (10,)
    assert "tiny-train" in repr(ds) and "25 images 28x28" in repr(ds)


def test_dataset_checksum_is_sha256_of_image_then_label_bytes():
    ds, images, labels = _dataset(9)
    expected = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    assert ds.checksum() == expected
    assert ds.checksum() == expected  # cached value is the same
    other, _, _ = _dataset(9, seed=1)
    assert other.checksum() != expected


def test_dataset_arrays_are_read_only_views():
    ds, images, _ = _dataset(3)
    with pytest.raises(ValueError, match="read-only"):
        ds.images[0, 0, 0] = 1
    images[0, 0, 0] = 7  # the caller's own array stays writable
    assert ds.images[0, 0, 0] == 7


def test_subset_int_slice_indices_mask():
    ds, images, labels = _dataset(12)
    first = ds.subset(5)
    assert len(first) == 5 and first.name == "tiny-train[:5]"
    np.testing.assert_array_equal(first.images, images[:5])
    sl = ds.subset(slice(2, 10, 3))
    np.testing.assert_array_equal(sl.labels, labels[2:10:3])
    idx = np.array([11, 0, 4])
    picked = ds.subset(idx)
    np.testing.assert_array_equal(picked.images, images[idx])
    np.testing.assert_array_equal(picked.labels, labels[idx])
    mask = labels == 3
    np.testing.assert_array_equal(ds.subset(mask).labels, labels[mask])
    assert (
        ds.subset([1, 2]).checksum()
        == hashlib.sha256(images[[1, 2]].tobytes() + labels[[1, 2]].tobytes()).hexdigest()
    )
    assert len(ds.subset(0)) == 0 and ds.subset(0).label_counts().sum() == 0


@pytest.mark.parametrize("bad", [13, -1, np.array([12]), np.array([0.5]), np.ones(3, bool)])
def test_subset_rejects_bad_selections(bad):
    ds, _, _ = _dataset(12)
    with pytest.raises(DataError, match="tiny-train"):
        ds.subset(bad)


@pytest.mark.parametrize(
    ("images", "labels", "match"),
    [
        (np.zeros((2, 28, 28), np.float32), np.zeros(2, np.uint8), "uint8 array"),
        (np.zeros((2, 784), np.uint8), np.zeros(2, np.uint8), "uint8 array"),
        (np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.int64), "labels as a uint8"),
        (np.zeros((2, 28, 28), np.uint8), np.zeros(3, np.uint8), "2 images and 3 labels"),
        (np.zeros((2, 28, 28), np.uint8), np.array([1, 10], np.uint8), "labels 0..9, found 10"),
    ],
)
def test_dataset_validates(images, labels, match):
    with pytest.raises(DataError, match=match):
        Dataset(images, labels, "x")


# ---------------------------------------------------------------- where to look


def test_formats_in_a_folder_idx_then_npz_then_csv(tmp_path):
    folder = tmp_path / "d"
    mf.write_idx_dir(folder, mf.tiny_splits(20, 10, seed=0))
    mf.write_npz(folder / "mnist.npz", mf.tiny_splits(15, 5, seed=2))
    mf.write_csv_dir(folder, mf.tiny_splits(12, 3, seed=4))
    splits = load_mnist(folder, download=False)
    assert isinstance(splits, Splits)
    assert (len(splits.train), len(splits.test)) == (20, 10)
    assert splits.train.name == "mnist-train" and splits.test.name == "mnist-test"
    expected = mf.tiny_splits(20, 10, seed=0)
    np.testing.assert_array_equal(splits.train.images, expected["train"][0])
    np.testing.assert_array_equal(splits.test.labels, expected["test"][1])
    assert "train-images-idx3-ubyte.gz" in splits.train.source
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    place = search(folder)[1]
    assert place.found.format == "npz" and "missing t10k-labels-idx1-ubyte" in place.note
    splits = load_mnist(folder, download=False)
    assert (len(splits.train), len(splits.test)) == (15, 5)
    assert "mnist.npz (x_train, y_train)" in splits.train.source
    (folder / "mnist.npz").unlink()
    splits = load_mnist(folder, download=False)
    assert (len(splits.train), len(splits.test)) == (12, 3)
    assert splits.test.source.endswith("mnist_test.csv")
    np.testing.assert_array_equal(splits.train.images, mf.tiny_splits(12, 3, seed=4)["train"][0])


def test_raw_and_dotted_idx_names(tmp_path):
    folder = mf.write_idx_dir(tmp_path / "raw", mf.tiny_splits(6, 4), compress=False)
    (folder / "train-images-idx3-ubyte").rename(folder / "train-images.idx3-ubyte")
    found = find_data(folder)
    assert found.format == "idx"
    assert found.train[0].name == "train-images.idx3-ubyte"
    assert len(load_mnist(folder, download=False).train) == 6


def test_order_data_then_env_then_cache(tmp_path, monkeypatch):
    a = mf.write_idx_dir(tmp_path / "a", mf.tiny_splits(5, 2))
    b = mf.write_idx_dir(tmp_path / "b", mf.tiny_splits(6, 2))
    cache = mf.write_idx_dir(tmp_path / "cache" / "mnist", mf.tiny_splits(7, 2))
    monkeypatch.setenv("OWNNET_DATA", str(b))
    assert find_data(a).directory == a
    assert find_data(None).directory == b
    assert find_data(tmp_path / "missing").directory == b
    monkeypatch.delenv("OWNNET_DATA")
    assert find_data(None).directory == cache
    assert len(load_mnist(download=False).train) == 7
    origins = [p.origin for p in search(a)]
    assert origins == ["--data", "--data", "cache"]


def test_subfolder_named_for_the_dataset_comes_first(tmp_path):
    root = mf.write_idx_dir(tmp_path / "data", mf.tiny_splits(5, 2))
    inner = mf.write_idx_dir(root / "mnist", mf.tiny_splits(8, 2))
    assert find_data(root).directory == inner
    assert [p.directory for p in search(root)][:2] == [inner, root]


def test_a_folder_named_for_one_dataset_is_not_the_other(tmp_path, monkeypatch):
    mnist = mf.write_idx_dir(tmp_path / "mnist", mf.tiny_splits(5, 2, seed=0))
    assert find_data(mnist, "mnist").directory == mnist
    # $OWNNET_DATA, a standing setting: the other dataset is looked for beside it
    monkeypatch.setenv("OWNNET_DATA", str(mnist))
    assert find_data(None, "fashion-mnist") is None  # .../mnist is never fashion-mnist
    fashion = mf.write_idx_dir(tmp_path / "fashion-mnist", mf.tiny_splits(6, 2, seed=3))
    assert find_data(None, "fashion-mnist").directory == fashion  # the sibling
    splits = load_mnist(None, "fashion-mnist", download=False)
    assert splits.train.name == "fashion-mnist-train" and len(splits.train) == 6
    assert splits.describe() == f"fashion-mnist: {fashion} (idx)"
    assert splits.source.found_by == "$OWNNET_DATA"
    monkeypatch.setenv("OWNNET_DATA", str(fashion))
    assert find_data(None, "mnist").directory == mnist
    monkeypatch.delenv("OWNNET_DATA")
    # --data, this run's choice: a folder named for the other dataset is an error saying so
    with pytest.raises(DataError, match="found one named for mnist; to use it pass --name mnist"):
        find_data(mnist, "fashion-mnist")
    with pytest.raises(DataError) as info:
        load_mnist(fashion, download=False)  # the default name, mnist
    assert str(info.value).startswith(f"--data {fashion}: expected a folder of mnist")
    assert (
        f"pass --name fashion-mnist, or give --data the folder of mnist (or the parent {tmp_path}"
        in str(info.value)
    )
    place = search(fashion)[-1]
    assert (
        place.refused and place.found is None and place.note == "named for fashion-mnist, not mnist"
    )


def test_idx_files_of_the_other_dataset_are_refused(tmp_path, monkeypatch):
    splits = mf.tiny_splits(5, 2)
    folder = mf.write_idx_dir(tmp_path / "stuff", splits)
    labels_sha = hashlib.sha256(mf.idx_bytes(splits["train"][1])).hexdigest()
    fashion = list(dl.FILES["fashion-mnist"])
    fashion[1] = dl.RemoteFile(fashion[1].filename, "0" * 32, "0" * 32, labels_sha)
    monkeypatch.setitem(dl.FILES, "fashion-mnist", tuple(fashion))
    place = search(folder, "mnist")[1]
    assert place.found is None and "fashion-mnist, not mnist" in place.note
    assert find_data(folder, "fashion-mnist").directory == folder


def test_unknown_name():
    with pytest.raises(DataError, match="unknown dataset 'emnist'"):
        load_mnist(None, "emnist")


def test_nothing_found_lists_every_place(tmp_path):
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "nowhere", download=False)
    msg = str(info.value)
    assert "downloading is off" in msg
    cache = tmp_path / "cache" / "mnist"
    for where in (tmp_path / "nowhere" / "mnist", tmp_path / "nowhere", cache):
        assert f"{where}: no such directory" in msg
    assert "$OWNNET_DATA: not set" in msg
    assert "--data DIR" in msg and "OWNNET_DATA=DIR" in msg
    assert "train-images-idx3-ubyte.gz" in msg and "mnist_train.csv" in msg


def test_image_label_count_mismatch(tmp_path):
    splits = mf.tiny_splits(6, 4)
    folder = mf.write_idx_dir(tmp_path / "d", splits)
    images, labels = splits["test"]
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(mf.gz(mf.idx_bytes(labels[:3])))
    with pytest.raises(DataError, match="found 4 images and 3 labels") as info:
        load_mnist(folder, download=False)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value)


def test_bad_file_in_folder_names_the_file(tmp_path):
    folder = mf.write_idx_dir(tmp_path / "d", mf.tiny_splits(6, 4))
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        load_mnist(folder, download=False)


# ---------------------------------------------------------------- the real data


def test_real_mnist_label_counts_match_the_readme():
    folder = mf.require_real("mnist")
    text = mf.require_readme()
    expected = mf.readme_label_counts(text)
    splits = load_mnist(folder, download=False)
    assert splits.train.images.shape == (60000, 28, 28)
    assert splits.test.images.shape == (10000, 28, 28)
    assert splits.train.images.dtype == np.uint8 and splits.train.labels.dtype == np.uint8
    assert splits.train.label_counts().tolist() == expected["train"]
    assert splits.test.label_counts().tolist() == expected["test"]
    assert splits.train.images.max() == 255 and splits.train.images.min() == 0


def test_real_fashion_is_found_beside_mnist(monkeypatch):
    mnist = mf.require_real("mnist")
    fashion = mf.require_real("fashion-mnist")
    if fashion.parent != mnist.parent:
        pytest.skip(f"needs fashion-mnist beside mnist (found {fashion} and {mnist})")
    monkeypatch.setenv("OWNNET_DATA", str(mnist))
    splits = load_mnist(None, "fashion-mnist", download=False)
    assert str(fashion) in splits.train.source
    assert splits.train.label_counts().tolist() == [6000] * 10  # README: 6,000 per class
    assert splits.test.label_counts().tolist() == [1000] * 10


def test_copy_of_real_labels_in_a_neutral_folder_is_identified(tmp_path):
    fashion = mf.require_real("fashion-mnist")
    folder = mf.write_idx_dir(tmp_path / "files", mf.tiny_splits(5, 2))
    shutil.copy(fashion / "train-labels-idx1-ubyte.gz", folder / "train-labels-idx1-ubyte.gz")
    assert "fashion-mnist, not mnist" in search(folder, "mnist")[1].note


# ---------------------------------------------------------------- what was used, and which


@pytest.mark.parametrize("fmt", ["idx", "npz", "csv"])
def test_splits_say_which_dataset_folder_and_format(tmp_path, fmt):
    folder = tmp_path / "files"
    splits = mf.tiny_splits(5, 2)
    {"idx": lambda: mf.write_idx_dir(folder, splits),
     "npz": lambda: mf.write_npz(folder / "mnist.npz", splits),
     "csv": lambda: mf.write_csv_dir(folder, splits)}[fmt]()  # fmt: skip
    loaded = load_mnist(folder, download=False)
    assert loaded.describe() == f"mnist: {folder} ({fmt})"
    assert loaded.source.name == "mnist" and loaded.source.format == fmt
    assert loaded.source.directory == folder and loaded.source.found_by == "--data"
    assert loaded.train.subset(3).origin is loaded.source  # a subset keeps where it came from


def _pretend_published(monkeypatch, labels: np.ndarray, name: str = "fashion-mnist") -> None:
    """Make ``labels`` the published train labels of ``name`` in the checksum table."""
    content = mf.idx_bytes(labels)
    table = list(dl.FILES[name])
    table[1] = dl.RemoteFile(
        table[1].filename, "0" * 32, "0" * 32, hashlib.sha256(content).hexdigest()
    )
    monkeypatch.setitem(dl.FILES, name, tuple(table))


@pytest.mark.parametrize("fmt", ["npz", "csv"])
def test_npz_and_csv_of_the_other_dataset_are_refused_once_read(tmp_path, monkeypatch, fmt):
    splits = mf.tiny_splits(5, 2)
    folder = tmp_path / "stuff"
    if fmt == "npz":
        mf.write_npz(folder / "mnist.npz", splits)
    else:
        mf.write_csv_dir(folder, splits)
    _pretend_published(monkeypatch, splits["train"][1])
    with pytest.raises(DataError) as info:
        load_mnist(folder, download=False)
    msg = str(info.value)
    assert "expected mnist, found the published fashion-mnist train labels" in msg
    assert "ask for fashion-mnist (--name fashion-mnist)" in msg and str(folder) in msg


def test_idx_of_the_other_dataset_is_an_error_not_a_skip(tmp_path, monkeypatch):
    """Before, such a folder was skipped and the search went on (to the cache, or a
    download): now it stops there and says what it found."""
    splits = mf.tiny_splits(5, 2)
    folder = mf.write_idx_dir(tmp_path / "stuff", splits)
    mf.write_idx_dir(tmp_path / "cache" / "mnist", mf.tiny_splits(6, 2))
    _pretend_published(monkeypatch, splits["train"][1])
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: expected mnist, found"):
        load_mnist(folder, download=False)
    assert [p.origin for p in search(folder)] == ["--data", "--data"]  # stops there


def test_real_fashion_through_data_and_name(monkeypatch):
    fashion = mf.require_real("fashion-mnist")
    splits = load_mnist(fashion, "fashion-mnist", download=False)
    assert splits.describe() == f"fashion-mnist: {fashion} (idx)"
    assert splits.train.images.shape == (60000, 28, 28) and splits.test.images.shape[0] == 10000
    assert splits.train.label_counts().tolist() == [6000] * 10
    with pytest.raises(DataError, match="pass --name fashion-mnist"):
        load_mnist(fashion, download=False)  # the default name: mnist


@pytest.mark.parametrize(
    ("real", "asked"), [("fashion-mnist", "mnist"), ("mnist", "fashion-mnist")]
)
def test_real_files_of_the_other_dataset_in_a_neutral_folder_are_refused(tmp_path, real, asked):
    source = mf.require_real(real)
    folder = tmp_path / "downloads"
    folder.mkdir()
    for path in source.glob("*.gz"):
        (folder / path.name).symlink_to(path)
    with pytest.raises(DataError) as info:
        load_mnist(folder, asked, download=False)
    assert f"expected {asked}, found the published {real} train labels" in str(info.value)
    assert load_mnist(folder, real, download=False).describe() == f"{real}: {folder} (idx)"


# ---------------------------------------------------------------- the book's small CSV files


def test_the_books_small_csv_files_are_found(tmp_path):
    folder = tmp_path / "book"
    splits = mf.tiny_splits(12, 3)
    for split, n in (("train", 100), ("test", 10)):
        (folder / f"mnist_{split}_{n}.csv").parent.mkdir(exist_ok=True)
        (folder / f"mnist_{split}_{n}.csv").write_text(mf.csv_text(*splits[split]))
    loaded = load_mnist(folder, download=False)
    assert loaded.describe() == f"mnist: {folder} (csv)"
    assert loaded.train.source.endswith("mnist_train_100.csv") and len(loaded.test) == 3
    np.testing.assert_array_equal(loaded.train.images, splits["train"][0])
    (folder / "mnist_train.csv").write_text(mf.csv_text(*mf.tiny_splits(7, 1)["train"]))
    assert len(load_mnist(folder, download=False).train) == 7  # the full file first
    (folder / "mnist_test_10.csv").unlink()
    place = search(folder)[1]
    assert place.found is None and "only mnist_train.csv, no mnist_test.csv" in place.note


def test_the_real_books_csv_files():
    book = mf.SHARED / "book"
    real = mf.real_dir("mnist")
    if not (book / "mnist_train_100.csv").is_file() and real is not None:
        book = real.parent / "book"
    if not (book / "mnist_train_100.csv").is_file():
        pytest.skip(f"needs the book's mnist_train_100.csv and mnist_test_10.csv in {book}")
    loaded = load_mnist(book, download=False)
    assert (len(loaded.train), len(loaded.test)) == (100, 10)
    assert loaded.describe() == f"mnist: {book} (csv)"
    if real is not None:  # the README: the first 100 training and 10 test digits of MNIST
        mnist = load_mnist(real, download=False)
        np.testing.assert_array_equal(loaded.train.images, mnist.train.images[:100])
        np.testing.assert_array_equal(loaded.test.labels, mnist.test.labels[:10])
