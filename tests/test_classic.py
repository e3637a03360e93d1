"""The book's network: same maths as the book's own code, fast path included."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import synthetic_digits
from scipy.special import expit

from ownnet import classic
from ownnet.book import book_inputs as scale_images
from ownnet.book import book_targets as targets_for
from ownnet.classic import Network
from ownnet.training import Callback


class BookReference:
    """The book's train() written out with column vectors; optional bias nodes and error splits."""

    def __init__(self, wih, who, lr, bias=False, split="transpose"):
        self.wih, self.who, self.lr, self.bias, self.split = wih.copy(), who.copy(), lr, bias, split

    def train(self, inputs, targets):
        x = np.array(inputs, ndmin=2).T
        if self.bias:
            x = np.vstack([x, [[1.0]]])
        t = np.array(targets, ndmin=2).T
        h = expit(self.wih @ x)
        if self.bias:
            h = np.vstack([h, [[1.0]]])
        o = expit(self.who @ h)
        e_o = t - o
        w = self.who[:, : self.who.shape[1] - int(self.bias)]
        n_hidden = w.shape[1]
        if self.split == "transpose":
            e_h = w.T @ e_o
        elif self.split == "transpose_scaled":
            e_h = w.T @ e_o / n_hidden
        elif self.split == "proportional":
            e_h = (w / np.abs(w).sum(axis=1, keepdims=True)).T @ e_o
        else:
            e_h = np.full((n_hidden, 1), e_o.sum() / n_hidden)
        self.who += self.lr * np.dot(e_o * o * (1.0 - o), h.T)
        hh = h[:n_hidden]
        self.wih += self.lr * np.dot(e_h * hh * (1.0 - hh), x.T)


def book_inputs(image):
    return (np.asarray(image.ravel(), dtype=float) / 255.0 * 0.99) + 0.01


def book_targets(label):
    t = np.zeros(10) + 0.01
    t[int(label)] = 0.99
    return t


@pytest.fixture(scope="module")
def data():
    images, labels = synthetic_digits(400, 7)
    return SimpleNamespace(images=images, labels=labels)


def test_scale_and_targets_are_the_books():
    x = scale_images(np.array([[0, 128, 255]], dtype=np.uint8))
    np.testing.assert_array_equal(x, [[0.01, 128 / 255 * 0.99 + 0.01, 1.0]])
    np.testing.assert_array_equal(targets_for(np.array([3]))[0], book_targets(3))


def test_initial_weights_follow_n_in():
    net = Network(784, 200, 10, seed=1)
    assert net.wih.shape == (200, 784) and net.who.shape == (10, 200)
    assert net.wih.dtype == np.float64
    assert abs(net.wih.std() - 784**-0.5) < 0.002
    assert abs(net.who.std() - 200**-0.5) < 0.005
    biased = Network(784, 200, 10, bias=True)
    assert biased.wih.shape == (200, 785) and biased.who.shape == (10, 201)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("split", classic.ERROR_SPLITS)
