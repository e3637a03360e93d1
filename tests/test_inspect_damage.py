"""Damage and noise curves (ownnet.inspect.damage) and `ownnet inspect damage`."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from scipy.special import expit

from ownnet.book import INPUTS as SCALE
from ownnet.classic import Network as Classic
from ownnet.cli import main
from ownnet.cli.inspect import write_damage
from ownnet.inspect.damage import damage_rows, rotated, with_noise, without_neurons
from ownnet.io import save_model
from ownnet.nn import Dense, Dropout
from ownnet.nn import Network as NN


def test_removed_classic_neurons_send_nothing_on() -> None:
    net = Classic(784, 40, 10, seed=1)
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    damaged = without_neurons(net, 0.25, np.random.default_rng(7))
    gone = np.flatnonzero(~damaged.who.any(axis=0))
    assert len(gone) == 10
    # by hand: the hidden outputs of the removed neurons are set to 0 before the output layer
    x = SCALE[images.reshape(5, -1)]
    hidden = expit(x @ net.wih.T)
    hidden[:, gone] = 0.0
    np.testing.assert_allclose(damaged.outputs(images), expit(hidden @ net.who.T), rtol=1e-12)
    assert net.who.all()  # the original is untouched
    assert np.array_equal(without_neurons(net, 0.0, np.random.default_rng(0)).who, net.who)


def test_removed_nn_neurons_in_every_hidden_layer() -> None:
    net = NN([Dense(20, "relu"), Dropout(0.5), Dense(10, "relu"), Dense(10, "softmax")])
    damaged = without_neurons(net, 0.5, np.random.default_rng(3))
    w2, w3 = damaged.layers[2].params["W"], damaged.layers[3].params["W"]
    assert int((~w2.any(axis=1)).sum()) == 10  # rows = inputs from layer 1's neurons
    assert int((~w3.any(axis=1)).sum()) == 5
    assert damaged.layers[0].params["W"].all()  # the input layer is not damaged


def test_noise_and_rotation() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 28, 28)).astype(np.uint8)
    assert np.array_equal(with_noise(images, 0.0, rng), images)
    noisy = with_noise(np.full((200, 28, 28), 128, np.uint8), 0.1, np.random.default_rng(1))
    assert (noisy.astype(float) / 255).std() == pytest.approx(0.1, rel=0.02)
    # a quarter turn is exact: compare with numpy's rot90 (anticlockwise)
    assert np.array_equal(rotated(images, 90), np.rot90(images, 1, axes=(1, 2)))
    assert np.array_equal(rotated(images, 0), images)


@pytest.fixture(scope="module")
def small(mnist_dir: Path):
    from ownnet.data.mnist import load_mnist

    splits = load_mnist(mnist_dir, progress=False)
    net = Classic(seed=0)
    net.fit(splits.train.subset(5_000), epochs=1, verbose=0)
    return net, splits.test.subset(1_000)


def test_curves_fall_as_damage_grows(small, tmp_path: Path) -> None:
    net, test = small
    rows, paths = write_damage(
        net,
        test,
        tmp_path,
        fractions=(0.0, 0.5, 0.9),
        sigmas=(0.0, 0.5),
        angles=(0.0, 90.0),
        seeds=(0, 1),
    )
    assert [p.name for p in paths] == [
        "damage.csv",
        "damage-neurons.png",
        "damage-noise.png",
        "damage-rotation.png",
    ]
    acc = {(r.experiment, r.level, r.seed): r.accuracy for r in rows}
    clean = net.score(test)
    assert acc[("neurons", 0.0, 0)] == acc[("noise", 0.0, 1)] == acc[("rotation", 0.0, 0)] == clean
    assert acc[("neurons", 0.9, 0)] < clean - 0.2
    assert acc[("noise", 0.5, 0)] < clean - 0.1
    assert acc[("rotation", 90.0, 0)] < 0.5
    with open(tmp_path / "damage.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 3 * 2 + 2 * 2 + 2
    assert {r["experiment"] for r in table} == {"neurons", "noise", "rotation"}
    assert Image.open(tmp_path / "damage-neurons.png").size[0] > 300


def test_progress_messages(small) -> None:
    net, test = small
    lines: list[str] = []
    tiny = SimpleNamespace(images=test.images[:50], labels=test.labels[:50])
    damage_rows(net, tiny, fractions=(0.2,), sigmas=(0.1,), angles=(10.0,), progress=lines.append)
    assert lines[0].startswith("neurons removed 20%: accuracy ")
    assert len(lines) == 3


def test_cli_damage(small_mnist_dir: Path, tmp_path: Path, capsys) -> None:
    """`ownnet inspect damage` writes the rows :func:`damage_rows` finds and three plots."""
    from ownnet.data.mnist import load_mnist

    splits = load_mnist(small_mnist_dir, progress=False, download=False)
    net = Classic(784, 30, 10, seed=0)
    net.fit(splits.train, epochs=1, verbose=0)
    model = save_model(tmp_path / "m.npz", net)
    out = tmp_path / "dmg"
    args = ["inspect", "damage", str(model), "--out", str(out), "--samples", "200", "--seeds", "2"]
    assert main([*args, "--data", str(small_mnist_dir)]) == 0
    printed = capsys.readouterr().out
    assert "200 test images; 2 random draws per level" in printed
    pictures = ["damage-neurons.png", "damage-noise.png", "damage-rotation.png"]
    assert sorted(p.name for p in out.iterdir()) == [*pictures, "damage.csv"]
    for name in [*pictures, "damage.csv"]:
        assert f"wrote {out / name}" in printed
    with open(out / "damage.csv", newline="") as f:
        header, *table = list(csv.reader(f))
    assert header == ["experiment", "level", "seed", "accuracy"]
    test = splits.test.subset(200)
    rows = damage_rows(net, test, seeds=(0, 1))
    assert len(table) == len(rows) == 10 * 2 + 7 * 2 + 9  # levels x draws; one per angle
    assert [(e, float(level), int(seed)) for e, level, seed, _ in table] == [
        (r.experiment, r.level, r.seed) for r in rows
    ]
    np.testing.assert_allclose([float(a) for *_, a in table], [r.accuracy for r in rows], atol=5e-5)
    clean = [r.accuracy for r in rows if r.level == 0.0]
    assert clean == [net.score(test)] * len(clean)
    for row in rows:
        if row.experiment == "rotation":
            assert f"rotation {row.level:g} degrees: accuracy {row.accuracy:.4f}" in printed
    for name in pictures:  # 5.5 x 3.6 inches at 100 dpi
        assert Image.open(out / name).size == (550, 360)
