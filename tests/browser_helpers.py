"""Helpers for the tests that run the exported page's JavaScript in Chromium.

Debian's Chromium driven by Playwright (no browser download); a plain static file
server on loopback; pages that record every request they make; and the Python side
of what the browser computes (each stage's activations, the saliency map).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STATIC = Path(__file__).resolve().parents[1] / "src" / "ownnet" / "web" / "static"
#: the layers that start a stage of the inside view (forward.js, STAGE_KINDS)
STAGE_STARTS = ("Dense", "Conv2D", "MaxPool2D")


def launch_chromium() -> Iterator[Any]:
    """A headless Chromium (a generator for a fixture); skips when it or Playwright is absent."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
    with api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Serve the folder ``root`` with Python's plain static file server on loopback; yields
    its URL (``http://127.0.0.1:<port>``)."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def recorded_page(browser: Any) -> Iterator[Any]:
    """A new page whose ``requests`` (URLs) and ``errors`` (page errors, console errors) are
    recorded."""
    context = browser.new_context()
    page = context.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    try:
        yield page
    finally:
        context.close()


def load_scripts(page: Any, *names: str) -> None:
    """Add the static scripts ``names`` (from the package's web/static) to ``page``."""
    for name in names:
        page.add_script_tag(content=(STATIC / name).read_text(encoding="utf-8"))


# -- what the browser should compute, by the engine in Python ----------------------------------
def network_inputs(net: Any, pixels: np.ndarray) -> np.ndarray:
    """Pixels ``(n, 784)`` in 0..1 -> the network's inputs ``(n, *input_shape)``."""
    from ownnet.nn.network import INPUT_SCALES

    a, b = INPUT_SCALES[net.input_scale]
    x = np.asarray(pixels, dtype=np.float64) * a + b
    return x.astype(net.dtype).reshape(len(pixels), *net.input_shape)


def stage_values(model: Any, pixels: np.ndarray) -> list[np.ndarray]:
    """Each stage's activations ``(n, size)`` for pixels ``(n, 784)``, by the matrix engine's
    ``forward`` layer by layer (a classic network as the same network in the engine): the
    pixels, then the output of the last layer of each stage."""
    from ownnet.inspect.stack import as_nn

    net = as_nn(model)
    ends: list[int] = []
    for i, layer in enumerate(net.layers):
        if type(layer).__name__ in STAGE_STARTS or not ends:
            ends.append(i)
        else:
            ends[-1] = i
    x = network_inputs(net, pixels)
    values = [np.asarray(pixels, dtype=np.float64)]
    for i, layer in enumerate(net.layers):
        x = layer.forward(x, False)
        if i in ends:
            values.append(np.array(x, dtype=np.float64).reshape(len(pixels), -1))
    return values


def saliency(model: Any, pixels: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Gradient x input ``(n, 784)``: each pixel times d z_digit / d pixel, z the output
    layer's net input, by the engine's backward pass (``ownnet.inspect.maximize.UnitProbe``)."""
    from ownnet.inspect.maximize import UnitProbe

    _, grad = UnitProbe(model, "output").gradient(pixels, digits)
    return grad * pixels


def assert_close_relative(found: Any, expected: np.ndarray, rtol: float, what: str) -> None:
    """``found`` equals ``expected`` to ``rtol`` of the largest ``|expected|``."""
    found = np.asarray(found, dtype=np.float64)
    assert found.shape == expected.shape, f"{what}: shape {found.shape}, expected {expected.shape}"
    scale = max(float(np.abs(expected).max()), 1e-12)
    worst = float(np.abs(found - expected).max())
    assert worst <= rtol * scale, f"{what}: differs by {worst:.3g} (largest value {scale:.3g})"
