"""The reader (ownnet.reader): its recipe, where it is kept, and the book's own digits."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import synthetic_digits
from mnist_files import SHARED, real_dir
from PIL import Image

import ownnet
from ownnet.augmentation import Handwriting, from_spec
from ownnet.config import settings
from ownnet.reader import build_reader, default_path, find_reader, train_reader
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
    names = [type(layer).__name__ for layer in net.layers]
    assert names[:4] == ["Conv2D", "MaxPool2D", "Conv2D", "MaxPool2D"]
    dense = [layer for layer in net.layers if type(layer).__name__ == "Dense"]
    assert [layer.units for layer in dense] == [256, 10]
    # conv 3*3*1*32+32, conv 3*3*32*64+64, dense 3136*256+256, dense 256*10+10
    assert net.n_params == 320 + 18_496 + 803_072 + 2_570
    net.save(default_path())
    assert find_reader() == default_path()
    assert isinstance(ownnet.load(find_reader()), ownnet.Network)


def test_the_readers_hands_are_kept_in_checkpoints_and_settings() -> None:
    hands = Handwriting(keep=0.5, width=(2.0, 3.0))
    again = from_spec(hands.spec())
    assert isinstance(again, Handwriting) and vars(again) == vars(hands)
    rng = [np.random.default_rng(1), np.random.default_rng(1)]
    images, _ = synthetic_digits(20, 0)
    np.testing.assert_array_equal(hands(images, rng[0]), again(images, rng[1]))
    s = settings({"model": "reader"})
    assert (s["layers"], s["dropout"], s["epochs"], s["schedule"]) == ([256], 0.5, 16, "cosine")


def test_train_reader_learns_and_describes_itself() -> None:
    images, labels = synthetic_digits(600, 3)
    splits = splits_of(images, labels, 100)
    net, history, info = train_reader(  # random patterns would not survive new hands
        splits, epochs=2, filters=[4, 8], layers=[32], augment=Handwriting(keep=1.0), lr=0.01
    )
    assert len(history) == 2 and history["loss"][1] < history["loss"][0]
    assert info["test_accuracy"] == pytest.approx(net.score(splits.test))
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
    net.fit(load_mnist(mnist_dir, progress=False).train.subset(10_000), epochs=1, verbose=0)
    read_as = {p.name: read(net, p).number for p in book_pictures}
    assert read_as == {p.name: str(d) for p, d in book_pictures.items()}


def test_the_books_seven_pictures_with_a_small_reader(mnist_dir: Path, book_pictures) -> None:
    from ownnet.data.mnist import load_mnist

    mnist = load_mnist(mnist_dir, progress=False)
    splits = SimpleNamespace(train=mnist.train.subset(10_000), test=mnist.test.subset(500))
    net, _, info = train_reader(  # the reader's recipe, smaller and short: ~10 s
        splits, epochs=3, filters=[16, 32], layers=[128], lr=0.003
    )  # 7/7 at seeds 0..3, test accuracy 0.976 at each
    read_as = {p.name: read(net, p).number for p in book_pictures}
    assert read_as == {p.name: str(d) for p, d in book_pictures.items()}
    assert info["test_accuracy"] > 0.96
    trained = find_reader()  # and the reader itself, when it has been trained here
    if trained is not None:
        reader = ownnet.load(trained)
        assert {p.name: read(reader, p).number for p in book_pictures} == read_as


def test_train_model_reader_is_found_by_predict_and_serve(
    digits_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import argparse

    from ownnet.cli import main
    from ownnet.cli.serve import default_model_path

    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    picture = tmp_path / "one.png"
    ink = np.full((120, 90), 235, np.uint8)
    ink[20:100, 42:50] = 20
    Image.fromarray(ink).save(picture)
    assert main(["predict", str(picture)]) == 1  # no reader yet: one line saying what to do
    assert "ownnet train --model reader" in capsys.readouterr().err
    assert default_model_path(argparse.Namespace(model=None)) is None
    args = ["train", "--model", "reader", "--data", str(digits_dir), "--epochs", "2"]
    assert main([*args, "--filters", "4,8", "--layers", "16", "--lr", "0.003", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"saved {default_path()}" in out and not (tmp_path / "ownnet-model.npz").exists()
    meta = ownnet.load(default_path()).meta
    assert meta["training"]["model"] == "reader" and meta["training"]["handwriting"] is True
    assert main(["predict", str(picture), "--json"]) == 0
    assert '"number": "' in capsys.readouterr().out
    assert default_model_path(argparse.Namespace(model=None)) == str(default_path())
    assert default_model_path(argparse.Namespace(model="m.npz")) == "m.npz"
