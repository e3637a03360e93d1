"""Neurons and links: the same network as classic.Network, a true gradient, a readable step."""

from __future__ import annotations

import io
import math
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import synthetic_digits
from scipy.special import expit

from ownnet import classic, convert, neurons, nn
from ownnet.book import book_inputs, book_targets
from ownnet.neurons import Network

# Matt Mazur's "A Step by Step Backpropagation Example": 2-2-2, bias 0.35 and 0.60.
MAZUR_WIH = np.array([[0.15, 0.20, 0.35], [0.25, 0.30, 0.35]])
MAZUR_WHO = np.array([[0.40, 0.45, 0.60], [0.50, 0.55, 0.60]])
MAZUR_X, MAZUR_T = [0.05, 0.10], [0.01, 0.99]


def mazur_network(split: str) -> Network:
    net = Network(2, 2, 2, lr=0.5, bias=True, error_split=split)
    net.set_weights([MAZUR_WIH, MAZUR_WHO])
    return net


@pytest.fixture(scope="module")
def synthetic200():
    images, labels = synthetic_digits(200, 21)
    return SimpleNamespace(images=images, labels=labels)


@pytest.fixture(scope="module")
def mnist200(mnist_dir):
    from ownnet.data.mnist import load_mnist

    return load_mnist(mnist_dir, download=False, progress=False).train.subset(200)


def assert_same_weights(ours: Network, theirs: classic.Network, tol: float = 1e-9) -> None:
    wih, who = ours.weights
    np.testing.assert_allclose(wih, theirs.wih, rtol=0, atol=tol)
    np.testing.assert_allclose(who, theirs.who, rtol=0, atol=tol)


# -- the same network as classic ---------------------------------------------------------


@pytest.mark.parametrize("bias", [False, True])
def test_same_start_as_classic(bias):
    ours = Network(784, 20, 10, bias=bias, seed=8)
    theirs = classic.Network(784, 20, 10, bias=bias, seed=8)
    wih, who = ours.weights
    np.testing.assert_array_equal(wih, theirs.wih)
    np.testing.assert_array_equal(who, theirs.who)
    assert len(ours.links) == theirs.wih.size + theirs.who.size


@pytest.mark.parametrize("bias", [False, True])
def test_200_samples_end_equal_to_classic(synthetic200, bias):
    theirs = classic.Network(784, 20, 10, lr=0.3, bias=bias, seed=3)
    ours = convert.classic_to_neurons(theirs)
    ours.fit(synthetic200, verbose=0)
    theirs.fit(synthetic200, verbose=0)
    assert not np.allclose(ours.weights[0], classic.Network(784, 20, 10, bias=bias, seed=3).wih)
    assert_same_weights(ours, theirs)


@pytest.mark.parametrize("bias", [False, True])
def test_200_real_mnist_samples_end_equal_to_classic(mnist200, bias):
    theirs = classic.Network(784, 20, 10, lr=0.1, bias=bias, seed=0)
    ours = Network(784, 20, 10, lr=0.1, bias=bias, seed=0)
    for image, label in zip(mnist200.images, mnist200.labels, strict=True):
        x, t = book_inputs(image[None])[0], book_targets(np.array([label]))[0]
        ours.train(x, t)
        theirs.train(x, t)
    assert_same_weights(ours, theirs)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("split", classic.ERROR_SPLITS)
def test_every_error_split_equals_classic(synthetic200, split, bias):
    theirs = classic.Network(784, 6, 10, lr=0.2, bias=bias, error_split=split, seed=4)
    ours = convert.classic_to_neurons(theirs)
    data = SimpleNamespace(images=synthetic200.images[:40], labels=synthetic200.labels[:40])
    ours.fit(data, verbose=0)
    theirs.fit(data, verbose=0)
    assert_same_weights(ours, theirs)


def test_query_equals_classic(synthetic200):
    theirs = classic.Network(784, 12, 10, bias=True, seed=6)
    x = book_inputs(synthetic200.images[:5]).reshape(5, -1)
    ours = convert.classic_to_neurons(theirs)
    np.testing.assert_allclose(ours.query(x), theirs.query(x), rtol=1e-12)
    np.testing.assert_allclose(ours.query(x[0]), theirs.query(x[0]), rtol=1e-12)
    np.testing.assert_array_equal(
        ours.predict(synthetic200.images[:5]), theirs.predict(synthetic200.images[:5])
    )


