"""``ownnet export web``: the draw page as a static site, run in real headless Chromium.

For each model kind (the book's network with and without bias, an MLP, a CNN with
conv, pool and batch norm) a small model is trained here, exported, served by Python's
plain static file server and opened in Chromium. The browser's probabilities for 100
test digits must equal ``predict_proba``'s (``ownnet.inspect.confidence``) to 1e-4, and
each stage's activations and the saliency map the matrix engine's to 1e-4 relative;
no request may leave the site's folder. The folder rules (new, empty, an earlier export,
``--force``) and the page rewriting are tested without a browser.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import (
    STATIC,
    assert_close_relative,
    launch_chromium,
    recorded_page,
    saliency,
    stage_values,
    static_server,
)

from ownnet.classic import Network as BookNetwork
from ownnet.cli import main
from ownnet.data.mnist import load_mnist
from ownnet.inspect.confidence import confidences
from ownnet.io import save_model
from ownnet.nn import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D
from ownnet.nn import Network as EngineNetwork
from ownnet.web.export import BACKEND, ENGINE, MANIFEST, MODEL_SCRIPT, export_site, rewrite_page
from ownnet.web.site_model import ExportError

KINDS = ("book", "book-bias", "mlp", "cnn")
N_DIGITS = 100  # compared with Python through predict
N_INSIDE = 8  # compared through inside (activations and saliency)

PREDICT_ALL = """async (xs) => {
    const out = [];
    for (const x of xs) out.push(await ownnetBackend.predict(x));
    return out;
}"""
INSIDE_ALL = """async ([xs, digits]) => {
    const out = [];
    for (let i = 0; i < xs.length; i++) out.push(await ownnetBackend.inside(xs[i], digits[i]));
    return out;
}"""


def build_model(kind: str, train) -> object:
    """A small model of ``kind`` trained one epoch on ``train``."""
    if kind.startswith("book"):
        net = BookNetwork(784, 40, 10, 0.1, bias=kind == "book-bias", seed=0)
        net.fit(train, epochs=1, verbose=0)
        return net
    if kind == "mlp":
        layers = [Dense(48, "relu"), Dropout(0.2), Dense(24, "relu"), Dense(10, "softmax")]
        net = EngineNetwork(layers, seed=0)
    else:
        layers = [
            Conv2D(4, 3, padding="same", use_bias=False),
            BatchNorm(activation="relu"),
            MaxPool2D(2),
            Conv2D(6, (3, 2), stride=2, padding="valid", activation="relu"),
            Flatten(),
            Dense(16, "relu"),
            Dropout(0.3),
            Dense(10, "softmax"),
        ]
        net = EngineNetwork(layers, input_shape=(1, 28, 28), seed=0)
    net.fit(train, epochs=1, batch_size=32, optimizer="adam", seed=0, verbose=0)
    return net


def write_probe(site: Path) -> None:
    """``probe.html``: the exported index.html with only the exported backend's scripts (not
    the draw page's own), so that the tests talk to ``ownnetBackend`` alone."""
    ours = {f"static/{x}" for x in (*ENGINE, BACKEND)} | {MODEL_SCRIPT}
    html = (site / "index.html").read_text(encoding="utf-8")
    html = re.sub(
        r'<script src="([^"]+)"></script>\n?',
        lambda m: m.group(0) if m.group(1) in ours else "",
        html,
    )
    (site / "probe.html").write_text(html, encoding="utf-8")


@pytest.fixture(scope="module")
def splits(small_mnist_dir: Path):
    return load_mnist(small_mnist_dir, download=False, progress=False)


@pytest.fixture(scope="module")
def digits(splits) -> np.ndarray:
    """100 test digits, uint8 ``(100, 28, 28)``."""
    return splits.test.images[:N_DIGITS]


