"""``ownnet export web``: the draw page as a static site that runs the model in the browser.

The site is a folder::

    index.html            the draw page of ``ownnet serve`` (static/index.html), rewritten
    static/...            its stylesheets and scripts, and the browser engine
    model.js              the model: weights, card, class pictures (ownnet.web.site_model)
    ownnet-export.json    what was written, so that a later export may replace it

The page asks ``window.ownnetBackend`` for its answers. ``ownnet serve`` gives it
``static/backend.js``, which asks the server; here that script is swapped for the engine
(``layers.js``, ``forward.js``, ``image-filters.js``, ``prepare.js``), ``model.js`` and
``static-backend.js``, which compute the same answers in the browser. Links to pages
that need a server are dropped, paths become relative (so that the folder works from
any static host, in any sub-folder, and from disk), and a Content-Security-Policy
``<meta>`` tag makes the browser refuse any request outside the folder.

The folder is built beside the target and renamed into place at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ownnet import __version__
from ownnet.atomic import atomic_write_bytes
from ownnet.web.site_model import ExportError, model_script

STATIC = Path(__file__).parent / "static"
#: the scripts that replace static/backend.js, in load order (model.js comes before the last)
ENGINE = ("layers.js", "forward.js", "image-filters.js", "prepare.js")
BACKEND = "static-backend.js"
MODEL_SCRIPT = "model.js"
MANIFEST = "ownnet-export.json"
#: what the page may load: its own folder only (no inline scripts, no frames, no fonts)
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
)

__all__ = ["ExportError", "export_site", "page_files", "rewrite_page", "site_files"]


def export_site(
    model: Any, meta: dict[str, Any], out_dir: str | os.PathLike[str], *,
    name: str = "model.npz", force: bool = False, static_dir: str | os.PathLike[str] = STATIC,
) -> Path:  # fmt: skip
    """Write the draw page with ``model`` built in to the folder ``out_dir``; returns it.

    Args:
        model: a classic or nn network (``ownnet.io.load_model`` gives one and its ``meta``).
        meta: the model file's metadata (test accuracy, training settings: the card).
        out_dir: the site's folder: new, empty, or an earlier export (replaced).
        name: what the page calls the model (the model file's name).
        force: also write into a folder that holds other files (they are left alone;
            files of the same names are replaced).
        static_dir: where the draw page is (the one ``ownnet serve`` serves).

    Raises:
        ExportError: ``out_dir`` holds other files (and not ``force``), or the model has
            layers the browser engine does not have.
    """
    return write_site(site_files(model, meta, name, static_dir), out_dir, force=force)


def site_files(
    model: Any, meta: dict[str, Any], name: str, static_dir: str | os.PathLike[str] = STATIC
) -> dict[str, bytes]:
    """Every file of the site: ``{relative path: content}``, the manifest included."""
    files = page_files(static_dir)
    files[MODEL_SCRIPT] = model_script(model, meta, name).encode()
    manifest = {
        "format": "ownnet-site",
        "ownnet_version": __version__,
        "model": name,
        "files": sorted(files),
    }
    files[MANIFEST] = (json.dumps(manifest, indent=1) + "\n").encode()
    return files


def page_files(static_dir: str | os.PathLike[str] = STATIC) -> dict[str, bytes]:
    """``index.html`` rewritten, the files it refers to under ``static/`` (and those its
    stylesheets refer to) and the engine."""
    static_dir = Path(static_dir)
    page = static_dir / "index.html"
    html, wanted = rewrite_page(page.read_text(encoding="utf-8"), str(page))
    files = {"index.html": html.encode()}
    queue = [*wanted, *ENGINE, BACKEND]
    while queue:
        asset = queue.pop(0)
        if f"static/{asset}" in files:
            continue
        path = static_dir / asset
        if ".." in Path(asset).parts or not path.is_file():
            raise ExportError(f"{page}: refers to static/{asset}, which is not in {static_dir}")
        data = path.read_bytes()
        if path.suffix == ".css":  # url(/static/x.png) -> url(x.png), and x.png is copied too
            queue += [m.decode() for m in re.findall(rb"url\(['\"]?/static/([\w./-]+)", data)]
            data = re.sub(rb"url\((['\"]?)/static/", rb"url(\1", data)
        files[f"static/{asset}"] = data
    return files


def rewrite_page(html: str, where: str = "index.html") -> tuple[str, list[str]]:
    """The served draw page made static: returns ``(html, files under static/ it loads)``.

    ``/static/X`` becomes ``static/X``; ``backend.js`` becomes the engine, ``model.js``
    and ``static-backend.js`` (inserted before the first script if the page has no
    ``backend.js``); links to ``/`` go to ``index.html``, links to other server pages are
    dropped; the Content-Security-Policy goes first in ``<head>``, with an empty icon if the
    page has none.

    Raises:
        ExportError: the page loads something else from the server (``src="/api/..."``).
    """
    scripts = [f"static/{x}" for x in ENGINE] + [MODEL_SCRIPT, f"static/{BACKEND}"]
    tags = "\n".join(f'<script src="{src}"></script>' for src in scripts)
    backend = re.compile(r'<script\b[^>]*\bsrc="/static/backend\.js"[^>]*>\s*</script>')
    if backend.search(html):
        html = backend.sub(lambda _: tags, html, count=1)
    elif "<script" in html:
        i = html.index("<script")
        html = html[:i] + tags + "\n" + html[i:]
    else:
        html = html.replace("</body>", tags + "\n</body>", 1)
    wanted: list[str] = []

    def local(match: re.Match[str]) -> str:
        asset = match.group(2)
        if asset not in wanted and asset not in ENGINE and asset != BACKEND:
            wanted.append(asset)
        return f'{match.group(1)}="static/{asset}"'

    html = re.sub(r'\b(src|href)="/static/([\w./-]+)"', local, html)
    html = re.sub(r'(<a\b[^>]*\bhref=)"/"', r'\1"index.html"', html)
    html = re.sub(r'<a\b[^>]*\bhref="/[^"]*"[^>]*>.*?</a>', "", html, flags=re.S)
    left = re.search(r'\b(src|href|action|poster|data)="(/[^"]*)"', html)
    if left:
        raise ExportError(
            f'{where}: {left.group(1)}="{left.group(2)}" needs the server; a static page can '
            "load only files under static/"
        )
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    if not re.search(r'<link\b[^>]*\brel="(shortcut )?icon"', html):
        meta += '\n<link rel="icon" href="data:,">'  # else the browser asks for /favicon.ico
    head = re.search(r"<head\b[^>]*>", html)
    if head is None:
        raise ExportError(f"{where}: expected an HTML page with a <head>, found none")
    charset = re.search(r"<meta\s+charset=[^>]*>", html)
    at = charset.end() if charset and charset.start() > head.start() else head.end()
    html = html[:at] + "\n" + meta + html[at:]
    return html, wanted


# -- writing the folder ------------------------------------------------------------------------
def write_site(
    files: dict[str, bytes], out_dir: str | os.PathLike[str], *, force: bool = False
) -> Path:
    """Write ``files`` into the folder ``out_dir``: built beside it and renamed into place.

    A new or empty folder, or one holding only an earlier export, is replaced whole; with
    ``force`` the files are moved into a folder that holds others, one by one.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder; expected a folder for the site")
    present = _files_in(out)
    earlier = _earlier_export(out)
    others = sorted(present - earlier - {MANIFEST}) if present else []
    if others and not force:
        what = "an earlier export with other files" if earlier else "a folder that is not empty"
        raise ExportError(
            f"{out}: {what} ({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); "
            "choose a new or empty folder, or pass --force to write into it (other files "
            "are left alone)"
        )
    # a new or empty folder is renamed into place; an earlier export is swapped for the new
    # one; a folder with other files gets the new files moved in one by one
    how = "new" if not present else "merge" if others else "swap"
    try:
        _write(files, out, how, earlier)
    except OSError as exc:
        raise ExportError(f"{out}: cannot write the site there: {exc}") from exc
    return out


def _write(files: dict[str, bytes], out: Path, how: str, earlier: set[str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    try:
        for rel, data in files.items():
            atomic_write_bytes(build / rel, data)  # on disk (fsync) before the rename below
        for folder in [build, *(p for p in build.rglob("*") if p.is_dir())]:
            os.chmod(folder, 0o755)
        if how == "new":
            with contextlib.suppress(FileNotFoundError):
                out.rmdir()
            os.replace(build, out)
        elif how == "swap":
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "site")
            os.replace(build, out)
            shutil.rmtree(old)
        else:
            _merge(build, out, files, earlier)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _merge(build: Path, out: Path, files: dict[str, bytes], earlier: set[str]) -> None:
    """Move the new files into ``out`` one by one; remove the earlier export's others."""
    for rel in files:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(build / rel, target)
    for rel in sorted(earlier - set(files)):
        with contextlib.suppress(FileNotFoundError):
            (out / rel).unlink()


def _files_in(folder: Path) -> set[str]:
    """Relative paths of every file under ``folder`` (empty if there is no folder)."""
    if not folder.is_dir():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}


def _earlier_export(folder: Path) -> set[str]:
    """The files an earlier export wrote into ``folder`` (its manifest), else an empty set."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(manifest, dict) or manifest.get("format") != "ownnet-site":
        return set()
    names = manifest.get("files")
    if not isinstance(names, list):
        return set()
    inside = {str(n) for n in names if not Path(str(n)).is_absolute() and ".." not in str(n)}
    return inside | {MANIFEST}
