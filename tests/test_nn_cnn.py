"""Convolutional networks in the matrix engine: uint8 inputs, training, model files,
augmentation, and the conv inspection tools."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import assert_same_run, floor_for_data, synthetic_digits
from PIL import Image

from ownnet.augmentation import RandomTransform
from ownnet.cli import main
from ownnet.cli.output import save_figure
from ownnet.inspect.feature_maps import (
    conv_layers,
    feature_maps,
    feature_maps_figure,
    kernels,
    kernels_figure,
    maximize_channels,
)
from ownnet.io import load_model, save_model
from ownnet.nn import Adam, Network
from ownnet.nn.cnn import cnn_layers

# Tiny matrices: BLAS threads only cost time (and much more of it on busy cores).
pytestmark = pytest.mark.usefixtures("one_blas_thread")


@dataclass
class Data:
    images: np.ndarray
    labels: np.ndarray


def tiny_cnn(batchnorm: bool = False, dtype: str = "float32", seed: int = 0) -> Network:
    layers = cnn_layers((4, 8), dense=16, dropout=0.1, batchnorm=batchnorm)
    return Network(layers, input_shape=(1, 28, 28), dtype=dtype, seed=seed)


def test_default_cnn_shapes_and_size():
    net = Network(cnn_layers(), input_shape=(1, 28, 28))
    shapes = [layer.output_shape for layer in net.layers]
    assert shapes[:5] == [(32, 28, 28), (32, 14, 14), (64, 14, 14), (64, 7, 7), (3136,)]
    assert net.n_params == (9 * 32 + 32) + (9 * 32 * 64 + 64) + (3136 * 128 + 128) + 1290


@pytest.mark.parametrize("batchnorm", [False, True])
def test_uint8_images_in_any_shape_give_the_forward_pass_of_scaled_inputs(batchnorm):
    net = tiny_cnn(batchnorm, dtype="float64")
    images, _ = synthetic_digits(5, 0)
    expected = net.forward(images.reshape(5, 1, 28, 28) / 255.0).copy()
    np.testing.assert_allclose(net.outputs(images), expected, rtol=1e-12)
    np.testing.assert_allclose(net.outputs(images.reshape(5, 784)), expected, rtol=1e-12)
    # one at a time (eval mode: batch norm uses its running statistics)
    np.testing.assert_allclose(net.outputs(images[2:3]), expected[2:3], rtol=1e-12)


def test_float32_agrees_with_float64():
    net64 = tiny_cnn(True, dtype="float64")
    arrays, config = net64.state()
    net32 = Network.from_state(arrays, {**config, "dtype": "float32"})
    images, _ = synthetic_digits(8, 1)
    np.testing.assert_allclose(net32.outputs(images), net64.outputs(images), atol=2e-6)


def test_cnn_learns_and_survives_a_model_file(tmp_path):
    images, labels = synthetic_digits(600, 3)
    test_images, test_labels = synthetic_digits(200, 4)
    net = tiny_cnn(batchnorm=True)
    before = net.score(Data(test_images, test_labels))
    history = net.fit(
        Data(images, labels), epochs=3, batch_size=50, optimizer=Adam(0.003), seed=0, verbose=0
    )
    after = net.score(Data(test_images, test_labels))
    assert before < 0.3 and after >= 0.89, (before, after)  # measured 0.04 and 0.92
    assert history["loss"][2] < history["loss"][1] < history["loss"][0]
    path = save_model(tmp_path / "cnn.npz", net, test_accuracy=after)
    loaded, meta = load_model(path)
    assert meta["kind"] == "nn" and meta["config"]["input_shape"] == [1, 28, 28]
    assert [layer["type"] for layer in meta["config"]["layers"]][:3] == [
        "Conv2D",
        "BatchNorm",
        "MaxPool2D",
    ]
    np.testing.assert_array_equal(loaded.outputs(test_images), net.outputs(test_images))
    bn = loaded.layers[1]
    assert np.abs(bn.running_mean).max() > 0  # the running statistics were saved


def test_random_transform_draws_new_pictures_from_the_generator():
    images, _ = synthetic_digits(20, 5)
    aug = RandomTransform(10, 2)
    a = aug(images.reshape(20, 784), np.random.default_rng(0))
    b = aug(images.reshape(20, 784), np.random.default_rng(0))
    c = aug(images.reshape(20, 784), np.random.default_rng(1))
    assert a.shape == (20, 784) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert np.mean(a != c) > 0.05 and np.mean(a != images.reshape(20, 784)) > 0.05
    # shifts alone move the picture by whole pixels
    one = np.zeros((1, 28, 28), np.uint8)
    one[0, 10, 12] = 200
    moved = RandomTransform(0, 3)(one, np.random.default_rng(2))
    assert moved.sum() == 200 and moved.shape == (1, 28, 28)
    assert RandomTransform(0, 0)(one, np.random.default_rng(0)) is one
    with pytest.raises(ValueError, match="square"):
        aug(np.zeros((2, 30), np.uint8), np.random.default_rng(0))


# -- inspection ------------------------------------------------------------------------------


def test_kernels_and_feature_maps(tmp_path):
    net = tiny_cnn(dtype="float64")
    assert [pos for pos, _ in conv_layers(net)] == [0, 2]
    k = kernels(net, "conv1")
    assert k.shape == (4, 3, 3)
    np.testing.assert_array_equal(k[1], net.layers[0].W[:, :, 0, 1])
    image, _ = synthetic_digits(1, 6)
    maps = feature_maps(net, image[0], 1)
    assert maps.shape == (4, 28, 28)
    # channel 2 at pixel (5, 7) by hand: relu(sum(W * the 3x3 patch around it) + b)
    x = np.pad(image[0] / 255.0, 1)
    w, b = net.layers[0].W[:, :, 0, 2], net.layers[0].b[2]
    assert maps[2, 5, 7] == pytest.approx(max(0.0, float(np.sum(w * x[5:8, 7:10]) + b)))
    assert feature_maps(net, image[0], "conv2").shape == (8, 14, 14)
    for fig, name in (
        (kernels_figure(net), "k.png"),
        (feature_maps_figure(net, image[0]), "f.png"),
    ):
        assert save_figure(fig, tmp_path / name).stat().st_size > 1000


def test_channel_maximisation_raises_the_channel_mean():
    net = tiny_cnn(dtype="float64", seed=1)
    result = maximize_channels(net, "conv2", [0, 3, 5], steps=30)
    assert result.images.shape == (3, 28, 28)
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    assert np.all(result.net_input > result.start_net_input)
    assert result.net_input.max() > 0.3 > result.start_net_input.max()


# -- the command line ------------------------------------------------------------------------


def train_cnn(data, out, *extra):
    return main(["train", "--model", "cnn", "--data", str(data), "--filters", "4,8",
                 "--layers", "16", "--batch-size", "100", "--seed", "3", "--out", str(out),
                 *extra])  # fmt: skip


def test_train_cnn_then_test_and_predict(digits_dir, tmp_path, capsys):
    out = tmp_path / "cnn.npz"
    assert train_cnn(digits_dir, out, "--epochs", "2", "--dropout", "0.1", "--lr", "0.003") == 0
    text = capsys.readouterr().out
    assert "matrix engine CNN 1x28x28-conv4-pool-conv8-pool-16-10, 3x3 kernels" in text
    assert "new random rotations up to 10 degrees and shifts up to 2 px each epoch" in text
    assert re.search(
        r"^3000/3000 \[={30}\] - \d+\.\ds - loss: [\d.]+ - acc: [\d.]+ - val_loss: [\d.]+ "
        r"- val_acc: [\d.]+ - [\d,]+ samples/s$",
        text,
        re.M,
    ), text
    model, meta = load_model(out)
    assert isinstance(model, Network) and model.input_shape == (1, 28, 28)
    training = meta["training"]
    assert training["model"] == "cnn" and training["filters"] == [4, 8]
    assert training["optimizer"] == "adam" and training["schedule"] == "cosine"
    assert (training["max_angle"], training["max_shift"]) == (10.0, 2)
    # measured 0.628 on real MNIST, 0.79 on the blocky stand-ins (chance: 0.1)
    assert meta["test_accuracy"] >= floor_for_data(real=0.60, synthetic=0.76)

    assert main(["test", str(out), "--data", str(digits_dir)]) == 0
    report = capsys.readouterr().out
    acc = float(next(x for x in report.splitlines() if x.startswith("accuracy:")).split()[1])
    assert acc == pytest.approx(meta["test_accuracy"], abs=1e-4)

    from ownnet.data.mnist import load_mnist

    test = load_mnist(digits_dir, progress=False).test
    png = tmp_path / "digit.png"
    Image.fromarray(np.asarray(test.images[0])).save(png)  # an MNIST-style picture, as it is
    assert main(["predict", str(out), str(png), "--as-is"]) == 0
    line = capsys.readouterr().out
    assert "softmax probabilities" in line
    assert re.search(rf"digit\.png\s+digit {model.predict(test.images[:1])[0]}\b", line), line


def test_cnn_checkpoint_resume_gives_the_same_run(digits_dir, tmp_path):
    """The resumed run draws the same augmentations and dropout masks (a cosine schedule would
    depend on the first run's --epochs, so this uses a constant one). Two threads, given:
    batches split into parts, the same however busy the machine is. On the blocky stand-ins
    without MNIST: on the pixel-noise ones this CNN answers one digit for all."""
    straight, part, ck = tmp_path / "straight.npz", tmp_path / "part.npz", tmp_path / "ck.npz"
    opts = ("--quiet", "--schedule", "constant", "--threads", "2")
    assert train_cnn(digits_dir, straight, "--epochs", "2", *opts) == 0
    assert train_cnn(digits_dir, part, "--epochs", "1", "--checkpoint", str(ck), *opts) == 0
    assert main(["train", "--model", "cnn", "--data", str(digits_dir), "--resume", str(ck),
                 "--epochs", "2", "--out", str(part), *opts[:1], *opts[3:]]) == 0  # fmt: skip
    assert_same_run(straight, part)


def test_dense_unit_maximisation_runs_through_the_conv_layers():
    """UnitProbe's input gradient for a CNN's output class against central differences."""
    from ownnet.inspect.maximize import UnitProbe, maximize

    net = tiny_cnn(batchnorm=True, dtype="float64", seed=2)
    probe = UnitProbe(net, "output")
    assert probe.info.position == len(net.layers) - 1
    rng = np.random.default_rng(7)
    x = rng.uniform(0.05, 0.95, (2, 784))
    z, grad = probe.gradient(x, np.array([3, 8]))
    eps = 1e-6
    for i, unit in enumerate((3, 8)):
        for p in rng.choice(784, 12, replace=False):
            up, down = x[i : i + 1].copy(), x[i : i + 1].copy()
            up[0, p] += eps
            down[0, p] -= eps
            numeric = (probe.values(up)[0][0, unit] - probe.values(down)[0][0, unit]) / (2 * eps)
            assert grad[i, p] == pytest.approx(numeric, rel=1e-5, abs=1e-9)
    result = maximize(net, "output", [3], steps=20)
    assert result.net_input[0] > result.start_net_input[0]


def test_cli_inspect_units_for_conv_layers(tmp_path, capsys):
    net = tiny_cnn()
    model = save_model(tmp_path / "cnn.npz", net)
    image, _ = synthetic_digits(1, 8)
    png = tmp_path / "digit.png"
    Image.fromarray(255 - image[0]).save(png)
    runs = {
        "kernels.png": [],
        "maps.png": ["--method", "maps", "--image", str(png)],
        "max.png": ["--layer", "conv2", "--method", "maximize", "--count", "3", "--steps", "5"],
    }
    for out, extra in runs.items():
        assert main(["inspect", "units", str(model), "--out", str(tmp_path / out), *extra]) == 0
        picture = Image.open(tmp_path / out)
        assert picture.format == "PNG" and min(picture.size) > 150, (out, picture.size)
    text = capsys.readouterr().out
    assert "conv1, 4 channels of 3x3 kernels on 1 input channels -> (4, 28, 28)" in text
    assert "digit.png: read as" in text
    assert re.search(r"channel 2: mean net input -?[\d.]+ at the start", text), text
    # the first dense layer of a CNN reads features, not pixels
    assert main(["inspect", "units", str(model), "--layer", "1", "--method", "weights"]) == 1
    assert "--layer conv1" in capsys.readouterr().err


def test_serve_reads_a_cnn_model_file(tmp_path):
    pytest.importorskip("fastapi", reason="needs the web extra: pip install 'ownnet[web]'")
    pytest.importorskip("multipart", reason="needs the web extra: pip install 'ownnet[web]'")
    from fastapi.testclient import TestClient

    from ownnet.web.app import create_app

    net = tiny_cnn()
    path = save_model(tmp_path / "cnn.npz", net)
    image, _ = synthetic_digits(1, 9)
    with TestClient(create_app(path)) as client:
        card = client.get("/api/model").json()
        assert card["kind"] == "nn" and card["has_backquery"] is False
        r = client.post("/api/predict", json={"pixels": image[0].reshape(-1).tolist()})
        assert r.status_code == 200, r.text
        body = r.json()
    out = net.outputs(image)[0]
    assert body["digit"] == int(out.argmax())
    np.testing.assert_allclose(body["outputs"], out, rtol=1e-6)
    np.testing.assert_allclose(body["probabilities"], out, atol=1e-6)  # softmax outputs as they are
