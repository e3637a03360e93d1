"""One contract for every model: the book's network, the matrix engine and the neurons
model train through the same code path, answer the same questions, save and load, and the
README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_digits
from mnist_files import real_dir
from PIL import Image

import ownnet
from ownnet.data.dataset import Dataset
from ownnet.training import Callback

README = Path(__file__).resolve().parents[1] / "README.md"
HISTORY_KEYS = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "samples",
                "samples_per_s", "lr"}  # fmt: skip

# Tiny matrices: BLAS threads only cost time.
pytestmark = pytest.mark.usefixtures("one_blas_thread")


def models() -> dict[str, ownnet.classifier.Classifier]:
    return {
        "book": ownnet.BookNetwork(784, 16, 10, lr=0.2, seed=0),
        "engine": ownnet.Network.mlp((16,), dropout=0.0, seed=0),
        "neurons": ownnet.NeuronNetwork(784, 3, 10, lr=0.2, seed=0),
    }


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = synthetic_digits(300, 1)
    xt, yt = synthetic_digits(60, 2)
    return x, y, xt, yt


class Counts(Callback):
    """Counts every hook fit calls."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def on_train_begin(self, run):
        self._count("train_begin")

    def on_epoch_begin(self, run):
        self._count("epoch_begin")

    def on_batch_end(self, run):
        self._count("batch_end")
        assert 0 < run.seen <= run.samples and set(run.logs) == {"loss", "accuracy"}

    def on_epoch_end(self, run):
        self._count("epoch_end")

    def on_train_end(self, run):
        self._count("train_end")


@pytest.mark.parametrize("form", ["arrays", "dataset"])
def test_every_model_trains_through_the_same_code_path(data, form):
    x, y, xt, yt = data
    keys = {}
    for name, model in models().items():
        n = 40 if name == "neurons" else len(x)  # neurons are slow by design
        if form == "arrays":
            args, val = (x[:n], y[:n]), (xt, yt)
        else:
            args, val = (Dataset(x[:n], y[:n]),), Dataset(xt, yt)
        counts = Counts()
        history = model.fit(*args, epochs=2, validation_data=val, callbacks=[counts],
                            seed=0, verbose=0)  # fmt: skip
        keys[name] = set(history.keys())
        assert len(history) == 2 and model.history is history
        assert counts.calls["train_begin"] == counts.calls["train_end"] == 1
        assert counts.calls["epoch_begin"] == counts.calls["epoch_end"] == 2
        assert counts.calls["batch_end"] >= 2
        loss, accuracy = model.evaluate(xt, yt)
        assert history.last("val_loss") == pytest.approx(loss)
        assert history.last("val_accuracy") == pytest.approx(accuracy) == model.score(xt, yt)
    assert keys["book"] == keys["engine"] == keys["neurons"] == HISTORY_KEYS


def test_every_model_answers_the_same_questions(data):
    x, y, xt, _ = data
    one = xt[0]
    for model in models().values():
        proba = model.predict_proba(xt[:5])
        assert proba.shape == (5, 10)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(model.predict(xt[:5]), proba.argmax(axis=1))
        assert model.predict(one) == model.predict(one.reshape(1, 784))[0]
        assert model.predict_proba(one.ravel()).shape == (10,)
        floats = xt[:5].astype(np.float64) / 255
        np.testing.assert_allclose(model.predict_proba(floats), proba, rtol=1e-5, atol=1e-7)
        assert model.proba_meaning in (ownnet.classifier.SOFTMAX, ownnet.classifier.NORMALISED)
        with pytest.raises(ownnet.OwnnetError, match=r"found shape \(5, 27, 27\) dtype uint8"):
            model.predict(np.zeros((5, 27, 27), np.uint8))
        with pytest.raises(ownnet.OwnnetError, match="found values 0..255"):
            model.predict(xt[:2].astype(np.float32))


def test_every_model_saves_and_loads(tmp_path, data):
    x, y, xt, _ = data
    for name, model in models().items():
        model.fit(x[:30], y[:30], epochs=1, verbose=0)
        path = model.save(tmp_path / f"{name}.npz", note="mine")
        loaded = ownnet.load(path)
        assert type(loaded) is type(model) and loaded.meta["note"] == "mine"
        assert loaded.meta["history"]["loss"] == model.history["loss"]
        np.testing.assert_array_equal(loaded.predict_proba(xt), model.predict_proba(xt))


def test_train_on_batch_on_every_model(data):
    x, y, _, _ = data
    for name, model in models().items():
        # one sample: its loss and answer before the step, as evaluate gives them
        expected = model.evaluate(x[:1], y[:1])
        loss, accuracy = model.train_on_batch(x[:1], y[:1])
        assert (loss, accuracy) == pytest.approx(tuple(expected), rel=1e-6), name
        before = model.predict_proba(x[:8]).copy()
        loss, accuracy = model.train_on_batch(x[:8], y[:8])
        assert loss > 0 and accuracy * 8 == round(accuracy * 8), name  # a count out of 8
        assert not np.allclose(model.predict_proba(x[:8]), before)


