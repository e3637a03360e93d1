"""Helpers for the web tests: a small trained model, digit pictures, a server-sent-events reader."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw


def train_small_model(data_dir: Path, out: Path, hidden: int = 40) -> Path:
    """A classic network trained one epoch on the small MNIST folder, saved to ``out``."""
    from ownnet.classic import Network
    from ownnet.data.mnist import load_mnist
    from ownnet.io import save_model

    splits = load_mnist(data_dir, progress=False, download=False)
    net = Network(784, hidden, 10, 0.1, seed=0)
    net.fit(splits.train, epochs=1, verbose=0)
    acc = net.score(splits.test)
    return save_model(
        out, net, test_accuracy=acc, seed=0, training={"epochs": 1, "lr": 0.1, "hidden": hidden}
    )


def stroke_png(
    size: tuple[int, int] = (200, 240), width: int = 18, dark_on_light: bool = True
) -> bytes:
    """A PNG of one vertical pen stroke (a "1"), drawn with Pillow."""
    paper, ink = (255, 0) if dark_on_light else (0, 255)
    im = Image.new("L", size, paper)
    w, h = size
    ImageDraw.Draw(im).line([(w // 2, h // 6), (w // 2, h * 5 // 6)], fill=ink, width=width)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def png_of(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any], int | None]]:
    """Parse a ``text/event-stream`` (an iterator of lines) into ``(event, data, id)``."""
    event, data, ident = "message", [], None
    for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            if data:
                yield event, json.loads("\n".join(data)), ident
            event, data, ident = "message", [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            ident = int(value)


def slow_down_reports(monkeypatch: Any, seconds: float) -> None:
    """Make each progress report of a watch-page run wait ``seconds`` first, so that a
    run of N reports lasts at least N x ``seconds`` however fast the machine: a test
    that stops it finds it still running."""
    from ownnet.web.training import TrainingRun

    report = TrainingRun._report

    def slow_report(self: Any, *args: Any, **kwargs: Any) -> None:
        time.sleep(seconds)
        report(self, *args, **kwargs)

    monkeypatch.setattr(TrainingRun, "_report", slow_report)


def save_small_cnn(out: Path, seed: int = 0) -> Path:
    """A small (untrained) CNN of the matrix engine, saved as trained with Adam."""
    from ownnet.io import save_model
    from ownnet.nn import Adam, Network

    net = Network.cnn(filters=(4, 8), dense=16, dropout=0.0, seed=seed)
    return save_model(out, net, training={"optimizer": Adam(0.001).spec(), "model": "cnn"})


def digit_pixels(seed: int = 0) -> np.ndarray:
    """A uint8 (28, 28) picture with some ink."""
    rng = np.random.default_rng(seed)
    img = np.zeros((28, 28), np.uint8)
    img[4:24, 12:16] = rng.integers(100, 256, (20, 4))
    return img


def from_bytes(payload: bytes) -> dict[str, Any]:
    """An answer of ``POST /api/inside?encoding=uint8`` decoded as backend.js decodes it."""
    import struct

    (n,) = struct.unpack("<I", payload[:4])
    head = json.loads(payload[4 : 4 + n])
    codes = np.frombuffer(payload[4 + n :], np.uint8)
    for part in [*head["layers"], head["saliency"]]:
        row = codes[part["offset"] : part["offset"] + part["size"]]
        part["values"] = part["low"] + (part["high"] - part["low"]) / 255 * row
    return head