def test_conversions_both_ways():
    theirs = classic.Network(5, 4, 3, lr=0.25, bias=True, error_split="proportional", seed=9)
    ours = convert.classic_to_neurons(theirs)
    assert ours.sizes == (5, 4, 3) and ours.lr == 0.25 and ours.bias
    assert ours.error_split == "proportional"
    back = convert.neurons_to_classic(ours)
    np.testing.assert_array_equal(back.wih, theirs.wih)
    np.testing.assert_array_equal(back.who, theirs.who)
    assert (back.lr, back.bias, back.error_split) == (0.25, True, "proportional")
    with pytest.raises(ValueError, match="3 layers"):
        convert.neurons_to_classic(Network(3, 4, 4, 2))
    with pytest.raises(ValueError, match="gradient"):
        convert.neurons_to_classic(Network(3, 4, 2, error_split="gradient"))


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("split", ["transpose", "gradient"])
def test_equals_the_matrix_engine(synthetic200, split, bias):
    """nn.Dense with book_errors is the book's rule; without it, the gradient split."""
    ours = Network(784, 8, 10, lr=0.2, bias=bias, error_split=split, seed=7)
    layers = [
        nn.Dense(n, "sigmoid", use_bias=bias, init="normal", book_errors=split == "transpose")
        for n in (8, 10)
    ]
    engine = nn.Network(
        layers, loss="quadratic", input_scale="book", targets="book", dtype="float64"
    )
    for layer, w in zip(engine.layers, ours.weights, strict=True):
        layer.params["W"][...] = w[:, :-1].T if bias else w.T
        if bias:
            layer.params["b"][...] = w[:, -1]
    data = SimpleNamespace(images=synthetic200.images[:30], labels=synthetic200.labels[:30])
    ours.fit(data, verbose=0)
    engine.fit(data, epochs=1, batch_size=1, optimizer=nn.SGD(0.2), shuffle=False, verbose=0)
    for layer, w in zip(engine.layers, ours.weights, strict=True):
        np.testing.assert_allclose(layer.params["W"], (w[:, :-1] if bias else w).T, atol=1e-12)
        if bias:
            np.testing.assert_allclose(layer.params["b"], w[:, -1], atol=1e-12)


# -- deeper networks: an independent matrix reference of the same rules -------------------


def matrix_step(ws, x, t, lr, bias, split):
    """One step with matrices: the book's rule (errors through W.T) or true backprop."""
    acts = [np.asarray(x, float)]
    for w in ws:
        a = np.append(acts[-1], 1.0) if bias else acts[-1]
        acts.append(expit(w @ a))
    err = np.asarray(t, float) - acts[-1]
    new = [w.copy() for w in ws]
    for k in range(len(ws) - 1, -1, -1):
        delta = err * acts[k + 1] * (1 - acts[k + 1])
        a = np.append(acts[k], 1.0) if bias else acts[k]
        w = ws[k][:, : len(acts[k])]
        err = w.T @ (delta if split == "gradient" else err)
        new[k] += lr * np.outer(delta, a)
    return new


@pytest.mark.parametrize("split", ["transpose", "gradient"])
@pytest.mark.parametrize("bias", [False, True])
def test_four_layers_follow_the_matrix_rule(split, bias):
    net = Network(6, 5, 4, 3, lr=0.7, bias=bias, error_split=split, seed=2)
    rng = np.random.default_rng(0)
    ws = net.weights
    for _ in range(5):
        x, t = rng.random(6), rng.random(3)
        net.train(x, t)
        ws = matrix_step(ws, x, t, 0.7, bias, split)
    for ours, ref in zip(net.weights, ws, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-13)


def loss(ws, x, t, bias):
    a = np.asarray(x, float)
    for w in ws:
        a = expit(w @ (np.append(a, 1.0) if bias else a))
    return 0.5 * np.sum((np.asarray(t) - a) ** 2)


@pytest.mark.parametrize("bias", [False, True])
def test_gradient_split_changes_are_minus_lr_times_the_gradient(bias):
    net = Network(3, 4, 3, 2, lr=0.1, bias=bias, error_split="gradient", seed=5)
    x, t = [0.2, 0.9, 0.4], [0.99, 0.01]
    ws = net.weights
    net.train(x, t)
    eps = 1e-6
    for k, w in enumerate(ws):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            plus = [v.copy() for v in ws]
            minus = [v.copy() for v in ws]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            numeric[idx] = (loss(plus, x, t, bias) - loss(minus, x, t, bias)) / (2 * eps)
        change = net.weights[k] - w
        np.testing.assert_allclose(change, -0.1 * numeric, rtol=1e-6, atol=1e-11)


