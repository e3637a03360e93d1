"""The matrix engine's Network: training, history, progress, callbacks, checkpoints,
model files, and the book's network as a special case."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import numpy as np
import pytest

from ownnet import convert
from ownnet.callbacks import Checkpoint, EarlyStopping
from ownnet.checkpoint import load_checkpoint
from ownnet.classic import Network as Classic
from ownnet.data.dataset import Dataset
from ownnet.io import load_model, save_model
from ownnet.nn import SGD, Adam, Dense, Dropout, RMSprop, StepDecay, TrainingDiverged
from ownnet.nn import Network as Engine
from ownnet.progress import EpochLine, ProgressBar
from ownnet.training import Callback, History, Run

Network = Engine

# Tiny matrices: BLAS threads only cost time (and much more of it on busy cores).
pytestmark = pytest.mark.usefixtures("one_blas_thread")


def digits(n: int, seed: int) -> Dataset:
    """Learnable fake digits: a blob pattern per class in the middle 20x20, plus noise."""
    protos = np.zeros((10, 28, 28), np.uint8)
    protos[:, 4:24, 4:24] = (np.random.default_rng(1234).random((10, 20, 20)) > 0.7) * 255
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = protos[labels].copy()
    flip = rng.random((n, 20, 20)) < 0.08
    images[:, 4:24, 4:24] = np.where(flip, 255 - images[:, 4:24, 4:24], images[:, 4:24, 4:24])
    return Dataset(images, labels, name=f"digits-{seed}")


@pytest.fixture(scope="module")
def train_set() -> Dataset:
    return digits(400, 1)


@pytest.fixture(scope="module")
def test_set() -> Dataset:
    return digits(200, 2)


def small_mlp(seed: int = 0, **options) -> Network:
    return Network.mlp((24,), dropout=0.1, seed=seed, **options)


def test_fit_learns_and_returns_history(train_set, test_set):
    net = small_mlp()
    hist = net.fit(
        train_set,
        epochs=4,
        batch_size=32,
        optimizer=RMSprop(0.003),
        validation_data=test_set,
        seed=0,
        verbose=0,
    )
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds", "lr", "epoch"):
        assert len(hist[key]) == 4, key
    assert hist["loss"][-1] < hist["loss"][0]
    assert hist["val_accuracy"][-1] >= 0.97  # measured 1.0
    assert net.score(test_set) == pytest.approx(hist["val_accuracy"][-1])
    loss, acc = net.evaluate(test_set)
    assert loss == pytest.approx(hist["val_loss"][-1], rel=1e-6)
    assert net.optimizer is not None and net.optimizer.iterations == 4 * 13


def test_default_dtype_float32_and_float64_on_request(train_set):
    net = small_mlp()
    assert all(p.value.dtype == np.float32 for p in net.params())
    net64 = small_mlp(dtype="float64")
    assert all(p.value.dtype == np.float64 for p in net64.params())
    net64.fit(train_set, epochs=1, batch_size=50, seed=0, verbose=0)
    assert net64.outputs(train_set.images[:3]).dtype == np.float64


def test_keras_style_progress_line(train_set, test_set):
    out = io.StringIO()
    net = small_mlp()
    net.fit(
        train_set,
        epochs=2,
        batch_size=64,
        validation_data=test_set,
        seed=0,
        callbacks=[ProgressBar(stream=out)],
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    pattern = (
        r"400/400 \[={30}\] - \d+\.\ds - loss: \d+\.\d{4} - acc: \d\.\d{4}"
        r" - val_loss: \d+\.\d{4} - val_acc: \d\.\d{4} - [\d,]+ samples/s"
    )
    assert re.fullmatch(pattern, lines[1]), lines[1]
    assert "\r" not in out.getvalue()  # not a terminal: no live bar


def test_live_bar_redraws_in_place():
    out = io.StringIO()
    bar = EpochLine(1000, out, live=True, interval=0.0)
    bar.update(250, {"loss": 0.5, "accuracy": 0.75})
    bar.finish({"loss": 0.25}, seconds=1.25)
    text = out.getvalue()
    assert text.startswith("\r 250/1000 [=======>......................] - ETA: ")
    last = "\r1000/1000 [==============================] - 1.2s - loss: 0.2500"
    # padded with blanks to cover the longer live line
    assert text.endswith(last + " " * (len(text.split("\r")[1]) - len(last) + 1) + "\n")


def test_nan_loss_stops_with_epoch_batch_and_advice(train_set):
    net = Network([Dense(10, None)], loss="quadratic", seed=0)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as info:
        net.fit(train_set, epochs=2, batch_size=100, optimizer=SGD(1e30), seed=0, verbose=0)
    message = str(info.value)
    assert re.search(r"at epoch 1, batch [2-4] of 4 \(learning rate 1e\+30\)", message), message
    assert "smaller learning rate" in message


def test_validation_split_is_the_last_fraction(train_set):
    net = small_mlp()
    hist = net.fit(train_set, epochs=1, batch_size=40, validation_split=0.25, seed=0, verbose=0)
    assert hist["samples"] == [300.0]  # the last quarter held out
    assert hist["samples_per_s"][0] == pytest.approx(300 / hist["seconds"][0])
    held_out = Dataset(train_set.images[300:], train_set.labels[300:])
    loss, acc = net.evaluate(held_out)
    assert hist["val_loss"][0] == pytest.approx(loss, rel=1e-6)
    assert hist["val_accuracy"][0] == pytest.approx(acc)
    with pytest.raises(ValueError, match="not both"):
        net.fit(train_set, epochs=1, validation_split=0.1, validation_data=train_set, verbose=0)


def test_schedule_sets_the_rate_each_epoch(train_set):
    net = small_mlp()
    opt = SGD(0.1)
    hist = net.fit(
        train_set,
        epochs=3,
        batch_size=100,
        optimizer=opt,
        schedule=StepDecay(0.2, 0.5, 1),
        seed=0,
        verbose=0,
    )
    assert hist["lr"] == pytest.approx([0.2, 0.1, 0.05])


def test_same_seed_same_run_including_dropout(train_set):
    a, b = small_mlp(seed=4), small_mlp(seed=4)
    for net in (a, b):
        net.fit(train_set, epochs=1, batch_size=32, optimizer=Adam(0.01), seed=9, verbose=0)
    for p, q in zip(a.params(), b.params(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    c = small_mlp(seed=4)
    c.fit(train_set, epochs=1, batch_size=32, optimizer=Adam(0.01), seed=10, verbose=0)
    assert not np.array_equal(a.params()[0].value, c.params()[0].value)


def test_skipping_zero_pixel_columns_gives_the_same_training(train_set):
    nets = []
    for compact in (True, False):
        net = Network.mlp((16,), dropout=0.0, dtype="float64", seed=2)
        net.compact_inputs = compact
        net.fit(train_set, epochs=1, batch_size=25, optimizer=RMSprop(0.003), seed=3, verbose=0)
        nets.append(net)
    # the middle 20x20 only: a batch leaves 400 of 784 columns, so the short path ran
    for p, q in zip(nets[0].params(), nets[1].params(), strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-10, atol=1e-12)


def test_outputs_predict_evaluate_like_classic(test_set):
    net = small_mlp()
    out = net.outputs(test_set.images)
    assert out.shape == (200, 10) and out.dtype == np.float64
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    flat = test_set.images.reshape(200, 784)
    np.testing.assert_array_equal(net.outputs(flat), out)
    np.testing.assert_array_equal(net.predict(test_set.images), out.argmax(axis=1))
    assert net.score(test_set) == np.mean(out.argmax(axis=1) == test_set.labels)
    np.testing.assert_allclose(net.outputs(test_set.images / np.float32(255)), out, rtol=1e-5)
    with pytest.raises(ValueError, match="expected float pixel values 0..1"):
        net.outputs(test_set.images.astype(np.float32))
    with pytest.raises(ValueError, match=r"expected images \(n, 28, 28\) or \(n, 784\)"):
        net.outputs(test_set.images[:, :10])


def test_model_file_round_trip(tmp_path, train_set, test_set):
    net = Network(
        [Dense(12, {"name": "leaky_relu", "alpha": 0.1}), Dropout(0.3), Dense(10, "softmax")],
        seed=5,
    )
    net.fit(train_set, epochs=1, batch_size=50, seed=0, verbose=0)
    path = save_model(tmp_path / "m.npz", net, seed=5)
    loaded, meta = load_model(path)
    assert meta["kind"] == "nn" and isinstance(loaded, Network)
    assert [s["type"] for s in meta["config"]["layers"]] == ["Dense", "Dropout", "Dense"]
    assert loaded.layers[0].activation.alpha == 0.1
    np.testing.assert_array_equal(loaded.outputs(test_set.images), net.outputs(test_set.images))


def test_from_classic_and_to_classic_give_the_same_outputs(test_set):
    for bias in (False, True):
        classic = Classic(784, 30, 10, bias=bias, seed=3)
        net = convert.classic_to_nn(classic)
        assert net.layers[0].params["W"].shape == (784, 30)
        np.testing.assert_allclose(
            net.outputs(test_set.images), classic.outputs(test_set.images), rtol=1e-12
        )
        back = convert.nn_to_classic(net)
        np.testing.assert_array_equal(back.wih, classic.wih)
        np.testing.assert_array_equal(back.who, classic.who)
    with pytest.raises(ValueError, match="two sigmoid Dense layers"):
        convert.nn_to_classic(small_mlp())


def test_book_network_ends_with_the_classic_weights_after_1000_samples(small_mnist_dir):
    """Sigmoid, quadratic cost, no bias, batch 1, lr 0.1, the book's error split.

    On the first 1000 digits of the ``small_mnist_dir`` fixture: cut from the real MNIST
    when it is there, else its learnable synthetic digits (see tests/conftest.py)."""
    from ownnet.data.mnist import load_mnist

    samples = load_mnist(small_mnist_dir, download=False, progress=False).train.subset(1000)
    classic = Classic(784, 100, 10, lr=0.1, seed=11)
    net = convert.classic_to_nn(classic)
    assert net.layers[0].params["W"].dtype == np.float64
    classic.fit(samples, epochs=1, verbose=0)  # file order, as the book
    net.fit(samples, epochs=1, batch_size=1, optimizer=SGD(0.1), shuffle=False, verbose=0)
    got = convert.nn_to_classic(net)
    assert np.abs(classic.wih - Classic(784, 100, 10, seed=11).wih).max() > 1e-3  # it trained
    np.testing.assert_allclose(got.wih, classic.wih, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.who, classic.who, rtol=0, atol=1e-9)


def test_book_network_from_its_own_constructor_matches_the_book_init():
    net = Network.book(784, 200, 10, seed=0)
    w = net.layers[0].params["W"]
    assert w.shape == (784, 200) and w.std() == pytest.approx(784**-0.5, rel=0.02)
    assert net.input_scale == "book" and net.targets == "book"
    assert "b" not in net.layers[0].params


class Interrupt(Callback):
    def __init__(self, after: int) -> None:
        self.after = after

    def on_epoch_end(self, run: Run) -> None:
        if run.epoch == self.after:
            raise KeyboardInterrupt


def test_resume_from_checkpoint_continues_the_same_run(tmp_path, train_set, test_set):
    def fresh() -> Network:
        return Network.mlp((20,), dropout=0.2, seed=1)

    kwargs = dict(batch_size=32, validation_split=0.2, seed=5, verbose=0)
    straight = fresh()
    hist = straight.fit(train_set, epochs=3, optimizer=RMSprop(0.002), **kwargs)

    path = tmp_path / "run.npz"
    interrupted = fresh()
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(
            train_set,
            epochs=3,
            optimizer=RMSprop(0.002),
            callbacks=[Checkpoint(path), Interrupt(1)],
            **kwargs,
        )
    r = load_checkpoint(path)
    assert r.epoch == 1 and r.epochs == 3 and r.optimizer.iterations == 10
    resumed = r.model.fit(train_set, **r.fit_kwargs(), callbacks=[Checkpoint(path)], verbose=0)
    for p, q in zip(straight.params(), r.model.params(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert resumed[key] == hist[key], key
    # the checkpoint is also a model file
    model, meta = load_model(path)
    assert meta["checkpoint"]["epoch"] == 3
    np.testing.assert_array_equal(model.outputs(test_set.images), straight.outputs(test_set.images))


def test_early_stopping_stops_and_restores_the_best_weights(train_set):
    net = small_mlp()
    stop = EarlyStopping(patience=1)
    run = Run(net, epochs=10, history=History(), optimizer=SGD(0.1))
    w = net.params()[0].value
    for epoch, val_loss in enumerate([1.0, 0.5, 0.6, 0.7], start=1):
        w[...] = epoch  # mark the weights of each epoch
        run.epoch = epoch
        run.history.append(val_loss=val_loss)
        stop.on_epoch_end(run)
        assert run.stop == (epoch == 4)
    assert "best 0.5000 at epoch 2" in run.stop_reason
    stop.on_train_end(run)
    assert np.all(w == 2)
    json_state, arrays = stop.state()
    again = EarlyStopping(patience=1)
    again.load_state(json_state, arrays)
    assert (again.best, again.best_epoch, again.wait) == (0.5, 2, 2)


def test_early_stopping_in_fit_needs_validation(train_set):
    with pytest.raises(ValueError, match="give validation data"):
        small_mlp().fit(train_set, epochs=2, callbacks=[EarlyStopping(1)], seed=0, verbose=0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="input_scale"):
        Network([Dense(2)], input_scale="percent")
    with pytest.raises(ValueError, match="unknown layer type"):
        Network([{"type": "Conv9D"}])
    with pytest.raises(ValueError, match="expected labels 0..9"):
        bad = SimpleNamespace(images=np.zeros((2, 28, 28), np.uint8), labels=np.array([3, 12]))
        small_mlp().fit(bad, verbose=0)
