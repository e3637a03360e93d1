"""Write the reader's evaluation set: digits and numbers in many hands, on many papers.

    python benchmarks/reader_set.py OUT --split dev        # OUT/dev/*.png|jpg + manifest.jsonl
    python benchmarks/reader_set.py OUT --split holdout    # other seed, digits, fonts

Each image is one digit or one number of 2-6 digits, its label in
``manifest.jsonl`` (one JSON object a line: file, label, kind, source, style,
tags). The ink comes from three sources (benchmarks/handwriting_pens.py): a stroke
renderer with jittered pen paths in several ways of writing each digit and many
hands (slant, width, pen), MNIST test digits (read through ``OWNNET_DATA``; the
dev split takes them from the first half of the test set, the held-out split
from the second) and typed digits in the system's fonts. The styles
(benchmarks/handwriting_paper.py): clean scans, phone photos with uneven light,
pages on a table, ruled and grid paper, pencil, chalk on a board, transparent
PNGs and screen drawings, with blur, noise and JPEG. Everything follows from the
seed and the fonts the machine has (Debian's ``fonts-dejavu`` and ``fonts-liberation``,
which comes with Chromium, give all twelve): the same command on such a machine writes
the same files. ``OUT/SPLIT/made.json`` records the seed, the counts and the fonts
(:func:`made_with`). Keep the output out of git.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import handwriting_paper as hp  # noqa: E402
import handwriting_pens as pens  # noqa: E402

STYLES = ("scan", "photo", "table", "ruled", "grid", "pencil", "chalk", "transparent", "screen")
STYLE_WEIGHTS = (0.14, 0.2, 0.1, 0.12, 0.08, 0.08, 0.1, 0.08, 0.1)
SPLITS = {"dev": 0, "holdout": 1}


def mnist_test() -> tuple[np.ndarray, np.ndarray] | None:
    """MNIST's test images and labels through ``OWNNET_DATA``, or None when absent."""
    try:
        from ownnet.data.mnist import load_mnist

        test = load_mnist(None, progress=False).test
    except Exception as exc:  # a benchmark runs on what it has
        print(f"no MNIST ({exc}); the set is made without MNIST digits", file=sys.stderr)
        return None
    return np.asarray(test.images), np.asarray(test.labels)


class Writer:
    """Makes the ink of digits from one source in one hand."""

    def __init__(self, rng, source, mnist, fonts, split):
        self.rng, self.source = rng, source
        self.hand = pens.Hand.random(rng)
        self.font = str(rng.choice(fonts)) if fonts else None
        if source == "font" and self.font is None:
            self.source = "pen"
        self.mnist = mnist
        if mnist is not None:
            half = len(mnist[1]) // 2
            self.pool = np.arange(half) if split == "dev" else np.arange(half, len(mnist[1]))
        self.weight = rng.uniform(0.2, 0.6)

    def ink(self, digit: int, height: float) -> np.ndarray:
        if self.source == "mnist" and self.mnist is not None:
            images, labels = self.mnist
            choices = self.pool[labels[self.pool] == digit]
            return pens.mnist_digit(images[self.rng.choice(choices)], height, self.rng)
        if self.source == "font":
            return pens.font_digit(digit, self.font, height)
        return pens.pen_digit(digit, self.hand, self.rng, height)

    @property
    def tags(self) -> list[str]:
        if self.source != "pen":
            return [self.source]
        tags = ["pen", self.hand.pen]
        if self.hand.width >= 0.13:
            tags.append("bold")
        elif self.hand.width < 0.06:
            tags.append("thin")
        if self.hand.slant >= 0.25:
            tags.append("italic")
        return tags


