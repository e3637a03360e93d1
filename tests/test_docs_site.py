"""The documentation site: ``mkdocs build --strict`` passes, the pages load nothing from other
sites (checked in the HTML and in Chromium), the commands and Python on the pages run, and
each sweep's small-settings command still gives what its results file says."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(DOCS))

import make_results  # noqa: E402
import results  # noqa: E402
from test_docs import MACHINE_PATH  # noqa: E402

#: what a built page may load: itself, and pictures inlined as data
LOCAL = ("data:", "blob:", "about:")


def mkdocs_available() -> None:
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocs_jupyter"):
        pytest.importorskip(module, reason=f"needs {module}: pip install -e '.[docs]'")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once with ``mkdocs build --strict``."""
    mkdocs_available()
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    problems = [line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert proc.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(
        problems or proc.stderr.splitlines()[-30:]
    )
    return out


def test_the_site_builds_with_every_part(site):
    for page in (
        "index.html",
        "getting-started/index.html",
        "reading-the-code/index.html",
        "api/classic/index.html",
        "notebooks/01_mnist_data/index.html",
        "code/ownnet/classic.py/index.html",
        "plots/sweep-book-lr.png",
    ):
        assert (site / page).is_file(), f"the site has no {page}"
    for name in make_results.BY_NAME:
        assert (site / "results" / f"{name}.json").is_file()
    api = (site / "api" / "classic" / "index.html").read_text()
    assert 'id="ownnet.classic.Network.fit"' in api  # generated from the docstrings
    assert ":class:`" not in api and ":meth:`" not in api  # reST roles became links
    notebook = (site / "notebooks" / "01_mnist_data" / "index.html").read_text()
    assert "jp-Notebook" in notebook and "data:image/png;base64" in notebook  # outputs kept


def test_no_page_loads_anything_from_another_site(site):
    remote = re.compile(
        r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=[\"'](?:https?:)?//"
        r"|<link\b[^>]*\bhref=[\"'](?:https?:)?//|@import\s+url\([\"']?(?:https?:)?//"
        r"|fonts\.googleapis|cdn\.jsdelivr|cdnjs\.|unpkg\.com|mathjax",
        re.I,
    )
    for path in [*site.rglob("*.html"), *site.rglob("*.css")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        found = remote.search(text)
        where = text[found.start() : found.end() + 60] if found else ""
        assert not found, f"{path.relative_to(site)} loads {where!r}"


def test_no_page_shows_a_path_of_the_machine_that_built_it(site):
    for path in site.rglob("*.html"):
        found = MACHINE_PATH.search(path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(site)}: {found[0]}"


def test_the_source_links_point_at_the_lines_they_name(site):
    page = (site / "reading-the-code" / "index.html").read_text()
    links = re.findall(r'href="\.\./code/ownnet/classic\.py/#__codelineno-0-(\d+)"', page)
    assert links, "the reading order links to the lines of classic.py"
    source = (ROOT / "src" / "ownnet" / "classic.py").read_text().splitlines()
    starts = {source[int(n) - 1].strip().split("(")[0] for n in links}
    assert "def _train_block" in starts and "def query" in starts


def test_the_home_page_an_api_page_and_a_notebook_in_chromium(site):
    from browser_helpers import launch_chromium, recorded_page, static_server

    browser_gen = launch_chromium()
    browser = next(browser_gen)
    try:
        with static_server(site) as url:
            for page_path, expect in (
                ("/", "three networks, one contract"),
                ("/api/classic/", "ownnet.classic.Network"),
                ("/notebooks/03_train_and_test/", "confusion"),
            ):
                with recorded_page(browser) as page:
                    page.goto(url + page_path, wait_until="networkidle")
                    assert expect.lower() in page.content().lower(), page_path
                    foreign = [u for u in page.requests if not u.startswith((url, *LOCAL))]
                    assert foreign == [], f"{page_path} asked other sites for {foreign}"
                    assert page.errors == [], f"{page_path}: {page.errors}"
    finally:
        with contextlib.suppress(StopIteration):
            next(browser_gen)


# -- the commands and the code on the pages ------------------------------------------------------
def code_blocks(page: Path, language: str) -> list[str]:
    """The fenced blocks of ``language`` on a page, in order."""
    text = page.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def commands(block: str) -> list[str]:
    """The ``$ ...`` lines of a console block (continuations joined); the output is not run."""
    out: list[str] = []
    pending = ""
    for line in block.splitlines():
        if pending:
            pending += " " + line.strip()
        elif line.startswith("$ "):
            pending = line[2:].strip()
        if pending and not pending.endswith("\\"):
            out.append(pending)
            pending = ""
        elif pending:
            pending = pending[:-1]
    return out


PAGES = [p for p in sorted(DOCS.rglob("*.md")) if "hooks" not in p.parts]
CONSOLE = [p for p in PAGES if code_blocks(p, "console")]
PYTHON = [p for p in PAGES if code_blocks(p, "python")]


@pytest.fixture(scope="module")
def workspace(small_mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a reader has by the time they follow a guide: the default model trained with
    ``ownnet train`` (on small data), a photo of a digit, ``my-digit.png``, and one of a
    number, ``house-number.jpg``."""
    import numpy as np
    from PIL import Image, ImageDraw

    folder = tmp_path_factory.mktemp("reader")
    run_command("ownnet train --quiet", folder, small_mnist_dir)
    picture = np.full((120, 100), 235, np.uint8)  # a dark 7 on white paper
    picture[25:27, 20:80] = 30
    for i in range(60):
        r, c = 27 + i, 78 - i // 2
        picture[r, c - 2 : c + 2] = 30
    Image.fromarray(picture).save(folder / "my-digit.png")
    number = Image.new("L", (340, 160), 235)  # "1717" with a felt pen, as a phone photo
    draw = ImageDraw.Draw(number)
    for i, digit in enumerate("1717"):
        x = 40 + 70 * i
        if digit == "1":
            draw.line([(x + 25, 30), (x + 25, 130)], fill=20, width=9)
        else:
            draw.line([(x, 32), (x + 45, 32), (x + 15, 130)], fill=20, width=9, joint="curve")
    number.convert("RGB").save(folder / "house-number.jpg", quality=90)
    return folder


def run_command(text: str, cwd: Path, data: Path) -> subprocess.CompletedProcess:
    argv = shlex.split(text)
    assert argv[0] == "ownnet", f"a console block runs ownnet commands, found {text!r}"
    env = {**os.environ, "OWNNET_DATA": str(data), "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["OWNNET_CACHE"] = str(cwd / ".no-cache")  # never download
    proc = subprocess.run(
        [sys.executable, "-m", "ownnet", *argv[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, (
        f"$ {text}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    )
    return proc


def reader_folder(workspace: Path, tmp_path: Path) -> Path:
    for name in ("ownnet-model.npz", "my-digit.png", "house-number.jpg"):
        shutil.copy(workspace / name, tmp_path / name)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("page", CONSOLE, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_console_block_on_the_page_runs(page, workspace, small_mnist_dir, tmp_path):
    folder = reader_folder(workspace, tmp_path)
    for block in code_blocks(page, "console"):
        for text in commands(block):
            run_command(text, folder, small_mnist_dir)


@pytest.mark.slow
@pytest.mark.parametrize("page", PYTHON, ids=lambda p: str(p.relative_to(DOCS)))
def test_the_python_on_the_page_runs(page, workspace, small_mnist_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("OWNNET_DATA", str(small_mnist_dir))
    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path / ".no-cache"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(reader_folder(workspace, tmp_path))
    namespace: dict = {"__name__": "__docs__"}
    for i, block in enumerate(code_blocks(page, "python")):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block, f"{page.name}, python block {i + 1}", "exec"), namespace)


# -- the sweeps still give what their results files say -----------------------------------------
SWEEPS = [name for name, entry in make_results.BY_NAME.items() if entry.check is not None]


@pytest.mark.slow
@pytest.mark.parametrize("name", SWEEPS)
def test_the_sweep_still_gives_what_its_results_file_says(name, mnist_dir, tmp_path):
    """The file's small-settings command, run again, gives the same accuracies (exactly:
    each run is determined by its seed)."""
    check = results.read(name)["check"]
    db = tmp_path / "check.db"
    argv = shlex.split(check["command"])[1:] + ["--db", str(db), "--quiet"]
    env = {**os.environ, "OWNNET_DATA": str(mnist_dir), "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "ownnet", *argv],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    preset = check["command"].split("--preset ")[1].split()[0]
    found = make_results.check_values(make_results.sweep_values(db, preset, with_runs=False))
    assert found == check["values"], (
        f"`{check['command']}` no longer gives what {name}.json says; if the change is "
        f"meant, run: python docs/make_results.py --only {name} --force"
    )
