"""The MkDocs hook of ownnet's site (``hooks:`` in mkdocs.yml): numbers, source, notebooks.

* **Numbers** - every ``{{ NAME/KEY | FORMAT }}`` on a page is replaced by a value from
  ``docs/results/NAME.json`` (``benchmarks/results.py``); a missing file or key stops the
  build. A page that uses a result measured with small settings (``--quick``) says so.
* **Source** - ``{{ src:ownnet.classic.Network.train }}`` becomes a link to the lines of that
  object in a page of the source (``code/ownnet/classic.py/``, one page per module, with
  line anchors); ``{{ lines:ownnet.classic }}`` is its number of lines. Found with ``ast``
  at build time, so a link never points at lines that moved.
* **Plots** - each sweep's results file becomes ``plots/NAME.png``, drawn at build time
  from the file by ownnet's own plot function (``ownnet sweep plot`` draws the same).
* **Notebooks** - ``notebooks/*.ipynb`` of the repository become pages (mkdocs-jupyter).
* **Offline** - the scripts nbconvert adds to notebook pages to load MathJax and Mermaid
  from a CDN are removed (the notebooks use neither). A page that still refers to a
  script, style, font or picture on another site stops the build.
"""

from __future__ import annotations

import ast
import html
import posixpath
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "benchmarks"))

import results  # noqa: E402

#: where the generated pages and pictures go in the site
CODE_DIR = "code"
PLOTS_DIR = "plots"
_state: dict[str, Any] = {}


# -- configuration ---------------------------------------------------------------------------
def on_config(config: Any) -> Any:
    directory = Path(config["docs_dir"]) / "results"
    try:
        _state["results"] = results.read_all(directory)
    except results.ResultsError as exc:
        raise PluginError(f"results: {exc}") from None
    _state["modules"] = source_modules()
    return config


