"""``ownnet backquery MODEL``: run the network backwards, as the book does."""

from __future__ import annotations

import argparse
from pathlib import Path

from ownnet.cli.common import add_model_argument, load_model
from ownnet.cli.output import save_figure, save_grey_png
from ownnet.inspect.backquery import backquery_digits, backquery_figure


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backquery",
        help="run a sigmoid network backwards: the picture it has of each digit",
        description=(
            "Run the network backwards from each answer (0.99 for the digit, 0.01 for\n"
            "the others) through the inverse sigmoid (logit) and the transposed weights,\n"
            "rescaling to 0.01..0.99 at each layer, as the book does, and draw the ten\n"
            "pictures. Each picture is then fed forward again: is it read as its digit?\n\n"
            "The book's pictures have a mid-grey background; MNIST digits have a black\n"
            "one, so the pictures drawn and fed forward have each picture's median set\n"
            "to 0 (--book shows the book's grey pictures instead).\n\n"
            "Only networks of sigmoid layers can be run backwards; for relu or softmax\n"
            "networks use `ownnet inspect units MODEL --layer output --method maximize`."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_argument(p)
    p.add_argument(
        "--out",
        default="backquery.png",
        metavar="FILE",
        help="the 2x5 grid of the ten digits (default: backquery.png)",
    )
    p.add_argument(
        "--each",
        action="store_true",
        help="also write one 280x280 PNG per digit beside --out (<stem>-<digit>.png)",
    )
    p.add_argument(
        "--book",
        action="store_true",
        help="draw the book's grey pictures (background about 0.5) instead",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    model = load_model(args.model)
    result = backquery_digits(model)
    out = Path(args.out)
    title = f"back query of {Path(args.model).name}"
    if args.book:
        title += " (the book's pictures)"
    save_figure(backquery_figure(result, book=args.book, title=title), out)
    for d, p, o in zip(result.labels, result.predicted, result.outputs, strict=True):
        mark = "right" if p == d else "WRONG"
        print(f"digit {d}: fed forward it reads as {p} (output {o[p]:.3f}, own {o[d]:.3f}) {mark}")
    n = len(result.labels)
    print(
        f"{result.n_correct}/{n} back-queried pictures are read as their own digit "
        f"(the book's grey pictures, fed forward as they are: {result.n_book_correct}/{n})"
    )
    print(f"wrote {out}")
    if args.each:
        pictures = result.book_images if args.book else result.images
        for d, image in zip(result.labels, pictures, strict=True):
            path = save_grey_png(255 - image, out.with_name(f"{out.stem}-{d}.png"), zoom=10)
            print(f"wrote {path}")
    return 0
