"""Watch it learn, over a real uvicorn server: live events, slow motion, two runs side by
side, stop, save and use."""

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
from conftest import floor_for_data  # noqa: E402

from ownnet.book import INPUTS as SCALE  # noqa: E402
from ownnet.book import book_targets as targets_for  # noqa: E402
from ownnet.classic import Network as Classic  # noqa: E402
from ownnet.data.mnist import load_mnist  # noqa: E402
from ownnet.io import load_model  # noqa: E402
from ownnet.web.app import create_app  # noqa: E402
from ownnet.web.events import EventLog  # noqa: E402
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


def test_classic_run_live_then_stop_save_and_use(server, small_mnist_dir, tmp_path, monkeypatch):
    # still running when stopped: 3,000 samples x 20 epochs, ~400 reports of >= 0.05 s
    slow_down_reports(monkeypatch, 0.05)
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post(
            "/api/train",
            json={"preset": "classic", "hidden": 30, "samples": 3000, "epochs": 20, "every": 1},
        )
        assert r.status_code == 202, r.text
        progress, kinds, stopped_at = [], [], None
        with c.stream("GET", "/api/train/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for kind, data, ident in sse_events(stream.iter_lines()):
                kinds.append(kind)
                assert ident == len(kinds)
                if kind == "start":
                    assert data["settings"]["hidden"] == 30 and data["samples"] == 60000
                    assert data["unit"] == "sample" and data["batch"] == 1
                    assert data["every"] == math.ceil(60000 / 400)  # full speed: <= 400 reports
                if kind == "progress":
                    progress.append(data)
                    if len(progress) == 3 and stopped_at is None:
                        # the server answers other requests while it trains
                        t0 = time.perf_counter()
                        assert c.get("/api/train").json()["status"] == "running"
                        assert time.perf_counter() - t0 < 2.0
                        assert c.post("/api/train/stop", json={}).status_code == 202
                        stopped_at = data["samples"]
                if kind == "end":
                    end = data
                    break
        assert kinds[0] == "start" and kinds[-1] == "end"
        assert len(progress) >= 3
        check_progress(progress)
        assert progress[0]["pictures"]["title"].startswith("back query")
        assert end["status"] == "stopped" and end["can_save"]
        assert progress[-1]["samples"] < 60000  # it really stopped early
        assert c.get("/api/train").json()["status"] == "stopped"
        # reconnecting replays the run from any event id
        with c.stream("GET", "/api/train/events", headers={"Last-Event-ID": "2"}) as stream:
            replay = [(k, i) for k, _, i in sse_events(stream.iter_lines())]
        assert replay[0][1] == 3 and replay[-1][0] == "end" and len(replay) == len(kinds) - 2

        saved = c.post("/api/train/save", json={}).json()
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
        # saving did not load it: no model until the model menu chooses it
        assert c.get("/api/model").status_code == 404
        assert c.post("/api/models/use", json={"name": saved["saved"]}).status_code == 200
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
        assert events[0][1]["unit"] == "batch" and events[0][1]["batch"] == 32
        assert end["status"] == "done", end
        # an initial report, then one every 10 batches of 32 (320 samples) and at the end
        # of each epoch
        assert len(progress) == 1 + 2 * math.ceil(2000 / 320)
        assert progress[-1]["samples"] == 4000
        check_progress(progress)
        assert progress[-1]["pictures"]["title"].startswith("first layer")
        assert all("train_loss" in p for p in progress[1:])
        # it learnt: held-out accuracy went up from the untrained start
        # measured 0.098 -> 0.852 on real MNIST, 0.106 -> 1.0 on the stand-in digits
        assert progress[0]["accuracy"] < 0.2
        assert progress[-1]["accuracy"] >= floor_for_data(real=0.82, synthetic=0.97)
        saved = c.post("/api/train/save", json={"run": 1}).json()
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
        assert c.post("/api/models/use", json={"name": saved["saved"]}).status_code == 200
        img = np.zeros((28, 28), np.uint8)
        img[5:23, 13:15] = 255
        answer = c.post("/api/predict", json={"pixels": img.tolist()}).json()
        np.testing.assert_allclose(answer["outputs"], net.outputs(img[None])[0], rtol=1e-6)
        assert answer["meaning"] == "softmax probabilities"
        np.testing.assert_allclose(answer["probabilities"], answer["outputs"], atol=1e-6)


def test_slow_motion_one_sample_at_a_time(server, small_mnist_dir, tmp_path):
    """At 10 samples a second the book's network learns sample by sample through its own
    train(); a report per sample arrives steadily, no faster than the speed, each showing
    the sample and the answer before it was learnt; the speed can change while it runs."""
    speed = 10.0
    with httpx.Client(base_url=server.url, timeout=30) as c:
        settings = {"preset": "classic", "hidden": 20, "samples": 100, "every": 1, "seed": 3}
        r = c.post("/api/train", json={**settings, "speed": speed})
        assert r.status_code == 202, r.text
        progress, arrivals = [], []
        with c.stream("GET", "/api/train/events?run=1") as stream:
            for kind, data, _ in sse_events(stream.iter_lines()):
                if kind == "progress":
                    progress.append(data)
                    arrivals.append(time.perf_counter())
                    if len(progress) == 16:
                        r = c.post("/api/train/speed", json={"speed": None})
                        assert r.status_code == 200 and r.json()["settings"]["speed"] is None
                if kind == "end":
                    break
        assert [p["samples"] for p in progress[:16]] == list(range(16))
        slow = progress[1:16]
        assert all(p["speed"] == speed for p in slow)
        # steady: 15 samples at 10 per second take at least 1.4 s
        assert arrivals[15] - arrivals[1] >= 14 / speed - 0.05
        train = load_mnist(small_mnist_dir, progress=False, download=False).train.subset(100)
        order = np.random.default_rng(3).permutation(100)
        for p, i in zip(slow, order[:15], strict=True):
            assert p["sample"]["label"] == int(train.labels[i])
            assert base64.b64decode(p["sample"]["image"]) == train.images[i].tobytes()
        assert progress[-1]["samples"] == 100  # then as fast as it goes, to the end
        # the same network as the book's train(), sample by sample, in the same order
        saved = c.post("/api/train/save", json={}).json()
        net, _ = load_model(tmp_path / saved["saved"])
        book = Classic(784, 20, 10, 0.1, seed=3)
        for i in order:
            book.train(SCALE[train.images[i].reshape(-1)], targets_for(train.labels[i : i + 1])[0])
        np.testing.assert_allclose(net.wih, book.wih, rtol=0, atol=1e-9)
        np.testing.assert_allclose(net.who, book.who, rtol=0, atol=1e-9)


def test_two_runs_side_by_side(server, small_mnist_dir):
    """Learning rate 0.1 against 0.6 at once: each run streams its own events and trains
    exactly the network one fit() with its settings trains."""
    with httpx.Client(base_url=server.url, timeout=30) as c:
        ids = []
        for lr in (0.1, 0.6):
            body = {"preset": "classic", "hidden": 15, "samples": 1000, "every": 100, "lr": lr}
            r = c.post("/api/train", json=body)
            assert r.status_code == 202, r.text
            ids.append(r.json()["run"])
        ends = {}
        for run in ids:
            with c.stream("GET", f"/api/train/events?run={run}") as stream:
                events = list(sse_events(stream.iter_lines()))
            assert events[0][1]["run"] == run and events[0][1]["settings"]["lr"] in (0.1, 0.6)
            ends[run] = events[-1][1]
        assert all(e["status"] == "done" for e in ends.values())
        runs = c.get("/api/train").json()["runs"]
        assert [x["run"] for x in runs] == ids
        assert [x["settings"]["lr"] for x in runs] == [0.1, 0.6]
        train = load_mnist(small_mnist_dir, progress=False, download=False).train.subset(1000)
        for run in ids:
            assert c.post("/api/train/save", json={"run": run}).status_code == 200
        for x, lr in zip(c.get("/api/models").json()["models"], (0.1, 0.6), strict=True):
            assert c.post("/api/models/use", json={"name": x["name"]}).status_code == 200
            card = c.get("/api/model").json()
            assert card["settings"]["lr"] == lr
            # the same steps in the same pieces (between reports, 100 samples): at lr 0.6 the
            # last bits of other pieces would grow to 1e-6 (the book's own train() too)
            book = Classic(784, 15, 10, lr, seed=0)
            order = np.random.default_rng(0).permutation(len(train))
            for start in range(0, len(train), 100):
                book.train_on_batch(train.subset(order[start : start + 100]))
            img = train.images[:1]
            out = c.post("/api/predict", json={"pixels": img[0].tolist()}).json()["outputs"]
            np.testing.assert_allclose(out, book.outputs(img)[0], rtol=1e-9)
        assert c.post("/api/train/save", json={"run": 9}).status_code == 404


def test_event_log_keeps_the_start_event():
    log = EventLog(maxlen=3)
    for i in range(10):
        log.publish("start" if i == 0 else "progress", {"i": i})
    events, closed = log.since(0)
    assert [e.id for e in events] == [1, 8, 9, 10] and not closed
    assert [e.id for e in log.since(8)[0]] == [9, 10]
