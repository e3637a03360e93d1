"""The JSON API of ``ownnet serve`` through FastAPI's TestClient: each endpoint, each bad input."""

from __future__ import annotations

import io
import json
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'ownnet[web]'")
pytest.importorskip("multipart", reason="needs the web extra: pip install 'ownnet[web]'")

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from ownnet.data.images import prepare  # noqa: E402
from ownnet.inspect.confidence import confidences  # noqa: E402
from ownnet.io import load_model  # noqa: E402
from ownnet.web.app import create_app  # noqa: E402

try:
    from mnist_files import tiny_arrays, write_idx_dir
    from web_helpers import png_of, sse_events, stroke_png, train_small_model
except ImportError:  # pragma: no cover - run from the repository root as a package
    from tests.mnist_files import tiny_arrays, write_idx_dir
    from tests.web_helpers import png_of, sse_events, stroke_png, train_small_model


@pytest.fixture(scope="module")
def model_file(small_mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_small_model(small_mnist_dir, tmp_path_factory.mktemp("web-model") / "m.npz")


@pytest.fixture(scope="module")
def client(model_file: Path, small_mnist_dir: Path):
    app = create_app(model_file, data_dir=str(small_mnist_dir))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def model(model_file: Path):
    return load_model(model_file)[0]


def digit_pixels(seed: int = 0) -> np.ndarray:
    """A uint8 (28, 28) picture with some ink."""
    rng = np.random.default_rng(seed)
    img = np.zeros((28, 28), np.uint8)
    img[4:24, 12:16] = rng.integers(100, 256, (20, 4))
    return img


# -- the model ----------------------------------------------------------------------------------
def test_model_card(client, model_file):
    meta = load_model(model_file)[1]
    card = client.get("/api/model").json()
    assert card["name"] == "m.npz"
    assert card["kind"] == "classic"
    assert card["sizes"] == [784, 40, 10]
    assert card["description"] == "784-40-10, sigmoid"
    assert card["test_accuracy"] == pytest.approx(meta["test_accuracy"])
    assert card["settings"] == {"epochs": 1, "lr": 0.1, "hidden": 40}
    assert card["seed"] == 0
    assert "/" not in card["name"]  # no server path leaks


def test_no_model_loaded(small_mnist_dir):
    with TestClient(create_app(None, data_dir=str(small_mnist_dir))) as c:
        r = c.get("/api/model")
        assert r.status_code == 404 and "no model loaded" in r.json()["detail"]
        r = c.post("/api/predict", json={"pixels": [0] * 784})
        assert r.status_code == 409 and "no model loaded" in r.json()["detail"]
        assert c.get("/api/backquery.png").status_code == 404


def book_backquery(wih: np.ndarray, who: np.ndarray) -> np.ndarray:
    """The book's backquery, written out by hand: ``(10, 784)`` in 0.01..0.99."""
    from scipy.special import logit

    def rescale(x):
        x = x - x.min(axis=1, keepdims=True)
        return x / x.max(axis=1, keepdims=True) * 0.98 + 0.01

    targets = np.full((10, 10), 0.01) + np.eye(10) * 0.98
    hidden = rescale(logit(targets) @ who)  # who (10, hidden): sends outputs back to hidden
    return rescale(logit(hidden) @ wih)  # wih (hidden, 784)


def test_backquery_png(client, model):
    r = client.get("/api/backquery.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert client.get("/api/model").json()["has_backquery"] is True
    strip = np.asarray(Image.open(io.BytesIO(r.content)).convert("L"))
    zoom, gap = 4, 4
    assert strip.shape == (28 * zoom, 10 * 28 * zoom + 9 * gap)
    # picture d is the back-query of digit d, 0.01..0.99 shown as 0..255
    expected = book_backquery(model.wih, model.who).reshape(10, 28, 28)
    for d in range(10):
        x0 = d * (28 * zoom + gap)
        cell = strip[::zoom, x0 : x0 + 28 * zoom : zoom].astype(float)
        want = (expected[d] - 0.01) / 0.98 * 255
        assert np.abs(cell - want).max() <= 0.51, d
        assert np.all(strip[:, x0 + 28 * zoom : x0 + 28 * zoom + gap] == 255) or d == 9


def test_backquery_404_for_relu_model(tmp_path):
    from ownnet.io import save_model
    from ownnet.nn import Network

    path = save_model(tmp_path / "relu.npz", Network.mlp((16,), dropout=0.0))
    with TestClient(create_app(path)) as c:
        assert c.get("/api/model").json()["has_backquery"] is False
        r = c.get("/api/backquery.png")
        assert r.status_code == 404
        assert "784-16-10" in r.json()["detail"] and "no back-query" in r.json()["detail"]


# -- predict: good input ------------------------------------------------------------------------
def test_predict_json_pixels_flat_0_255(client, model):
    img = digit_pixels(1)
    r = client.post("/api/predict", json={"pixels": img.reshape(-1).tolist()})
    assert r.status_code == 200, r.text
    body = r.json()
    out = model.outputs(img[None])[0]
    assert body["digit"] == int(out.argmax())
    np.testing.assert_allclose(body["outputs"], out, rtol=1e-12)
    # the confidences `ownnet predict` prints: sigmoid outputs divided by their sum
    conf, how = confidences(model, img[None])
    np.testing.assert_allclose(body["probabilities"], conf[0], atol=1e-6)
    np.testing.assert_allclose(body["probabilities"], out / out.sum(), atol=1e-6)
    assert body["meaning"] == how and "divided by their sum" in how
    assert math.isclose(sum(body["probabilities"]), 1.0, abs_tol=1e-5)
    assert body["input"] == img.reshape(-1).tolist()
    assert body["source"] == "pixels"


def test_predict_json_rows_0_1_equals_0_255(client):
    img = digit_pixels(2)
    as_255 = client.post("/api/predict", json=img.reshape(-1).tolist()).json()  # a bare list
    rows = (img / 255.0).tolist()
    as_1 = client.post("/api/predict", json={"pixels": rows}).json()
    assert as_1["input"] == as_255["input"] == img.reshape(-1).tolist()
    assert as_1["outputs"] == as_255["outputs"]
    # an explicit scale: the same numbers read as 0..255 are a much fainter picture
    faint = client.post("/api/predict", json={"pixels": rows, "scale": 255}).json()
    assert max(faint["input"]) <= 1


def test_predict_upload_is_prepared_like_ownnet_predict(client, model, tmp_path):
    png = stroke_png()
    path = tmp_path / "one.png"
    path.write_bytes(png)
    want = prepare(path)  # what `ownnet predict one.png` feeds the network
    r = client.post("/api/predict", files={"file": ("one.png", png, "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "image"
    assert np.array_equal(np.array(body["input"], np.uint8).reshape(28, 28), want)
    assert body["digit"] == int(model.predict(want[None])[0])
    # the same bytes as a raw image/* body, and a light-on-dark JPEG
    raw = client.post("/api/predict", content=png, headers={"content-type": "image/png"})
    assert raw.json()["input"] == body["input"]
    buf = io.BytesIO()
    Image.open(io.BytesIO(stroke_png(dark_on_light=False))).save(buf, format="JPEG")
    jpeg = client.post("/api/predict", files={"file": ("x.jpg", buf.getvalue(), "image/jpeg")})
    assert jpeg.status_code == 200 and jpeg.json()["digit"] == body["digit"]


# -- predict: bad input -------------------------------------------------------------------------
def post_json_text(client, text: str):
    return client.post("/api/predict", content=text, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (
            {"pixels": [0] * 783},
            422,
            "wrong length: expected 784 numbers or 28 rows of 28, found 783",
        ),
        ({"pixels": [0] * 785}, 422, "found 785"),
        ({"pixels": [[0] * 28] * 27 + [[0] * 27]}, 422, "row 27 has 27 numbers"),
        ({"pixels": [[0] * 28] * 27}, 422, "found 27 items (a list of lists)"),
        ({"pixels": [0] * 783 + [300]}, 422, "must be in 0..255, found 0..300"),
        ({"pixels": [-1] + [0] * 783}, 422, "found -1..0"),
        ({"pixels": [0.5] * 784, "scale": 7}, 422, "'scale' must be 1"),
        ({"pixels": ["a"] + [0] * 783}, 422, "pixel 0 is a string"),
        ({"pixels": [None] * 784}, 422, "pixel 0 is null"),
        ({"pixels": [True] * 784}, 422, "pixel 0 is a bool"),
        ({"pixels": "/etc/passwd"}, 422, "'pixels' must be a list"),
        ({"path": "/etc/passwd"}, 422, "unknown field(s) ['path']"),
        ({}, 422, "missing field 'pixels'"),
    ],
)
def test_predict_bad_json(client, body, status, words):
    r = client.post("/api/predict", json=body)
    assert r.status_code == status
    assert words in r.json()["detail"]


@pytest.mark.parametrize(
    ("literal", "words"),
    [("NaN", "pixel 5 is NaN"), ("Infinity", "pixel 5 is infinite"), ("1e999", "infinite")],
)
def test_predict_nan_and_infinity(client, literal, words):
    values = ["0"] * 784
    values[5] = literal
    r = post_json_text(client, '{"pixels": [' + ",".join(values) + "]}")
    assert r.status_code == 422
    assert words in r.json()["detail"]


def test_predict_malformed_json(client):
    r = post_json_text(client, '{"pixels": [0, 0,')
    assert r.status_code == 400
    assert "not valid JSON" in r.json()["detail"]


def test_predict_not_an_image(client):
    r = client.post(
        "/api/predict", files={"file": ("digit.png", b"GIF89a? no, plain text", "image/png")}
    )
    assert r.status_code == 422
    assert "not an image" in r.json()["detail"]
    r = client.post(
        "/api/predict", content=b"\x89PNG\r\n\x1a\n broken", headers={"content-type": "image/png"}
    )
    assert r.status_code == 422
    assert "image" in r.json()["detail"]
    r = client.post("/api/predict", files={"file": ("empty.png", b"", "image/png")})
    assert r.status_code == 422 and "empty upload" in r.json()["detail"]


def test_predict_blank_image(client):
    r = client.post(
        "/api/predict", files={"file": ("blank.png", png_of(np.full((50, 50), 255)), "image/png")}
    )
    assert r.status_code == 422
    assert "no ink" in r.json()["detail"]


def test_predict_huge_image_dimensions(client):
    # 6000 x 6000 pixels that compress to a few kB: refused from the header, before decoding
    buf = io.BytesIO()
    Image.new("1", (6000, 6000), 1).save(buf, format="PNG")
    assert len(buf.getvalue()) < 2 * 2**20
    r = client.post("/api/predict", files={"file": ("big.png", buf.getvalue(), "image/png")})
    assert r.status_code == 422
    assert "too large: 6000x6000" in r.json()["detail"]


def test_predict_body_over_2mb(client):
    big = b"0" * (2 * 2**20 + 1)
    r = client.post("/api/predict", content=big, headers={"content-type": "image/png"})
    assert r.status_code == 413
    assert "too large: at most 2097152 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit still holds while streaming
        for _ in range(40):
            yield b"0" * 65536

    r = client.post("/api/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    # just under the limit is read (and then refused for what it is)
    r = client.post(
        "/api/predict",
        content=b" " * (2 * 2**20 - 10),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400


def test_predict_unsupported_content_type(client):
    r = client.post("/api/predict", content=b"hello", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert "unsupported Content-Type 'text/plain'" in r.json()["detail"]


def test_predict_multipart_without_file_field(client):
    r = client.post(
        "/api/predict", data={"image": "x"}, files={"other": ("a.png", stroke_png(), "image/png")}
    )
    assert r.status_code == 422
    assert "multipart field 'file'" in r.json()["detail"]


# -- no client-chosen paths ---------------------------------------------------------------------
def test_client_file_names_are_never_paths(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("../../evil.png", "/tmp/ownnet-evil.png", "..\\evil.png"):
        r = client.post("/api/predict", files={"file": (name, stroke_png(), "image/png")})
        assert r.status_code == 200
    assert not Path("/tmp/ownnet-evil.png").exists()
    assert list(tmp_path.iterdir()) == []
    for url in (
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static//etc/passwd",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "def create_app" not in r.text and "root:" not in r.text


def test_loopback_host_check(model_file):
    app = create_app(model_file, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/model").status_code == 200
        r = c.get("/api/model", headers={"host": "evil.example"})
        assert r.status_code == 400


# -- pages and docs -----------------------------------------------------------------------------
def test_pages_make_no_external_requests(client):
    from ownnet.web.app import STATIC

    for page in ("/", "/watch", "/docs"):
        r = client.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in r.headers["content-security-policy"]
    for path in STATIC.iterdir():
        text = path.read_text()
        # no URL with a scheme or protocol-relative URL, no @import, no font files
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), path.name
        assert "@import" not in text and "@font-face" not in text, path.name
        for ref in re.findall(r'(?:src|href)="([^"]+)"', text):
            assert ref.startswith(("/", "#", "data:")), (path.name, ref)
            if ref.startswith("/static/"):
                assert client.get(ref).status_code == 200, ref


def test_openapi_docs(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/api/predict",
        "/api/model",
        "/api/backquery.png",
        "/api/train",
        "/api/train/events",
    ):
        assert path in paths
    body = paths["/api/predict"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)
    assert "docs.js" in client.get("/docs").text


# -- training through the API (the live stream is in test_web_watch.py) --------------------------
def test_train_start_409_save_and_use(model_file, small_mnist_dir, tmp_path):
    app = create_app(model_file, data_dir=str(small_mnist_dir), save_dir=tmp_path)
    with TestClient(app) as c:
        assert c.get("/api/train").json()["status"] == "idle"
        assert c.post("/api/train/save", json={}).status_code == 404
        assert c.post("/api/train/stop", json={}).status_code == 409
        r = c.post(
            "/api/train", json={"preset": "classic", "hidden": 20, "samples": 1000, "every": 100}
        )
        assert r.status_code == 202, r.text
        assert r.json()["settings"]["hidden"] == 20
        # a second run may go on beside the first (to compare), a third may not
        slow = {"preset": "mlp", "samples": 60000, "epochs": 20, "speed": 100}
        assert c.post("/api/train", json=slow).status_code == 202
        third = c.post("/api/train", json={"preset": "mlp"})
        assert third.status_code == 409
        assert "already going on" in third.json()["detail"]
        assert c.post("/api/train/stop", json={"run": 2}).status_code == 202
        deadline = time.monotonic() + 30
        while any(
            x["status"] in ("starting", "running", "stopping")
            for x in c.get("/api/train").json()["runs"]
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        status = c.get("/api/train").json()
        assert [x["run"] for x in status["runs"]] == [1, 2]
        first = status["runs"][0]
        assert first["status"] == "done" and first["can_save"], first
        assert status["runs"][1]["status"] == "stopped"
        # a body naming a path is refused: the server picks the file
        r = c.post("/api/train/save", json={"run": 1, "path": str(tmp_path / "evil.npz")})
        assert r.status_code == 422 and "path" in r.json()["detail"]
        r = c.post("/api/train/save", json={"run": 1})
        assert r.status_code == 200, r.text
        saved = r.json()
        assert re.fullmatch(r"ownnet-web-classic-\d{8}-\d{6}-run1\.npz", saved["saved"])
        assert [p.name for p in tmp_path.iterdir()] == [saved["saved"]]
        net, meta = load_model(tmp_path / saved["saved"])
        assert meta["training"]["hidden"] == 20 and meta["training"]["samples"] == 1000
        assert saved["model"]["source"] == "trained here"
        # saving never replaces the served model: the model menu does, when asked
        assert c.get("/api/model").json()["name"] == "m.npz"
        listed = [m["name"] for m in c.get("/api/models").json()["models"]]
        assert listed == sorted(["m.npz", saved["saved"]])
        r = c.post("/api/models/use", json={"name": saved["saved"]})
        assert r.status_code == 200, r.text
        assert c.get("/api/model").json()["name"] == saved["saved"]
        img = digit_pixels(3)
        r = c.post("/api/predict", json={"pixels": img.tolist()})
        np.testing.assert_allclose(r.json()["outputs"], net.outputs(img[None])[0], rtol=1e-12)


def wait_for_end(c: TestClient) -> list[dict]:
    """Poll ``GET /api/train`` until no run is going on; returns the runs."""
    deadline = time.monotonic() + 30
    while True:
        runs = c.get("/api/train").json()["runs"]
        if not any(x["status"] in ("starting", "running", "stopping") for x in runs):
            return runs
        assert time.monotonic() < deadline, runs
        time.sleep(0.05)


def test_events_without_a_run_and_save_while_running(model_file, small_mnist_dir, tmp_path):
    app = create_app(model_file, data_dir=str(small_mnist_dir), save_dir=tmp_path)
    with TestClient(app) as c:
        r = c.get("/api/train/events")
        assert r.status_code == 404
        assert r.json()["detail"] == "no training run yet: start one with POST /api/train"
        # slow: 100 samples a second for 20 epochs of 3,000; it is going on when saved
        slow = {"preset": "classic", "hidden": 10, "samples": 3000, "epochs": 20, "speed": 100}
        assert c.post("/api/train", json=slow).status_code == 202
        deadline = time.monotonic() + 30
        while (status := c.get("/api/train").json())["events"] < 2:  # start, first report
            assert time.monotonic() < deadline, status
            time.sleep(0.02)
        assert status["status"] == "running"
        r = c.post("/api/train/save", json={})
        assert r.status_code == 409
        assert r.json()["detail"] == "run 1 is still running: stop it or wait"
        assert list(tmp_path.iterdir()) == []  # nothing written
        r = c.get("/api/train/events?run=7")
        assert r.status_code == 404 and r.json()["detail"].startswith("no run 7 kept")
        assert c.post("/api/train/stop", json={}).status_code == 202
        (run,) = wait_for_end(c)
        assert run["status"] == "stopped" and run["can_save"]
        assert c.post("/api/train/save", json={}).status_code == 200


def test_a_run_that_fails_has_nothing_to_save(model_file, tmp_path):
    """Training data that cannot be read: the run ends with the reader's error, saving is
    refused with the reason, and the server goes on."""
    bad = tmp_path / "bad-mnist"
    images, labels = tiny_arrays(20, seed=0)
    write_idx_dir(bad, {"train": (images, labels[:19]), "test": tiny_arrays(10, seed=1)})
    app = create_app(model_file, data_dir=str(bad), save_dir=tmp_path / "models")
    with TestClient(app) as c:
        assert c.post("/api/train", json={"preset": "classic", "hidden": 10}).status_code == 202
        (run,) = wait_for_end(c)
        assert run["status"] == "error" and not run["can_save"]
        assert "train-labels-idx1-ubyte.gz" in run["error"] and "19" in run["error"], run
        with c.stream("GET", "/api/train/events") as stream:
            events = list(sse_events(stream.iter_lines()))
        assert [kind for kind, _, _ in events] == ["end"]
        assert events[0][1]["status"] == "error" and events[0][1]["error"] == run["error"]
        r = c.post("/api/train/save", json={})
        assert r.status_code == 409
        assert r.json()["detail"] == "run 1 ended with error: no model to save"
        assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
        assert c.get("/api/model").status_code == 200  # the served model is still there


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"preset": "resnet"}, "preset"),
        ({"hidden": 0}, "hidden"),
        ({"samples": 10**9}, "samples"),
        ({"lr": -1}, "lr"),
        ({"data_dir": "/etc"}, "data_dir"),
    ],
)
def test_train_bad_settings(client, body, words):
    r = client.post("/api/train", json=body)
    assert r.status_code == 422
    assert words in json.dumps(r.json()["detail"])


# -- the command ----------------------------------------------------------------------------------
def test_cli_serve(model_file, tmp_path):
    """`ownnet serve MODEL --port 0` prints its address, answers there, and stops on SIGINT."""
    import signal
    import subprocess
    import sys
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, "-m", "ownnet", "serve", str(model_file), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        assert "classic, 784-40-10, sigmoid, test accuracy" in lines[0], lines
        url = re.search(r"http://127\.0\.0\.1:\d+", lines[1]).group()
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/api/model", timeout=2) as r:
                    assert json.load(r)["name"] == "m.npz"
                break
            except OSError:
                assert time.monotonic() < deadline, proc.stderr.read()
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) in (0, 130)


def test_cli_serve_errors(tmp_path, capsys):
    import socket

    from ownnet.cli import main

    assert main(["serve", str(tmp_path / "missing.npz"), "--port", "0"]) == 1
    assert "missing.npz" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err


def test_batcher_answers_waiting_requests_together():
    """Requests that wait while the network is busy go through it as one batch; a bad one
    fails alone."""
    import asyncio
    import threading

    from ownnet.web.batcher import Batcher

    release = threading.Event()
    calls = []

    class Model:
        def outputs(self, images):
            calls.append(len(images))
            if len(calls) == 1:
                release.wait(10)  # busy with the first request while the others queue up
            return images.reshape(len(images), -1)[:, :10].astype(float)

    def decode(kind, payload):
        if payload == b"bad":
            raise ValueError("bad payload")
        return np.full((28, 28), int(payload), np.uint8)

    def answer(model, requests):
        outputs = model.outputs(np.stack([image for _, image in requests]))
        return [bytes([int(out[0])]) for out in outputs]

    async def main():
        batcher = Batcher(decode, answer, threads=1)
        model = Model()
        first = asyncio.ensure_future(batcher.answer(model, "pixels", b"1"))
        while not calls:
            await asyncio.sleep(0.001)
        rest = [
            asyncio.ensure_future(batcher.answer(model, "pixels", b"%d" % i)) for i in range(2, 21)
        ]
        bad = asyncio.ensure_future(batcher.answer(model, "pixels", b"bad"))
        await asyncio.sleep(0.05)
        release.set()
        answers = await asyncio.gather(first, *rest)
        with pytest.raises(ValueError, match="bad payload"):
            await bad
        await asyncio.to_thread(batcher.close)
        return answers

    answers = asyncio.run(main())
    assert answers == [bytes([i]) for i in range(1, 21)]
    assert calls == [1, 19]
