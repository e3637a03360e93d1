"""The pages in real headless Chromium (Debian's), driven by Playwright.

Draw strokes and see every layer and the saliency map change; ask for another digit's
map; teach the network a drawing and undo it; the pad's undo, eraser and pen width; the
phone layout at 390 px; the model menu; the watch page in slow motion, its replay and two
runs side by side; and a page of another origin that tries to make the server do things.
Every request the pages make must go to the server itself. Tests wait for conditions,
never for fixed times.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the web extra: pip install 'ownnet[web]'")
pytest.importorskip("uvicorn", reason="needs the web extra: pip install 'ownnet[web]'")
playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")

import httpx  # noqa: E402

from ownnet.web.app import create_app  # noqa: E402
from ownnet.web.server import BackgroundServer  # noqa: E402

try:
    from web_helpers import from_bytes, train_small_model
except ImportError:  # pragma: no cover
    from tests.web_helpers import from_bytes, train_small_model

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def folder(small_mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web-browser")
    train_small_model(small_mnist_dir, folder / "book.npz", hidden=60)
    from ownnet.io import save_model
    from ownnet.nn import Network

    save_model(folder / "mlp.npz", Network.mlp((32,), dropout=0.0, seed=1))
    return folder


@pytest.fixture(scope="module")
def server(folder: Path, small_mnist_dir: Path):
    app = create_app(folder / "book.npz", data_dir=str(small_mnist_dir))
    with BackgroundServer(app) as srv:
        yield srv


@pytest.fixture(autouse=True)
def fresh_model(server, folder):
    """Every test starts with book.npz as it is in its file, and only those files."""
    files = sorted(p.name for p in folder.iterdir())
    yield
    httpx.post(server.url + "/api/train/stop", json={})
    assert httpx.post(server.url + "/api/models/use", json={"name": "book.npz"}).status_code == 200
    for p in folder.iterdir():
        if p.name not in files:
            p.unlink()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def new_page(browser, server, **options):
    context = browser.new_context(**{"viewport": {"width": 1100, "height": 900}, **options})
    page = context.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    return page


@pytest.fixture()
def page(browser, server):
    page = new_page(browser, server)
    yield page
    page.context.close()
    foreign = [u for u in page.requests if not u.startswith((server.url, "data:", "blob:"))]
    assert foreign == [], f"requests to other places: {foreign}"
    assert page.errors == []


def stroke(page, points, steps: int = 6) -> None:
    """Draw through ``points`` (fractions of the pad) and wait for the answer to all of it."""
    box = page.locator("#pad").bounding_box()
    at = [(box["x"] + box["width"] * x, box["y"] + box["height"] * y) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for p in at[1:]:
        page.mouse.move(*p, steps=steps)
    page.mouse.up()
    page.wait_for_selector("#pad[data-state=idle]")


ONE = [(0.5, 0.15), (0.5, 0.85)]
BAR = [(0.25, 0.5), (0.75, 0.5)]


def canvas_values(page, selector: str) -> list[int]:
    """The red channel of a canvas, pixel by pixel."""
    return page.evaluate(
        """(sel) => {
            const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const out = [];
            for (let i = 0; i < d.length; i += 4) out.push(d[i]);
            return out;
        }""",
        selector,
    )


def inside(server, pixels: list[float], digit: int | None = None) -> dict:
    """The inside view the page gets for ``pixels`` (in bytes, decoded)."""
    body = {"pixels": pixels, "scale": 1, "digit": digit}
    return from_bytes(httpx.post(server.url + "/api/inside?encoding=uint8", json=body).content)


def layer_sums(page) -> dict[str, float]:
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#layers [data-layer]')]"
        ".map(f => [f.dataset.layer, Number(f.dataset.sum)]))"
    )


def test_draw_strokes_and_watch_the_inside_change(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#card dd")
    stroke(page, ONE)
    page.wait_for_function("() => /^[0-9]$/.test(document.getElementById('digit').textContent)")
    first = layer_sums(page)
    assert list(first) == ["input", "hidden1", "output"]
    # the page shows what the server answers for the 28x28 it shows
    pixels = [v / 255 for v in canvas_values(page, "#preview")]
    assert sum(pixels) > 0
    answer = inside(server, pixels)
    assert int(page.inner_text("#digit")) == answer["digit"]
    hidden = [x for x in answer["layers"] if x["name"] == "hidden1"][0]
    assert first["hidden1"] == pytest.approx(sum(hidden["values"]), abs=1e-3)
    # ... and for the pad's own picture, prepared as `ownnet predict` prepares it
    data_url = page.evaluate("document.getElementById('pad').toDataURL('image/png')")
    png = base64.b64decode(data_url.split(",", 1)[1])
    predicted = httpx.post(
        server.url + "/api/predict", files={"file": ("pad.png", png, "image/png")}
    ).json()
    assert predicted["input"] == canvas_values(page, "#preview")
    if os.environ.get("OWNNET_DATA"):
        assert answer["digit"] == 1  # trained on real MNIST, a stroke is a one
    # a second stroke changes every layer
    stroke(page, BAR)
    second = layer_sums(page)
    assert all(second[k] != first[k] for k in ("input", "hidden1", "output"))
    assert page.locator("#class-pictures figure").count() == 10
    page.click("#clear")
    page.wait_for_function("() => document.getElementById('digit').textContent === '–'")
    assert page.locator("#layers [data-layer]").count() == 0


def test_saliency_map_for_the_top_answer_and_another_digit(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#card dd")
    stroke(page, ONE)
    top = int(page.inner_text("#digit"))
    assert f"for {top} (the top answer)" in page.inner_text("#saliency-caption")
    red = canvas_values(page, "#saliency")
    assert any(v != 255 for v in red)  # coloured where the ink is
    other = (top + 4) % 10
    page.click(f"#saliency-digits [data-digit='{other}']")
    page.wait_for_function(
        f"() => document.getElementById('saliency-caption').textContent.startsWith('for {other}')"
    )
    pixels = [v / 255 for v in canvas_values(page, "#preview")]
    answer = inside(server, pixels, other)
    shown = float(page.get_attribute("#saliency", "data-sum"))
    assert shown == pytest.approx(sum(answer["saliency"]["values"]), abs=1e-3)
    assert answer["saliency"]["digit"] == other


def test_teach_it_back_then_undo(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#teach-panel:not([hidden])")
    stroke(page, ONE)
    was = int(page.inner_text("#digit"))
    target = (was + 1) % 10
    pixels = [v / 255 for v in canvas_values(page, "#preview")]
    page.click(f"#teach-digits [data-digit='{target}']")
    page.wait_for_selector("#teach-result:not([hidden])")
    page.wait_for_function("() => !document.getElementById('teach-undo').disabled")
    assert f"Learnt as {target}" in page.inner_text("#teach-text")
    page.wait_for_function("() => document.getElementById('card').textContent.includes('taught')")
    # the bars show the taught model's answer
    after = inside(server, pixels)["probabilities"][target]
    page.wait_for_function(
        f"""() => document.querySelector("#bars [data-digit='{target}'] .value").textContent
            === "{100 * after:.1f} %" """
    )
    widths = page.evaluate(
        f"""() => [...document.querySelectorAll("#teach-bars [data-digit='{target}'] .fill")]
            .map(f => parseFloat(f.style.width))"""
    )
    assert widths[1] > widths[0]  # after > before
    assert httpx.get(server.url + "/api/models").json()["taught"] == 1
    page.click("#teach-undo")
    page.wait_for_function(
        "() => document.getElementById('status').textContent.startsWith('Undone')"
    )
    assert httpx.get(server.url + "/api/model").json()["taught"] == 0
    page.wait_for_function(f"() => document.getElementById('digit').textContent === '{was}'")
    assert "taught here" not in page.inner_text("#card")


def ink(page) -> int:
    """Dark pixels on the pad."""
    return page.evaluate(
        """() => {
            const c = document.getElementById('pad');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) n += d[i] < 128;
            return n;
        }"""
    )


def test_pad_undo_eraser_and_pen_width(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#card dd")
    page.fill("#pen", "8")
    stroke(page, ONE)
    thin = ink(page)
    page.click("#undo")
    page.wait_for_function("() => document.getElementById('digit').textContent === '–'")
    assert ink(page) == 0 and page.is_disabled("#undo")
    page.fill("#pen", "36")
    stroke(page, ONE)
    assert ink(page) > 3 * thin
    page.click("#eraser")
    assert page.get_attribute("#eraser", "aria-pressed") == "true"
    stroke(page, ONE)
    page.wait_for_function("() => document.getElementById('digit').textContent === '–'")
    assert ink(page) == 0
    page.click("#undo")  # the erasing undone: the stroke is back
    page.wait_for_function("() => /^[0-9]$/.test(document.getElementById('digit').textContent)")
    assert ink(page) > 3 * thin


def test_phone_layout_keeps_pad_answer_and_input_on_one_screen(browser, server):
    page = new_page(browser, server, viewport={"width": 390, "height": 844}, has_touch=True,
                    is_mobile=True, device_scale_factor=2)  # fmt: skip
    try:
        page.goto(server.url + "/")
        page.wait_for_selector("#card dd")
        stroke(page, ONE)
        page.wait_for_function("() => /^[0-9]$/.test(document.getElementById('digit').textContent)")
        for sel in ("#pad", "#digit", "#preview", "#bars"):
            box = page.locator(sel).bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= 844, (sel, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (sel, box)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        assert page.evaluate("window.scrollY") == 0
        assert page.errors == []
    finally:
        page.context.close()


def test_model_menu_switches_models(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#model-menu option", state="attached")
    assert page.eval_on_selector_all("#model-menu option", "os => os.map(o => o.value)") == [
        "book.npz",
        "mlp.npz",
    ]
    stroke(page, ONE)
    page.select_option("#model-menu", "mlp.npz")
    page.wait_for_function("() => document.body.dataset.model === 'mlp.npz'")
    assert httpx.get(server.url + "/api/model").json()["name"] == "mlp.npz"
    page.wait_for_function(
        "() => [...document.querySelectorAll('#layers [data-layer]')].length === 3 && "
        "document.getElementById('meaning').textContent.includes('softmax')"
    )
    page.wait_for_function(
        "() => document.getElementById('pictures-caption').textContent.includes('maximisation')"
    )
    page.select_option("#model-menu", "book.npz")
    page.wait_for_function("() => document.body.dataset.model === 'book.npz'")


def watch(page, server) -> None:
    page.goto(server.url + "/watch")
    page.wait_for_function("() => document.querySelector('input[name=hidden]').value !== ''")


def reports(page) -> int:
    return int(page.evaluate("() => Number(document.body.dataset.reports || 0)"))


def test_watch_slow_motion_gives_a_steady_stream(page, server):
    watch(page, server)
    page.fill("[data-run=A] input[name=hidden]", "20")
    page.fill("[data-run=A] input[name=samples]", "100")
    page.fill("#speed", "2")  # 10 samples per second
    assert page.inner_text("#speed-text") == "10 samples per second"
    assert page.input_value("[data-run=A] input[name=every]") == "1"  # slow motion: every step
    page.click("#start")
    page.wait_for_function("() => Number(document.body.dataset.reports || 0) >= 3")
    t0, n0 = time.monotonic(), reports(page)
    page.wait_for_function("() => Number(document.body.dataset.reports || 0) >= 9")
    elapsed, n = time.monotonic() - t0, reports(page) - n0
    assert elapsed >= (n - 1) / 10 - 0.15, (n, elapsed)  # no faster than the speed
    assert "one sample at a time · a report every 1 sample" in page.inner_text(".preset-title")
    assert page.locator(".learning figcaption").inner_text().startswith("learning a ")
    page.click("#stop")
    page.wait_for_function(
        "() => document.getElementById('run-status').textContent.includes('was stopped')"
    )


def test_watch_replay_scrubs_through_a_finished_run(page, server):
    watch(page, server)
    page.fill("[data-run=A] input[name=samples]", "600")
    page.fill("#speed", "9")  # as fast as it goes
    page.click("#start")
    page.wait_for_function("() => !document.getElementById('replay').disabled", timeout=30000)
    assert page.get_attribute("#acc-chart", "data-xticks") == "0 200 400 600"
    page.fill("#replay", "300")
    assert page.inner_text("#replay-text") == "300 samples"
    header = page.inner_text(".run-pictures h3")
    shown = int(header.split("after ")[1].split()[0].replace(",", ""))
    assert shown <= 300
    page.click("#play")
    page.wait_for_function(
        "() => document.getElementById('replay-text').textContent.includes('(the end)')"
    )
    assert "after 600 samples" in page.inner_text(".run-pictures h3")


def test_watch_two_runs_side_by_side_then_save_and_use(page, server, folder):
    watch(page, server)
    page.check("#compare")
    assert page.input_value("[data-run=B] input[name=lr]") == "0.6"  # 0.1 against 0.6
    for run in ("A", "B"):
        page.fill(f"[data-run={run}] input[name=samples]", "500")
        page.fill(f"[data-run={run}] input[name=hidden]", "20")
    page.fill("#speed", "9")
    page.click("#start")
    page.wait_for_function(
        "() => /A: the run is done.*B: the run is done/.test("
        "document.getElementById('run-status').textContent)",
        timeout=30000,
    )
    assert page.locator(".run-pictures").count() == 2
    assert "A solid, B dashed" in page.inner_text("#loss-caption")
    runs = httpx.get(server.url + "/api/train").json()["runs"][-2:]
    assert [r["settings"]["lr"] for r in runs] == [0.1, 0.6]
    page.click(".save-row[data-run=B] button.save")
    page.wait_for_selector(".save-row[data-run=B] button.use")
    assert httpx.get(server.url + "/api/model").json()["name"] == "book.npz"  # not replaced
    page.click(".save-row[data-run=B] button.use")
    page.wait_for_function(
        "() => document.querySelector('.save-row[data-run=B] .hint').textContent"
        ".includes('is now the Draw page')"
    )
    card = httpx.get(server.url + "/api/model").json()
    assert card["source"] == "file" and card["settings"]["lr"] == 0.6


ATTACK = """<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="{url}/api/train" enctype="text/plain" target="sink">
<input name='{{"preset": "classic", "x": "' value='"}}'></form>
<script>
(async () => {{
  const bodies = {{"/api/train": '{{"preset": "mlp"}}', "/api/train/save": '{{}}',
    "/api/models/save": '{{"name": "pwned.npz"}}', "/api/teach": '{{"pixels": [], "digit": 1}}',
    "/api/models/use": '{{"name": "mlp.npz"}}'}};
  for (const [path, body] of Object.entries(bodies)) {{
    for (const type of ["text/plain", "application/json"]) {{
      try {{
        await fetch("{url}" + path, {{method: "POST", mode: "no-cors", body,
          headers: {{"content-type": type}}}});
      }} catch (e) {{}}
    }}
  }}
  document.querySelector("iframe").addEventListener("load", () => {{ document.title = "done"; }});
  document.getElementById("f").submit();
}})();
</script></body></html>"""


def test_a_page_of_another_origin_changes_nothing(browser, server, folder):
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    before = sorted(p.name for p in folder.iterdir())
    runs = len(httpx.get(server.url + "/api/train").json()["runs"])
    page_html = ATTACK.format(url=server.url)
    evil = Starlette(routes=[Route("/", lambda request: HTMLResponse(page_html))])
    with BackgroundServer(evil) as other:
        assert other.url != server.url
        context = browser.new_context()
        page = context.new_page()
        answers = []
        page.on("response", lambda r: r.url.startswith(server.url) and answers.append(r.status))
        page.goto(other.url + "/")
        page.wait_for_function("() => document.title === 'done'")
        context.close()
    assert len(answers) >= 5 and set(answers) == {403}, answers  # they came, and were refused
    assert len(httpx.get(server.url + "/api/train").json()["runs"]) == runs  # nothing started
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written
    card = httpx.get(server.url + "/api/model").json()
    assert card["name"] == "book.npz" and card["taught"] == 0  # nothing replaced or learnt


def test_docs_page(page, server):
    page.goto(server.url + "/docs")
    page.wait_for_selector("section.endpoint")
    titles = page.locator("section.endpoint h3").all_inner_texts()
    assert any("/api/predict" in t and t.startswith("POST") for t in titles), titles
    for path in ("/api/inside", "/api/teach", "/api/dream", "/api/models/use"):
        assert any(path in t for t in titles), path
    assert "multipart/form-data" in page.inner_text("#endpoints")
