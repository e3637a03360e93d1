"""What a client (or another web page) can send that it should not: requests from another
site, bodies that are not JSON, images and JSON made to break the server, stalled clients,
and a fuzz of request JSON against every endpoint: a 2xx or a 4xx with a message, never a 5xx.
"""

from __future__ import annotations

import io
import json
import socket
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'ownnet[web]'")
pytest.importorskip("uvicorn", reason="needs the web extra: pip install 'ownnet[web]'")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

from ownnet.web.app import create_app  # noqa: E402
from ownnet.web.server import BackgroundServer  # noqa: E402

try:
    from web_helpers import digit_pixels, train_small_model
except ImportError:  # pragma: no cover
    from tests.web_helpers import digit_pixels, train_small_model

#: every endpoint that takes a body, and one good body for it
POSTS = {
    "/api/predict": {"pixels": [0] * 784},
    "/api/inside": {"pixels": [0] * 784},
    "/api/dream": {"pixels": [0] * 784, "steps": 2},
    "/api/teach": {"pixels": [0] * 784, "digit": 1},
    "/api/teach/undo": {},
    "/api/teach/reset": {},
    "/api/models/use": {"name": "m.npz"},
    "/api/models/save": {"name": "copy.npz"},
    "/api/train": {"preset": "classic", "samples": 100},
    "/api/train/stop": {},
    "/api/train/speed": {"speed": 5},
    "/api/train/save": {},
}
#: the endpoints that change something: JSON only
STATE_CHANGING = [p for p in POSTS if p not in ("/api/predict",)]


@pytest.fixture(scope="module")
def model_file(small_mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_small_model(small_mnist_dir, tmp_path_factory.mktemp("guard") / "m.npz", 20)


@pytest.fixture(scope="module")
def client(model_file: Path, small_mnist_dir: Path):
    with TestClient(create_app(model_file, data_dir=str(small_mnist_dir))) as c:
        yield c


def folder_state(folder: Path) -> list[tuple[str, int]]:
    return sorted((p.name, p.stat().st_size) for p in folder.iterdir())


# -- requests from another site -----------------------------------------------------------------
FOREIGN = [
    {"origin": "http://evil.example"},
    {"origin": "http://testserver:9999"},
    {"origin": "null"},
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},  # another port of 127.0.0.1 is the same site
    {"sec-fetch-site": "same-site", "origin": "http://testserver"},
]


@pytest.mark.parametrize("path", sorted(POSTS))
def test_requests_from_another_site_are_refused(client, model_file, path):
    before = folder_state(model_file.parent)
    for headers in FOREIGN:
        r = client.post(path, json=POSTS[path], headers=headers)
        assert r.status_code == 403, (path, headers, r.text)
        assert "refused" in r.json()["detail"]
    assert client.get("/api/train").json()["run"] is None  # nothing started
    assert folder_state(model_file.parent) == before  # nothing written
    assert client.get("/api/model").json()["taught"] == 0  # nothing learnt


def test_requests_from_the_own_page_pass(client):
    own = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    r = client.post("/api/predict", json={"pixels": digit_pixels().tolist()}, headers=own)
    assert r.status_code == 200
    r = client.post("/api/teach/undo", json={}, headers={"sec-fetch-site": "none"})
    assert r.status_code == 409  # past the guard: nothing to undo


@pytest.mark.parametrize("path", STATE_CHANGING)
@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b'{"preset": "classic"}', "text/plain"),  # what a foreign form or no-cors fetch sends
        (b"preset=classic", "application/x-www-form-urlencoded"),
        (b'{"preset": "classic"}', None),
    ],
)
def test_state_changes_need_json(client, path, content, ctype):
    headers = {"content-type": ctype} if ctype else {}
    r = client.post(path, content=content, headers=headers)
    assert r.status_code == 415, (path, r.text)
    assert "expected a JSON body" in r.json()["detail"]
    assert client.get("/api/train").json()["run"] is None


# -- bodies made to break the server -------------------------------------------------------------
def png_header(width: int, height: int) -> bytes:
    """A PNG of 45 bytes that declares a picture of width x height and holds no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_a_tiny_png_declaring_a_huge_picture(client):
    for path in ("/api/predict", "/api/prepare"):
        r = client.post(
            path, content=png_header(20000, 20000), headers={"content-type": "image/png"}
        )
        assert r.status_code == 422, r.text
        assert "too large" in r.json()["detail"]


@pytest.mark.parametrize("path", sorted(POSTS))
def test_deeply_nested_json(client, path):
    for depth in (2000, 100000):
        deep = "[" * depth + "]" * depth
        r = client.post(path, content=deep, headers={"content-type": "application/json"})
        assert r.status_code in (400, 422), (path, r.text)
        assert "nested too deeply" in r.json()["detail"] or r.status_code == 422


@pytest.mark.parametrize("where", [0, 400, 783])
def test_json_true_is_not_a_pixel(client, where):
    pixels = [0] * 784
    pixels[where] = True
    r = client.post("/api/predict", json={"pixels": pixels})
    assert r.status_code == 422 and f"pixel {where} is a bool" in r.json()["detail"]
    rows = np.zeros((28, 28), int).tolist()
    rows[3][4] = False
    r = client.post("/api/inside", json={"pixels": rows})
    assert r.status_code == 422 and "pixel 88 is a bool" in r.json()["detail"]


def test_an_unexpected_error_is_a_json_answer_and_keeps_the_connection(model_file, monkeypatch):
    """The safety net: an error no handler expected is answered (500, JSON, what it was) on
    a connection that stays open for the next request."""
    from ownnet.web.served import ServedModel

    def broken(self):
        raise RuntimeError("card drawer stuck")

    app = create_app(model_file)
    monkeypatch.setattr(ServedModel, "card", broken)
    with BackgroundServer(app) as srv:
        host, port = srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            stream = s.makefile("rb")
            for path, want in (("/api/model", 500), ("/api/train/presets", 200)):
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
                status = int(stream.readline().split()[1])
                headers = {}
                while (line := stream.readline()) not in (b"\r\n", b""):
                    k, _, v = line.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = json.loads(stream.read(int(headers["content-length"])))
                assert status == want, body
                assert headers.get("connection") != "close"
                if want == 500:
                    assert "RuntimeError: card drawer stuck" in body["detail"]


# -- stalled clients ------------------------------------------------------------------------------
def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within ``seconds`` (reading whatever it sends)."""
    sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return False


