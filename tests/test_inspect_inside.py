"""The inside view's computations: layer outputs, saliency (gradient x input), dreams and
class pictures, for the book's network, an MLP and a CNN. Every input gradient is checked
against central differences, and the CNN's saliency against PyTorch's autograd."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check

from ownnet.classic import Network as Classic
from ownnet.inspect.activations import Tracer, activations, layer_infos
from ownnet.inspect.class_pictures import class_pictures
from ownnet.inspect.dream import dream
from ownnet.inspect.saliency import saliency
from ownnet.nn import Network
from ownnet.nn.conv import Conv2D
from ownnet.nn.dense import Dense
from ownnet.nn.flatten import Flatten
from ownnet.nn.layers import Dropout
from ownnet.nn.pooling import MaxPool2D


def book() -> Classic:
    return Classic(784, 12, 10, 0.1, seed=3)


def mlp() -> Network:
    layers = [Dense(16, "tanh"), Dropout(0.3), Dense(8, "sigmoid"), Dense(10, "softmax")]
    return Network(layers, dtype="float64", seed=4)


def cnn() -> Network:
    layers = [
        Conv2D(3, 3, padding="same", activation="tanh"),
        MaxPool2D(2),
        Conv2D(4, 3, activation="sigmoid"),
        MaxPool2D(2),
        Flatten(),
        Dense(12, "tanh"),
        Dropout(0.5),
        Dense(10, "softmax"),
    ]
    return Network(layers, input_shape=(1, 28, 28), dtype="float64", seed=5)


MODELS = {"book": book, "mlp": mlp, "cnn": cnn}


def pictures(n: int, seed: int = 0) -> np.ndarray:
    """Pictures in [0, 1] with ink (0.1..0.9 everywhere, so every pixel has a gradient)."""
    return np.random.default_rng(seed).uniform(0.1, 0.9, (n, 28, 28))


def test_layer_names_kinds_and_shapes():
    names = {
        name: [(i.name, i.kind, i.shape) for i in layer_infos(Tracer(make()).net)]
        for name, make in MODELS.items()
    }
    assert names["book"] == [
        ("input", "input", (28, 28)),
        ("hidden1", "dense", (12,)),
        ("output", "output", (10,)),
    ]
    assert [n for n, _, _ in names["mlp"]] == ["input", "hidden1", "hidden2", "output"]
    assert names["cnn"] == [
        ("input", "input", (28, 28)),
        ("conv1", "conv", (3, 28, 28)),
        ("pool1", "pool", (3, 14, 14)),
        ("conv2", "conv", (4, 12, 12)),
        ("pool2", "pool", (4, 6, 6)),
        ("hidden1", "dense", (12,)),
        ("output", "output", (10,)),
    ]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_activations_are_the_layers_outputs(name):
    model = MODELS[name]()
    p = pictures(3)
    acts = activations(model, p)
    np.testing.assert_array_equal(acts[0].values, p)
    pixels = np.rint(p * 255).astype(np.uint8)
    # the last layer is the model's own output (on the same pixels)
    q = pixels / 255.0
    np.testing.assert_allclose(activations(model, q)[-1].values, model.outputs(pixels), rtol=1e-10)
    if name == "book":  # the hidden layer, by the book's formula
        x = pixels.reshape(3, -1) / 255.0 * 0.99 + 0.01
        hidden = 1 / (1 + np.exp(-(x @ model.wih.T)))
        np.testing.assert_allclose(activations(model, q)[1].values, hidden, rtol=1e-12)
    if name == "cnn":  # conv1 is the first layer's output, pool1 its 2x2 maxima
        conv1, pool1 = acts[1].values, acts[2].values
        np.testing.assert_allclose(
            pool1, conv1.reshape(3, 3, 14, 2, 14, 2).max(axis=(3, 5)), rtol=1e-12
        )


def z_of(model, picture: np.ndarray, c: int) -> float:
    tracer = Tracer(model)
    tracer.forward(picture[None])
    return float(tracer.net_input(len(tracer.layers) - 1)[0, c])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_saliency_gradient_equals_central_differences(name):
    model = MODELS[name]()
    p = pictures(2, seed=1)
    result = saliency(model, p, classes=np.array([3, 7]))
    assert list(result.classes) == [3, 7]
    rng = np.random.default_rng(2)
    for row, c in enumerate((3, 7)):
        assert result.net_input[row] == pytest.approx(z_of(model, p[row], c), rel=1e-12)
        picture = p[row].copy()
        idx = [tuple(i) for i in rng.integers(0, 28, (25, 2))]
        numeric = np.zeros(len(idx))
        for j, ij in enumerate(idx):
            old = picture[ij]
            picture[ij] = old + 1e-6
            plus = z_of(model, picture, c)
            picture[ij] = old - 1e-6
            minus = z_of(model, picture, c)
            picture[ij] = old
            numeric[j] = (plus - minus) / 2e-6
        analytic = np.array([result.gradient[row][ij] for ij in idx])
        check(analytic, numeric, floor=1e-5)
        np.testing.assert_allclose(result.values[row], p[row] * result.gradient[row])


def test_saliency_defaults_to_the_top_answer_and_no_ink_has_none():
    model = mlp()
    p = pictures(4, seed=3)
    p[:, :5] = 0.0  # the top rows have no ink
    result = saliency(model, p)
    np.testing.assert_array_equal(result.classes, activations(model, p)[-1].values.argmax(1))
    assert np.all(result.values[:, :5] == 0) and np.any(result.gradient[:, :5] != 0)
    with pytest.raises(ValueError, match="classes must be 0..9"):
        saliency(model, p, classes=np.array([0, 1, 2, 10]))


def test_cnn_saliency_equals_torch_autograd():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (extra 'bench')")
    F = torch.nn.functional
    model = cnn()
    p = pictures(2, seed=4)
    result = saliency(model, p, classes=np.array([1, 8]))
    t = lambda a: torch.tensor(np.array(a), dtype=torch.float64)  # noqa: E731
    conv1, _, conv2, _, _, d1, _, d2 = model.layers
    x = t(p[:, None]).requires_grad_(True)
    h = torch.tanh(F.conv2d(x, t(conv1.W.transpose(3, 2, 0, 1)), t(conv1.b), padding=1))
    h = F.max_pool2d(h, 2)
    h = torch.sigmoid(F.conv2d(h, t(conv2.W.transpose(3, 2, 0, 1)), t(conv2.b)))
    h = F.max_pool2d(h, 2).reshape(2, -1)
    h = torch.tanh(h @ t(d1.W) + t(d1.b))
    z = h @ t(d2.W) + t(d2.b)
    z[[0, 1], [1, 8]].sum().backward()
    np.testing.assert_allclose(result.net_input, z[[0, 1], [1, 8]].detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(result.gradient, x.grad.numpy()[:, 0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_dream_gradients_enter_at_their_own_layer(name):
    """Several layers' gradients in one backward pass, one row each, equal central
    differences of each row's own objective 0.5 * sum(a ** 2)."""
    from ownnet.inspect.dream import _objective

    model = MODELS[name]()
    tracer = Tracer(model)
    ks = list(range(1, len(tracer.layers)))
    x = np.tile(pictures(1, seed=5).reshape(1, -1), (len(ks), 1))
    _, grad = _objective(tracer, x, ks)
    rng = np.random.default_rng(6)
    for row in range(len(ks)):
        idx = rng.integers(0, 784, 12)
        numeric = np.zeros(len(idx))
        for j, i in enumerate(idx):
            old = x[row, i]
            x[row, i] = old + 1e-6
            plus = _objective(tracer, x, ks, gradient=False)[0][row]
            x[row, i] = old - 1e-6
            minus = _objective(tracer, x, ks, gradient=False)[0][row]
            x[row, i] = old
            numeric[j] = (plus - minus) / 2e-6
        check(grad[row, idx], numeric, floor=1e-7)


