"""The test report (ownnet.inspect.report, written by `ownnet test --report`), weight
pictures and confidences."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from ownnet.classic import Network as Classic
from ownnet.cli.test import write_report
from ownnet.inspect.confidence import NORMALISED, SOFTMAX, confidences, top_k
from ownnet.inspect.units import first_layer_weights
from ownnet.nn import Dense
from ownnet.nn import Network as NN


def test_first_layer_weights_are_the_rows_of_wih_and_columns_of_w() -> None:
    classic = Classic(784, 9, 10, bias=True, seed=1)
    pics = first_layer_weights(classic, [0, 4])
    assert pics.shape == (2, 28, 28)
    np.testing.assert_array_equal(pics[1].ravel(), classic.wih[4, :784])
    nn = NN([Dense(7, "relu"), Dense(10, "softmax")], seed=2)
    np.testing.assert_array_equal(
        first_layer_weights(nn)[3].ravel(), nn.layers[0].params["W"][:, 3]
    )


def test_confidences() -> None:
    images = np.random.default_rng(0).integers(0, 256, (6, 28, 28)).astype(np.uint8)
    classic = Classic(784, 9, 10, seed=1)
    conf, how = confidences(classic, images)
    out = classic.outputs(images)
    assert how == NORMALISED
    np.testing.assert_allclose(conf, out / out.sum(axis=1, keepdims=True))
    nn = NN([Dense(7, "relu"), Dense(10, "softmax")], seed=2)
    conf, how = confidences(nn, images)
    assert how == SOFTMAX
    np.testing.assert_allclose(conf, nn.outputs(images), rtol=1e-6)
    classes, scores = top_k(np.array([[0.1, 0.5, 0.3, 0.1]]), 3)
    assert classes.tolist() == [[1, 2, 0]] and scores.tolist() == [[0.5, 0.3, 0.1]]


@pytest.fixture(scope="module")
def trained(mnist_dir: Path):
    from ownnet.data.mnist import load_mnist

    splits = load_mnist(mnist_dir, progress=False)
    net = Classic(seed=0)
    net.fit(splits.train.subset(3_000), epochs=1, verbose=0)
    return net, splits.test.subset(600)


def test_report_files_and_the_worst_mistakes(trained, tmp_path: Path) -> None:
    net, test = trained
    paths = write_report(net, test, tmp_path / "report")
    assert [p.name for p in paths] == ["confusion.png", "mistakes.png", "mistakes.csv"]
    assert Image.open(paths[0]).size[0] > 400 and Image.open(paths[1]).size[0] > 400
    with open(paths[2], newline="") as f:
        rows = list(csv.DictReader(f))
    out = net.outputs(test.images)
    wrong = np.flatnonzero(out.argmax(axis=1) != test.labels)
    assert sorted(int(r["index"]) for r in rows) == wrong.tolist()
    conf = [float(r["confidence"]) for r in rows]
    assert conf == sorted(conf, reverse=True)
    first = rows[0]
    i = int(first["index"])
    assert int(first["true"]) == test.labels[i] and int(first["predicted"]) == out[i].argmax()
    assert float(first["confidence"]) == pytest.approx(out[i].max() / out[i].sum(), abs=1e-4)


def test_report_with_no_mistakes(tmp_path: Path) -> None:
    class Perfect:
        proba_meaning = "outputs divided by their sum"

        def outputs(self, images: np.ndarray) -> np.ndarray:
            return np.eye(10)[np.arange(len(images)) % 10] * 0.98 + 0.01

        def predict_proba(self, images: np.ndarray) -> np.ndarray:
            return self.outputs(images) / self.outputs(images).sum(axis=1, keepdims=True)

        def predict(self, images: np.ndarray) -> np.ndarray:
            return self.outputs(images).argmax(axis=1)

    data = SimpleNamespace(images=np.zeros((20, 28, 28), np.uint8), labels=np.arange(20) % 10)
    paths = write_report(Perfect(), data, tmp_path)
    assert (tmp_path / "mistakes.csv").read_text().strip() == "index,true,predicted,confidence"
    assert [p.name for p in paths] == ["confusion.png", "mistakes.png", "mistakes.csv"]
    assert Image.open(paths[0]).size[0] > 400
    Image.open(paths[1]).verify()  # a picture even with no mistakes to show
