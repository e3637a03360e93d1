"""``ownnet predict MODEL IMAGE...``: read digits from your own pictures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="read the digit in your own images (PNG, JPEG, BMP, GIF)",
        description=(
            "Read the digit in each image with a saved model.\n\n"
            "Each image (any size; dark ink on light paper or light ink on dark) is first\n"
            "prepared the way MNIST was made: greyscale, background and polarity found,\n"
            "faint noise removed, cropped to the ink, the longer side scaled to 20 px and\n"
            "the ink's centre of mass placed at the centre of a 28x28 picture. A folder\n"
            "stands for the images in it.\n\n"
            "Confidence: for the classic network (sigmoid outputs) the outputs divided by\n"
            "their sum, which ranks the digits but is not a calibrated probability; for a\n"
            "softmax network the probability."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="model file written by `ownnet train`")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files or folders")
    p.add_argument(
        "--show",
        metavar="DIR",
        help="save each prepared 28x28 input as DIR/<name>.28x28.png and all of them, "
        "with the answers, as DIR/predictions.png",
    )
    p.add_argument("--top", type=int, default=3, metavar="K", help="show the K best digits (3)")
    p.add_argument(
        "--as-is",
        action="store_true",
        help="the images are already MNIST-style 28x28 (white ink on black): do not prepare them",
    )
    p.add_argument(
        "--no-thicken",
        action="store_true",
        help="do not widen strokes thinner than MNIST's (a thin pen on a large photo)",
    )
    p.set_defaults(func=run)


def expand(paths: list[str]) -> list[Path]:
    """Files as given; a folder stands for its image files (sorted by name)."""
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            out.extend(sorted(f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(path)
    return out


def _as_is(path: Path) -> np.ndarray:
    """An MNIST-style 28x28 file read as it is: uint8 ``(28, 28)``."""
    import numpy as np

    from ownnet.data.images import open_image
    from ownnet.errors import DataError

    im = open_image(path).convert("L")
    if im.size != (28, 28):
        raise DataError(f"{path}: --as-is needs 28x28 images, found {im.width}x{im.height}")
    return np.asarray(im, dtype=np.uint8)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ownnet.data.images import prepare
    from ownnet.errors import DataError
    from ownnet.inspect.confidence import confidences, top_k
    from ownnet.io import load_model

    model, meta = load_model(args.model)
    files = expand(args.images)
    if not files:
        raise DataError(f"no image files in {' '.join(args.images)}")
    prepared, names, failed = [], [], 0
    for path in files:
        try:
            image = _as_is(path) if args.as_is else prepare(path, thicken=not args.no_thicken)
        except DataError as exc:
            print(f"ownnet predict: {exc}", file=sys.stderr)
            failed += 1
            continue
        prepared.append(image)
        names.append(path)
    if not prepared:
        return 1
    images = np.stack(prepared)
    conf, how = confidences(model, images)
    classes, scores = top_k(conf, max(1, args.top))
    print(f"model: {args.model} ({meta.get('kind')}); confidence: {how}")
    width = max(len(str(p)) for p in names)
    for path, cls, sc in zip(names, classes, scores, strict=True):
        others = ", ".join(f"{c} {s:.3f}" for c, s in zip(cls, sc, strict=True))
        print(f"{str(path):<{width}}  digit {cls[0]}  confidence {sc[0]:.3f}  (top: {others})")
    if args.show:
        _show(Path(args.show), names, images, classes[:, 0], scores[:, 0])
    if failed:
        print(f"{failed} of {len(files)} images could not be read", file=sys.stderr)
    return 1 if failed else 0


def _show(
    directory: Path,
    names: list[Path],
    images: np.ndarray,
    digits: np.ndarray,
    scores: np.ndarray,
) -> None:
    """Save each prepared input ``(28, 28)`` and an overview grid into ``directory``."""
    from ownnet.inspect.grids import image_grid, save_figure, save_grey_png

    used: set[str] = set()
    for path, image in zip(names, images, strict=True):
        stem = path.stem
        n = 2
        while stem in used:
            stem = f"{path.stem}-{n}"
            n += 1
        used.add(stem)
        save_grey_png(image, directory / f"{stem}.28x28.png")
    titles = [
        f"{p.name[:18]}: {d} ({s:.2f})" for p, d, s in zip(names, digits, scores, strict=True)
    ]
    ncols = min(len(images), 6)
    fig = image_grid(images, titles=titles, ncols=ncols, cmap="gray", vmin=0, vmax=255, cell=1.6)
    out = save_figure(fig, directory / "predictions.png")
    print(f"saved the prepared 28x28 inputs in {directory} and an overview in {out}")
