"""The inside view's API: every layer, saliency, class pictures, dreams and the 28x28 input,
checked against :mod:`ownnet.inspect` and :func:`ownnet.data.images.prepare`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'ownnet[web]'")
pytest.importorskip("multipart", reason="needs the web extra: pip install 'ownnet[web]'")

from fastapi.testclient import TestClient  # noqa: E402

from ownnet.data.images import prepare  # noqa: E402
from ownnet.inspect.activations import activations  # noqa: E402
from ownnet.inspect.backquery import backquery_digits  # noqa: E402
from ownnet.inspect.saliency import saliency  # noqa: E402
from ownnet.io import load_model  # noqa: E402
from ownnet.web import inside  # noqa: E402
from ownnet.web.app import create_app  # noqa: E402
from ownnet.web.served import ServedModel  # noqa: E402

try:
    from web_helpers import (
        digit_pixels,
        from_bytes,
        save_small_cnn,
        stroke_png,
        train_small_model,
    )
except ImportError:  # pragma: no cover
    from tests.web_helpers import (
        digit_pixels,
        from_bytes,
        save_small_cnn,
        stroke_png,
        train_small_model,
    )


@pytest.fixture(scope="module")
def files(small_mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inside-models")
    return {
        "book": train_small_model(small_mnist_dir, folder / "book.npz"),
        "cnn": save_small_cnn(folder / "cnn.npz"),
    }


@pytest.fixture(scope="module", params=["book", "cnn"])
def case(request, files):
    path = files[request.param]
    with TestClient(create_app(path)) as c:
        yield request.param, c, load_model(path)[0]


def close_enough(sent: list[float], exact: np.ndarray) -> None:
    """Sent values are the exact ones to 3 significant digits of the largest."""
    exact = np.asarray(exact, dtype=np.float64).reshape(-1)
    top = max(float(np.abs(exact).max()), 1e-30)
    np.testing.assert_allclose(sent, exact, rtol=0, atol=top * 6e-3)


def test_inside_is_every_layer_and_the_saliency(case):
    name, c, model = case
    img = digit_pixels(1)
    r = c.post("/api/inside", json={"pixels": img.tolist(), "digit": None})
    assert r.status_code == 200, r.text
    body = r.json()
    picture = img[None] / 255.0
    acts = activations(model, picture)
    assert [x["name"] for x in body["layers"]] == [a.layer.name for a in acts]
    card = c.get("/api/model").json()
    assert [{k: x[k] for k in ("name", "kind", "shape")} for x in body["layers"]] == card["layers"]
    for sent, a in zip(body["layers"], acts, strict=True):
        assert sent["shape"] == list(a.layer.shape)
        close_enough(sent["values"], a.values[0])
    predicted = c.post("/api/predict", json={"pixels": img.tolist()}).json()
    assert body["digit"] == predicted["digit"] == body["saliency"]["digit"]
    np.testing.assert_allclose(body["probabilities"], predicted["probabilities"], atol=2e-6)
    close_enough(body["saliency"]["values"], saliency(model, picture).values[0])
    if name == "cnn":
        assert [x["kind"] for x in body["layers"]] == [
            "input", "conv", "pool", "conv", "pool", "dense", "output"
        ]  # fmt: skip
    # the map for another digit
    other = (body["digit"] + 3) % 10
    r = c.post("/api/inside", json={"pixels": (img / 255).tolist(), "scale": 1, "digit": other})
    assert r.json()["saliency"]["digit"] == other
    close_enough(
        r.json()["saliency"]["values"], saliency(model, picture, np.array([other])).values[0]
    )


def test_inside_in_bytes_is_the_same_answer(case):
    _, c, _ = case
    img = digit_pixels(7)
    body = {"pixels": img.tolist(), "digit": 2}
    as_json = c.post("/api/inside", json=body).json()
    r = c.post("/api/inside?encoding=uint8", json=body)
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    as_bytes = from_bytes(r.content)
    assert len(r.content) < len(c.post("/api/inside", json=body).content) / 2.5
    for key in ("digit", "probabilities", "meaning", "model"):
        assert as_bytes[key] == as_json[key]
    assert as_bytes["saliency"]["digit"] == 2
    for a, b in zip(
        [*as_bytes["layers"], as_bytes["saliency"]], [*as_json["layers"], as_json["saliency"]]
    ):
        assert {k: a[k] for k in ("name", "kind", "shape") if k in b} == {
            k: b[k] for k in ("name", "kind", "shape") if k in b
        }
        span = max(np.ptp(b["values"]), 2 * np.abs(b["values"]).max(), 1e-30)
        np.testing.assert_allclose(a["values"], b["values"], rtol=0, atol=span * 0.006)
    # what was 0 is 0 again: pixels without ink have no share in the saliency map
    no_ink = img.reshape(-1) == 0
    assert np.all(as_bytes["saliency"]["values"][no_ink] == 0)
    assert c.post("/api/inside?encoding=png", json=body).status_code == 422


def test_inside_answers_in_batches_as_one_by_one(files):
    served = ServedModel.from_file(files["cnn"])
    requests = [("inside", (digit_pixels(s), d)) for s, d in ((1, None), (2, 4), (3, None))]
    together = [json.loads(a) for a in inside.answer(served, requests)]
    alone = [json.loads(inside.answer(served, [req])[0]) for req in requests]
    for a, b in zip(together, alone, strict=True):
        assert a["digit"] == b["digit"] and a["saliency"]["digit"] == b["saliency"]["digit"]
        # float32 sums in another order: the same to a unit of the last digit sent
        for x, y in zip(a["layers"], b["layers"], strict=True):
            top = max(np.abs(y["values"]).max(), 1e-30)
            np.testing.assert_allclose(x["values"], y["values"], rtol=0, atol=top * 1.1e-2)
    assert requests[1][1][1] == 4 and together[1]["saliency"]["digit"] == 4


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"pixels": [0] * 784, "digit": 10}, "'digit' must be a digit 0..9 or null, found 10"),
        ({"pixels": [0] * 784, "digit": "5"}, "found '5'"),
        ({"pixels": [0] * 784, "digit": True}, "found True"),
        ({"pixels": [0] * 784, "digit": 2.0}, "found 2.0"),
        ({"pixels": [0] * 783}, "found 783 items"),
        ({"digit": 3}, "missing field 'pixels'"),
        ({"pixels": [0] * 784, "layer": "conv1"}, "unknown field(s) ['layer']"),
        ([0] * 784, "expected an object with 'pixels'"),
    ],
)
def test_inside_bad_requests(case, body, words):
    _, c, _ = case
    r = c.post("/api/inside", json=body)
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]


def test_inside_wants_json(case):
    _, c, _ = case
    r = c.post("/api/inside", content=b"pixels=1", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and "expected a JSON body" in r.json()["detail"]
    r = c.post("/api/inside", files={"file": ("x.png", stroke_png(), "image/png")})
    assert r.status_code == 415


def test_class_pictures(case):
    name, c, model = case
    body = c.get("/api/pictures").json()
    assert len(body["images"]) == 10 and all(len(im) == 784 for im in body["images"])
    assert len(body["read_as"]) == 10
    if name == "book":
        assert body["method"] == "backquery"
        bq = backquery_digits(model)
        np.testing.assert_allclose(body["images"], bq.images.reshape(10, -1) / 255, atol=6e-4)
        assert body["read_as"] == bq.predicted.tolist()
    else:
        assert body["method"] == "maximize"
        images = np.array(body["images"])
        assert np.allclose(images.max(axis=1), 1.0)
        read = model.outputs(np.rint(images * 255).astype(np.uint8)).argmax(axis=1)
        assert (read == np.array(body["read_as"])).mean() >= 0.9  # sent rounded to 3 decimals
    assert c.get("/api/pictures").content == c.get("/api/pictures").content  # worked out once


def test_dream(case):
    name, c, _ = case
    img = digit_pixels(2)
    r = c.post("/api/dream", json={"pixels": img.tolist(), "steps": 5})
    assert r.status_code == 200, r.text
    layers = r.json()["layers"]
    names = [x["name"] for x in c.get("/api/model").json()["layers"]][1:]
    assert [x["name"] for x in layers] == names
    for x in layers:
        dreamt = np.array(x["image"])
        assert dreamt.shape == (784,) and 0 <= dreamt.min() and dreamt.max() <= 1
        assert np.abs(dreamt - img.reshape(-1) / 255).max() > 0.01
        assert x["end"] > x["start"]
    for steps, words in ((0, "'steps' must be 1..200"), (201, "found 201"), (True, "found True")):
        r = c.post("/api/dream", json={"pixels": img.tolist(), "steps": steps})
        assert r.status_code == 422 and words in r.json()["detail"]


def test_prepare(case, tmp_path):
    _, c, _ = case
    png = stroke_png()
    (tmp_path / "one.png").write_bytes(png)
    want = prepare(tmp_path / "one.png")
    r = c.post("/api/prepare", files={"file": ("one.png", png, "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    np.testing.assert_allclose(body["pixels"], want.reshape(-1) / 255.0, atol=1e-6)
    top, left, bottom, right = body["box"]
    assert body["size"] == [240, 200]
    assert 0 <= top < bottom <= 240 and 0 <= left < right <= 200 and right - left < 40
    raw = c.post("/api/prepare", content=png, headers={"content-type": "image/png"})
    assert raw.json() == body
    assert c.post("/api/prepare", json={"pixels": [0] * 784}).status_code == 415
    r = c.post("/api/prepare", files={"file": ("x.png", b"not a picture", "image/png")})
    assert r.status_code == 422 and "not an image" in r.json()["detail"]


def test_no_model_loaded(small_mnist_dir, tmp_path):
    with TestClient(create_app(None, save_dir=tmp_path)) as c:
        for method, url, body in (
            ("post", "/api/inside", {"pixels": [0] * 784}),
            ("get", "/api/pictures", None),
            ("post", "/api/dream", {"pixels": [0] * 784}),
            ("post", "/api/teach", {"pixels": [0] * 784, "digit": 1}),
        ):
            r = c.request(method.upper(), url, json=body)
            assert r.status_code == 409 and "no model loaded" in r.json()["detail"], url
