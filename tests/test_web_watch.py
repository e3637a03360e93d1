"""Watch it learn, over a real uvicorn server: start a tiny run, read its live events, stop it."""

from __future__ import annotations

import base64
import math
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'ownnet[web]'")
pytest.importorskip("uvicorn", reason="needs the web extra: pip install 'ownnet[web]'")
import httpx  # noqa: E402

from ownnet.data.mnist import load_mnist  # noqa: E402
from ownnet.io import load_model  # noqa: E402
from ownnet.web.app import create_app  # noqa: E402
from ownnet.web.server import BackgroundServer  # noqa: E402

try:
    from web_helpers import slow_down_reports, sse_events
except ImportError:  # pragma: no cover
    from tests.web_helpers import slow_down_reports, sse_events


@pytest.fixture()
def server(small_mnist_dir: Path, tmp_path: Path):
    app = create_app(None, data_dir=str(small_mnist_dir), save_dir=tmp_path)
    with BackgroundServer(app) as srv:
        yield srv


def check_progress(events: list[dict]) -> None:
    samples = [e["samples"] for e in events]
    assert samples == sorted(samples) and samples[-1] > samples[0]
    for e in events:
        assert math.isfinite(e["loss"]) and e["loss"] > 0
        assert 0.0 <= e["accuracy"] <= 1.0
        pics = e["pictures"]
        assert len(pics["images"]) == len(pics["labels"]) == 10
        for b64 in pics["images"]:
            assert len(base64.b64decode(b64)) == 28 * 28


def test_classic_run_live_then_stop_and_save(server, small_mnist_dir, tmp_path, monkeypatch):
    # still running when stopped: 3,000 samples x 20 epochs, ~300 reports of >= 0.05 s
    slow_down_reports(monkeypatch, 0.05)
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post(
            "/api/train",
            json={"preset": "classic", "hidden": 30, "samples": 3000, "epochs": 20, "every": 1},
        )
        assert r.status_code == 202, r.text
        assert c.post("/api/train", json={}).status_code == 409
        progress, kinds, stopped_at = [], [], None
        with c.stream("GET", "/api/train/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for kind, data, ident in sse_events(stream.iter_lines()):
                kinds.append(kind)
                assert ident == len(kinds)
                if kind == "start":
                    assert data["settings"]["hidden"] == 30 and data["samples"] == 60000
                    assert data["every"] >= 1
                if kind == "progress":
                    progress.append(data)
                    if len(progress) == 3 and stopped_at is None:
                        # the server answers other requests while it trains
                        t0 = time.perf_counter()
                        assert c.get("/api/train").json()["status"] == "running"
                        assert time.perf_counter() - t0 < 2.0
                        assert c.post("/api/train/stop").status_code == 202
                        stopped_at = data["samples"]
                if kind == "end":
                    end = data
                    break
        assert kinds[0] == "start" and kinds[-1] == "end"
        assert len(progress) >= 3
        check_progress(progress)
        assert progress[0]["pictures"]["title"]
        assert end["status"] == "stopped" and end["can_save"]
        assert progress[-1]["samples"] < 60000  # it really stopped early
        status = c.get("/api/train").json()
        assert status["status"] == "stopped"
        # reconnecting replays the run from any event id
        with c.stream("GET", "/api/train/events", headers={"Last-Event-ID": "2"}) as stream:
            replay = [(k, i) for k, _, i in sse_events(stream.iter_lines())]
        assert replay[0][1] == 3 and replay[-1][0] == "end" and len(replay) == len(kinds) - 2

        saved = c.post("/api/train/save").json()
        net, meta = load_model(tmp_path / saved["saved"])
        assert meta["training"]["stopped_early"] is True
        assert meta["training"]["samples_seen"] == progress[-1]["samples"]
        test = load_mnist(small_mnist_dir, progress=False, download=False).test
        assert meta["test_accuracy"] == pytest.approx(net.score(test))
        # the last report is where it stopped: the book's cost 0.5 * sum((t - o)^2), by hand,
        # and the accuracy on the probe (the first 1,000 test images)
        probe = test.subset(min(1000, len(test)))
        out = net.outputs(probe.images)
        t = np.full(out.shape, 0.01)
        t[np.arange(len(out)), probe.labels] = 0.99
        assert progress[-1]["loss"] == pytest.approx(0.5 * np.sum((t - out) ** 2) / len(out))
        assert progress[-1]["accuracy"] == pytest.approx(net.score(probe))
        assert c.get("/api/model").json()["test_accuracy"] == pytest.approx(meta["test_accuracy"])


def test_mlp_run_to_the_end(server, small_mnist_dir, tmp_path):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post(
            "/api/train",
            json={
                "preset": "mlp",
                "hidden": 16,
                "samples": 2000,
                "epochs": 2,
                "every": 10,
                "lr": 0.003,
            },
        )
        assert r.status_code == 202, r.text
        with c.stream("GET", "/api/train/events") as stream:
            events = list(sse_events(stream.iter_lines()))
        kinds = [k for k, _, _ in events]
        progress = [d for k, d, _ in events if k == "progress"]
        end = events[-1][1]
        assert kinds[0] == "start" and kinds[-1] == "end"
        assert end["status"] == "done", end
        # an initial report, one every 10 batches of 32, and one at the end
        batches = 2 * math.ceil(2000 / 32)
        assert len(progress) == 1 + batches // 10 + (batches % 10 > 0)
        assert progress[-1]["samples"] == 4000
        check_progress(progress)
        assert progress[-1]["pictures"]["title"].startswith("first layer")
        assert all("train_loss" in p for p in progress[1:])
        # it learnt: held-out accuracy went up from the untrained start
        assert progress[-1]["accuracy"] > progress[0]["accuracy"] + 0.3
        saved = c.post("/api/train/save").json()
        net, meta = load_model(tmp_path / saved["saved"])
        assert meta["kind"] == "nn"
        test = load_mnist(small_mnist_dir, progress=False, download=False).test
        assert end["test_accuracy"] == pytest.approx(net.score(test))
        # the last report is the saved model measured on the probe (the first 1,000 test
        # images): cross-entropy -mean(log p[label]) by hand, and accuracy
        probe = test.subset(min(1000, len(test)))
        assert progress[-1]["accuracy"] == pytest.approx(net.score(probe))
        p = net.outputs(probe.images)[np.arange(len(probe)), probe.labels]
        # (float32 probabilities: near a loss of 0 only an absolute tolerance is fair)
        assert progress[-1]["loss"] == pytest.approx(-np.mean(np.log(p)), rel=1e-4, abs=1e-5)
        assert saved["model"]["description"].startswith("784-16-10")
        img = np.zeros((28, 28), np.uint8)
        img[5:23, 13:15] = 255
        answer = c.post("/api/predict", json={"pixels": img.tolist()}).json()
        np.testing.assert_allclose(answer["outputs"], net.outputs(img[None])[0], rtol=1e-6)
        assert answer["meaning"] == "softmax probabilities"
        np.testing.assert_allclose(answer["probabilities"], answer["outputs"], atol=1e-6)