def test_stalled_clients_are_disconnected(model_file, small_mnist_dir):
    app = create_app(model_file, data_dir=str(small_mnist_dir))
    with BackgroundServer(app, request_timeout=0.5) as srv:
        host, port = srv.url.removeprefix("http://").split(":")
        stalls = [
            b"",  # connects, says nothing
            b"GET /api/model HTTP/1.1\r\nHo",  # half a header
            b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            b"Content-Length: 100000\r\n\r\n" + b"\x89PNG" * 10,  # a body that stops
        ]
        for data in stalls:
            with socket.create_connection((host, int(port)), timeout=5) as s:
                s.sendall(data)
                assert closed_within(s, 5.0), data[:30]
        # a request that is all in may take its time: a live event stream outlasts the limit
        import httpx

        with httpx.Client(base_url=srv.url, timeout=10) as c:
            body = {"preset": "classic", "hidden": 10, "samples": 100, "every": 1, "speed": 8}
            assert c.post("/api/train", json=body).status_code == 202
            t0, n = time.monotonic(), 0
            with c.stream("GET", "/api/train/events") as stream:
                for line in stream.iter_lines():
                    n += line.startswith("event: progress")
                    if time.monotonic() - t0 > 1.5:
                        break
            assert n >= 5
            c.post("/api/train/stop", json={})


# -- fuzz -----------------------------------------------------------------------------------------
KEYS = ["pixels", "scale", "digit", "steps", "name", "run", "speed", "preset", "hidden", "lr",
        "samples", "epochs", "every", "seed"]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def make_pixels(seed: int, flaw: str) -> list:
    """784 pixels (or 28 rows) with one flaw or none, made by NumPy (hypothesis draws only
    the seed and the flaw: drawing 784 values one by one is slow)."""
    rng = np.random.default_rng(seed)
    flat: list = rng.integers(0, 256, 784).tolist()
    i = int(rng.integers(0, 784))
    if flaw == "length":
        flat = flat[: int(rng.integers(0, 790))]
    elif flaw in ("bool", "null", "text", "nan", "huge", "negative", "list"):
        flat[i] = {"bool": True, "null": None, "text": "x", "nan": float("nan"),
                   "huge": 1e300, "negative": -1, "list": [1]}[flaw]  # fmt: skip
    elif flaw == "unit":
        flat = (rng.random(784) * rng.choice([1.0, 1.5])).tolist()
    if flaw == "rows":
        rows = [flat[r * 28 : (r + 1) * 28] for r in range(28)]
        rows[int(rng.integers(0, 28))] = rows[0][: int(rng.integers(0, 30))]
        return rows
    return flat


FLAWS = [
    "none",
    "length",
    "bool",
    "null",
    "text",
    "nan",
    "huge",
    "negative",
    "list",
    "unit",
    "rows",
]
pixels = st.builds(make_pixels, st.integers(0, 2**32 - 1), st.sampled_from(FLAWS))
bodies = st.one_of(
    values,
    st.dictionaries(st.sampled_from(KEYS), values | pixels | scalars, max_size=5),
    st.fixed_dictionaries({"pixels": pixels}, optional={"digit": scalars, "steps": scalars}),
)


@pytest.mark.parametrize("path", sorted(POSTS))
def test_fuzz_request_json(model_file, small_mnist_dir, tmp_path, path):
    """Random JSON (and random bytes) against every endpoint: always a 2xx, or a 4xx that
    says what was wrong. (Requests go straight to the app in one event loop, which is
    much faster than through a server or TestClient.)"""
    import asyncio

    import httpx

    app = create_app(model_file, data_dir=str(small_mnist_dir), save_dir=tmp_path)
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver")

    def post(content: bytes | str):
        r = loop.run_until_complete(
            client.post(path, content=content, headers={"content-type": "application/json"})
        )
        assert r.status_code < 500, (path, r.status_code, r.text[:300])
        if r.status_code >= 400:
            detail = r.json()["detail"]
            assert detail and isinstance(detail, str), r.text[:300]

    @settings(
        max_examples=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=bodies, raw=st.binary(max_size=64))
    def fuzz(body, raw):
        post(json.dumps(body, allow_nan=True))
        post(raw)

    try:
        fuzz()
    finally:
        loop.run_until_complete(client.post("/api/train/stop", json={}))
        loop.run_until_complete(client.aclose())
        loop.close()
        app.state.web.shutdown()


def test_uploads_that_are_not_images(client):
    buf = io.BytesIO()
    Image.new("1", (8, 8), 1).save(buf, format="PNG")
    cases = [
        (buf.getvalue()[:30], "image/png"),  # cut short
        (b"GIF89a" + b"\x00" * 20, "image/gif"),
        (b"", "image/png"),
    ]
    for data, ctype in cases:
        r = client.post("/api/predict", content=data, headers={"content-type": ctype})
        assert r.status_code == 422, r.text
