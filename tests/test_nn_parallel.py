"""ownnet.nn.parallel: a training step split into parts of the batch on threads gives the
gradients, dropout masks and random state of one unsplit step; which networks are split
(those with image layers, not dense ones); runs on two threads repeat exactly."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import synthetic_digits
from threadpoolctl import threadpool_limits

from ownnet.nn import SGD, Adam, Dense, Flatten, Network, parallel
from ownnet.nn.cnn import cnn_layers
from ownnet.nn.fused import ConvPool


def tiny_cnn(dtype="float64", batchnorm=False):
    layers = cnn_layers((3, 4), dense=12, dropout=0.3, batchnorm=batchnorm)
    return Network(layers, input_shape=(1, 28, 28), dtype=dtype, seed=1)


def tiny_mlp(dtype="float64"):
    return Network.mlp((20, 16), dropout=0.25, dtype=dtype, seed=1)


@pytest.fixture(scope="module")
def digits():
    images, labels = synthetic_digits(200, 3)
    return images.reshape(200, -1), labels.astype(np.intp)


def gradients(net, digits, idx, split):
    """One step's gradients (SGD with lr 0: the weights stay) and the dropout generator's
    state after it."""
    gen = np.random.default_rng(7)
    for layer in net.layers:
        if hasattr(layer, "rng"):
            layer.rng = gen
    net._split = split
    loss, right = net._train_batch(*digits, idx, SGD(1e-30))
    return [p.grad.copy() for p in net.params()], loss, right, gen.bit_generator.state


@pytest.mark.parametrize("make", [tiny_cnn, tiny_mlp])
@pytest.mark.parametrize(("threads", "n"), [(2, 64), (3, 100), (2, 20)])
def test_split_step_equals_the_unsplit_step(make, digits, threads, n):
    idx = np.random.default_rng(0).permutation(200)[:n]
    plain = gradients(make(), digits, idx, None)
    net = make()
    split = gradients(net, digits, idx, parallel.BatchSplit(net, threads))
    for a, b in zip(plain[0], split[0], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-13)
    assert split[1] == pytest.approx(plain[1], rel=1e-12)
    assert split[2] == plain[2]
    assert split[3] == plain[3]  # the same dropout bits were drawn


def test_fit_on_two_threads_is_repeatable_and_close_to_one(digits):
    class Data:
        images, labels = digits

    weights = {}
    for threads in (1, 2, 2):
        net = tiny_cnn("float32")
        net.fit(Data, epochs=2, batch_size=50, optimizer=Adam(0.01), seed=3, verbose=0)
        net._split = parallel.plan(net, threads)
        assert net._split is not None
        net.fit(Data, epochs=1, batch_size=50, optimizer=Adam(0.01), seed=4, verbose=0)
        weights.setdefault(threads, []).append([p.value.copy() for p in net.params()])
    for a, b in zip(*weights[2], strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights[1][0], weights[2][0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_what_is_split_and_fused():
    cnn = tiny_cnn()
    one = parallel.plan(cnn, 1)
    assert one is not None
    first = one._towers(1)[0]
    assert [type(x).__name__ for x in first.layers[:2]] == ["ConvPool", "ConvPool"]
    assert isinstance(first.layers[0], ConvPool)
    # parts of at most 64 samples, in turn on fewer threads; at least one per thread
    assert one.bounds(128) == [0, 64, 128] and one.bounds(50) == [0, 50]
    two = parallel.plan(cnn, 2)
    assert two is not None and two.bounds(256) == [0, 64, 128, 192, 256]
    assert two.bounds(64) == [0, 32, 64]
    assert parallel.plan(tiny_cnn(batchnorm=True), 2) is None  # needs the whole batch
    # no image layers: never split, whatever the thread count (the BLAS cuts the products)
    flat_images = Network([Flatten(), Dense(10, "softmax")], input_shape=(1, 28, 28))
    for threads in (1, 2, 4):
        assert parallel.plan(tiny_mlp(), threads) is None
        assert parallel.plan(flat_images, threads) is None
    assert parallel.image_layers(cnn) and not parallel.image_layers(flat_images)
    assert parallel.part_bounds(128, 2) == [0, 64, 128]
    assert parallel.part_bounds(100, 3) == [0, 33, 66, 100]
    assert parallel.part_bounds(20, 2) == [0, 20]  # parts of 10 would be too small


def test_split_evaluation_equals_the_plain_one(digits, monkeypatch):
    images, labels = digits

    class Data:
        pass

    Data.images, Data.labels = images, labels
    net = tiny_cnn()
    monkeypatch.setattr(parallel, "plan", lambda net, threads=None: None)
    plain = net.outputs(images), tuple(net.evaluate(Data))
    monkeypatch.undo()
    monkeypatch.setattr(parallel, "blas_threads", lambda: 2)
    split = net.outputs(images), tuple(net.evaluate(Data))
    assert net._split is not None and len(net._split.towers) == 2
    np.testing.assert_allclose(split[0], plain[0], rtol=1e-12, atol=1e-15)
    assert split[1] == pytest.approx(plain[1], rel=1e-12)
    assert net.outputs(images[:3]).shape == (3, 10)  # a few images


def test_a_dense_network_trains_whole_and_repeats_on_two_threads(digits):
    """Not split (its matrix products on both BLAS threads), in fit and in evaluation;
    two runs on two threads end with the same weights, bit for bit."""

    class Data:
        images, labels = digits

    weights = []
    for _ in range(2):
        net = Network.mlp((256, 128), dropout=0.25, seed=1)
        with threadpool_limits(2, user_api="blas"):
            net.fit(Data, epochs=2, batch_size=64, optimizer=Adam(0.01), seed=3, verbose=0)
            assert net._split is None
            net.evaluate(Data)
            assert net._split is None
        weights.append([p.value.copy() for p in net.params()])
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)
