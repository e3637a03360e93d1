"""The reader (ownnet.reader): its recipe, where it is kept, and the book's own digits."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import synthetic_digits
from mnist_files import SHARED, real_dir

from ownnet.io import load_model, save_model
from ownnet.nn.network import Network
from ownnet.reader import (
    NETWORK,
    Handwriting,
    build_reader,
    default_path,
    find_reader,
    train_reader,
)
from ownnet.reading import read


def book_folder() -> Path:
    """The book's files: next to the real MNIST ($OWNNET_DATA), else in the shared data."""
    mnist = real_dir("mnist")
    return mnist.parent / "book" if mnist is not None else SHARED / "book"


#: the book's own pictures and the digit each shows (2828_my_own_image.png is a 3)
SEVEN = {
    "2828_my_own_2.png": 2, "2828_my_own_3.png": 3, "2828_my_own_4.png": 4,
    "2828_my_own_5.png": 5, "2828_my_own_6.png": 6, "2828_my_own_image.png": 3,
    "2828_my_own_noisy_6.png": 6,
}  # fmt: skip


def splits_of(images: np.ndarray, labels: np.ndarray, n_test: int) -> SimpleNamespace:
    from ownnet.data.dataset import Dataset

    return SimpleNamespace(
        train=Dataset(images[n_test:], labels[n_test:], name="train"),
        test=Dataset(images[:n_test], labels[:n_test], name="test"),
    )


def test_the_reader_is_a_cnn_kept_in_the_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path))
    assert default_path() == tmp_path / "models" / "reader.npz"
    assert find_reader() is None
    net = build_reader(0)
    assert net.n_params == Network.cnn(**NETWORK).n_params
    assert [type(layer).__name__ for layer in net.layers][:4] == [
        "Conv2D", "MaxPool2D", "Conv2D", "MaxPool2D"
    ]  # fmt: skip
    save_model(default_path(), net)
    assert find_reader() == default_path()


def test_train_reader_learns_and_describes_itself() -> None:
    images, labels = synthetic_digits(600, 3)
    splits = splits_of(images, labels, 100)
    net, history, info = train_reader(  # random patterns would not survive new hands
        splits, epochs=2, verbose=0, network={"filters": (4, 8), "dense": 32},
        augment=Handwriting(keep=1.0), lr=0.01,
    )  # fmt: skip
    assert len(history) == 2 and history["loss"][1] < history["loss"][0]
    assert info["test_accuracy"] == pytest.approx(net.evaluate(splits.test))
    training = info["training"]
    assert training["model"] == "reader" and training["filters"] == [4, 8]
    assert training["augment"]["name"] == "handwriting" and training["epochs"] == 2


@pytest.fixture(scope="module")
def book_pictures() -> dict[Path, int]:
    book = book_folder()
    if not all((book / name).is_file() for name in SEVEN):
        pytest.skip(f"needs the book's seven test pictures in {book} (or OWNNET_DATA/../book)")
    return {book / name: digit for name, digit in SEVEN.items()}


def test_the_books_seven_pictures_with_the_book_network(mnist_dir: Path, book_pictures) -> None:
    from ownnet.classic import Network as Classic
    from ownnet.data.mnist import load_mnist

    net = Classic(seed=0)  # the book's network, one epoch on a sixth of MNIST
    net.fit(load_mnist(mnist_dir, progress=False).train.subset(10_000), 1, progress=False)
    read_as = {p.name: read(net, p).number for p in book_pictures}
    assert read_as == {p.name: str(d) for p, d in book_pictures.items()}


def test_the_books_seven_pictures_with_a_small_reader(mnist_dir: Path, book_pictures) -> None:
    from ownnet.data.mnist import load_mnist

    mnist = load_mnist(mnist_dir, progress=False)
    splits = SimpleNamespace(train=mnist.train.subset(5000), test=mnist.test.subset(500))
    net, _, info = train_reader(  # the reader's recipe, small and short
        splits, epochs=1, verbose=0, network={"filters": (8, 16), "dense": 64}, lr=0.003
    )
    read_as = {p.name: read(net, p).number for p in book_pictures}
    assert read_as == {p.name: str(d) for p, d in book_pictures.items()}
    assert info["test_accuracy"] > 0.85
    trained = find_reader()  # and the reader itself, when it has been trained here
    if trained is not None:
        reader, _ = load_model(trained)
        assert {p.name: read(reader, p).number for p in book_pictures} == read_as
