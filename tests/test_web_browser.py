"""The pages in real headless Chromium (Debian's), driven by Playwright.

Draw a vertical stroke on the canvas with mouse events and check that the page
shows a prediction and the prepared 28x28 input; start and stop a run on the
watch page. Every request the pages make must go to the server itself.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'ownnet[web]'")
pytest.importorskip("uvicorn", reason="needs the web extra: pip install 'ownnet[web]'")
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")

import httpx  # noqa: E402

from ownnet.web.app import create_app  # noqa: E402
from ownnet.web.server import BackgroundServer  # noqa: E402

try:
    from web_helpers import slow_down_reports, train_small_model
except ImportError:  # pragma: no cover
    from tests.web_helpers import slow_down_reports, train_small_model

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def server(small_mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("web-browser")
    model = train_small_model(small_mnist_dir, folder / "ownnet-model.npz", hidden=60)
    app = create_app(model, data_dir=str(small_mnist_dir))
    with BackgroundServer(app) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.requests = []
    page.errors = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    yield page
    context.close()
    foreign = [u for u in page.requests if not u.startswith((server.url, "data:", "blob:"))]
    assert foreign == [], f"requests to other places: {foreign}"
    assert page.errors == []


def preview_ink(page) -> list[int]:
    """The preview canvas' 28x28 grey values."""
    return page.evaluate(
        """() => {
            const c = document.getElementById('preview');
            const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
            const out = [];
            for (let i = 0; i < d.length; i += 4) out.push(d[i]);
            return out;
        }"""
    )


def test_draw_a_stroke(page, server, tmp_path, small_mnist_dir):
    page.goto(server.url + "/")
    page.wait_for_selector("#card dd")  # the model card is in
    box = page.locator("#pad").bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x, box["y"] + box["height"] * (0.15 + 0.7 * i / 20))
    page.mouse.up()
    page.wait_for_function("() => /^[0-9]$/.test(document.getElementById('digit').textContent)")
    page.wait_for_selector("#pad[data-state=idle]")  # the answer to the whole stroke is in
    assert page.locator("#bars .bar.best").count() == 1
    shown = int(page.inner_text("#digit"))
    # the page shows what the server answers for the picture on the pad
    data_url = page.evaluate("document.getElementById('pad').toDataURL('image/png')")
    png = base64.b64decode(data_url.split(",", 1)[1])
    answer = httpx.post(
        server.url + "/api/predict", files={"file": ("pad.png", png, "image/png")}
    ).json()
    assert shown == answer["digit"]
    assert preview_ink(page) == answer["input"]
    ink = answer["input"]
    assert sum(ink) > 0
    # a vertical stroke: ink in the middle columns, none in the outer ones
    columns = [sum(ink[r * 28 + c] for r in range(28)) for c in range(28)]
    assert columns[13] + columns[14] > 0 and columns[0] == columns[27] == 0
    if os.environ.get("OWNNET_DATA"):
        assert shown == 1  # trained on real MNIST, a stroke is a one
    page.wait_for_selector("#backquery-img", state="attached")
    page.screenshot(path=str(tmp_path / "draw.png"), full_page=True)
    assert (tmp_path / "draw.png").stat().st_size > 10_000
    page.click("#clear")
    assert page.inner_text("#digit") == "–"
    assert sum(preview_ink(page)) == 0


def test_watch_page_start_and_stop(page, server, monkeypatch):
    # 60,000 samples, ~300 reports of >= 0.1 s: Stop always finds the run going
    slow_down_reports(monkeypatch, 0.1)
    page.goto(server.url + "/watch")
    page.wait_for_function("() => document.querySelector('input[name=hidden]').value !== ''")
    page.fill("input[name=hidden]", "20")
    page.fill("input[name=samples]", "20000")
    page.fill("input[name=epochs]", "20")
    page.fill("input[name=every]", "2")
    page.click("#start")
    page.wait_for_function("() => document.querySelectorAll('#pictures canvas').length === 10")
    page.wait_for_function(
        "() => document.getElementById('run-status').textContent.includes('epoch')"
    )
    assert page.is_enabled("#stop") and not page.is_enabled("#start")
    page.click("#stop")
    page.wait_for_function(
        "() => document.getElementById('run-status').textContent.includes('stopped')"
    )
    assert httpx.get(server.url + "/api/train").json()["status"] == "stopped"
    assert page.is_enabled("#save") and page.is_enabled("#start")
    page.click("#save")
    page.wait_for_function(
        "() => document.getElementById('run-status').textContent.includes('Saved as')"
    )
    # the charts were drawn (some non-white pixels on the accuracy chart)
    drawn = page.evaluate(
        """() => {
            const c = document.getElementById('acc-chart');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return n;
        }"""
    )
    assert drawn > 1000
    card = httpx.get(server.url + "/api/model").json()
    assert card["source"] == "trained here"


def test_docs_page(page, server):
    page.goto(server.url + "/docs")
    page.wait_for_selector("section.endpoint")
    titles = page.locator("section.endpoint h3").all_inner_texts()
    assert any("/api/predict" in t and t.startswith("POST") for t in titles), titles
    assert any("/api/backquery.png" in t for t in titles)
    assert "multipart/form-data" in page.inner_text("#endpoints")
