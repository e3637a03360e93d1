"""The browser engine (web/static/layers.js, forward.js) against the matrix engine, in Chromium.

Small networks with random weights use every layer and activation the engine has
(Dense with each activation, PReLU, Dropout, Activation, BatchNorm on vectors and on
images, Conv2D with odd kernels, strides and both paddings, overlapping and
non-tiling MaxPool2D, Flatten) and the book's network with and without bias. Each
stage's activations must equal the engine's ``forward`` to 1e-5 relative; the input
gradient of an output's net input must equal the engine's ``loss_and_grads`` (on the
same network with a linear output and the quadratic cost, whose gradient is then the
net input's) to 1e-4 relative, and central differences of a float64 copy to 1e-3.
"""

from __future__ import annotations

import numpy as np
import pytest
from browser_helpers import (
    assert_close_relative,
    launch_chromium,
    load_scripts,
    network_inputs,
    recorded_page,
    stage_values,
)
from scipy.special import expit

from ownnet.classic import Network as BookNetwork
from ownnet.nn import (
    Activation,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    Network,
    PReLU,
)
from ownnet.web.site_model import encode_array

BUILD = "ownnetForward.fromState(doc.kind, doc.config, ownnetForward.decodeArrays(doc.arrays))"
RUN = f"""([doc, pixels, units]) => {{
    const net = {BUILD};
    return pixels.map((x, i) => {{
        const run = net.forward(x);
        return {{
            stages: run.stages.map((s) => Array.from(s)),
            outputs: Array.from(run.outputs),
            gradient: Array.from(net.inputGradient(x, units[i])),
        }};
    }});
}}"""


def vector_net() -> Network:
    return Network(
        [
            Dense(12, "sigmoid"),
            Dense(11, "tanh"),
            Dense(10, {"name": "leaky_relu", "alpha": 0.1}),
            PReLU(),
            Dropout(0.5),
            Dense(9, None),
            Activation("relu"),
            BatchNorm(activation="tanh"),
            Dense(10, "softmax"),
        ],
        input_scale="book",
    )


def image_net() -> Network:
    return Network(
        [
            Conv2D(3, 3, padding="same", activation="tanh"),
            BatchNorm(activation={"name": "leaky_relu", "alpha": 0.2}),
            Conv2D(4, (2, 3), stride=2, padding="same", activation="relu"),  # odd padding
            MaxPool2D(3, stride=2),  # overlapping windows
            Conv2D(2, 1, use_bias=False),
            PReLU(),
            Flatten(),
            Dense(10, "sigmoid"),
        ],
        input_shape=(1, 28, 28),
    )


def valid_net() -> Network:
    return Network(
        [
            Conv2D(2, 2, padding="valid", activation="relu"),  # 28 -> 27
            MaxPool2D(2),  # 27 -> 13: the last row and column are in no window
            Flatten(),
            BatchNorm(),
            Dense(10, "softmax"),
        ],
        input_shape=(1, 28, 28),
    )


NETS = {"vector": vector_net, "image": image_net, "valid": valid_net}


def randomise(net: Network, seed: int) -> None:
    """Weights with some spread, and batch-norm statistics far from 0 and 1."""
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        for name, value in layer.params.items():
            if name == "alpha":  # PReLU slopes
                value[...] = rng.uniform(0.05, 0.5, value.shape)
            else:
                value[...] = rng.normal(0.0, 0.5, value.shape)
        if isinstance(layer, BatchNorm):
            layer.running_mean[...] = rng.normal(0.0, 0.5, layer.running_mean.shape)
            layer.running_var[...] = rng.uniform(0.3, 2.0, layer.running_var.shape)


def random_pixels(n: int, seed: int) -> np.ndarray:
    """Pictures ``(n, 784)`` in 0..1, a third of the pixels 0 (as the background of a digit)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784))
    x[rng.random((n, 784)) < 0.33] = 0.0
    return x


def document(model) -> dict:
    arrays, config = model.state()
    return {
        "kind": model.kind,
        "config": config,
        "arrays": {k: encode_array(v) for k, v in arrays.items()},
    }


@pytest.fixture(scope="module")
def page():
    for browser in launch_chromium():
        with recorded_page(browser) as page:
            load_scripts(page, "layers.js", "forward.js")
            yield page
            assert page.errors == []


def run_in_browser(page, model, pixels: np.ndarray, units: np.ndarray) -> list[dict]:
    return page.evaluate(RUN, [document(model), pixels.tolist(), [int(u) for u in units]])


def net_input_model(net: Network, dtype: str) -> Network:
    """The same network with a linear output layer and the quadratic cost: its
    ``loss_and_grads`` for targets ``z - e_unit`` is ``d z_unit / d input``."""
    arrays, config = net.state()
    config = dict(config, loss="quadratic", dtype=dtype)
    last = dict(config["layers"][-1], activation={"name": "linear"})
    config["layers"] = [*config["layers"][:-1], last]
    return Network.from_state(arrays, config)


def net_input_gradient(net: Network, pixels: np.ndarray, units: np.ndarray) -> np.ndarray:
    """``d z_unit / d pixel (n, 784)`` by the engine's ``loss_and_grads``."""
    x = network_inputs(net, pixels)
    z = net.forward(x).astype(np.float64)
    targets = z.copy()
    targets[np.arange(len(x)), units] -= 1.0  # dL/dz = z - t = e_unit
    _, grad = net.loss_and_grads(x, targets.astype(net.dtype))
    a = 255.0 * {"unit": 1 / 255, "book": 0.99 / 255}[net.input_scale]
    return grad.reshape(len(x), -1) * len(x) * a  # the quadratic cost is a mean over the batch