def source_modules() -> dict[str, Path]:
    """``{"ownnet.classic": path, ...}``: every module of the package."""
    modules = {}
    for path in sorted((SRC / "ownnet").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


# -- files: notebooks, source pages, plots ------------------------------------------------------
@event_priority(50)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config: Any) -> Files:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        # a real file (mkdocs-jupyter reads it by its path), under notebooks/ in the site
        files.append(
            File(
                f"{NOTEBOOKS.name}/{path.name}",
                src_dir=str(NOTEBOOKS.parent),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    for name, path in _state["modules"].items():
        files.append(File.generated(config, source_page(name), content=source_markdown(name, path)))
    for name, data in _state["results"].items():
        if "plot" in data["values"] and "runs" in data["values"]:
            files.append(File.generated(config, f"{PLOTS_DIR}/{name}.png", content=draw_plot(data)))
    return files


def source_page(module: str) -> str:
    """The page of a module's source: ``ownnet.nn.dense`` -> ``code/ownnet/nn/dense.py.md``."""
    path = _state["modules"][module].relative_to(SRC)
    return f"{CODE_DIR}/{path.as_posix()}.md"


def source_markdown(module: str, path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    fence = "`" * max(4, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    shown = path.relative_to(SRC).as_posix()
    here = posixpath.dirname(source_page(module))
    api = posixpath.relpath("api/index.md", here)
    order = posixpath.relpath("reading-the-code.md", here)
    return (
        "---\nhide:\n  - navigation\n  - toc\n---\n\n"  # the whole width for the code
        f"# {shown}\n\n"
        f"`{module}`, {len(text.splitlines())} lines. [API reference]({api}) · "
        f"[reading order]({order})\n\n"
        f'{fence}python linenums="1"\n{text}\n{fence}\n'
    )


@dataclass
class _Run:
    """What ownnet's plot function needs of a run (its RunLike protocol)."""

    config: dict[str, Any]
    accuracies: list[float]
    seconds: float


def draw_plot(data: dict[str, Any]) -> bytes:
    """A sweep's results file as a PNG, by :func:`ownnet.experiments.plots.plot`."""
    import matplotlib

    matplotlib.use("Agg")
    from ownnet.experiments.plots import plot

    values = data["values"]
    runs = [_Run(r["config"], r["accuracies"], r["seconds"]) for r in values["runs"]]
    spec = values["plot"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plot.png"
        plot(
            runs,
            out,
            x=spec["x"],
            hue=spec.get("hue"),
            logx=spec.get("logx"),
            title=data.get("title") or None,
        )
        return out.read_bytes()


# -- pages: placeholders ---------------------------------------------------------------------------
def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    src = page.file.src_uri
    if src.startswith(f"{CODE_DIR}/"):
        return markdown
    try:
        text, used = results.render(
            markdown, _state["results"], src, other=lambda body, here: _other(body, here, src)
        )
    except results.ResultsError as exc:
        raise PluginError(str(exc)) from None
    quick = [n for n in used if _state["results"][n]["settings"] == "quick"]
    if quick:
        text = _quick_note(text, quick)
    return text


def _quick_note(text: str, names: list[str]) -> str:
    note = (
        '!!! warning "Provisional numbers"\n'
        f"    Some numbers on this page ({', '.join(names)}) come from a quick run with small "
        "settings, not from the full measurement. `python docs/make_results.py` replaces "
        "them.\n\n"
    )
    head, sep, rest = text.partition("\n")
    if head.startswith("# "):
        return f"{head}\n\n{note}{rest}"
    return note + text


def _other(body: str, here: str, page: str) -> str | None:
    if body == "results-table":
        return results_table(page)
    if body == "api-table":
        return api_table()
    if body == "readme-example":  # the README's five lines, exactly as the README shows them
        template = (ROOT / "docs" / "README.md.in").read_text(encoding="utf-8")
        block = re.search(r"```python\n.*?```", template, re.S)
        if block is None:
            raise results.ResultsError(f"{here}: the README template has no Python example")
        return results.render(block[0], _state["results"], "README.md.in")[0]
    kind, sep, arg = body.partition(":")
    if not sep or kind not in ("src", "lines"):
        return None
    arg = arg.strip()
    if kind == "lines":  # one name, or several separated by commas: their total
        spans = [locate(name.strip(), here) for name in arg.split(",")]
        return f"{sum(end - start + 1 for _, start, end in spans):,}"
    module, start, end = locate(arg, here)
    target = posixpath.relpath(source_page(module), posixpath.dirname(page))
    shown = _state["modules"][module].relative_to(SRC / "ownnet").as_posix()
    if arg == module:
        return f"[{shown}]({target})"
    name = arg[len(module) + 1 :]
    return f"[`{name}` ({shown}, lines {start}–{end})]({target}#__codelineno-0-{start})"


def results_table(page: str) -> str:
    """A Markdown table of every results file: what it measured, the command, the date."""
    rows = ["| file | what | measured with | date | settings |", "|---|---|---|---|---|"]
    for name, data in _state["results"].items():
        link = posixpath.relpath(f"results/{name}.json", posixpath.dirname(page))
        rows.append(
            f"| [{name}.json]({link}) | {data.get('title', '')} | `{data['command']}` | "
            f"{data['date'][:10]} | {data['settings']} |"
        )
    return "\n".join(rows)


def api_table() -> str:
    """The public names of ``import ownnet``, each linked to its documentation."""
    import importlib

    import ownnet

    rows = ["| name | what it is |", "|---|---|"]
    for name in sorted(ownnet._API, key=str.lower):
        module, _, attr = ownnet._API[name].partition(":")
        obj = getattr(importlib.import_module(module), attr)
        home = f"{obj.__module__}.{obj.__qualname__}"
        doc = (obj.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        doc = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", doc).replace("|", "\\|")
        rows.append(f"| [`ownnet.{name}`][{home}] | {doc} (`{home}`) |")
    return "\n".join(rows)


def locate(name: str, here: str) -> tuple[str, int, int]:
    """``(module, first line, last line)`` of a module, class, function or method by its
    dotted name, found with ``ast`` in the package's source."""
    modules = _state["modules"]
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        if module in modules:
            break
    else:
        raise results.ResultsError(f"{here}: no module of ownnet in {name!r}")
    path = modules[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rest = parts[cut:]
    if not rest:
        return module, 1, len(path.read_text(encoding="utf-8").splitlines())
    node: Any = tree
    for part in rest:
        found = [
            child
            for child in getattr(node, "body", [])
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and child.name == part
        ]
        if not found:
            found = [
                child
                for child in getattr(node, "body", [])
                if isinstance(child, (ast.Assign, ast.AnnAssign))
                and part in {t.id for t in _targets(child)}
            ]
        if not found:
            raise results.ResultsError(f"{here}: {module} has no {'.'.join(rest)!r}")
        node = found[0]
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return module, first, node.end_lineno


def _targets(node: ast.AST) -> list[ast.Name]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [t for t in targets if isinstance(t, ast.Name)]


def on_page_content(html_text: str, page: Any, config: Any, files: Files) -> str:
    """Tell MkDocs about the line anchors of a source page (Pygments writes them as raw
    HTML, which MkDocs does not read), so that links to lines are validated too."""
    if page.file.src_uri.startswith(f"{CODE_DIR}/") and page.present_anchor_ids is not None:
        page.present_anchor_ids.update(re.findall(r'id="(__codelineno-\d+-\d+)"', html_text))
    return html_text


# -- offline: nothing from other sites -------------------------------------------------------
CDN_SCRIPT = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->"  # nbconvert's MathJax
    r"|<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>",
    re.S,
)
FOREIGN = re.compile(
    r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=[\"'](?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"'](?:https?:)?//"
    r"|@import\s+url\([\"']?(?:https?:)?//",
    re.I,
)


def on_post_page(output: str, page: Any, config: Any) -> str:
    output = CDN_SCRIPT.sub("", output)
    found = FOREIGN.search(output)
    if found:
        start = max(0, found.start() - 60)
        raise PluginError(
            f"{page.file.src_uri}: the page would load something from another site: "
            f"{html.unescape(output[start : found.end() + 80])!r}"
        )
    return output
