"""The image layers (Conv2D, MaxPool2D, BatchNorm, Flatten): central-difference gradient
checks in float64, and outputs and gradients against PyTorch where it is installed."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check, numeric_grad

from ownnet.nn.batchnorm import BatchNorm
from ownnet.nn.conv import Conv2D
from ownnet.nn.dense import Dense
from ownnet.nn.flatten import Flatten
from ownnet.nn.fused import ConvPool, fusable
from ownnet.nn.im2col import out_size
from ownnet.nn.network import Network
from ownnet.nn.pooling import MaxPool2D

F64 = np.dtype(np.float64)


def built(layer, input_shape, seed: int = 0):
    layer.build(input_shape, F64, np.random.default_rng(seed))
    return layer


def check_layer(layer, x: np.ndarray, training: bool = False) -> None:
    """Input and parameter gradients of ``sum(r * layer(x))`` against central differences."""
    rng = np.random.default_rng(42)
    r = rng.normal(size=(len(x), *layer.output_shape))

    def loss() -> float:
        return float(np.sum(r * layer.forward(x, training)))

    loss()
    gx = np.array(layer.backward(r.copy(), True))
    grads = {k: v.copy() for k, v in layer.grads.items()}
    check(gx, numeric_grad(loss, x), floor=1e-3)
    for name, value in layer.params.items():
        check(grads[name], numeric_grad(loss, value), floor=1e-3)


# -- Conv2D ----------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("kernel", [3, (2, 3)])
def test_conv2d_gradients(padding, stride, kernel):
    rng = np.random.default_rng(1)
    layer = built(Conv2D(3, kernel, stride=stride, padding=padding, activation="tanh"), (2, 6, 5))
    layer.params["b"][...] = rng.normal(0, 0.3, 3)
    check_layer(layer, rng.normal(size=(2, 2, 6, 5)))


def test_conv2d_1x1_gradients():
    rng = np.random.default_rng(2)
    layer = built(Conv2D(2, 1, activation="sigmoid"), (3, 4, 4))
    check_layer(layer, rng.normal(size=(3, 3, 4, 4)))


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (28, 3, 1, "same", (28, 1, 1)),
        (28, 5, 1, "same", (28, 2, 2)),
        (28, 3, 1, "valid", (26, 0, 0)),
        (28, 3, 2, "same", (14, 0, 1)),  # Keras: the odd pad goes after
        (7, 3, 2, "same", (4, 1, 1)),
        (7, 3, 2, "valid", (3, 0, 0)),
        (6, 4, 2, "same", (3, 1, 1)),
    ],
)
def test_output_sizes_and_padding(size, kernel, stride, padding, expected):
    assert out_size(size, kernel, stride, padding) == expected


def test_conv2d_rejects_bad_arguments():
    with pytest.raises(ValueError, match="padding"):
        Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="elementwise"):
        Conv2D(4, 3, activation="softmax")
    with pytest.raises(ValueError, match="images"):
        Conv2D(4, 3).build((784,), F64, np.random.default_rng(0))
    with pytest.raises(ValueError, match="does not fit"):
        Conv2D(4, 5).build((1, 3, 3), F64, np.random.default_rng(0))


def test_conv2d_by_hand():
    """A 2x2 kernel on a 3x3 image, worked out by hand."""
    layer = built(Conv2D(1, 2, use_bias=False), (1, 3, 3))
    layer.params["W"][..., 0, 0] = [[1.0, 2.0], [3.0, 4.0]]
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    # top left: 0*1 + 1*2 + 3*3 + 4*4 = 27; then 37, 57, 67
    np.testing.assert_array_equal(layer.forward(x)[0, 0], [[27.0, 37.0], [57.0, 67.0]])


# -- MaxPool2D ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("pool", "stride"), [(2, None), (3, 2), (2, 1), (3, None)])
@pytest.mark.parametrize("training", [True, False])
def test_maxpool_gradients(pool, stride, training):
    rng = np.random.default_rng(3)
    layer = built(MaxPool2D(pool, stride), (2, 7, 6))
    x = rng.permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6) / 10.0  # no ties: 0.1 apart
    check_layer(layer, x, training)


def test_maxpool_ties_go_to_the_first_position():
    layer = built(MaxPool2D(2), (1, 2, 4))
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]])
    for training in (True, False):
        y = layer.forward(x, training)
        np.testing.assert_array_equal(y, [[[[1.0, 2.0]]]])
        dx = layer.backward(np.array([[[[5.0, 7.0]]]]))
        np.testing.assert_array_equal(dx, [[[[5.0, 0.0, 0.0, 7.0], [0.0, 0.0, 0.0, 0.0]]]])


# -- BatchNorm and Flatten ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 3, 3, 2), (5, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients(shape, training):
    rng = np.random.default_rng(4)
    layer = built(BatchNorm(activation="tanh"), shape[1:])
    layer.params["gamma"][...] = rng.uniform(0.5, 1.5, shape[1])
    layer.params["beta"][...] = rng.normal(0, 0.3, shape[1])
    layer.running_mean[...] = rng.normal(0, 0.5, shape[1])
    layer.running_var[...] = rng.uniform(0.5, 2.0, shape[1])
    check_layer(layer, rng.normal(1.0, 2.0, shape), training)


def test_batchnorm_normalises_in_training_and_uses_running_statistics_in_eval():
    rng = np.random.default_rng(5)
    layer = built(BatchNorm(momentum=1.0), (3, 4, 4))
    x = rng.normal(3.0, 2.0, (8, 3, 4, 4))
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-4)
    # momentum 1: the running statistics are this batch's (variance unbiased)
    np.testing.assert_allclose(layer.running_mean, x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(layer.running_var, x.var(axis=(0, 2, 3), ddof=1))
    expected = (x - layer.running_mean[:, None, None]) / np.sqrt(
        layer.running_var[:, None, None] + layer.eps
    )
    np.testing.assert_allclose(layer.forward(x, training=False), expected)


def test_flatten_is_channel_row_column_order():
    layer = built(Flatten(), (2, 3, 4))
    x = np.arange(2 * 24.0).reshape(2, 2, 3, 4)
    np.testing.assert_array_equal(layer.forward(x), x.reshape(2, -1))
    # the same from a batch-last array, as the image layers hand it on
    batch_last = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    np.testing.assert_array_equal(layer.forward(batch_last), x.reshape(2, -1))
    g = np.arange(48.0).reshape(2, 24)
    np.testing.assert_array_equal(layer.backward(g), g.reshape(2, 2, 3, 4))


# -- a small convolutional network end to end ----------------------------------------------------


def small_cnn(seed: int = 0) -> Network:
    return Network(
        [
            Conv2D(3, 3, padding="same", activation="tanh"),
            MaxPool2D(2),
            BatchNorm(),
            Conv2D(4, 3, stride=2, padding="valid", activation="tanh"),
            Flatten(),
            Dense(5, "softmax"),
        ],
        input_shape=(1, 8, 8),
        dtype="float64",
        seed=seed,
    )


def test_conv_network_gradients_end_to_end():
    net = small_cnn()
    rng = np.random.default_rng(6)
    x = rng.normal(0.5, 0.5, (3, 1, 8, 8))
    t = np.eye(5)[[0, 3, 1]]

    def loss() -> float:
        out = net.forward(x, training=True)
        return net.loss.fn(out, t, net._logits())

    _, gx = net.loss_and_grads(x, t, training=True)
    grads = {p.name: p.grad.copy() for p in net.params()}
    check(gx, numeric_grad(loss, x), floor=1e-3)
    for p in net.params():
        check(grads[p.name], numeric_grad(loss, p.value), floor=1e-3)


# -- ConvPool: convolution, relu and 2x2 pooling as one training stage ------------------------


def conv_pool(conv, pool, input_shape, band_bytes, pairs):
    built(conv, input_shape)
    built(pool, conv.output_shape)
    stage = ConvPool(conv, pool)
    stage.band_bytes = band_bytes
    stage.pairs = pairs
    return stage


@pytest.mark.parametrize("pairs", [True, False])
@pytest.mark.parametrize(
    ("shape", "conv", "band_bytes"),
    [
        ((2, 6, 8), dict(filters=3, kernel_size=3, padding="same"), 1),  # one pooled row a band
        ((2, 7, 9), dict(filters=3, kernel_size=3, padding="same"), 1 << 20),  # odd sizes
        ((1, 9, 9), dict(filters=2, kernel_size=(2, 3), stride=2), 1),
        ((3, 4, 6), dict(filters=2, kernel_size=1, use_bias=False), 1),  # the input as columns
        ((3, 4, 6), dict(filters=2, kernel_size=1), 1 << 20),
    ],
)
def test_conv_pool_gradients(shape, conv, band_bytes, pairs):
    rng = np.random.default_rng(5)
    layer = Conv2D(activation="relu", **conv)
    stage = conv_pool(layer, MaxPool2D(2), shape, band_bytes, pairs)
    if layer.use_bias:
        layer.params["b"][...] = rng.normal(0, 0.3, layer.filters)
    check_layer(stage, rng.normal(size=(3, *shape)), training=True)


@pytest.mark.parametrize("pairs", [True, False])
@pytest.mark.parametrize("band_bytes", [1, 1 << 20])
def test_conv_pool_equals_the_two_layers_ties_included(band_bytes, pairs):
    """Whole numbers make ties everywhere: zeros before the relu, equal maxima in windows."""
    rng = np.random.default_rng(6)
    x = rng.integers(-2, 3, (4, 2, 8, 6)).astype(np.float64)
    grad = rng.integers(-3, 4, (4, 3, 4, 3)).astype(np.float64)
    layers = [built(Conv2D(3, 3, padding="same", activation="relu"), (2, 8, 6), seed=3)]
    layers.append(built(MaxPool2D(2), layers[0].output_shape))
    for layer in layers:
        layer.params.update({k: np.round(v * 4) for k, v in layer.params.items()})
    y = layers[1].forward(layers[0].forward(x, True), True).copy()
    gx = layers[0].backward(layers[1].backward(grad.copy()), True).copy()
    grads = {k: v.copy() for k, v in layers[0].grads.items()}
    stage = ConvPool(layers[0], layers[1])
    stage.band_bytes, stage.pairs = band_bytes, pairs
    np.testing.assert_array_equal(stage.forward(x, True), y)
    np.testing.assert_array_equal(stage.backward(grad.copy(), True), gx)
    for name, value in grads.items():
        np.testing.assert_array_equal(stage.grads[name], value)
    assert stage.backward(grad.copy(), False) is None


def test_conv_pool_takes_only_what_commutes_with_max():
    conv = built(Conv2D(2, 3, activation="tanh"), (1, 6, 6))
    with pytest.raises(ValueError, match="cannot fuse"):
        ConvPool(conv, built(MaxPool2D(2), conv.output_shape))
    relu = built(Conv2D(2, 3, activation="relu"), (1, 6, 6))
    assert not fusable(relu, built(MaxPool2D(3), relu.output_shape))
    assert fusable(relu, built(MaxPool2D(2), relu.output_shape))
    # columns ordered by parity for few input values per column (the first layer)
    assert ConvPool(relu, built(MaxPool2D(2), relu.output_shape)).pairs
    wide = built(Conv2D(2, 3, activation="relu"), (8, 6, 6))
    assert not ConvPool(wide, built(MaxPool2D(2), wide.output_shape)).pairs