def layout(writer: Writer, label: str, height: float, rng) -> np.ndarray:
    """The ink of ``label``'s digits side by side: alpha ``(h, w)``."""
    inks = [writer.ink(int(c), height * rng.uniform(0.92, 1.08)) for c in label]
    touching = len(label) > 1 and rng.random() < 0.15
    gaps = [
        height * (rng.uniform(-0.12, 0.0) if touching and rng.random() < 0.5
                  else rng.uniform(0.05, 0.45))
        for _ in inks[1:]
    ]  # fmt: skip
    tallest = max(a.shape[0] for a in inks)
    h = int(tallest * 1.15) + 4
    w = int(sum(a.shape[1] for a in inks) + sum(gaps) + 4)
    canvas = np.zeros((h, max(w, 4)), np.float32)
    x = 2.0
    for i, a in enumerate(inks):
        y = int((h - a.shape[0]) / 2 + rng.normal(0, 0.03) * height)
        y = min(max(y, 0), h - a.shape[0])
        x0 = int(round(x))
        region = canvas[y : y + a.shape[0], x0 : x0 + a.shape[1]]
        np.maximum(region, a[: region.shape[0], : region.shape[1]], out=region)
        x += a.shape[1] + (gaps[i] if i < len(gaps) else 0)
    cols = np.flatnonzero(canvas.max(axis=0) > 0.05)
    rows = np.flatnonzero(canvas.max(axis=1) > 0.05)
    return canvas[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def scene(alpha: np.ndarray, style: str, rng, height: float) -> tuple[bytes, str, list[str]]:
    """Put ink ``alpha`` in a picture of ``style``: ``(bytes, extension, tags)``."""
    tight = rng.random() < 0.06
    margin = rng.uniform(0.04, 0.1) if tight else rng.uniform(0.25, 1.4)
    my = int(height * margin * rng.uniform(0.6, 1.4)) + 1
    mx = int(height * margin * rng.uniform(0.6, 1.4)) + 1
    a = np.pad(alpha, ((my, my), (mx, mx)))
    h, w = a.shape
    tags = ["tight"] if tight else []
    if style == "transparent":
        colour = np.array(rng.choice([[0, 0, 0], [0.1, 0.1, 0.6], [1, 1, 1], [0.9, 0.2, 0.2]]))
        rgb = np.broadcast_to(colour, (h, w, 3)).astype(np.float32)
        return hp.encode(rng, rgb, "png", alpha=a), "png", tags
    if style == "screen":
        dark = rng.random() < 0.5
        ground = np.full((h, w, 3), 0.0 if dark else 1.0, np.float32)
        ink = np.ones(3) if dark else np.zeros(3)
        rgb = ground * (1 - a[:, :, None]) + ink * a[:, :, None]
        return hp.encode(rng, rgb, "png"), "png", tags + (["light-on-dark"] if dark else [])
    if style == "chalk":
        ground = hp.board(rng, h, w)
        rgb = hp.compose(rng, ground, a, "chalk")
        rgb = hp.light(rng, rgb, rng.uniform(0, 0.3))
        rgb = hp.photograph(rng, rgb, blur=rng.uniform(0, 1.2), noise=rng.uniform(0, 0.03))
        return hp.encode(rng, rgb, "jpg"), "jpg", tags
    kind = {"ruled": "ruled", "grid": "grid"}.get(style, "plain")
    ground = hp.paper(rng, h, w, kind, height)
    ink = "pencil" if style == "pencil" else str(rng.choice(["black", "blue", "black", "red"]))
    rgb = hp.compose(rng, ground, a, ink)
    if style == "scan":
        rgb = hp.photograph(rng, rgb, blur=rng.uniform(0, 0.6), noise=rng.uniform(0, 0.01))
        fmt = "png" if rng.random() < 0.6 else "jpg"
        return hp.encode(rng, rgb, fmt), fmt, tags
    rgb = hp.light(rng, rgb, rng.uniform(0.1, 0.5))
    if style == "table":
        rgb = hp.on_table(rng, rgb)
    blur = rng.uniform(0, 0.012) * height + rng.uniform(0, 0.8)
    rgb = hp.photograph(rng, rgb, blur=blur, noise=rng.uniform(0.0, 0.04))
    return hp.encode(rng, rgb, "jpg"), "jpg", tags + [ink]


def made_with(split: str, n_digits: int = 600, n_numbers: int = 200, seed: int = 0) -> dict:
    """What the files of ``split`` follow from on this machine: the seed, the counts and
    the fonts of the typed digits (every other one of those found, by split)."""
    fonts = pens.available_fonts()
    fonts = fonts[0::2] if split == "dev" else fonts[1::2]
    return {"split": split, "seed": seed, "digits": n_digits, "numbers": n_numbers,
            "fonts": fonts}  # fmt: skip


def made(folder: Path) -> dict | None:
    """``folder/made.json`` (what a split was made with), or None for a set without it."""
    try:
        return json.loads((folder / "made.json").read_text())
    except (OSError, ValueError):
        return None


def ensure(out: Path, split: str) -> dict:
    """``out/split`` as :func:`make` writes it with its defaults: made (again) unless it is
    there from the same recipe (:func:`made_with`: seed, counts, this machine's fonts).
    Returns the recipe."""
    recipe = made_with(split)
    if not (out / split / "manifest.jsonl").is_file() or made(out / split) != recipe:
        make(out, split, recipe=recipe)
    return recipe


def make(
    out: Path,
    split: str,
    n_digits: int = 600,
    n_numbers: int = 200,
    seed: int = 0,
    recipe: dict | None = None,
) -> Path:
    """Write the images of ``split`` and their manifest into ``out/split`` (``recipe``:
    :func:`made_with` for these arguments, when the caller has it already)."""
    rng = np.random.default_rng([seed, SPLITS[split]])
    mnist = mnist_test()
    recipe = recipe or made_with(split, n_digits, n_numbers, seed)
    fonts = recipe["fonts"]
    folder = out / split
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n_digits + n_numbers):
        number = i >= n_digits
        length = int(rng.integers(2, 7)) if number else 1
        label = "".join(str(d) for d in rng.integers(0, 10, length))
        if not number:
            label = str(i % 10)
        source = str(rng.choice(["pen", "mnist", "font"], p=[0.5, 0.38, 0.12]))
        if source == "mnist" and mnist is None:
            source = "pen"
        style = str(rng.choice(STYLES, p=STYLE_WEIGHTS))
        small = rng.random() < 0.1
        height = (
            rng.uniform(14, 40) if small else math.exp(rng.uniform(math.log(40), math.log(420)))
        )
        writer = Writer(rng, source, mnist, fonts, split)
        alpha = layout(writer, label, height, rng)
        data, ext, tags = scene(alpha, style, rng, height)
        name = f"{i:04d}-{'number' if number else 'digit'}-{label}.{ext}"
        (folder / name).write_bytes(data)
        rows.append({
            "file": name, "label": label, "kind": "number" if number else "digit",
            "source": writer.source, "style": style,
            "tags": sorted(set(writer.tags + tags + (["small"] if small else [])))
        })  # fmt: skip
    manifest = folder / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "made.json").write_text(json.dumps(recipe) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("out", type=Path, help="folder to write into (OUT/SPLIT/...)")
    p.add_argument("--split", choices=sorted(SPLITS), default="dev")
    p.add_argument("--digits", type=int, default=600, help="single digits (600)")
    p.add_argument("--numbers", type=int, default=200, help="numbers of 2-6 digits (200)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    manifest = make(args.out, args.split, args.digits, args.numbers, args.seed)
    print(json.dumps({"manifest": str(manifest), "split": args.split, "seed": args.seed}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
