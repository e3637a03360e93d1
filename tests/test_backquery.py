"""Back query (ownnet.inspect.backquery) and `ownnet backquery`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.special import logit as scipy_logit

from ownnet import convert
from ownnet.classic import Network as Classic
from ownnet.cli import main
from ownnet.inspect.backquery import (
    NotInvertibleError,
    backquery,
    backquery_digits,
    book_targets,
    ink_image,
)
from ownnet.io import save_model
from ownnet.nn import Dense, Dropout
from ownnet.nn import Network as NN


def book_backquery(wih: np.ndarray, who: np.ndarray, targets: list[float]) -> np.ndarray:
    """The book's code (Make Your Own Neural Network, part 3), line by line, as the reference."""
    final_outputs = np.array(targets, ndmin=2).T
    final_inputs = np.log(final_outputs / (1 - final_outputs))  # inverse of the sigmoid
    hidden_outputs = np.dot(who.T, final_inputs)
    hidden_outputs -= np.min(hidden_outputs)
    hidden_outputs /= np.max(hidden_outputs)
    hidden_outputs *= 0.98
    hidden_outputs += 0.01
    hidden_inputs = np.log(hidden_outputs / (1 - hidden_outputs))
    inputs = np.dot(wih.T, hidden_inputs)
    inputs -= np.min(inputs)
    inputs /= np.max(inputs)
    inputs *= 0.98
    inputs += 0.01
    return inputs.ravel()


def test_matches_the_books_code() -> None:
    net = Classic(784, 50, 10, seed=3)
    for label in (0, 7):
        targets = [0.01] * 10
        targets[label] = 0.99
        expected = book_backquery(net.wih, net.who, targets)
        got = backquery(net, book_targets(np.array([label])))[0]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        assert got.min() == pytest.approx(0.01) and got.max() == pytest.approx(0.99)


def test_bias_is_subtracted_before_the_transpose() -> None:
    net = Classic(16, 6, 3, bias=True, seed=1)
    t = book_targets(np.array([2]), 3)
    # by hand: z = logit(t) - b, back through W, rescale; twice
    z = scipy_logit(t) - net.who[:, -1]
    h = z @ net.who[:, :-1]
    h = (h - h.min()) / (h.max() - h.min()) * 0.98 + 0.01
    z = scipy_logit(h) - net.wih[:, -1]
    x = z @ net.wih[:, :-1]
    x = (x - x.min()) / (x.max() - x.min()) * 0.98 + 0.01
    np.testing.assert_allclose(backquery(net, t), x, rtol=1e-12)


def test_nn_sigmoid_network_gives_the_same_pictures() -> None:
    classic = Classic(784, 30, 10, bias=True, seed=2)
    nn = convert.classic_to_nn(classic)
    t = book_targets(np.arange(10))
    np.testing.assert_allclose(backquery(nn, t), backquery(classic, t), rtol=1e-9, atol=1e-12)
    # a deeper sigmoid stack with dropout (identity when not training) works too
    deep = NN([Dense(40, "sigmoid"), Dropout(0.2), Dense(20, "sigmoid"), Dense(10, "sigmoid")])
    assert backquery(deep, t).shape == (10, 784)


@pytest.mark.parametrize(
    "layers, named",
    [
        ([Dense(32, "relu"), Dense(10, "softmax")], "relu"),
        ([Dense(32, "sigmoid"), Dense(10, "softmax")], "softmax"),
        ([Dense(32, "tanh"), Dense(10, "sigmoid")], "tanh"),
    ],
)
def test_layers_that_cannot_be_inverted_point_to_maximisation(layers, named: str) -> None:
    with pytest.raises(NotInvertibleError, match=named) as info:
        backquery(NN(layers), book_targets(np.arange(10)))
    assert "ownnet inspect units MODEL --layer output --method maximize" in str(info.value)


def test_ink_image_sets_the_background_to_zero() -> None:
    v = np.full((1, 784), 0.5)
    v[0, :10] = 0.99
    v[0, 10:20] = 0.01
    img = ink_image(v)
    assert img.shape == (1, 28, 28)
    assert img.ravel()[:10].tolist() == [255] * 10
    assert img.ravel()[10:].max() == 0


@pytest.fixture(scope="module")
def trained(mnist_dir: Path) -> Classic:
    """The book's network trained for one epoch on 10,000 MNIST images (about 1 s)."""
    from ownnet.data.mnist import load_mnist

    net = Classic(seed=0)
    net.fit(load_mnist(mnist_dir, progress=False).train.subset(10_000), epochs=1, verbose=0)
    return net


def test_back_queried_digits_are_read_as_their_own_label(trained: Classic) -> None:
    result = backquery_digits(trained)
    assert result.images.shape == (10, 28, 28) and result.images.dtype == np.uint8
    assert result.n_correct >= 9, result.predicted  # measured 10
    # the same check, done independently: feed forward with the book's query()
    x = result.images.reshape(10, -1) / 255.0 * 0.99 + 0.01
    assert int(np.sum(trained.query(x).argmax(axis=1) == np.arange(10))) == result.n_correct


def test_cli_writes_the_grid_and_one_png_per_digit(
    trained: Classic, tmp_path: Path, capsys
) -> None:
    model = save_model(tmp_path / "m.npz", trained)
    out = tmp_path / "pics" / "bq.png"
    assert main(["backquery", str(model), "--out", str(out), "--each"]) == 0
    text = capsys.readouterr().out
    assert "back-queried pictures are read as their own digit" in text
    grid = Image.open(out)
    assert grid.width > grid.height > 200  # a 2x5 grid is wider than tall
    for d in range(10):
        pic = Image.open(out.with_name(f"bq-{d}.png"))
        assert pic.size == (280, 280)


def test_cli_explains_an_mlp_cannot_be_back_queried(tmp_path: Path, capsys) -> None:
    model = save_model(tmp_path / "mlp.npz", NN.mlp((16,), dropout=0.0))
    assert main(["backquery", str(model), "--out", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "relu" in err and "--method maximize" in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()
