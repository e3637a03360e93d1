"""``ownnet export web MODEL DIR``: the draw page as a static site that runs without a server."""

from __future__ import annotations

import argparse
from pathlib import Path

from ownnet.io import load_model

DESCRIPTION = """\
Write the draw page of `ownnet serve` with MODEL built in, as a folder of plain files
(HTML, CSS, JavaScript and the weights) that computes every answer in the browser:
draw a digit and see the ten bars, look inside (each layer's activations, a saliency
map) and the class pictures, with no server and no request to anywhere else.

Open DIR/index.html from disk, or put the folder on any static host (GitHub Pages,
a web server, `python -m http.server`). Works for the book's network, MLPs and CNNs.
Pages that need a server (training, watching a run) are left out.

DIR must be new, empty, or an earlier export (which is replaced); --force writes into
a folder that holds other files, leaving them alone.

example:
  ownnet train --model cnn --out cnn.npz
  ownnet export web cnn.npz site       # then open site/index.html
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="share a model as a web page that runs in the browser (no server)",
        description="Export a model to another form. Targets: web (a static site).",
    )
    targets = p.add_subparsers(dest="target", metavar="TARGET", required=True)
    web = targets.add_parser(
        "web",
        help="a static site: the draw page with the model built in",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    web.add_argument("model", metavar="MODEL", help="model file (any kind `ownnet train` writes)")
    web.add_argument("dir", metavar="DIR", help="folder to write the site into")
    web.add_argument(
        "--force",
        action="store_true",
        help="write into DIR even if it holds other files (they are left alone)",
    )
    web.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    from ownnet.web.export import export_site

    model, meta = load_model(args.model)
    out = export_site(model, meta, args.dir, name=Path(args.model).name, force=args.force)
    files = [p for p in out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    print(f"wrote {out}: {len(files)} files, {size / 1e6:.1f} MB")
    print(f"open {out / 'index.html'} in a browser, or put the folder on any static host")
    return 0
