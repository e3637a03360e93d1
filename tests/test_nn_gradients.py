"""Central-difference gradient checks (float64) for every layer, activation and cost of
the matrix engine, and for whole networks."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check, numeric_grad

from ownnet.nn import Activation, Dense, Dropout, Network, PReLU
from ownnet.nn import activations as acts
from ownnet.nn.losses import CrossEntropy, Quadratic
from ownnet.nn.optimizers import SGD

F64 = np.dtype(np.float64)


@pytest.mark.parametrize("name", sorted(set(acts.ACTIVATIONS) - {"softmax"}))
def test_elementwise_activation_gradients(name):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.5, (4, 5))
    z[np.abs(z) < 0.05] = 0.3  # keep clear of relu's kink
    r = rng.normal(size=(4, 5))
    f = acts.get_activation(name)

    def loss() -> float:
        return float(np.sum(r * f.forward(z.copy(), np.empty_like(z))))

    y = f.forward(z.copy(), np.empty_like(z))
    analytic = f.backward(r.copy(), y, np.empty_like(z))
    check(analytic, numeric_grad(loss, z))


def test_softmax_gradient():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(3, 4))
    r = rng.normal(size=(3, 4))
    f = acts.Softmax()

    def loss() -> float:
        return float(np.sum(r * f.forward(z, np.empty_like(z))))

    y = f.forward(z, np.empty_like(z))
    check(f.backward(r.copy(), y, np.empty_like(z)), numeric_grad(loss, z))


def layer_loss(
    layer, x: np.ndarray, r: np.ndarray, training: bool = False, seed: int | None = None
):
    """A scalar from a layer's output: sum(r * y)."""

    def loss() -> float:
        if seed is not None:
            layer.rng = np.random.default_rng(seed)
        return float(np.sum(r * layer.forward(x, training)))

    return loss


@pytest.mark.parametrize(
    "activation", ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"]
)
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients(activation, use_bias):
    rng = np.random.default_rng(2)
    layer = Dense(4, activation, use_bias=use_bias, init="glorot")
    layer.build((3,), F64, rng)
    if use_bias:
        layer.params["b"][...] = rng.normal(0, 0.5, 4)
    x = rng.normal(size=(5, 3))
    r = rng.normal(size=(5, 4))
    loss = layer_loss(layer, x, r)
    loss()
    gx = layer.backward(r.copy()).copy()
    for name, value in layer.params.items():
        check(layer.grads[name], numeric_grad(loss, value))
    check(gx, numeric_grad(loss, x))


def test_dense_column_compacted_forward_and_backward_equal_full():
    rng = np.random.default_rng(3)
    full = Dense(4, "tanh")
    full.build((6,), F64, rng)
    x = rng.normal(size=(5, 6))
    cols = np.array([0, 2, 3])
    x[:, [1, 4, 5]] = 0.0
    r = rng.normal(size=(5, 4))
    y_full = full.forward(x).copy()
    full.backward(r.copy(), need_input_grad=False)
    g_full = {k: v.copy() for k, v in full.grads.items()}
    y = full.forward(np.ascontiguousarray(x[:, cols]), True, columns=cols)
    np.testing.assert_allclose(y, y_full, rtol=1e-13)
    full.grads["W"][...] = 7.0  # stale values must be cleared
    full.backward(r.copy(), need_input_grad=False)
    for k in g_full:
        np.testing.assert_allclose(full.grads[k], g_full[k], rtol=1e-13, atol=1e-15)


def test_dropout_gradient_with_fixed_mask_and_inverted_scaling():
    rng = np.random.default_rng(4)
    layer = Dropout(0.5)
    layer.build((8,), F64, rng)
    x = rng.normal(size=(6, 8))
    r = rng.normal(size=(6, 8))
    loss = layer_loss(layer, x, r, training=True, seed=11)
    loss()
    mask = layer._mask.copy()
    assert set(np.unique(mask)) == {0.0, 2.0}  # inverted: kept units scaled by 1 / (1 - 0.5)
    check(layer.backward(r.copy()), numeric_grad(loss, x))
    # at test time it is the identity
    assert layer.forward(x, training=False) is x


def test_dropout_rate_is_honoured_on_average():
    layer = Dropout(0.2)
    layer.build((1000,), np.dtype(np.float32), np.random.default_rng(0))
    layer.rng = np.random.default_rng(5)
    y = layer.forward(np.ones((50, 1000), np.float32), True)
    assert (y == 0).mean() == pytest.approx(0.2, abs=0.005)
    assert y.mean() == pytest.approx(1.0, abs=0.01)


def test_prelu_gradients():
    rng = np.random.default_rng(5)
    layer = PReLU(alpha_init=0.2)
    layer.build((4,), F64, rng)
    layer.params["alpha"][...] = [0.1, 0.3, -0.2, 0.5]
    x = rng.normal(size=(6, 4))
    x[np.abs(x) < 0.05] = -0.5
    r = rng.normal(size=(6, 4))
    loss = layer_loss(layer, x, r)
    loss()
    gx = layer.backward(r.copy()).copy()
    check(layer.grads["alpha"], numeric_grad(loss, layer.params["alpha"]))
    check(gx, numeric_grad(loss, x))


