"""``ownnet predict [MODEL] IMAGE...``: read digits and numbers from your own pictures."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ownnet.atomic import atomic_write_bytes
from ownnet.cli.output import save_figure, save_grey_png
from ownnet.data.images import ImageError, open_image
from ownnet.errors import OwnnetError
from ownnet.inspect.grids import image_grid
from ownnet.inspect.preparation import annotated, steps_figure
from ownnet.io import load_model
from ownnet.reader import default_path, find_reader
from ownnet.reading import DigitReading, Reading, probabilities, read

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
#: the preparation steps that can be switched off: option -> Options field
STEP_SWITCHES = {
    "no_page": "page",
    "no_light": "light",
    "no_lines": "lines",
    "no_deslant": "deslant",
    "no_thicken": "widen",
    "no_thin": "thin",
    "no_hairlines": "hairlines",
    "no_level": "level",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="read the digit or number in your own images (PNG, JPEG, BMP, GIF, TIFF, WebP)",
        description=(
            "Read the digit or the whole number in each image with a saved model.\n\n"
            "Each image (any size; dark ink on light paper or light ink on dark) is first\n"
            "prepared the way MNIST was made: cut to the page, the paper's uneven light\n"
            "evened out, ruled lines removed, each digit found, deslanted, its strokes made\n"
            "as wide as MNIST's, the longer side scaled to 20 px and the centre of mass put\n"
            "at the centre of a 28x28 picture. The digits are read left to right. A folder\n"
            "stands for the images in it. A network without convolutions (the classic\n"
            "network, an MLP) also reads each digit shifted one pixel up, down, left and\n"
            "right, and the mean of the five confidences counts (--no-shifts: once).\n\n"
            "Without MODEL the reader (`ownnet train --model reader`) is used.\n\n"
            "Confidence: for a softmax network the probability; for the classic network\n"
            "(sigmoid outputs) the outputs divided by their sum, which ranks the digits but\n"
            "is not a calibrated probability."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "images",
        metavar="[MODEL] IMAGE",
        nargs="+",
        help="a model file (.npz, optional) then image files or folders",
    )
    p.add_argument(
        "--show",
        metavar="DIR",
        help="save into DIR: each image with a box and the reading over each digit, the "
        "preparation step by step, each prepared 28x28 input and an overview of all",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.add_argument("--digits", type=int, metavar="N", help="each image holds a number of N digits")
    p.add_argument("--top", type=int, default=3, metavar="K", help="show the K best digits (3)")
    p.add_argument(
        "--as-is",
        action="store_true",
        help="the images are already MNIST-style 28x28 (white ink on black): do not prepare "
        "them, read each once",
    )
    p.add_argument(
        "--no-shifts",
        action="store_true",
        help="read each digit once, where preparation put it (a network without convolutions "
        "also reads it shifted one pixel each way, by default)",
    )
    steps = p.add_argument_group("preparation steps (all on by default)")
    steps.add_argument("--no-page", action="store_true", help="do not cut a photo to the page")
    steps.add_argument(
        "--no-light", action="store_true", help="one plane for the paper's light, not local"
    )
    steps.add_argument("--no-lines", action="store_true", help="keep ruled and grid lines")
    steps.add_argument("--no-deslant", action="store_true", help="keep the digits' slant")
    steps.add_argument(
        "--no-thicken", action="store_true", help="do not widen strokes thinner than MNIST's"
    )
    steps.add_argument(
        "--no-thin", action="store_true", help="do not thin strokes bolder than MNIST's"
    )
    steps.add_argument(
        "--no-hairlines",
        action="store_true",
        help="keep a font's hairlines (thin parts of strokes) as thin as they are",
    )
    steps.add_argument(
        "--no-level",
        action="store_true",
        help="scale the ink to its strongest pixel only, not to solid stroke cores as MNIST's",
    )
    p.set_defaults(func=run)


def is_model_file(path: Path) -> bool:
    """A model file: named ``.npz`` or starting like one (a zip archive)."""
    if path.suffix.lower() == ".npz":
        return True
    try:
        with open(path, "rb") as f:
            return path.is_file() and f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def expand(paths: list[str]) -> list[Path]:
    """Files as given; a folder stands for its image files (sorted by name). Inside a folder
    only regular files that are not links are taken, so a folder cannot lead elsewhere."""
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            out.extend(
                sorted(
                    f
                    for f in path.iterdir()
                    if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file() and not f.is_symlink()
                )
            )
        else:
            out.append(path)
    return out


def choose_model(args: argparse.Namespace) -> tuple[Any, str, list[str]]:
    """``(model, description, image arguments)``: the first argument if it is a model file,
    else the trained reader."""

    first = Path(args.images[0])
    if is_model_file(first):
        model, meta = load_model(first)
        return model, f"{first} ({meta.get('kind')})", args.images[1:]
    reader = find_reader()
    if reader is None:
        raise OwnnetError(
            f"no model named and no reader trained yet ({default_path()} does not exist): "
            "run `ownnet train --model reader`, or name a model file first "
            "(ownnet predict MODEL.npz IMAGE...)"
        )
    model, _ = load_model(reader)
    return model, f"{reader} (the reader)", args.images


def run(args: argparse.Namespace) -> int:

    if args.digits is not None and args.digits < 1:
        raise OwnnetError(f"--digits must be at least 1, found {args.digits}")
    if args.top < 1:
        raise OwnnetError(f"--top must be at least 1, found {args.top}")
    model, description, names = choose_model(args)
    if not names:
        raise OwnnetError("no image named: ownnet predict [MODEL] IMAGE...")
    files = expand(names)
    if not files:
        raise OwnnetError(f"no image files in {' '.join(names)}")
    switches = {field: False for option, field in STEP_SWITCHES.items() if getattr(args, option)}
    if not args.json:
        print(f"model: {description}", flush=True)
    readings, failed, meaning = [], 0, ""
    for path in files:
        try:
            reading = _read_one(model, path, args, switches)
        except OwnnetError as exc:
            failed += 1
            print(f"ownnet predict: {exc}", file=sys.stderr, flush=True)
            if args.json:
                print(json.dumps({"file": str(path), "error": str(exc)}), flush=True)
            continue
        meaning = meaning or reading.meaning
        readings.append(reading)
        _print(reading, args)
    if not args.json and meaning:
        print(f"confidence: {meaning}")
    if args.show and readings:
        _show(Path(args.show), readings)
    if failed:
        print(f"{failed} of {len(files)} images could not be read", file=sys.stderr)
    return 1 if failed else 0


def _read_one(model: Any, path: Path, args: argparse.Namespace, switches: dict) -> Any:

    if args.as_is:
        return _as_is(model, path)
    shifts = False if args.no_shifts else None
    return read(model, path, digits=args.digits, shifts=shifts, **switches)


def _as_is(model: Any, path: Path) -> Any:
    """An MNIST-style 28x28 file read as it is, as a one-digit reading."""

    im = open_image(path)
    if im.size != (28, 28):
        raise ImageError(f"{path}: --as-is needs 28x28 images, found {im.width}x{im.height}")
    image = np.asarray(im.convert("L"), dtype=np.uint8)
    conf, meaning = probabilities(model, image[None])
    order = np.argsort(-conf[0], kind="stable")[:3]
    top3 = [(int(c), float(conf[0, c])) for c in order]
    digit = DigitReading(top3[0][0], top3[0][1], top3, (0, 0, 28, 28), image)
    return Reading(str(path), str(top3[0][0]), [digit], [], meaning)


def _print(reading: Any, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(reading.to_json()), flush=True)
        return
    if len(reading.digits) == 1:
        d = reading.digits[0]
        k = min(args.top, 3)
        top = ", ".join(f"{c} {s:.3f}" for c, s in d.top3[:k])
        print(f"{reading.name}  digit {d.digit}  confidence {d.confidence:.3f}  (top: {top})")
    else:
        each = ", ".join(f"{d.digit} {d.confidence:.2f}" for d in reading.digits)
        print(f"{reading.name}  number {reading.number}  (digits: {each})")
    for note in reading.warnings:
        print(f"ownnet predict: {reading.name}: warning: {note}", file=sys.stderr)
    sys.stdout.flush()


def _show(directory: Path, readings: list[Any]) -> None:
    """Save into ``directory``: per image the annotated picture, the steps and the 28x28
    inputs; an overview of every input read."""

    if directory.exists() and not directory.is_dir():
        raise OwnnetError(f"--show {directory}: exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    used = {"predictions"}  # the overview's name
    images, titles = [], []
    for reading in readings:
        base = Path(reading.name).stem or "image"
        stem, n = base, 2
        while stem in used:
            stem, n = f"{base}-{n}", n + 1
        used.add(stem)
        if len(reading.digits) == 1:
            save_grey_png(reading.digits[0].image, directory / f"{stem}.28x28.png")
        else:
            for i, d in enumerate(reading.digits, start=1):
                save_grey_png(d.image, directory / f"{stem}.{i}.28x28.png")
        if reading.scene is not None:
            buf = io.BytesIO()
            annotated(reading).save(buf, format="PNG")
            atomic_write_bytes(directory / f"{stem}.png", buf.getvalue())
            save_figure(steps_figure(reading), directory / f"{stem}.steps.png")
        for d in reading.digits:
            images.append(d.image)
            titles.append(f"{Path(reading.name).name[:14]}: {d.digit} ({d.confidence:.2f})")
    ncols = min(len(images), 6)
    fig = image_grid(
        np.stack(images), titles=titles, ncols=ncols, cmap="gray", vmin=0, vmax=255, cell=1.6
    )
    out = save_figure(fig, directory / "predictions.png")
    print(
        f"saved into {directory}: each image with its boxes (<name>.png), the preparation step "
        f"by step (<name>.steps.png), the 28x28 inputs and an overview in {out}"
    )
