"""Teach it back, undo, reset, save as, and the model menu; nothing a client sends reads or
writes a path it chose."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'ownnet[web]'")

from fastapi.testclient import TestClient  # noqa: E402

from ownnet.book import INPUTS as SCALE  # noqa: E402
from ownnet.book import book_targets as targets_for  # noqa: E402
from ownnet.io import load_model, save_model  # noqa: E402
from ownnet.web.app import create_app  # noqa: E402

try:
    from web_helpers import digit_pixels, save_small_cnn, train_small_model
except ImportError:  # pragma: no cover
    from tests.web_helpers import digit_pixels, save_small_cnn, train_small_model


@pytest.fixture(scope="module")
def book_file(small_mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_small_model(small_mnist_dir, tmp_path_factory.mktemp("teach") / "book.npz")


@pytest.fixture()
def folder(book_file: Path, tmp_path: Path) -> Path:
    shutil.copy(book_file, tmp_path / "book.npz")
    save_small_cnn(tmp_path / "cnn.npz")
    return tmp_path


def outputs(c: TestClient, img: np.ndarray) -> np.ndarray:
    return np.array(c.post("/api/predict", json={"pixels": img.tolist()}).json()["outputs"])


def test_teach_the_book_network_undo_and_reset(folder):
    img = digit_pixels(4)
    with TestClient(create_app(folder / "book.npz")) as c:
        start = outputs(c, img)
        c.post("/api/inside", json={"pixels": img.tolist()})
        assert c.app.state.web.served._copies  # a tracer in the inside view's thread
        r = c.post("/api/teach", json={"pixels": img.tolist(), "digit": 5})
        assert r.status_code == 200, r.text
        body = r.json()
        # the book's train() on the drawing, by hand
        net, _ = load_model(folder / "book.npz")
        before = net.copy()
        net.train(SCALE[img.reshape(-1)], targets_for(np.array([5]))[0])
        np.testing.assert_allclose(outputs(c, img), net.outputs(img[None])[0], rtol=1e-12)
        assert body["digit"] == 5 and body["taught"] == 1 and body["undo"] == 1
        assert "book's update" in body["rule"] and "0.1" in body["rule"]
        np.testing.assert_allclose(body["before"]["probabilities"], start / start.sum(), atol=2e-6)
        after = net.outputs(img[None])[0]
        np.testing.assert_allclose(body["after"]["probabilities"], after / after.sum(), atol=2e-6)
        assert body["after"]["probabilities"][5] > body["before"]["probabilities"][5]
        diff = [net.wih - before.wih, net.who - before.who]
        moved = np.sqrt(
            sum((d**2).sum() for d in diff) / ((before.wih**2).sum() + (before.who**2).sum())
        )
        assert body["change"]["relative"] == pytest.approx(moved)
        assert body["change"]["max"] == pytest.approx(max(np.abs(d).max() for d in diff))
        card = c.get("/api/model").json()
        assert card["taught"] == 1 and card["name"] == "book.npz"
        c.post("/api/inside", json={"pixels": img.tolist()})  # threads make their copies
        state = c.app.state.web
        assert state.served._copies  # the served model's tracer, in the batcher's thread
        assert all(not old._copies for old in state.history)  # the undo history: weights only
        # a second step, two undos: back where it started, exactly
        c.post("/api/teach", json={"pixels": img.tolist(), "digit": 5})
        assert c.get("/api/models").json()["undo"] == 2
        assert c.post("/api/teach/undo", json={}).json()["undo"] == 1
        np.testing.assert_array_equal(outputs(c, img), net.outputs(img[None])[0])
        assert c.post("/api/teach/undo", json={}).json()["model"]["taught"] == 0
        np.testing.assert_array_equal(outputs(c, img), start)
        r = c.post("/api/teach/undo", json={})
        assert r.status_code == 409 and "nothing to undo" in r.json()["detail"]
        # reset reads the file again
        c.post("/api/teach", json={"pixels": img.tolist(), "digit": 7})
        r = c.post("/api/teach/reset", json={})
        assert r.status_code == 200 and r.json()["model"]["taught"] == 0
        np.testing.assert_array_equal(outputs(c, img), start)
        assert c.post("/api/teach/undo", json={}).status_code == 409


def test_teach_an_engine_network_one_adam_step(folder):
    """One step of the model's own optimiser (Adam, as its file says): from a new Adam the
    step is lr * g / (|g| + eps) for the gradient g of the loss on the one image."""
    img = digit_pixels(5)
    with TestClient(create_app(folder / "cnn.npz")) as c:
        r = c.post("/api/teach", json={"pixels": img.tolist(), "digit": 2})
        assert r.status_code == 200, r.text
        assert "Adam" in r.json()["rule"] and "cross_entropy" in r.json()["rule"]
        net, _ = load_model(folder / "cnn.npz")
        x = net.scale(img.reshape(1, -1)).reshape(1, 1, 28, 28)
        y = np.zeros((1, 10), np.float32)
        y[0, 2] = 1
        net.loss_and_grads(x, y, training=True)
        for p in net.params():
            p.value -= 0.001 * p.grad / (np.abs(p.grad) + 1e-7)
        np.testing.assert_allclose(outputs(c, img), net.outputs(img[None])[0], rtol=1e-4)


def test_save_as_writes_a_new_file_and_serves_it(folder):
    img = digit_pixels(6)
    with TestClient(create_app(folder / "book.npz")) as c:
        c.post("/api/teach", json={"pixels": img.tolist(), "digit": 3})
        taught = outputs(c, img)
        r = c.post("/api/models/save", json={"name": "book-taught.npz"})
        assert r.status_code == 200, r.text
        assert r.json()["saved"] == "book-taught.npz"
        net, meta = load_model(folder / "book-taught.npz")
        np.testing.assert_allclose(net.outputs(img[None])[0], taught, rtol=1e-12)
        assert meta["taught_on_draw_page"] == {"steps": 1, "from": "book.npz"}
        assert "test_accuracy" not in meta  # the file's accuracy is not the taught model's
        assert c.get("/api/model").json()["name"] == "book-taught.npz"
        names = [m["name"] for m in c.get("/api/models").json()["models"]]
        assert names == ["book-taught.npz", "book.npz", "cnn.npz"]
        r = c.post("/api/models/save", json={"name": "book.npz"})
        assert r.status_code == 409 and "exists already" in r.json()["detail"]


BAD_NAMES = [
    "../evil.npz",
    "/tmp/ownnet-evil.npz",
    "sub/evil.npz",
    "..\\evil.npz",
    "evil.txt",
    ".npz",
    ".hidden.npz",
    "",
    "a" * 200 + ".npz",
    "evil.npz\x00.txt",
    "e v i l.npz",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_save_as_refuses_paths(folder, name):
    before = sorted(p.name for p in folder.iterdir())
    with TestClient(create_app(folder / "book.npz")) as c:
        r = c.post("/api/models/save", json={"name": name})
        assert r.status_code == 422, r.text
        assert "expected a file name" in r.json()["detail"] or "name" in r.json()["detail"]
    assert sorted(p.name for p in folder.iterdir()) == before
    assert not Path("/tmp/ownnet-evil.npz").exists()


def test_model_menu_switches_only_between_its_files(folder, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    save_small_cnn(outside / "secret.npz")
    (folder / "notes.txt").write_text("not a model")
    (folder / "broken.npz").write_bytes(b"PK\x03\x04 not really")
    os.mkfifo(folder / "fifo.npz")
    with TestClient(create_app(folder / "book.npz")) as c:
        listed = c.get("/api/models").json()
        assert [m["name"] for m in listed["models"]] == ["book.npz", "broken.npz", "cnn.npz"]
        assert listed["served"] == "book.npz"
        r = c.post("/api/models/use", json={"name": "cnn.npz"})
        assert r.status_code == 200 and r.json()["model"]["name"] == "cnn.npz"
        assert c.get("/api/model").json()["kind"] == "nn"
        for name in (
            "fifo.npz",  # not a regular file: never opened (it would block)
            "notes.txt",
            "../outside/secret.npz",
            str(outside / "secret.npz"),
            "cnn.npz/../book.npz",
        ):
            r = c.post("/api/models/use", json={"name": name})
            assert r.status_code == 404, (name, r.text)
            assert "no model" in r.json()["detail"]
        r = c.post("/api/models/use", json={"name": "broken.npz"})
        assert r.status_code == 422 and "broken.npz" in r.json()["detail"]
        assert c.get("/api/model").json()["name"] == "cnn.npz"  # unchanged
        for body in ({"name": 5}, {}, {"name": "cnn.npz", "path": "/etc"}, ["cnn.npz"]):
            assert c.post("/api/models/use", json=body).status_code == 422, body


def test_a_model_with_nan_weights_is_refused(folder, capsys):
    from ownnet.cli import main
    from ownnet.errors import ModelFileError

    net, meta = load_model(folder / "book.npz")
    net.who[3, 4] = np.nan
    save_model(folder / "nan.npz", net)
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        create_app(folder / "nan.npz")
    assert main(["serve", str(folder / "nan.npz"), "--port", "0"]) == 1
    assert "1 NaN or infinite values" in capsys.readouterr().err
    with TestClient(create_app(folder / "book.npz")) as c:
        r = c.post("/api/models/use", json={"name": "nan.npz"})
        assert r.status_code == 422 and "NaN" in r.json()["detail"]


def test_a_fifo_as_the_model_path_is_refused_at_once(tmp_path, capsys):
    from ownnet.cli import main

    os.mkfifo(tmp_path / "model.npz")
    assert main(["serve", str(tmp_path / "model.npz"), "--port", "0"]) == 1
    assert "found a FIFO" in capsys.readouterr().err
