"""How well people's digits and numbers are read: book model and reader, step by step.

    python benchmarks/reader.py --set SET --book book.npz [--reader reader.npz] [--ablation]

The evaluation set's splits are made in SET the first time (benchmarks/reader_set.py,
the same files from the same seed every time), and made again when this machine's fonts
are not those a split was made with; a ``reader set`` line says what each split
follows from. For each split, each model and each
preparation (all steps, then each step switched off in turn, then none; the ablation
on an even sample of ``--ablation-limit`` images of each split, with all steps read on
that sample too, as ``all steps, sample``), prints one JSON line:
the share of single-digit images read exactly (``digit_accuracy``), of numbers read
exactly (``number_exact``; also with the count of digits given,
``number_exact_given_count``), and per style. The reader
defaults to the trained one (``ownnet train --model reader``). ``no shifts`` is a step
of the reading, not of the preparation: each digit read once, also by a network
without convolutions (:mod:`ownnet.shifts`). ``--timing`` reads
a 4000x3000 phone photo of a five-digit number (made here) and prints the
seconds it took (wall clock and CPU, best of 3), with the time Pillow alone takes
to decode it for scale.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reader_set  # noqa: E402

#: the preparation variants of the ablation: name -> switches
VARIANTS = {
    "all steps": {},
    "no page": {"page": False},
    "no local light": {"light": False},
    "no line removal": {"lines": False},
    "no deslant": {"deslant": False},
    "no widening": {"widen": False},
    "no thinning": {"thin": False},
    "no hairline widening": {"hairlines": False},
    "no ink level": {"level": False},
    "no shifts": {"shifts": False},
    "none of them": {
        "page": False, "light": False, "lines": False, "deslant": False, "widen": False,
        "thin": False, "hairlines": False, "level": False, "shifts": False,
    },
}  # fmt: skip
#: the switches that belong to the reading (read_survey), not to the preparation (survey)
READING = ("shifts",)


def load(path: str | None):
    from ownnet.io import load_model

    return load_model(path)[0] if path else None


def sample(count: int, limit: int | None) -> list[int]:
    """Indices of an even sample of ``limit`` of ``count`` images (digits and numbers alike)."""
    if not limit or limit >= count:
        return list(range(count))
    return sorted(set(np.linspace(0, count - 1, limit).round().astype(int).tolist()))


def evaluate(
    folder: Path, models: dict, switches: dict, limit: int | None, also: int | None = None
) -> list[dict]:
    """Read an even sample of ``limit`` images of ``folder`` (all with None) with every model:
    per model, counts by kind and style; with ``also``, a second result for the even
    sample of ``also`` images, from the same readings."""
    from ownnet.errors import OwnnetError
    from ownnet.reading import read_survey, survey

    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    chosen = sample(len(rows), limit)
    subsets = [set(chosen)] + ([set(sample(len(rows), also))] if also else [])
    results = [
        {"counts": {n: defaultdict(lambda: [0, 0]) for n in models}, "images": 0, "seconds": 0.0}
        for _ in subsets
    ]
    reading = {k: v for k, v in switches.items() if k in READING}
    switches = {k: v for k, v in switches.items() if k not in READING}
    for index in sorted(set().union(*subsets)):
        row = rows[index]
        mine = [r for r, subset in zip(results, subsets, strict=True) if index in subset]
        path = folder / row["file"]
        hint = len(row["label"]) if row["kind"] == "number" else None
        start = time.perf_counter()
        try:
            surveys = [survey(path, **switches)]
            if hint:
                surveys.append(survey(path, digits=hint, **switches))
        except OwnnetError:
            surveys = []
        seconds = time.perf_counter() - start
        for result in mine:
            result["images"] += 1
            result["seconds"] += seconds
        for name, model in models.items():
            read = [read_survey(model, s, **reading).number for s in surveys] or ["", ""]
            right = read[0] == row["label"]
            for c in (result["counts"][name] for result in mine):
                for key in (row["kind"], f"{row['kind']}/{row['style']}"):
                    c[key][0] += right
                    c[key][1] += 1
                if hint:
                    c["number given count"][0] += read[-1] == row["label"]
                    c["number given count"][1] += 1
    return results


def share(pair: list[int]) -> float | None:
    return round(pair[0] / pair[1], 4) if pair[1] else None


def report(split: str, variant: str, result: dict) -> None:
    for name, c in result["counts"].items():
        line = {
            "benchmark": "reader",
            "split": split,
            "model": name,
            "preparation": variant,
            "digit_accuracy": share(c["digit"]),
            "digits": c["digit"][1],
            "number_exact": share(c["number"]),
            "numbers": c["number"][1],
            "number_exact_given_count": share(c["number given count"]),
            "by_style": {k: share(v) for k, v in sorted(c.items()) if "/" in k},
            "prepare_ms_per_image": round(1000 * result["seconds"] / max(result["images"], 1), 1),
        }
        print(json.dumps(line), flush=True)


def timing(models: dict) -> None:
    """Read a 4000x3000 JPEG photo of a five-digit number; seconds, best of 3."""
    import handwriting_paper as hp
    import handwriting_pens as pens
    from PIL import Image

    from ownnet.reading import read

    rng = np.random.default_rng(7)
    hand = pens.Hand.random(rng, weight="normal")
    label = "20265"
    inks = [pens.pen_digit(int(c), hand, rng, 700) for c in label]
    alpha = np.zeros((3000, 4000), np.float32)
    x = 700
    for a in inks:
        alpha[1100 : 1100 + a.shape[0], x : x + a.shape[1]] = np.maximum(
            alpha[1100 : 1100 + a.shape[0], x : x + a.shape[1]], a
        )
        x += a.shape[1] + 90
    ground = hp.paper(rng, 3000, 4000, "plain", 700)
    rgb = hp.light(rng, hp.compose(rng, ground, alpha, "black"), 0.3)
    rgb = hp.photograph(rng, rgb, blur=1.5, noise=0.02)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        path.write_bytes(hp.encode(rng, rgb, "jpg"))
        decode = []
        for _ in range(3):
            start = time.perf_counter()
            with Image.open(path) as im:
                im.load()
            decode.append(time.perf_counter() - start)
        for name, model in models.items():
            times, cpu, number = [], [], ""
            for _ in range(3):
                start, start_cpu = time.perf_counter(), time.process_time()
                number = read(model, path).number
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            print(json.dumps({
                "benchmark": "reader timing", "model": name, "image": "4000x3000 JPEG photo",
                "label": label, "read": number, "seconds": round(min(times), 3),
                "cpu_seconds": round(min(cpu), 3),
                "full_decode_seconds": round(min(decode), 3),
                "ratio_to_full_decode": round(min(times) / min(decode), 2),
                "load_average": round(os.getloadavg()[0], 2),
            }), flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--set", type=Path, required=True, help="the folder reader_set.py wrote")
    p.add_argument("--splits", default="dev,holdout", help="splits to read (dev,holdout)")
    p.add_argument("--book", help="the book model (ownnet train with its defaults)")
    p.add_argument("--reader", help="the reader model (default: the trained one, if any)")
    p.add_argument("--ablation", action="store_true", help="also each step switched off")
    p.add_argument("--timing", action="store_true", help="time a 4000x3000 photo of a number")
    p.add_argument("--limit", type=int, help="read only N images of each split (evenly spread)")
    p.add_argument(
        "--ablation-limit",
        type=int,
        default=300,
        help="read N images of each split with each step switched off (300; 0: all)",
    )
    args = p.parse_args(argv)
    from ownnet.reader import find_reader

    reader = args.reader or find_reader()
    models = {name: load(path) for name, path in (("book", args.book), ("reader", reader)) if path}
    if not models:
        p.error("no model: give --book and/or --reader (or train the reader)")
    variants = VARIANTS if args.ablation else {"all steps": {}}
    for split in args.splits.split(","):
        folder = args.set / split
        recipe = reader_set.ensure(args.set, split)
        print(json.dumps({"benchmark": "reader set", **recipe}), flush=True)
        small = args.ablation_limit or args.limit
        if args.limit and small:
            small = min(small, args.limit)
        for variant, switches in variants.items():
            if switches:
                report(split, variant, evaluate(folder, models, switches, small)[0])
                continue
            also = small if args.ablation else None
            whole, *part = evaluate(folder, models, {}, args.limit, also)
            report(split, variant, whole)
            if part:
                report(split, f"{variant}, sample", part[0])
    if args.timing:
        timing(models)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