def test_dream_raises_each_layers_response():
    model = cnn()
    start = pictures(1, seed=7)[0] * 0.5
    dreams = dream(model, start, steps=15)
    assert [d.layer for d in dreams] == ["conv1", "pool1", "conv2", "pool2", "hidden1", "output"]
    for d in dreams:
        assert d.end > d.start, d.layer
        assert d.image.shape == (28, 28) and 0 <= d.image.min() and d.image.max() <= 1
        assert not np.allclose(d.image, start)
    one = dream(model, start, ["conv2"], steps=15)[0]
    np.testing.assert_allclose(one.image, dreams[2].image)  # the rows do not mix
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        dream(model, start, ["conv9"])
    with pytest.raises(ValueError, match="input layer"):
        dream(model, start, ["input"])


def test_class_pictures_backquery_for_sigmoid_maximize_for_others():
    from ownnet.inspect.backquery import backquery_digits

    model = book()
    pics = class_pictures(model)
    assert pics.method == "backquery" and pics.images.shape == (10, 28, 28)
    bq = backquery_digits(model)
    np.testing.assert_allclose(pics.images, bq.images / 255.0)
    np.testing.assert_array_equal(pics.read_as, bq.predicted)
    relu = Network.mlp((16,), dropout=0.0, seed=1)
    before = [p.value.copy() for p in relu.params()]
    pics = class_pictures(relu, steps=30)
    assert pics.method == "maximize" and pics.images.shape == (10, 28, 28)
    assert np.allclose(pics.images.max(axis=(1, 2)), 1.0)
    read = relu.outputs(np.rint(pics.images * 255).astype(np.uint8)).argmax(axis=1)
    np.testing.assert_array_equal(pics.read_as, read)
    for p, b in zip(relu.params(), before, strict=True):  # the model itself was not touched
        np.testing.assert_array_equal(p.value, b)


def test_cli_inspect_dream(tmp_path, capsys):
    from PIL import Image, ImageDraw

    from ownnet.cli import main
    from ownnet.io import save_model

    model = save_model(tmp_path / "cnn.npz", cnn())
    im = Image.new("L", (120, 120), 255)
    ImageDraw.Draw(im).line([(40, 20), (80, 20), (60, 60), (80, 100), (40, 100)], fill=0, width=9)
    im.save(tmp_path / "three.png")
    out = tmp_path / "dreams"
    argv = ["inspect", "dream", str(model), str(tmp_path / "three.png"), "--out", str(out)]
    assert main([*argv, "--steps", "3"]) == 0
    text = capsys.readouterr().out
    assert "layers conv1, pool1, conv2, pool2, hidden1, output" in text
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        ["dreams.png"] + [f"dream-{n}.png" for n in ("conv1", "pool1", "conv2", "pool2",
                                                   "hidden1", "output")]
    )  # fmt: skip
    picture = np.asarray(Image.open(out / "dream-conv1.png"))
    assert picture.shape == (28 * 8, 28 * 8)
    assert main([*argv, "--layers", "conv1,conv9"]) == 1
    assert "--layers: this model has layers" in capsys.readouterr().err
    assert main([*argv, "--lr", "0"]) == 1