def test_fit_equals_the_book_sample_by_sample(data, bias, split):
    # 400 samples cross several blocks of the fast path and end mid-block.
    net = Network(784, 30, 10, lr=0.3, bias=bias, error_split=split, seed=3)
    ref = BookReference(net.wih, net.who, 0.3, bias, split)
    net.fit(data, epochs=1, verbose=0)
    for image, label in zip(data.images, data.labels):
        ref.train(book_inputs(image), book_targets(label))
    np.testing.assert_allclose(net.wih, ref.wih, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(net.who, ref.who, rtol=1e-9, atol=1e-12)


def test_train_one_sample_equals_the_book(data):
    net = Network(784, 20, 10, seed=4)
    ref = BookReference(net.wih, net.who, 0.1)
    for image, label in zip(data.images[:50], data.labels[:50]):
        net.train(book_inputs(image), book_targets(label))
        ref.train(book_inputs(image), book_targets(label))
    np.testing.assert_allclose(net.wih, ref.wih, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(net.who, ref.who, rtol=1e-12, atol=1e-15)


def test_shuffled_fit_is_the_book_in_that_order(data):
    net = Network(784, 16, 10, seed=5)
    ref = BookReference(net.wih, net.who, 0.1)
    net.fit(data, epochs=2, shuffle=True, seed=np.random.default_rng(9), verbose=0)
    rng = np.random.default_rng(9)
    for _ in range(2):
        for j in rng.permutation(len(data.labels)):
            ref.train(book_inputs(data.images[j]), book_targets(data.labels[j]))
    np.testing.assert_allclose(net.wih, ref.wih, rtol=1e-9, atol=1e-12)


def test_query_single_and_batch_agree(data):
    net = Network(784, 20, 10, bias=True, seed=2)
    x = scale_images(data.images[:5]).reshape(5, -1)
    batch = net.query(x)
    assert batch.shape == (5, 10)
    for i in range(5):
        np.testing.assert_allclose(net.query(x[i]), batch[i], rtol=1e-12)
    np.testing.assert_allclose(net.outputs(data.images[:5]), batch)


def test_learns_and_reports_history(data):
    train = SimpleNamespace(images=data.images[:300], labels=data.labels[:300])
    test = SimpleNamespace(images=data.images[300:], labels=data.labels[300:])
    seen = []

    class Epochs(Callback):
        def on_epoch_end(self, run):
            seen.append(run.epoch)

    net = Network(784, 30, 10, seed=0)
    history = net.fit(train, epochs=3, validation_data=test, callbacks=[Epochs()], verbose=0)
    assert seen == [1, 2, 3]
    assert len(history) == 3 and len(history["val_accuracy"]) == 3
    assert history.last("val_accuracy") >= 0.97  # measured 1.0 (stand-in digits)
    assert history["loss"][-1] < history["loss"][0]  # the book's quadratic loss falls
    assert history.last("val_loss") == pytest.approx(net.evaluate(test).loss)
    assert net.history is history


def test_fit_trains_on_what_augment_returns(data):
    """``augment`` replaces each epoch's images (here: every picture mirrored left-right):
    the same weights as training on the mirrored pictures themselves."""
    images, labels = data.images[:100], data.labels[:100]
    seen = []

    def mirror(flat, rng):
        seen.append(flat.shape)
        return flat.reshape(-1, 28, 28)[:, :, ::-1].reshape(flat.shape)

    net = Network(784, 20, 10, seed=4)
    net.fit(SimpleNamespace(images=images, labels=labels), epochs=2, augment=mirror, verbose=0)
    assert seen == [(100, 784)] * 2  # once per epoch
    twin = Network(784, 20, 10, seed=4)
    twin.fit(SimpleNamespace(images=images[:, :, ::-1], labels=labels), epochs=2, verbose=0)
    np.testing.assert_array_equal(net.wih, twin.wih)
    plain = Network(784, 20, 10, seed=4)
    plain.fit(SimpleNamespace(images=images, labels=labels), epochs=2, verbose=0)
    assert not np.array_equal(net.wih, plain.wih)


def test_same_seed_same_network(data):
    a, b = Network(seed=11), Network(seed=11)
    np.testing.assert_array_equal(a.wih, b.wih)
    assert not np.array_equal(a.wih, Network(seed=12).wih)


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="error_split"):
        Network(error_split="random")
    with pytest.raises(ValueError, match="n_hidden"):
        Network(784, 0, 10)
    net = Network(784, 10, 10)
    with pytest.raises(ValueError, match="uint8 pixel values 0..255 or floats 0..1"):
        net.outputs(np.zeros((2, 28, 28), dtype=np.int64))
    with pytest.raises(ValueError, match="float pixel values 0..1"):
        net.outputs(np.full((2, 28, 28), 3.0))
    with pytest.raises(ValueError, match=r"expected images \(n, 28, 28\) or \(n, 784\)"):
        net.outputs(np.zeros((2, 27, 27), dtype=np.uint8))
    bad = SimpleNamespace(images=np.zeros((2, 28, 28), np.uint8), labels=np.array([0, 12]))
    with pytest.raises(ValueError, match="labels 0..9, found 0..12"):
        net.fit(bad, verbose=0)
    with pytest.raises(ValueError, match="epochs=5"):
        net.fit(bad, 5)
    with pytest.raises(ValueError, match="one sample at a time"):
        net.fit(bad, epochs=1, batch_size=32)


def test_copy_is_independent(data):
    net = Network(784, 10, 10)
    twin = net.copy()
    net.fit(SimpleNamespace(images=data.images[:10], labels=data.labels[:10]), verbose=0)
    assert not np.array_equal(net.wih, twin.wih)


def test_floats_and_one_image_are_taken_as_uint8_are(data):
    net = Network(784, 20, 10, seed=2)
    floats = data.images[:5].astype(np.float32) / 255
    np.testing.assert_allclose(net.outputs(floats), net.outputs(data.images[:5]), rtol=1e-6)
    assert net.predict(data.images[0]) == net.predict(data.images[:1])[0]
    proba = net.predict_proba(data.images[0].ravel())
    assert proba.shape == (10,) and proba.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("init", ["fan_in", "fan_out"])
def test_initial_weights_of_the_text_and_of_the_printed_code(init):
    net = Network(784, 100, 10, init=init, seed=0)
    want = (784**-0.5, 100**-0.5) if init == "fan_in" else (100**-0.5, 10**-0.5)
    assert net.wih.std() == pytest.approx(want[0], rel=0.02)
    assert net.who.std() == pytest.approx(want[1], rel=0.1)


def test_train_on_batch_is_the_book_sample_by_sample(data):
    net = Network(784, 20, 10, seed=6)
    ref = BookReference(net.wih, net.who, 0.1)
    loss, accuracy = net.train_on_batch(data.images[:70], data.labels[:70])
    losses, right = [], []
    for image, label in zip(data.images[:70], data.labels[:70]):
        # each sample's quadratic loss and answer, before it is learnt
        out = expit(ref.who @ expit(ref.wih @ book_inputs(image)))
        losses.append(0.5 * np.sum((book_targets(label) - out) ** 2))
        right.append(out.argmax() == label)
        ref.train(book_inputs(image), book_targets(label))
    np.testing.assert_allclose(net.wih, ref.wih, rtol=1e-9, atol=1e-12)
    assert loss == pytest.approx(np.mean(losses), rel=1e-9)
    assert accuracy == np.mean(right)
