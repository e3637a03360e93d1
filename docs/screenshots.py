"""Make the screenshots of ``ownnet serve`` in this folder, in real headless Chromium.

    python docs/screenshots.py                           # trains small models first
    python docs/screenshots.py --book ownnet-model.npz --cnn cnn.npz

Writes ``serve.png`` (the draw page with the book's network), ``serve-inside.png``
(the draw page with a CNN: every layer, the saliency map, the class pictures and the
layers' dreams of a drawn 3) and ``watch-compare.png`` (the watch page comparing the
book's network at learning rates 0.1 and 0.6). Models not given are trained here on
MNIST ($OWNNET_DATA or ``--data``): the book's network 784-100-10 for one epoch, a CNN
with 16 and 32 filters for one epoch on 20,000 images. Needs the web extra, Playwright
and Debian's chromium.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
#: a 3, drawn in fractions of the pad
THREE = [(0.3, 0.22), (0.5, 0.13), (0.68, 0.22), (0.66, 0.4), (0.46, 0.5), (0.68, 0.62),
         (0.7, 0.8), (0.5, 0.9), (0.3, 0.8)]  # fmt: skip


def train_book(splits, out: Path) -> Path:
    from ownnet.classic import Network
    from ownnet.io import save_model

    net = Network(784, 100, 10, 0.1, seed=0)
    net.fit(splits.train, epochs=1, verbose=0)
    acc = net.score(splits.test)
    print(f"trained the book's network 784-100-10: {acc:.4f}")
    return save_model(out, net, test_accuracy=acc, seed=0, training={"epochs": 1, "lr": 0.1})


def train_cnn(splits, out: Path) -> Path:
    from ownnet.io import save_model
    from ownnet.nn import Adam, Network

    net = Network.cnn(filters=(16, 32), dense=64, seed=0)
    optimizer = Adam(0.001)
    net.fit(
        splits.train.subset(20000), epochs=1, batch_size=64, optimizer=optimizer, verbose=0, seed=0
    )
    acc = net.score(splits.test)
    print(f"trained a CNN 16-32 filters, dense 64: {acc:.4f}")
    training = {"model": "cnn", "optimizer": optimizer.spec(), "epochs": 1, "samples": 20000}
    return save_model(out, net, test_accuracy=acc, seed=0, training=training)


def draw(page, points: list[tuple[float, float]]) -> None:
    box = page.locator("#pad").bounding_box()
    at = [(box["x"] + box["width"] * x, box["y"] + box["height"] * y) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for p in at[1:]:
        page.mouse.move(*p, steps=8)
    page.mouse.up()
    page.wait_for_selector("#pad[data-state=idle]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", type=Path, help="a book's-network model file")
    parser.add_argument("--cnn", type=Path, help="a CNN model file")
    parser.add_argument("--data", help="MNIST folder (default: $OWNNET_DATA)")
    parser.add_argument("--out", type=Path, default=HERE, help="where the PNGs go")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from ownnet.data.mnist import load_mnist
    from ownnet.web.app import create_app
    from ownnet.web.server import BackgroundServer

    splits = load_mnist(args.data, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book = shutil.copy(args.book, folder / "book.npz") if args.book else None
        book = book or train_book(splits, folder / "book.npz")
        cnn = shutil.copy(args.cnn, folder / "cnn.npz") if args.cnn else None
        cnn = cnn or train_cnn(splits, folder / "cnn.npz")
        app = create_app(book, data_dir=args.data, save_dir=folder)
        with BackgroundServer(app) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 820})
            page.goto(server.url + "/")
            page.wait_for_selector("#class-pictures canvas")
            draw(page, THREE)
            page.screenshot(path=str(args.out / "serve.png"))
            print(f"wrote {args.out / 'serve.png'} (digit {page.inner_text('#digit')})")

            page.select_option("#model-menu", Path(cnn).name)
            page.wait_for_function("() => document.body.dataset.model === 'cnn.npz'")
            page.wait_for_selector("#pad[data-state=idle]")
            page.wait_for_function(
                "() => document.getElementById('pictures-caption').textContent.includes('Fed')"
            )
            page.click("#dream")
            page.wait_for_selector("#dreams canvas")
            page.screenshot(path=str(args.out / "serve-inside.png"), full_page=True)
            print(f"wrote {args.out / 'serve-inside.png'} (digit {page.inner_text('#digit')})")

            page.goto(server.url + "/watch")
            page.wait_for_function("() => document.querySelector('input[name=hidden]').value")
            page.check("#compare")
            page.fill("#speed", "9")
            page.click("#start")
            page.wait_for_function(
                "() => /A: the run is done.*B: the run is done/"
                ".test(document.getElementById('run-status').textContent)",
                timeout=300_000,
            )
            page.screenshot(path=str(args.out / "watch-compare.png"), full_page=True)
            print(f"wrote {args.out / 'watch-compare.png'}: {page.inner_text('#run-status')}")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
