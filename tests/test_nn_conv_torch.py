"""Conv2D, MaxPool2D, BatchNorm and a small CNN against ``torch.nn.functional`` (float64),
where PyTorch is installed (``pip install -e .[bench]``)."""

from __future__ import annotations

import numpy as np
import pytest

from ownnet.nn.batchnorm import BatchNorm
from ownnet.nn.conv import Conv2D
from ownnet.nn.dense import Dense
from ownnet.nn.flatten import Flatten
from ownnet.nn.fused import ConvPool
from ownnet.nn.network import Network
from ownnet.nn.pooling import MaxPool2D

torch = pytest.importorskip("torch", reason="PyTorch is not installed (extra 'bench')")
F = torch.nn.functional
F64 = np.dtype(np.float64)


def t(a: np.ndarray, grad: bool = False):
    return torch.tensor(np.array(a), dtype=torch.float64, requires_grad=grad)


def close(a: np.ndarray, b) -> None:
    np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("kernel", [3, 5, (2, 3), 1])
def test_conv2d_equals_torch(padding, stride, kernel):
    rng = np.random.default_rng(0)
    layer = Conv2D(4, kernel, stride=stride, padding=padding)
    layer.build((3, 9, 8), F64, rng)
    layer.params["b"][...] = rng.normal(size=4)
    x = rng.normal(size=(5, 3, 9, 8))
    y = layer.forward(x)
    g = rng.normal(size=y.shape)
    dx = layer.backward(g.copy())

    xt, wt = t(x, True), t(layer.W.transpose(3, 2, 0, 1), True)  # (F, C, kh, kw)
    bt = t(layer.b, True)
    top, bottom, left, right = layer._pads
    yt = F.conv2d(F.pad(xt, (left, right, top, bottom)), wt, bt, stride=stride)
    yt.backward(t(g))
    close(y, yt)
    close(dx, xt.grad)
    close(layer.grads["W"].transpose(3, 2, 0, 1), wt.grad)
    close(layer.grads["b"], bt.grad)


def test_same_padding_stride_1_equals_torch_same():
    rng = np.random.default_rng(1)
    layer = Conv2D(2, 5, padding="same", use_bias=False)
    layer.build((1, 7, 7), F64, rng)
    x = rng.normal(size=(2, 1, 7, 7))
    close(layer.forward(x), F.conv2d(t(x), t(layer.W.transpose(3, 2, 0, 1)), padding="same"))


