"""Activation maximisation (ownnet.inspect.maximize): gradients and results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ownnet.classic import Network as Classic
from ownnet.cli import main
from ownnet.inspect.maximize import UnitProbe, maximize
from ownnet.inspect.stack import InspectError, as_nn, dense_layers
from ownnet.io import save_model
from ownnet.nn import Activation, Dense, Dropout, PReLU
from ownnet.nn import Network as NN


def models() -> dict[str, object]:
    return {
        "classic": Classic(784, 12, 10, seed=1),
        "classic-bias": Classic(784, 12, 10, bias=True, seed=2),
        "relu-tanh-softmax": NN(
            [Dense(14, "relu"), Dropout(0.3), Dense(9, "tanh"), Dense(10, "softmax")],
            dtype="float64",
            seed=3,
        ),
        "prelu-leaky-sigmoid": NN(
            [
                Dense(11, None),
                PReLU(0.2),
                Dense(8, {"name": "leaky_relu", "alpha": 0.1}),
                Dense(6, None),
                Activation("sigmoid"),
                Dense(10, "sigmoid"),
            ],
            input_scale="book",
            dtype="float64",
            seed=4,
        ),
    }


@pytest.mark.parametrize("name", list(models()))
def test_input_gradient_matches_central_differences(name: str) -> None:
    model = models()[name]
    rng = np.random.default_rng(0)
    for layer in range(1, len(dense_layers(model)) + 1):
        probe = UnitProbe(model, layer)
        x = rng.uniform(0.05, 0.95, (3, 784))
        units = rng.integers(0, probe.n_units, 3)
        z, grad = probe.gradient(x, units)
        z_ref, _ = probe.values(x)
        np.testing.assert_allclose(z, z_ref[np.arange(3), units], rtol=1e-10)
        eps = 1e-6
        for i in range(3):
            pixels = rng.choice(784, 25, replace=False)
            for p in pixels:
                up, down = x[i : i + 1].copy(), x[i : i + 1].copy()
                up[0, p] += eps
                down[0, p] -= eps
                numeric = probe.values(up)[0][0, units[i]] - probe.values(down)[0][0, units[i]]
                numeric /= 2 * eps
                assert grad[i, p] == pytest.approx(numeric, rel=1e-5, abs=1e-8), (name, layer, p)


def test_classic_as_nn_gives_the_same_outputs() -> None:
    for bias in (False, True):
        net = Classic(784, 20, 10, bias=bias, seed=5)
        images = np.random.default_rng(1).integers(0, 256, (7, 28, 28)).astype(np.uint8)
        np.testing.assert_allclose(as_nn(net).outputs(images), net.outputs(images), rtol=1e-12)


def test_book_errors_are_restored_after_the_backward_pass() -> None:
    net = NN.book(784, 10, 10)
    UnitProbe(net, 1).gradient(np.full((1, 784), 0.5), np.array([0]))
    assert all(layer.book_errors for layer in net.layers)


def test_bad_layers_and_units_are_explained() -> None:
    net = Classic(784, 12, 10)
    with pytest.raises(InspectError, match=r"dense layers 1\.\.2"):
        UnitProbe(net, 3)
    with pytest.raises(InspectError, match=r"units 0\.\.9"):
        maximize(net, "output", [10], steps=1)


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path):
    from ownnet.data.mnist import load_mnist

    return load_mnist(mnist_dir, progress=False)


@pytest.fixture(scope="module")
def trained(mnist) -> dict[str, object]:
    """The book's network (1 epoch on 10,000 images) and a small relu/softmax MLP (5,000)."""
    from ownnet.nn import Adam

    classic = Classic(seed=0)
    classic.fit(mnist.train.subset(10_000), epochs=1, verbose=0)
    mlp = NN.mlp((64, 32), dropout=0.1, seed=0)
    mlp.fit(
        mnist.train.subset(5_000),
        epochs=1,
        batch_size=100,
        optimizer=Adam(0.003),
        verbose=0,
        seed=0,
    )
    return {"classic": classic, "mlp": mlp}


@pytest.mark.parametrize("kind", ["classic", "mlp"])
@pytest.mark.parametrize("layer", [1, "output"])
def test_maximisation_raises_the_unit_far_above_its_test_mean(trained, mnist, kind, layer) -> None:
    model = trained[kind]
    probe = UnitProbe(model, layer)
    units = np.array([0, 3, 7]) if layer == "output" else np.array([0, 5, 11])
    z_test, y_test = probe.values_for_images(mnist.test.images[:2000])
    result = maximize(model, layer, units, steps=100, seed=0)
    mean, std = z_test[:, units].mean(axis=0), z_test[:, units].std(axis=0)
    assert np.all(result.net_input > mean + 3 * std), (result.net_input, mean, std)
    assert np.all(result.net_input > result.start_net_input)
    assert np.all(result.activation > y_test[:, units].mean(axis=0))
    assert result.images.shape == (3, 28, 28)
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    if layer == "output":  # the pictures are read as the class they were made for
        pictures = np.round(result.images * 255).astype(np.uint8)
        assert np.array_equal(model.predict(pictures), units)


def test_maximisation_is_seeded() -> None:
    net = Classic(784, 12, 10, seed=1)
    a = maximize(net, 1, [0, 1], steps=5, seed=3)
    b = maximize(net, 1, [0, 1], steps=5, seed=3)
    c = maximize(net, 1, [0, 1], steps=5, seed=4)
    assert np.array_equal(a.images, b.images) and not np.array_equal(a.images, c.images)


def test_cli_units_weights_and_maximize(trained, tmp_path: Path, capsys) -> None:
    classic = save_model(tmp_path / "classic.npz", trained["classic"])
    mlp = save_model(tmp_path / "mlp.npz", trained["mlp"])
    out = tmp_path / "units.png"
    assert main(["inspect", "units", str(classic), "--count", "6", "--out", str(out)]) == 0
    assert Image.open(out).size[0] > 200
    out2 = tmp_path / "classes.png"
    args = ["inspect", "units", str(mlp), "--layer", "output", "--steps", "30", "--out", str(out2)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert all(f"class {digit}: net input" in text for digit in range(10))
    assert Image.open(out2).size[0] > 200
    args = ["inspect", "units", str(mlp), "--layer", "2", "--method", "weights"]
    assert main(args + ["--out", str(tmp_path / "x.png")]) == 1
    assert "--method maximize" in capsys.readouterr().err