def test_book_split_is_the_gradient_only_at_the_output():
    book, true = mazur_network("transpose"), mazur_network("gradient")
    book.train(MAZUR_X, MAZUR_T)
    true.train(MAZUR_X, MAZUR_T)
    np.testing.assert_array_equal(book.weights[1], true.weights[1])
    assert np.abs(book.weights[0] - true.weights[0]).max() > 1e-3


# -- explain: a 2-2-2 step by hand ----------------------------------------------------------


def parse_rows(text: str) -> dict[str, list[float]]:
    """Table rows by name (``"h1"``, ``"i1 -> h1"``) → their numbers ("-" → nan)."""
    rows = {}
    for line in text.splitlines():
        cells = line.split()
        if not line.startswith("  ") or not cells or cells[0] in ("neuron", "link", "..."):
            continue
        name_len = 3 if len(cells) > 2 and cells[1] == "->" else 1
        try:
            values = [math.nan if c == "-" else float(c) for c in cells[name_len:]]
        except ValueError:
            continue
        rows[" ".join(cells[:name_len])] = values
    return rows


def test_explain_matches_a_hand_calculation():
    s = lambda v: 1.0 / (1.0 + math.exp(-v))  # noqa: E731 - the sigmoid, by hand
    # forward
    net_h1 = 0.15 * 0.05 + 0.20 * 0.10 + 0.35 * 1.0  # 0.3775
    net_h2 = 0.25 * 0.05 + 0.30 * 0.10 + 0.35 * 1.0  # 0.3925
    h1, h2 = s(net_h1), s(net_h2)
    net_o1 = 0.40 * h1 + 0.45 * h2 + 0.60 * 1.0
    net_o2 = 0.50 * h1 + 0.55 * h2 + 0.60 * 1.0
    o1, o2 = s(net_o1), s(net_o2)
    # output errors, then the book's hidden errors from the old output weights
    e_o1, e_o2 = 0.01 - o1, 0.99 - o2
    d_o1, d_o2 = e_o1 * o1 * (1 - o1), e_o2 * o2 * (1 - o2)
    e_h1 = 0.40 * e_o1 + 0.50 * e_o2
    e_h2 = 0.45 * e_o1 + 0.55 * e_o2
    d_h1, d_h2 = e_h1 * h1 * (1 - h1), e_h2 * h2 * (1 - h2)
    lr = 0.5

    out = io.StringIO()
    net = mazur_network("transpose")
    text = net.explain(MAZUR_X, MAZUR_T, file=out)
    assert out.getvalue() == text + "\n"
    rows = parse_rows(text)
    want = {
        "i1": [0.05],
        "i2": [0.10],
        "bias": [1.0],
        "h1": [net_h1, h1, e_h1, h1 * (1 - h1), d_h1],
        "h2": [net_h2, h2, e_h2, h2 * (1 - h2), d_h2],
        "o1": [net_o1, o1, 0.01, e_o1, o1 * (1 - o1), d_o1],
        "o2": [net_o2, o2, 0.99, e_o2, o2 * (1 - o2), d_o2],
        # link: weight, input, delta, change, new weight
        "i1 -> h1": [0.15, 0.05, d_h1, lr * d_h1 * 0.05, 0.15 + lr * d_h1 * 0.05],
        "i2 -> h1": [0.20, 0.10, d_h1, lr * d_h1 * 0.10, 0.20 + lr * d_h1 * 0.10],
        "bias -> h1": [0.35, 1.0, d_h1, lr * d_h1, 0.35 + lr * d_h1],
        "i1 -> h2": [0.25, 0.05, d_h2, lr * d_h2 * 0.05, 0.25 + lr * d_h2 * 0.05],
        "i2 -> h2": [0.30, 0.10, d_h2, lr * d_h2 * 0.10, 0.30 + lr * d_h2 * 0.10],
        "bias -> h2": [0.35, 1.0, d_h2, lr * d_h2, 0.35 + lr * d_h2],
        # link: weight, input, sent back, delta, change, new weight
        "h1 -> o1": [0.40, h1, 0.40 * e_o1, d_o1, lr * d_o1 * h1, 0.40 + lr * d_o1 * h1],
        "h2 -> o1": [0.45, h2, 0.45 * e_o1, d_o1, lr * d_o1 * h2, 0.45 + lr * d_o1 * h2],
        "bias -> o1": [0.60, 1.0, math.nan, d_o1, lr * d_o1, 0.60 + lr * d_o1],
        "h1 -> o2": [0.50, h1, 0.50 * e_o2, d_o2, lr * d_o2 * h1, 0.50 + lr * d_o2 * h1],
        "h2 -> o2": [0.55, h2, 0.55 * e_o2, d_o2, lr * d_o2 * h2, 0.55 + lr * d_o2 * h2],
        "bias -> o2": [0.60, 1.0, math.nan, d_o2, lr * d_o2, 0.60 + lr * d_o2],
    }
    assert set(rows) == set(want)
    for name, values in want.items():
        # printed with 6 decimals (changes and new weights with 8): within half a last digit
        np.testing.assert_allclose(rows[name], values, rtol=0, atol=5.01e-7, err_msg=name)
    for name in [k for k in want if "->" in k]:
        np.testing.assert_allclose(rows[name][-2:], want[name][-2:], rtol=0, atol=5.01e-9)
    # the network kept the changes
    np.testing.assert_allclose(
        net.weights[1],
        [
            [want["h1 -> o1"][-1], want["h2 -> o1"][-1], want["bias -> o1"][-1]],
            [want["h1 -> o2"][-1], want["h2 -> o2"][-1], want["bias -> o2"][-1]],
        ],
        rtol=0,
        atol=1e-15,
    )