@pytest.mark.parametrize("name", list(NETS))
def test_stages_and_gradients_match_the_engine(name, page):
    net = NETS[name]()
    randomise(net, seed=len(name))
    pixels = random_pixels(4, seed=1)
    units = np.array([0, 3, 7, 9])
    found = run_in_browser(page, net, pixels, units)
    stages = stage_values(net, pixels)
    outputs = net.forward(network_inputs(net, pixels)).astype(np.float64)
    grads = net_input_gradient(net_input_model(net, "float32"), pixels, units)
    for i, sample in enumerate(found):
        assert len(sample["stages"]) == len(stages)
        for k, values in enumerate(stages):
            assert_close_relative(sample["stages"][k], values[i], 1e-5, f"sample {i} stage {k}")
        assert_close_relative(sample["outputs"], outputs[i], 1e-5, f"outputs {i}")
        assert_close_relative(sample["gradient"], grads[i], 1e-4, f"gradient {i}")
        assert np.abs(grads[i]).max() > 1e-3


@pytest.mark.parametrize("name", list(NETS))
def test_gradients_match_central_differences(name, page):
    net = NETS[name]()
    randomise(net, seed=len(name))
    exact = net_input_model(net, "float64")
    pixels = random_pixels(1, seed=2)
    unit = 4
    found = np.array(run_in_browser(page, net, pixels, np.array([unit]))[0]["gradient"])

    def z(p: np.ndarray) -> float:
        return float(exact.forward(network_inputs(exact, p[None]))[0, unit])

    pick = np.random.default_rng(3).choice(np.flatnonzero(np.abs(found) > 1e-4), 12)
    eps = 1e-5
    numeric = []
    for j in pick:
        up, down = pixels[0].copy(), pixels[0].copy()
        up[j] += eps
        down[j] -= eps
        numeric.append((z(up) - z(down)) / (2 * eps))
    assert_close_relative(found[pick], np.array(numeric), 1e-3, "input gradient")


@pytest.mark.parametrize("bias", [False, True])
def test_the_book_network(bias, page):
    net = BookNetwork(784, 30, 10, 0.1, bias=bias, seed=4)
    pixels = random_pixels(3, seed=5)
    units = np.array([1, 5, 8])
    found = run_in_browser(page, net, pixels, units)
    x = pixels * 0.99 + 0.01
    wih, who = net.wih, net.who
    if bias:
        hidden = expit(x @ wih[:, :-1].T + wih[:, -1])
    else:
        hidden = expit(x @ wih.T)
    out = net.query(x)
    for i, sample in enumerate(found):
        assert_close_relative(sample["stages"][1], hidden[i], 1e-5, "hidden")
        assert_close_relative(sample["outputs"], out[i], 1e-5, "outputs")
        # d z_unit / d pixel = 0.99 * wih^T (who[unit] * h (1 - h)), the true gradient
        dh = who[units[i], :30] * hidden[i] * (1 - hidden[i])
        grad = 0.99 * (dh @ wih[:, :784])
        assert_close_relative(sample["gradient"], grad, 1e-4, "gradient")


def test_softmax_of_huge_net_inputs_is_finite(page):
    net = Network([Dense(10, "softmax")])
    net.layers[0].params["W"][...] = 0.0
    net.layers[0].params["b"][...] = np.linspace(-1000, 1000, 10)
    found = run_in_browser(page, net, np.zeros((1, 784)), np.array([0]))[0]
    np.testing.assert_allclose(found["outputs"], np.eye(10)[9], atol=1e-12)


@pytest.mark.parametrize(
    "change, message",
    [
        ("doc.arrays['layer0.W'].shape = [10, 784]", "layer 0 (Dense): W has shape [10,784]"),
        ("doc.arrays['layer0.W'].shape = [783, 10]", "layer0.W: 7840 values for shape [783,10]"),
        ("delete doc.arrays['layer0.b']", "layer 0 (Dense): the model has no array b"),
        ("doc.config.layers[0].type = 'LSTM'", "layer 0: no browser version of LSTM layers"),
        ("doc.kind = 'neurons'", 'no browser version of "neurons" models'),
        ("doc.config.layers[0].activation = {name: 'swish'}", 'unknown activation "swish"'),
    ],
)
def test_bad_models_are_refused_with_a_message(change, message, page):
    doc = document(Network([Dense(10, "softmax")]))
    found = page.evaluate(
        f"""(doc) => {{
            {change};
            try {{
                {BUILD};
                return "no error";
            }} catch (e) {{ return e.message; }}
        }}""",
        doc,
    )
    assert message in found