@pytest.mark.parametrize(("pool", "stride"), [(2, 2), (3, 2), (2, 1), (3, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_maxpool_equals_torch_with_ties(pool, stride, training):
    rng = np.random.default_rng(2)
    layer = MaxPool2D(pool, stride)
    layer.build((3, 9, 8), F64, rng)
    x = rng.integers(0, 3, (4, 3, 9, 8)).astype(np.float64)  # many ties
    y = layer.forward(x, training)
    g = rng.normal(size=y.shape)
    dx = layer.backward(g.copy())
    xt = t(x, True)
    yt = F.max_pool2d(xt, pool, stride)
    yt.backward(t(g))
    close(y, yt)
    close(dx, xt.grad)


@pytest.mark.parametrize("pairs", [True, False])
@pytest.mark.parametrize(("size", "band_bytes"), [(8, 1), (9, 1 << 20)])
def test_conv_pool_equals_torch_with_ties(size, band_bytes, pairs):
    """ConvPool (relu after pooling, in bands) against max_pool2d(relu(conv2d(x)))."""
    rng = np.random.default_rng(4)
    conv = Conv2D(3, 3, padding="same", activation="relu")
    conv.build((2, size, size), F64, rng)
    pool = MaxPool2D(2)
    pool.build(conv.output_shape, F64, rng)
    stage = ConvPool(conv, pool)
    stage.band_bytes, stage.pairs = band_bytes, pairs
    x = rng.integers(-1, 2, (3, 2, size, size)).astype(np.float64)  # ties and zeros
    y = stage.forward(x, True)
    g = rng.normal(size=y.shape)
    dx = stage.backward(g.copy())
    xt, wt, bt = t(x, True), t(conv.W.transpose(3, 2, 0, 1), True), t(conv.b, True)
    yt = F.max_pool2d(F.relu(F.conv2d(xt, wt, bt, padding=1)), 2)
    yt.backward(t(g))
    close(y, yt)
    close(dx, xt.grad)
    close(conv.grads["W"].transpose(3, 2, 0, 1), wt.grad)
    close(conv.grads["b"], bt.grad)


@pytest.mark.parametrize("shape", [(6, 3, 4, 5), (7, 4)])
def test_batchnorm_equals_torch(shape):
    rng = np.random.default_rng(3)
    layer = BatchNorm(momentum=0.1, eps=1e-5)
    layer.build(shape[1:], F64, rng)
    layer.params["gamma"][...] = rng.normal(size=shape[1])
    layer.params["beta"][...] = rng.normal(size=shape[1])
    rm, rv = torch.zeros(shape[1], dtype=torch.float64), torch.ones(shape[1], dtype=torch.float64)
    gamma, beta = t(layer.params["gamma"], True), t(layer.params["beta"], True)
    for _ in range(2):
        x = rng.normal(1.0, 2.0, shape)
        g = rng.normal(size=shape)
        y = layer.forward(x, training=True)
        dx = layer.backward(g.copy())
        xt = t(x, True)
        gamma.grad = beta.grad = None
        yt = F.batch_norm(xt, rm, rv, gamma, beta, training=True, momentum=0.1, eps=1e-5)
        yt.backward(t(g))
        close(y, yt)
        close(dx, xt.grad)
        close(layer.grads["gamma"], gamma.grad)
        close(layer.grads["beta"], beta.grad)
        close(layer.running_mean, rm)
        close(layer.running_var, rv)
    x = rng.normal(size=shape)
    close(layer.forward(x), F.batch_norm(t(x), rm, rv, gamma, beta, training=False, eps=1e-5))


def test_small_cnn_equals_torch_sequential():
    """Outputs, input gradient and every parameter gradient of a whole CNN."""
    net = Network(
        [
            Conv2D(4, 3, padding="same", activation="relu"),
            MaxPool2D(2),
            Conv2D(6, 3, padding="same", use_bias=False),
            BatchNorm(activation="relu"),
            MaxPool2D(2),
            Flatten(),
            Dense(7, "relu"),
            Dense(10, "softmax"),
        ],
        input_shape=(1, 12, 12),
        dtype="float64",
        seed=0,
    )
    rng = np.random.default_rng(4)
    conv1, _, conv2, bn, _, _, d1, d2 = net.layers
    conv1.params["b"][...] = rng.normal(0, 0.1, 4)
    mods = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding=1, bias=False),
        torch.nn.BatchNorm2d(6),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(54, 7),
        torch.nn.ReLU(),
        torch.nn.Linear(7, 10),
    ).double()
    with torch.no_grad():
        mods[0].weight.copy_(t(conv1.W.transpose(3, 2, 0, 1)))
        mods[0].bias.copy_(t(conv1.b))
        mods[3].weight.copy_(t(conv2.W.transpose(3, 2, 0, 1)))
        mods[8].weight.copy_(t(d1.W.T))
        mods[8].bias.copy_(t(d1.b))
        mods[10].weight.copy_(t(d2.W.T))
        mods[10].bias.copy_(t(d2.b))
    x = rng.random((5, 1, 12, 12))
    labels = np.array([3, 1, 4, 1, 5])
    loss, gx = net.loss_and_grads(x, np.eye(10)[labels], training=True)
    xt = t(x, True)
    lt = F.cross_entropy(mods(xt), torch.tensor(labels))
    lt.backward()
    assert loss == pytest.approx(lt.item(), rel=1e-12)
    close(gx, xt.grad)
    close(conv1.grads["W"].transpose(3, 2, 0, 1), mods[0].weight.grad)
    close(conv1.grads["b"], mods[0].bias.grad)
    close(conv2.grads["W"].transpose(3, 2, 0, 1), mods[3].weight.grad)
    close(bn.grads["gamma"], mods[4].weight.grad)
    close(bn.grads["beta"], mods[4].bias.grad)
    close(d1.grads["W"].T, mods[8].weight.grad)
    close(d2.grads["b"], mods[10].bias.grad)