def test_explain_gradient_split_gives_mazurs_published_numbers():
    net = mazur_network("gradient")
    rows = parse_rows(net.explain(MAZUR_X, MAZUR_T, file=io.StringIO()))
    # out_h1, out_h2, out_o1, out_o2 and the new weights w1..w8 as published
    for name, value in [
        ("h1", 0.593269992),
        ("h2", 0.596884378),
        ("o1", 0.75136507),
        ("o2", 0.772928465),
    ]:
        assert abs(rows[name][1] - value) < 1e-6
    wih, who = net.weights
    np.testing.assert_allclose(
        wih[:, :2], [[0.149780716, 0.19956143], [0.24975114, 0.29950229]], atol=1e-8
    )
    np.testing.assert_allclose(
        who[:, :2], [[0.35891648, 0.408666186], [0.511301270, 0.561370121]], atol=1e-8
    )


def test_explain_can_leave_the_weights_and_takes_a_label():
    net = Network(4, 3, 10, seed=1)
    before = net.weights
    text = net.explain([0.1, 0.2, 0.3, 0.4], 2, learn=False, limit=3, file=io.StringIO())
    for a, b in zip(net.weights, before, strict=True):
        np.testing.assert_array_equal(a, b)
    rows = parse_rows(text)
    assert [rows[f"o{j}"][2] for j in (1, 2, 3)] == [0.01, 0.01, 0.99]  # targets for label 2
    assert "o3" in rows and "o4" not in rows and "... and 7 more neurons" in text
    assert "... and 27 more links" in text  # 3 of 30 hidden -> output links shown


# -- datasets and errors ------------------------------------------------------------------------


def test_fit_learns_and_reports(synthetic200):
    net = Network(784, 10, 10, lr=0.3, seed=0)
    train = SimpleNamespace(images=synthetic200.images[:150], labels=synthetic200.labels[:150])
    test = SimpleNamespace(images=synthetic200.images[150:], labels=synthetic200.labels[150:])
    before = net.evaluate(test)
    history = net.fit(train, epochs=2, validation_data=test, shuffle=True, seed=0, verbose=0)
    assert len(history) == 2 and history["samples"] == [150.0, 150.0]
    assert history.last("samples_per_s") == pytest.approx(150 / history.last("seconds"))
    assert before.accuracy < 0.2 and history.last("val_accuracy") >= 0.65  # measured 0.08, 0.68


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="at least 2 layer sizes"):
        Network(784)
    with pytest.raises(ValueError, match="layer 1"):
        Network(4, 0, 2)
    with pytest.raises(ValueError, match="error_split"):
        Network(2, 2, error_split="random")
    net = Network(3, 2, 2)
    with pytest.raises(ValueError, match="expected 3 input values, found 4"):
        net.query([0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="expected 2 target values"):
        net.train([0.1, 0.2, 0.3], [0.5])
    with pytest.raises(ValueError, match=r"expected weights \(2, 3\)"):
        net.set_weights([np.zeros((2, 4)), np.zeros((2, 2))])
    with pytest.raises(ValueError, match="float pixel values 0..1"):
        net.predict(np.full((1, 3), 2.0))
    assert net.predict(np.zeros(3)) in (0, 1)  # one image of floats 0..1
    assert neurons.sigmoid(-1000.0) == 0.0 and neurons.sigmoid(1000.0) == 1.0