def test_activation_layer_gradient():
    rng = np.random.default_rng(6)
    layer = Activation("tanh")
    layer.build((3,), F64, rng)
    x = rng.normal(size=(4, 3))
    r = rng.normal(size=(4, 3))
    loss = layer_loss(layer, x, r)
    loss()
    check(layer.backward(r.copy()).copy(), numeric_grad(loss, x))


@pytest.mark.parametrize(
    ("cost", "output"),
    [
        (Quadratic(), "sigmoid"),
        (Quadratic(), "linear"),
        (Quadratic(), "softmax"),
        (Quadratic(), "tanh"),
        (CrossEntropy(), "softmax"),
        (CrossEntropy(), "sigmoid"),
    ],
)
def test_cost_gradients_through_output_layer(cost, output):
    """fn and delta agree: dC/dz of the output layer, the fused form included."""
    rng = np.random.default_rng(7)
    net = Network([Dense(4, output)], input_shape=(3,), loss=cost, dtype="float64", seed=1)
    x = rng.normal(size=(5, 3))
    y = np.eye(4)[rng.integers(0, 4, 5)] * 0.98 + 0.01
    layer = net.layers[0]

    def loss() -> float:
        out = net.forward(x)
        return cost.fn(out, y, net._logits())

    _, gx = net.loss_and_grads(x, y)
    check(layer.grads["W"], numeric_grad(loss, layer.params["W"]))
    check(layer.grads["b"], numeric_grad(loss, layer.params["b"]))
    check(gx, numeric_grad(loss, x))


def test_cost_gradient_through_a_last_layer_that_is_not_dense():
    rng = np.random.default_rng(8)
    net = Network(
        [Dense(4, None), PReLU()], input_shape=(3,), loss="quadratic", dtype="float64", seed=2
    )
    x = rng.normal(size=(5, 3))
    y = rng.normal(size=(5, 4))

    def loss() -> float:
        return net.loss.fn(net.forward(x), y)

    net.loss_and_grads(x, y)
    grads = {
        f"{i}{k}": v.copy() for i, layer in enumerate(net.layers) for k, v in layer.grads.items()
    }
    check(grads["0W"], numeric_grad(loss, net.layers[0].params["W"]))
    check(grads["1alpha"], numeric_grad(loss, net.layers[1].params["alpha"]))


@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
def test_whole_three_layer_network_gradients(cost):
    rng = np.random.default_rng(9)
    layers = [Dense(6, "tanh"), Dense(5, "relu"), Dense(4, "softmax")]
    net = Network(layers, input_shape=(7,), loss=cost, dtype="float64", seed=3)
    for layer in net.layers:
        layer.params["b"][...] = rng.normal(0, 0.3, layer.params["b"].shape)
    x = rng.normal(size=(8, 7))
    y = np.eye(4)[rng.integers(0, 4, 8)]

    def loss() -> float:
        return net.loss.fn(net.forward(x), y, net._logits())

    _, gx = net.loss_and_grads(x, y)
    analytic = {p.name: p.grad.copy() for p in net.params()}
    assert len(analytic) == 6
    for p in net.params():
        check(analytic[p.name], numeric_grad(loss, p.value))
    check(gx, numeric_grad(loss, x))


def test_network_with_dropout_and_prelu_gradients():
    rng = np.random.default_rng(10)
    net = Network(
        [Dense(6, None), PReLU(), Dropout(0.3), Dense(3, "softmax")],
        input_shape=(4,),
        dtype="float64",
        seed=4,
    )
    x = rng.normal(size=(5, 4))
    y = np.eye(3)[rng.integers(0, 3, 5)]
    dropout = net.layers[2]

    def loss() -> float:
        dropout.rng = np.random.default_rng(21)
        return net.loss.fn(net.forward(x, training=True), y, net._logits())

    dropout.rng = np.random.default_rng(21)
    net.loss_and_grads(x, y, training=True)
    analytic = {p.name: p.grad.copy() for p in net.params()}
    for p in net.params():
        check(analytic[p.name], numeric_grad(loss, p.value))


def test_weight_decay_is_the_gradient_of_the_l2_penalty():
    """An SGD step with weight decay moves W by lr * d(C + 0.5 wd |W|^2)/dW."""
    rng = np.random.default_rng(12)
    wd, lr = 0.3, 0.5
    net = Network([Dense(3, "sigmoid")], input_shape=(4,), loss="quadratic", dtype="float64")
    x = rng.normal(size=(5, 4))
    y = rng.random((5, 3))

    def total() -> float:
        return net.loss.fn(net.forward(x), y) + net.penalty(wd)

    before = {p.name: p.value.copy() for p in net.params()}
    numeric = {p.name: numeric_grad(total, p.value) for p in net.params()}
    net.loss_and_grads(x, y)
    SGD(lr, weight_decay=wd).step(net.params())
    for p in net.params():
        check((before[p.name] - p.value) / lr, numeric[p.name])