@pytest.fixture(scope="module")
def sites(splits, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """``(root, {kind: model})``: each kind trained and exported to ``root/<kind>``."""
    root = tmp_path_factory.mktemp("sites")
    models = {}
    for kind in KINDS:
        models[kind] = build_model(kind, splits.train)
        export_site(models[kind], {"test_accuracy": 0.5}, root / kind, name=f"{kind}.npz")
        write_probe(root / kind)
    return root, models


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


@pytest.fixture(scope="module")
def server(sites):
    with static_server(sites[0]) as url:
        yield url


def pixels_of(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


@pytest.mark.parametrize("kind", KINDS)
def test_the_browser_answers_as_python(kind, sites, digits, browser, server):
    model = sites[1][kind]
    folder = f"{server}/{kind}/"
    pixels = pixels_of(digits)
    with recorded_page(browser) as page:
        page.goto(folder + "probe.html")
        answers = page.evaluate(PREDICT_ALL, pixels.tolist())
        # digit None asks for the top answer's saliency; the others for a chosen digit
        chosen = [None if i % 2 == 0 else (3 * i) % 10 for i in range(N_INSIDE)]
        inside = page.evaluate(INSIDE_ALL, [pixels[:N_INSIDE].tolist(), chosen])
        assert page.errors == []
        foreign = [u for u in page.requests if not u.startswith(folder)]
        assert foreign == [], f"requests outside the site's folder: {foreign}"
    expected, meaning = confidences(model, digits)
    found = np.array([a["probabilities"] for a in answers])
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-4)
    assert [a["digit"] for a in answers] == list(found.argmax(axis=1))
    assert {a["meaning"] for a in answers} == {meaning}
    assert (found.argmax(axis=1) == expected.argmax(axis=1)).mean() >= 0.99

    stages = stage_values(model, pixels[:N_INSIDE])
    tops = expected[:N_INSIDE].argmax(axis=1)
    wanted = np.array([t if c is None else c for t, c in zip(tops, chosen)])
    maps = saliency(model, pixels[:N_INSIDE], wanted)
    for i, answer in enumerate(inside):
        assert answer["digit"] == tops[i]
        np.testing.assert_allclose(answer["probabilities"], expected[i], atol=1e-4)
        assert len(answer["layers"]) == len(stages)
        for layer, values in zip(answer["layers"], stages):
            assert np.prod(layer["shape"]) == values.shape[1]
            where = f"digit {i}, {layer['name']}"
            assert_close_relative(layer["values"], values[i], 1e-4, where)
        assert answer["saliency"]["digit"] == wanted[i]
        assert_close_relative(answer["saliency"]["values"], maps[i], 1e-4, f"saliency {i}")
        assert np.abs(maps[i]).max() > 0


EXPECTED_LAYERS = {
    "book": [("input", "input", [784]), ("hidden 1", "dense", [40]), ("output", "output", [10])],
    "mlp": [
        ("input", "input", [784]),
        ("hidden 1", "dense", [48]),
        ("hidden 2", "dense", [24]),
        ("output", "output", [10]),
    ],
    "cnn": [
        ("input", "input", [1, 28, 28]),
        ("conv 1", "conv", [4, 28, 28]),
        ("pool 1", "pool", [4, 14, 14]),
        ("conv 2", "conv", [6, 6, 7]),
        ("hidden 1", "dense", [16]),
        ("output", "output", [10]),
    ],
}


@pytest.mark.parametrize("kind", ["book", "mlp", "cnn"])
def test_model_card_and_class_pictures(kind, sites, browser, server):
    model = sites[1][kind]
    with recorded_page(browser) as page:
        page.goto(f"{server}/{kind}/probe.html")
        card = page.evaluate("() => ownnetBackend.model()")
        pictures = page.evaluate("() => ownnetBackend.pictures()")
        capabilities = page.evaluate("() => ownnetBackend.capabilities")
    assert [(x["name"], x["kind"], x["shape"]) for x in card["layers"]] == EXPECTED_LAYERS[kind]
    assert card["name"] == f"{kind}.npz" and card["card"]["test_accuracy"] == 0.5
    assert card["kind"] == model.kind
    assert capabilities == {"teach": False, "dream": False, "watch": False, "models": False}
    images = np.round(np.array(pictures["images"]) * 255).astype(np.uint8)
    assert images.shape == (10, 784)
    if kind == "book":  # a sigmoid network: the book's back-query
        from ownnet.inspect.backquery import backquery_digits

        result = backquery_digits(model)
        assert pictures["method"] == "backquery"
        np.testing.assert_array_equal(images, result.images.reshape(10, -1))
    else:
        assert pictures["method"] == "maximize"
        assert images.max() > 0
    # what the model reads in each picture, as Python reads it
    assert pictures["read_as"] == list(model.predict(images))


def test_opens_from_disk_and_predicts(sites, digits, browser):
    root, models = sites
    site = root / "book"
    pixels = pixels_of(digits[:10])
    with recorded_page(browser) as page:
        page.goto((site / "index.html").as_uri())
        answers = page.evaluate(PREDICT_ALL, pixels.tolist())
        ours = [u for u in page.requests if u.endswith(".js") and "/static/" in u]
    expected, _ = confidences(models["book"], digits[:10])
    np.testing.assert_allclose([a["probabilities"] for a in answers], expected, atol=1e-4)
    assert ours and all(u.startswith(site.as_uri() + "/") for u in ours)


def test_the_draw_page_runs_with_no_server(sites, digits, browser, server):
    """The exported index.html itself (the draw page of ``ownnet serve``), over HTTP and from
    disk: no error, no request outside the folder, and it answers."""
    page_scripts = [p for p in Path(sites[0] / "book" / "static").glob("*.js")]
    own = [p for p in page_scripts if p.name not in (*ENGINE, BACKEND)]
    if not any("ownnetBackend" in p.read_text(encoding="utf-8") for p in own):
        pytest.skip("this draw page still calls the server's API itself (not ownnetBackend)")
    site = sites[0] / "book"
    for url, folder in [
        (f"{server}/book/index.html", f"{server}/book/"),
        ((site / "index.html").as_uri(), site.as_uri() + "/"),
    ]:
        with recorded_page(browser) as page:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            answer = page.evaluate(PREDICT_ALL, pixels_of(digits[:1]).tolist())[0]
            assert page.errors == []
            foreign = [u for u in page.requests if not u.startswith((folder, "data:", "blob:"))]
            assert foreign == [], f"requests outside the site's folder: {foreign}"
        assert 0 <= answer["digit"] <= 9


DRAWINGS = {  # canvas drawing code: ctx is a 280x280 canvas, painted before
    "thick one, dark on light": "ctx.lineWidth = 20; line([[140, 40], [150, 240]]);",
    "thin seven": "ctx.lineWidth = 3; line([[70, 50], [210, 50], [120, 230]]);",
    "zero and a speck, light on dark": (
        "ctx.lineWidth = 14; ctx.beginPath(); ctx.ellipse(140, 140, 60, 90, 0.3, 0, 7);"
        "ctx.stroke(); ctx.fillRect(10, 10, 3, 3);"
    ),
}


@pytest.mark.parametrize("name", list(DRAWINGS))
def test_prepare_matches_python(name, sites, browser, server):
    from browser_prepare_reference import prepare as browser_steps

    from ownnet.data.images import prepare

    dark = "light on dark" not in name
    script = f"""async () => {{
        const c = document.createElement('canvas');
        c.width = 280; c.height = 280;
        const ctx = c.getContext('2d');
        ctx.fillStyle = '{"#fff" if dark else "#000"}';
        ctx.fillRect(0, 0, 280, 280);
        ctx.strokeStyle = ctx.fillStyle = '{"#000" if dark else "#fff"}';
        ctx.lineCap = ctx.lineJoin = 'round';
        const line = (ps) => {{
            ctx.beginPath(); ctx.moveTo(...ps[0]); ps.slice(1).forEach((p) => ctx.lineTo(...p));
            ctx.stroke();
        }};
        {DRAWINGS[name]}
        const img = ctx.getImageData(0, 0, 280, 280);
        const prepared = await ownnetBackend.prepare(img);
        let text = '';
        for (let i = 0; i < img.data.length; i += 8192) {{
            text += String.fromCharCode(...img.data.subarray(i, i + 8192));
        }}
        return [btoa(text), prepared];
    }}"""
    with recorded_page(browser) as page:
        page.goto(f"{server}/book/probe.html")
        rgba, prepared = page.evaluate(script)
    picture = np.frombuffer(base64.b64decode(rgba), np.uint8).reshape(280, 280, 4)
    expected = browser_steps(picture) / 255.0
    found = np.array(prepared["pixels"]).reshape(28, 28)
    assert np.abs(found - expected).mean() < 0.02
    assert np.abs(found - expected).max() <= 1 / 255 + 1e-9  # at most one grey level apart
    assert found.max() == 1.0 and len(prepared["box"]) == 4
    # the full preparation also deslants and thins: the same digit, drawn a little differently
    full = prepare(picture) / 255.0
    assert np.abs(found - full).mean() < 0.06


def test_bad_input_is_refused_with_a_message(sites, browser, server):
    checks = {
        "ownnetBackend.predict(new Array(783).fill(0))": "expected 784 pixel values, found 783",
        "ownnetBackend.predict(new Array(784).fill(2))": "pixel 0 is 2: expected a number 0..1",
        "ownnetBackend.inside(new Array(784).fill(0.5), 12)": "expected a digit 0..9",
    }
    blank = "(() => { const c = document.createElement('canvas'); c.width = c.height = 50; "
    blank += "return ownnetBackend.prepare(c.getContext('2d').getImageData(0, 0, 50, 50)); })()"
    checks[blank] = "no ink found"
    with recorded_page(browser) as page:
        page.goto(f"{server}/mlp/probe.html")
        for call, message in checks.items():
            found = page.evaluate(f"async () => {{ try {{ await {call}; return 'no error'; }} "
                                  "catch (e) { return e.message; } }")  # fmt: skip
            assert message in found, call


def test_the_page_itself_refuses_other_origins(sites, browser, server):
    """The Content-Security-Policy tag: a fetch to another origin is refused by the browser."""
    with recorded_page(browser) as page:
        page.goto(f"{server}/book/probe.html")
        result = page.evaluate(
            """async () => {
                const seen = [];
                const note = (e) => seen.push(e.blockedURI);
                document.addEventListener('securitypolicyviolation', note);
                try { await fetch('http://127.0.0.2:9/elsewhere'); return 'fetched'; }
                catch (e) { await new Promise((r) => setTimeout(r, 50)); return seen; }
            }"""
        )
    assert result == ["http://127.0.0.2:9/elsewhere"]


# -- without a browser: the folder and the page ------------------------------------------------
@pytest.fixture()
def model_file(tmp_path: Path) -> Path:
    net = BookNetwork(784, 12, 10, 0.1, seed=1)
    return save_model(tmp_path / "small.npz", net, test_accuracy=0.25)


def site_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_cli_writes_the_site(model_file, tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["export", "web", str(model_file), str(out)]) == 0
    files = site_files(out)
    assert {"index.html", MODEL_SCRIPT, MANIFEST, f"static/{BACKEND}"} <= files
    assert {f"static/{x}" for x in ENGINE} <= files
    html = (out / "index.html").read_text()
    assert "Content-Security-Policy" in html and "/static/" not in html
    assert 'href="/' not in html and 'src="/' not in html
    assert "small.npz" in (out / MODEL_SCRIPT).read_text()
    assert f"wrote {out}" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]  # no leftovers