def test_one_set_of_defaults_from_python_and_from_config():
    a = ownnet.Network.mlp()
    b = ownnet.from_config({"model": "mlp"})
    assert [layer.spec() for layer in a.layers] == [layer.spec() for layer in b.layers]
    assert a.optimizer.spec() == b.optimizer.spec()
    assert (a.optimizer.name, a.optimizer.lr, a.batch_size) == ("rmsprop", 0.001, 128)
    book = ownnet.from_config({"model": "classic"})
    assert (book.n_hidden, book.lr) == (200, 0.1)
    np.testing.assert_array_equal(book.wih, ownnet.BookNetwork(seed=0).wih)


def test_help_lists_the_front_door():
    for name in ("load_mnist", "load", "from_config", "BookNetwork", "Network", "NeuronNetwork",
                 "Dense", "EarlyStopping", "History"):  # fmt: skip
        assert name in ownnet.__doc__ and name in dir(ownnet)
        assert getattr(ownnet, name) is not None


def readme_python() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README has no Python example"
    return blocks[0]


def test_the_readme_example_runs_as_written(small_mnist_dir, tmp_path, monkeypatch):
    code = readme_python()
    assert code.startswith("import ownnet\n") and 'read("my-digit.png")' in code
    assert len([line for line in code.splitlines() if line.strip()]) <= 7
    monkeypatch.setenv("OWNNET_DATA", str(small_mnist_dir))
    monkeypatch.chdir(tmp_path)
    # a dark 7 on white paper, as a photo of one would be
    picture = np.full((120, 100), 235, np.uint8)
    for i in range(60):
        picture[25, 20 + i] = picture[26, 20 + i] = 30  # the bar
        r, c = 27 + i, 78 - i // 2
        picture[r, c - 2 : c + 2] = 30  # the stroke down
    Image.fromarray(picture).save(tmp_path / "my-digit.png")
    printed: list[str] = []
    exec(compile(code, "README.md", "exec"), {"print": lambda *a: printed.append(str(a[0]))})
    saved = ownnet.load(tmp_path / "book.npz")
    assert isinstance(saved, ownnet.BookNetwork)
    assert printed[-1] == str(saved.read(tmp_path / "my-digit.png"))
    assert re.fullmatch(r"\d \(confidence 0\.\d\d; then \d 0\.\d\d, \d 0\.\d\d\)", printed[-1])
    if real_dir("mnist") is not None:  # trained on real digits (not the stand-ins), it reads 7
        assert printed[-1].startswith("7 ")


class StopAfter(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, run):
        if run.epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("name", ["book", "neurons"])
def test_checkpoint_and_early_stopping_work_on_the_book_models(name, data, tmp_path):
    from ownnet.callbacks import Checkpoint, EarlyStopping
    from ownnet.checkpoint import load_checkpoint

    x, y, xt, yt = data
    n = 40 if name == "neurons" else len(x)
    straight = models()[name]
    options = {"validation_data": (xt, yt), "shuffle": True, "verbose": 0}
    straight.fit(x[:n], y[:n], epochs=3, seed=4, **options)
    path = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        models()[name].fit(x[:n], y[:n], epochs=3, seed=4,
                           callbacks=[Checkpoint(path), StopAfter(1)], **options)  # fmt: skip
    resume = load_checkpoint(path)
    assert resume.epoch == 1 and resume.optimizer is None
    resume.model.fit(x[:n], y[:n], **resume.fit_kwargs(), validation_data=(xt, yt), verbose=0)
    for mine, theirs in zip(resume.model.state()[0].values(), straight.state()[0].values()):
        np.testing.assert_array_equal(mine, theirs)
    assert resume.model.history["val_loss"] == straight.history["val_loss"]
    # no epoch improves the loss by 10: it stops after epoch 2 and puts epoch 1's weights back
    stop = EarlyStopping(patience=0, monitor="loss", min_delta=10.0)
    model = models()[name]
    model.fit(x[:n], y[:n], epochs=3, seed=4, callbacks=[stop], **options)
    once = models()[name]
    once.fit(x[:n], y[:n], epochs=1, seed=4, **options)
    assert len(model.history) == 2 and stop.best_epoch == 1
    for mine, theirs in zip(model.state()[0].values(), once.state()[0].values()):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("bias", [False, True])
def test_the_book_network_starts_the_same_in_all_three_models(bias):
    book = ownnet.BookNetwork(784, 20, 10, bias=bias, seed=3)
    engine = ownnet.Network.book(784, 20, 10, bias=bias, seed=3)
    neurons = ownnet.NeuronNetwork(784, 20, 10, bias=bias, seed=3)
    as_book = ownnet.convert.nn_to_classic(engine)
    np.testing.assert_array_equal(as_book.wih, book.wih)
    np.testing.assert_array_equal(as_book.who, book.who)
    np.testing.assert_array_equal(neurons.weights[0], book.wih)


def test_query_refuses_pixels_it_would_misread():
    net = ownnet.BookNetwork(784, 5, 10)
    with pytest.raises(ValueError, match="scaled inputs 0.01..1.0, found values up to 255"):
        net.query(np.full(784, 255.0))
