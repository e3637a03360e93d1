"""Activations, costs, initialisers, optimisers and schedules of the matrix engine,
against references written out here (scipy.special and the textbook formulas)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import special

from ownnet.nn import activations as acts
from ownnet.nn import initializers as inits
from ownnet.nn.losses import CrossEntropy, Quadratic, get_loss
from ownnet.nn.optimizers import SGD, Adam, Param, RMSprop, get_optimizer
from ownnet.nn.schedules import Cosine, StepDecay, get_schedule

Z = np.array([[-3.0, -0.5, 0.0, 0.25, 4.0], [2.0, -1.0, 0.5, -7.0, 1.5]])


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("sigmoid", lambda z: 1.0 / (1.0 + np.exp(-z))),
        ("tanh", lambda z: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))),
        ("relu", lambda z: np.where(z > 0, z, 0.0)),
        ("leaky_relu", lambda z: np.where(z > 0, z, 0.01 * z)),
        ("softmax", lambda z: special.softmax(z, axis=1)),
        ("linear", lambda z: z),
    ],
)
def test_activation_forward_matches_formula(name, reference):
    f = acts.get_activation(name)
    out = np.empty_like(Z)
    np.testing.assert_allclose(f.forward(Z.copy(), out), reference(Z), rtol=1e-12, atol=1e-15)


def test_leaky_relu_alpha_and_spec_round_trip():
    f = acts.get_activation({"name": "leaky_relu", "alpha": 0.2})
    assert f.forward(np.array([[-1.0, 2.0]]), np.empty((1, 2))).tolist() == [[-0.2, 2.0]]
    assert acts.get_activation(f.spec()).alpha == 0.2
    with pytest.raises(ValueError, match="unknown activation"):
        acts.get_activation("swish")


@pytest.mark.parametrize("name", sorted(acts.ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_quiet_and_finite_at_plus_minus_1000(name, dtype):
    z = np.array([[-1000.0, 1000.0, 0.0, -1000.0], [1000.0, 1000.0, -1000.0, 3.0]], dtype)
    f = acts.get_activation(name)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        y = f.forward(z.copy(), np.empty_like(z))
        g = f.backward(np.ones_like(z), y.copy(), np.empty_like(z))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    if name == "softmax":
        np.testing.assert_allclose(y.sum(axis=1), 1.0)
        assert y[0].tolist() == [0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_costs_quiet_and_finite_at_plus_minus_1000(dtype):
    from ownnet.nn.dense import Dense

    y = np.eye(3, dtype=dtype)[[0, 2]]
    for act in ("softmax", "sigmoid"):
        layer = Dense(3, act)
        layer.build((1,), dtype, np.random.default_rng(0))
        layer.params["W"][...] = np.array([[1000.0, -1000.0, 0.0]])
        x = np.array([[1.0], [-1.0]], dtype)
        with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
            warnings.simplefilter("error")
            a = layer.forward(x)
            z = None if layer.activation.in_place else layer._z
            for cost in (CrossEntropy(), Quadratic()):
                value = cost.fn(a, y, z)
                assert math.isfinite(value)
                d = cost.delta(a.copy(), y, layer.activation, np.empty_like(a))
                assert np.all(np.isfinite(d))
        if act == "softmax":
            # row 0 puts all mass on class 0 (right), row 1 on class 1 (label 2 gets
            # exp(-1000)): the exact cost is (0 + 1000) / 2
            assert CrossEntropy().fn(a, y, layer._z) == pytest.approx(500.0, rel=1e-6)


def test_cross_entropy_with_softmax_logits_matches_log_softmax():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (6, 4))
    y = np.eye(4)[rng.integers(0, 4, 6)]
    expected = -np.mean(np.sum(y * special.log_softmax(z, axis=1), axis=1))
    a = special.softmax(z, axis=1)
    assert CrossEntropy().fn(a, y, z) == pytest.approx(expected, rel=1e-12)
    assert CrossEntropy().fn(a, y) == pytest.approx(
        expected - np.mean(np.sum((1 - y) * np.log1p(-a), axis=1)), rel=1e-9
    )
    delta = CrossEntropy().delta(a.copy(), y, acts.Softmax(), np.empty_like(a))
    np.testing.assert_allclose(delta, (a - y) / 6, rtol=1e-12)


def test_quadratic_cost_is_half_squared_error_per_sample():
    a = np.array([[0.2, 0.9], [0.5, 0.1]])
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    # (0.04 + 0.01) / 2 and (0.25 + 0.01) / 2, mean over 2 samples
    assert Quadratic().fn(a, y) == pytest.approx((0.025 + 0.13) / 2, rel=1e-12)
    # the book: delta = -(t - o) * o * (1 - o)
    d = Quadratic().delta(a[:1].copy(), y[:1], acts.Sigmoid(), np.empty((1, 2)))
    np.testing.assert_allclose(d, -(y[:1] - a[:1]) * a[:1] * (1 - a[:1]), rtol=1e-12)
    assert get_loss("quadratic").name == "quadratic"
    with pytest.raises(ValueError, match="unknown cost"):
        get_loss("hinge")


def test_initializer_statistics():
    rng = np.random.default_rng(0)
    shape = (400, 300)
    w = inits.normal(rng, shape, np.float32)
    assert w.dtype == np.float32 and w.shape == shape
    assert w.std() == pytest.approx(400**-0.5, rel=0.02)
    assert inits.he(rng, shape, np.float64).std() == pytest.approx((2 / 400) ** 0.5, rel=0.02)
    g = inits.glorot(rng, shape, np.float64)
    limit = (6 / 700) ** 0.5
    assert g.max() <= limit and g.min() >= -limit
    assert g.std() == pytest.approx(limit / 3**0.5, rel=0.02)  # uniform(-l, l) has sd l/sqrt(3)
    assert not inits.zeros(rng, (2, 3), np.float32).any()
    with pytest.raises(ValueError, match="unknown initialiser"):
        inits.get_initializer("orthogonal")


# -- optimisers: a few steps against the update rules written out plainly in float64 --------


def _run(opt, steps=4, decay=True):
    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 2))
    grads = [rng.normal(size=(3, 2)) for _ in range(steps)]
    value = w.copy()
    for g in grads:
        opt.step([Param("w", value, g.copy(), decay)])
    return w, grads, value


def test_sgd_plain_momentum_nesterov_and_weight_decay():
    lr, mu, wd = 0.1, 0.9, 0.01
    for momentum, nesterov in ((0.0, False), (mu, False), (mu, True)):
        w, grads, got = _run(SGD(lr, momentum=momentum, nesterov=nesterov, weight_decay=wd))
        v = np.zeros_like(w)
        for g in grads:
            g = g + wd * w
            v = momentum * v + g
            w = w - lr * ((g + momentum * v) if nesterov else v)
        np.testing.assert_allclose(got, w, rtol=1e-12)


def test_rmsprop_matches_rule():
    lr, rho, eps = 0.01, 0.9, 1e-7
    w, grads, got = _run(RMSprop(lr, rho=rho, eps=eps))
    s = np.zeros_like(w)
    for g in grads:
        s = rho * s + (1 - rho) * g * g
        w = w - lr * g / (np.sqrt(s) + eps)
    np.testing.assert_allclose(got, w, rtol=1e-12)


def test_adam_matches_rule_with_bias_correction():
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-7, 0.1
    w, grads, got = _run(Adam(lr, b1, b2, eps, weight_decay=wd))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(got, w, rtol=1e-12)


def test_weight_decay_skips_params_without_decay_flag():
    w, grads, got = _run(SGD(0.1, weight_decay=0.5), steps=1, decay=False)
    np.testing.assert_allclose(got, w - 0.1 * grads[0], rtol=1e-12)


def test_optimizer_state_round_trip_and_float32_in_place():
    opt = Adam(0.01)
    w = np.ones((4, 3), np.float32)
    ident = id(w)
    opt.step([Param("layer0.W", w, np.full((4, 3), 0.5, np.float32), True)])
    assert id(w) == ident and w.dtype == np.float32 and np.all(w < 1)
    copy = get_optimizer(opt.spec())
    copy.load_state_arrays(opt.state_arrays(), opt.iterations)
    assert sorted(copy.state_arrays()) == ["layer0.W/m", "layer0.W/v"]
    assert copy.iterations == 1 and copy.config() == opt.config()
    with pytest.raises(ValueError, match="learning rate must be positive"):
        SGD(0.0)
    with pytest.raises(ValueError, match="Nesterov"):
        SGD(0.1, nesterov=True)


def test_schedules():
    s = StepDecay(0.1, drop=0.5, every=2)
    assert [s(e) for e in range(5)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    c = Cosine(0.1, epochs=4, min_lr=0.0)
    assert [c(e) for e in range(5)] == pytest.approx(
        [0.1, 0.1 * (1 + 2**-0.5) / 2, 0.05, 0.1 * (1 - 2**-0.5) / 2, 0.0]
    )
    assert get_schedule(c.spec())(2) == pytest.approx(0.05)
    assert get_schedule("constant", lr=0.3)(7) == 0.3
    with pytest.raises(ValueError, match="unknown schedule"):
        get_schedule("exponential", lr=0.1)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
def test_threaded_blocked_update_equals_one_pass(name):
    rng = np.random.default_rng(8)
    n = 300_000  # above the size where the update is split among threads
    w0 = rng.normal(size=n).astype(np.float32)
    grads = [rng.normal(size=n).astype(np.float32) for _ in range(2)]
    results = []
    for threads, block in ((1, None), (2, 65536)):
        opt = get_optimizer(name, lr=0.01, weight_decay=0.1)
        opt.threads, opt.block, opt.parallel_min = threads, block, 1
        w = w0.copy()
        for g in grads:
            opt.step([Param("w", w, g, True)])
        results.append(w)
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], w0)