def test_cli_refuses_a_folder_with_other_files(model_file, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert main(["export", "web", str(model_file), str(out)]) == 1
    err = capsys.readouterr().err
    assert "not empty" in err and "notes.txt" in err and "--force" in err
    assert site_files(out) == {"notes.txt"}
    assert main(["export", "web", str(model_file), str(out), "--force"]) == 0
    assert (out / "notes.txt").read_text() == "keep me"
    assert "index.html" in site_files(out)


def test_an_earlier_export_is_replaced(model_file, tmp_path):
    out = tmp_path / "site"
    assert main(["export", "web", str(model_file), str(out)]) == 0
    (out / "static" / "old-engine.js").write_text("// from an older export")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"].append("static/old-engine.js")
    (out / MANIFEST).write_text(json.dumps(manifest))
    net = BookNetwork(784, 20, 10, 0.1, seed=2)
    other = save_model(tmp_path / "other.npz", net)
    assert main(["export", "web", str(other), str(out)]) == 0
    assert "static/old-engine.js" not in site_files(out)
    assert "other.npz" in (out / MODEL_SCRIPT).read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.npz", "site", "small.npz"]


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["export", "web", str(tmp_path / "missing.npz"), str(tmp_path / "x")]) == 1
    assert "missing.npz: no such model file" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    model = save_model(tmp_path / "m.npz", BookNetwork(784, 5, 10, seed=0))
    assert main(["export", "web", str(model), str(tmp_path / "file")]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_models_the_page_cannot_run_are_refused(tmp_path):
    with pytest.raises(ExportError, match="expected 784 inputs, found 100"):
        export_site(BookNetwork(100, 5, 10, seed=0), {}, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_rewrite_page():
    html = (
        '<html><head><meta charset="utf-8"><link rel="stylesheet" href="/static/a.css"></head>'
        '<body><nav><a href="/">Draw</a> <a href="/watch">Watch</a></nav>'
        '<script src="/static/backend.js"></script><script src="/static/page.js"></script>'
        "</body></html>"
    )
    out, wanted = rewrite_page(html)
    assert wanted == ["a.css", "page.js"]
    assert '<a href="index.html">Draw</a>' in out and "Watch" not in out
    scripts = re.findall(r'<script src="([^"]+)"', out)
    assert scripts == [f"static/{x}" for x in ENGINE] + [
        MODEL_SCRIPT, f"static/{BACKEND}", "static/page.js"
    ]  # fmt: skip
    assert out.index("Content-Security-Policy") < out.index("stylesheet")
    assert '<link rel="icon" href="data:,">' in out  # no request for /favicon.ico
    with pytest.raises(ExportError, match='src="/api/backquery.png" needs the server'):
        rewrite_page(html.replace("</nav>", '</nav><img src="/api/backquery.png">'))


PAGE_JS = """"use strict";
(async () => {
  const model = await ownnetBackend.model();
  const x = new Array(784).fill(0);
  for (let i = 300; i < 500; i++) x[i] = 1;
  const answer = await ownnetBackend.predict(x);
  document.getElementById("out").textContent = `${model.name}: ${answer.digit}`;
})();
"""


@pytest.fixture()
def own_page(tmp_path: Path) -> Path:
    """A static folder with a small page of its own that uses ``window.ownnetBackend``, as
    the draw page does: its stylesheet, a picture the stylesheet refers to, its script."""
    from PIL import Image

    static = tmp_path / "static"
    static.mkdir()
    for name in (*ENGINE, BACKEND):
        shutil.copy(STATIC / name, static / name)
    (static / "index.html").write_text(
        '<html><head><meta charset="utf-8"><link rel="stylesheet" href="/static/look.css">'
        '</head><body><nav><a href="/">Draw</a><a href="/watch">Watch</a></nav><p id="out"></p>'
        '<script src="/static/backend.js"></script>'
        '<script src="/static/page.js" defer></script></body></html>'
    )
    (static / "look.css").write_text("body { background: url('/static/paper.png'); }")
    Image.new("L", (2, 2), 240).save(static / "paper.png")
    (static / "page.js").write_text(PAGE_JS)
    (static / "unused.js").write_text("")
    return static


def test_a_page_and_its_own_files(own_page, tmp_path):
    """Whatever draw page is in the static folder is exported with the files it refers to."""
    net = BookNetwork(784, 5, 10, seed=0)
    out = export_site(net, {}, tmp_path / "site", static_dir=own_page)
    assert {"static/look.css", "static/paper.png", "static/page.js"} <= site_files(out)
    assert "static/unused.js" not in site_files(out)
    assert (out / "static" / "look.css").read_text() == "body { background: url('paper.png'); }"
    (own_page / "page.js").unlink()
    with pytest.raises(ExportError, match="refers to static/page.js, which is not in"):
        export_site(net, {}, tmp_path / "site2", static_dir=own_page)


def test_a_page_using_the_backend_runs_from_any_folder(own_page, tmp_path, splits, browser):
    """A page that asks ``window.ownnetBackend`` runs exported, over HTTP in a sub-folder and
    from disk, with no error and no request outside its folder."""
    net = build_model("mlp", splits.train)
    site = export_site(net, {}, tmp_path / "www" / "deep" / "site", static_dir=own_page, name="m")
    x = np.zeros((1, 784), np.uint8)
    x[0, 300:500] = 255
    expected = f"m: {int(net.predict(x)[0])}"
    with static_server(tmp_path / "www") as url:
        for address, folder in [
            (f"{url}/deep/site/index.html", f"{url}/deep/site/"),
            ((site / "index.html").as_uri(), site.as_uri() + "/"),
        ]:
            with recorded_page(browser) as page:
                page.goto(address)
                page.wait_for_function("() => document.getElementById('out').textContent")
                assert page.inner_text("#out") == expected
                assert page.errors == []
                assert any(u.endswith("/static/paper.png") for u in page.requests)
                foreign = [u for u in page.requests if not u.startswith(folder)]
                assert foreign == [], f"requests outside the site's folder: {foreign}"


def test_class_pictures_where_neither_way_works():
    """BatchNorm between Dense layers: no unit-by-unit inspection, so no class pictures (the
    page's ``pictures()`` then says why); the page still answers."""
    from ownnet.web.site_model import class_pictures, model_document

    net = EngineNetwork([Dense(8, "relu"), BatchNorm(), Dense(10, "softmax")])
    pictures, note = class_pictures(net)
    assert pictures is None and "only stacks of Dense layers" in note
    document = model_document(net, {}, "bn.npz")
    assert (
        document["pictures"] is None and document["confidence"] == "sum"
    )  # softmax outputs as they are
