"""``ownnet inspect ...``: look inside a trained network.

* ``units``   - hidden units as pictures: first-layer weights, or activation
  maximisation for any unit of any layer (and the output classes);
* ``damage``  - test accuracy as hidden neurons are removed, noise is added
  and the inputs are rotated (CSV and PNG plots);
* ``samples`` - write photo-like rendered digits to try ``ownnet predict`` on;
* ``dream``   - what each layer looks for: a picture changed to amplify that layer.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ownnet.cli.common import int_range, nonneg_float, nonneg_int, positive_float, positive_int
from ownnet.cli.output import save_figure, save_grey_png, write_csv
from ownnet.data.images import prepare
from ownnet.data.mnist import load_mnist
from ownnet.errors import OwnnetError
from ownnet.inspect import feature_maps as fm
from ownnet.inspect.activations import Tracer
from ownnet.inspect.damage import DamageRow, damage_figure, damage_rows
from ownnet.inspect.dream import dream, dream_figure
from ownnet.inspect.feature_maps import conv_layers
from ownnet.inspect.maximize import maximize, maximize_figure
from ownnet.inspect.sample_digits import write_samples
from ownnet.inspect.stack import InspectError, dense_layers, describe, layer_number
from ownnet.inspect.units import choose_units, weights_figure
from ownnet.io import load_model
from ownnet.reading import probabilities
from ownnet.shifts import helps


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="look inside a network: hidden units, damage and noise curves",
        description=(
            "Look inside a trained network:\n"
            "  units    hidden units as pictures: first-layer weights, or activation\n"
            "           maximisation for any unit of any layer and the output classes\n"
            "  damage   test accuracy as hidden neurons are removed, noise is added and\n"
            "           the inputs are rotated (CSV and PNG plots)\n"
            "  samples  write photo-like rendered digits to try `ownnet predict` on\n"
            "  dream    a picture dreamt by each layer in turn (DeepDream)\n\n"
            "`ownnet backquery` runs a sigmoid network backwards; `ownnet test MODEL\n"
            "--report DIR` draws the confusion matrix and the worst mistakes."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)

    u = what.add_parser(
        "units",
        help="hidden units as pictures (weights or activation maximisation)",
        description=(
            "Draw the units of one dense layer as 28x28 pictures.\n\n"
            "--method weights (the default for layer 1): each unit's 784 incoming weights\n"
            "(red excites, blue inhibits). --method maximize (the default for deeper\n"
            "layers and the output): the picture, found by gradient ascent on the input\n"
            "kept in [0, 1] with an L2 penalty, that makes the unit's net input largest;\n"
            "for the output layer, one picture per digit class.\n\n"
            "Conv layers (--layer conv1, conv2, ...; the default for a CNN is conv1):\n"
            "--method weights (the default) draws the kernels, --method maps the feature\n"
            "maps of one input (--image FILE, else the first test image), --method\n"
            "maximize the picture that makes each channel's mean net input largest."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    u.add_argument("model", metavar="MODEL", help="model file")
    u.add_argument(
        "--layer",
        help="dense layer: 1 = first hidden layer, ..., or 'output'; or conv1, conv2, ... "
        "(default: 1, or conv1 for a CNN)",
    )
    u.add_argument("--method", choices=["weights", "maximize", "maps"], help="see above")
    u.add_argument("--image", metavar="FILE", help="conv --method maps: the input picture")
    u.add_argument("--data", metavar="DIR", help="folder with the MNIST files (for maps)")
    u.add_argument("--units", help="comma-separated unit numbers (default: the first --count)")
    u.add_argument(
        "--count", type=positive_int, help="how many units (default: 100, or all outputs)"
    )
    u.add_argument("--out", default="units.png", metavar="FILE", help="PNG (units.png)")
    u.add_argument(
        "--steps", type=int_range(1, 100_000), default=200, help="gradient-ascent steps (200)"
    )
    u.add_argument("--lr", type=positive_float, default=0.05, help="step length per pixel (0.05)")
    u.add_argument("--l2", type=nonneg_float, default=0.1, help="L2 penalty weight (0.1)")
    u.add_argument(
        "--blur",
        type=nonneg_float,
        default=1.0,
        help="Gaussian the picture is made with (1.0; 0 = off)",
    )
    u.add_argument("--seed", type=nonneg_int, default=0, help="seed of the starting noise (0)")
    u.set_defaults(func=run_units)

    d = what.add_parser(
        "damage",
        help="accuracy as neurons are removed, noise is added, inputs are rotated",
        description=(
            "Test accuracy (a) as a growing fraction (0..90%%) of the hidden neurons is\n"
            "removed, several random draws each; (b) with Gaussian noise on the inputs;\n"
            "(c) with the inputs rotated. Writes damage.csv and damage-neurons.png,\n"
            "damage-noise.png, damage-rotation.png into --out."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("model", metavar="MODEL", help="model file")
    d.add_argument("--out", default="damage", metavar="DIR", help="output folder (damage)")
    d.add_argument("--seeds", type=int_range(1, 1000), default=3, help="random draws per level (3)")
    d.add_argument("--samples", type=positive_int, help="use only the first N test images")
    d.add_argument("--data", metavar="DIR", help="folder with the MNIST files")
    d.set_defaults(func=run_damage)

    s = what.add_parser(
        "samples",
        help="write photo-like rendered digits to try `ownnet predict` on",
        description=(
            "Render digits as pen strokes with random size, position, slant, thickness,\n"
            "polarity, blur, lighting and noise, saved as PNG and JPEG files named\n"
            "NN-digit-D.png. With --model, read them back and report the accuracy."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("directory", metavar="DIR", help="where to write the images")
    s.add_argument("--count", type=int_range(1, 100_000), default=20, help="how many (20)")
    s.add_argument("--seed", type=nonneg_int, default=0, help="seed (0)")
    s.add_argument("--model", metavar="MODEL", help="read them with this model and score it")
    s.set_defaults(func=run_samples)

    m = what.add_parser(
        "dream",
        help="what each layer looks for: a picture changed to amplify one layer at a time",
        description=(
            "Dream an image with each layer of the network in turn, as DeepDream does:\n"
            "gradient ascent on the pixels (kept in [0, 1]) for 0.5 * sum(a ** 2) of that\n"
            "layer's output a, so that whatever the layer sees a trace of grows. The image\n"
            "is first prepared as `ownnet predict` prepares one. Writes dreams.png (the\n"
            "prepared image and every layer's dream side by side) and one 28x28 PNG per\n"
            "layer, dream-LAYER.png, into --out."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument("model", metavar="MODEL", help="model file")
    m.add_argument("image", metavar="IMAGE", help="a picture of a digit (PNG, JPEG, ...)")
    m.add_argument("--out", default="dreams", metavar="DIR", help="output folder (dreams)")
    m.add_argument("--layers", help="comma-separated layer names (default: all but the input)")
    m.add_argument("--steps", type=int, default=40, help="gradient-ascent steps (40)")
    m.add_argument("--lr", type=float, default=0.015, help="change per pixel per step (0.015)")
    m.add_argument("--blur", type=float, default=0.7, help="gradient smoothing (0.7; 0 = off)")
    m.set_defaults(func=run_dream)


def _units_list(text: str | None) -> list[int] | None:

    if not text:
        return None
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise OwnnetError(
            f"--units: expected numbers separated by commas, found {text!r}"
        ) from None


def run_units(args: argparse.Namespace) -> int:

    model, meta = load_model(args.model)

    if args.layer is None:
        args.layer = "conv1" if conv_layers(model) else "1"
    if str(args.layer).lower().startswith("conv"):
        return _conv_units(args, model, meta)
    if args.method == "maps":
        raise InspectError("--method maps draws the feature maps of a conv layer (--layer conv1)")
    number = layer_number(model, args.layer)
    layers = dense_layers(model)
    info = layers[number - 1]
    is_output = number == len(layers)
    method = args.method or ("weights" if number == 1 and not is_output else "maximize")
    if method == "weights" and number != 1:
        raise InspectError(
            f"only layer 1 has incoming weights that form a picture; for layer {number} "
            "use --method maximize"
        )
    count = args.count if args.count is not None else (info.n_out if is_output else 100)
    units = choose_units(info.n_out, count, _units_list(args.units))
    name = Path(args.model).name
    print(
        f"model {name}: {describe(model)}; layer {number} ({info.activation}, {info.n_out} units)"
    )
    if method == "weights":
        fig = weights_figure(model, units, title=f"{name}: layer 1 weights (red +, blue -)")
    else:
        result = maximize(
            model,
            number,
            units,
            steps=args.steps,
            lr=args.lr,
            l2=args.l2,
            blur=args.blur,
            seed=args.seed,
        )
        what = "class" if is_output else "unit"
        title = f"{name}: layer {number}, pictures that maximise each {what}'s net input z"
        fig = maximize_figure(result, title=title, classes=is_output)
        for u, z0, z in zip(result.units, result.start_net_input, result.net_input, strict=True):
            print(f"{what} {u}: net input {z0:.2f} at the start, {z:.2f} after maximising")
    out = save_figure(fig, args.out)
    print(f"wrote {out}")
    return 0


def _conv_units(args: argparse.Namespace, model: Any, meta: dict[str, Any]) -> int:
    """``inspect units`` for a conv layer: kernels, feature maps, or maximised channels."""

    number = fm.conv_number(model, args.layer)
    _, conv = fm.conv_layers(model)[number - 1]
    name = Path(args.model).name
    kh, kw = conv.kernel_size
    print(
        f"model {name}: conv{number}, {conv.filters} channels of {kh}x{kw} kernels "
        f"on {conv.input_shape[0]} input channels -> {conv.output_shape}"
    )
    method = args.method or "weights"
    if method == "weights":
        what = "kernels" if conv.input_shape[0] == 1 else "kernels summed over input channels"
        fig = fm.kernels_figure(model, number, title=f"{name}: conv{number} {what} (red +, blue -)")
    elif method == "maps":
        if args.image:
            image, source = prepare(args.image), args.image
        else:
            image, source = np.asarray(_test_set(args, meta).images[0]), "test image 0"
        digit = int(model.predict(image[None])[0])
        title = f"{name}: conv{number} feature maps of {source} (read as {digit})"
        fig = fm.feature_maps_figure(model, image, number, title=title)
        print(f"{source}: read as {digit}")
    else:
        count = args.count if args.count is not None else conv.filters
        channels = choose_units(conv.filters, count, _units_list(args.units))
        result = fm.maximize_channels(
            model,
            number,
            channels,
            steps=args.steps,
            lr=args.lr,
            l2=args.l2,
            blur=args.blur,
            seed=args.seed,
        )
        title = f"{name}: conv{number}, pictures that maximise each channel's mean net input"
        fig = maximize_figure(result, title=title)
        for c, z0, z in zip(result.units, result.start_net_input, result.net_input, strict=True):
            print(f"channel {c}: mean net input {z0:.2f} at the start, {z:.2f} after maximising")
    out = save_figure(fig, args.out)
    print(f"wrote {out}")
    return 0


def _test_set(args: argparse.Namespace, meta: dict[str, Any]) -> Any:

    name = meta.get("dataset", {}).get("name", "mnist") if isinstance(meta, dict) else "mnist"
    test = load_mnist(args.data, name).test
    if getattr(args, "samples", None):  # ownnet inspect damage --samples N
        test = test.subset(int(args.samples))
    return test


def run_damage(args: argparse.Namespace) -> int:

    model, meta = load_model(args.model)
    test = _test_set(args, meta)
    print(f"model {args.model}; {len(test)} test images; {args.seeds} random draws per level")
    seeds = tuple(range(max(1, args.seeds)))
    _, paths = write_damage(model, test, args.out, seeds=seeds, progress=print)
    for path in paths:
        print(f"wrote {path}")
    return 0


def write_damage(
    model: Any,
    test: Any,
    directory: str | os.PathLike[str],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    progress: Callable[[str], None] | None = None,
    **levels: Any,
) -> tuple[list[DamageRow], list[Path]]:
    """Run :func:`ownnet.inspect.damage.damage_rows` (``levels``: its ``fractions``,
    ``sigmas``, ``angles``) and write ``damage.csv`` and three PNG plots into ``directory``."""
    rows = damage_rows(model, test, seeds=seeds, progress=progress, **levels)
    directory = Path(directory)
    table = [(r.experiment, f"{r.level:g}", r.seed, f"{r.accuracy:.4f}") for r in rows]
    paths = [
        write_csv(directory / "damage.csv", ("experiment", "level", "seed", "accuracy"), table)
    ]
    for experiment in ("neurons", "noise", "rotation"):
        fig = damage_figure(rows, experiment)
        paths.append(save_figure(fig, directory / f"damage-{experiment}.png"))
    return rows, paths


def run_samples(args: argparse.Namespace) -> int:

    written = write_samples(args.directory, args.count, args.seed)
    print(f"wrote {len(written)} images to {args.directory}")
    if args.model:
        model, _ = load_model(args.model)
        images = np.stack([prepare(p) for p, _ in written])
        labels = np.array([label for _, label in written])
        conf, _ = probabilities(model, images, shifts=helps(model))  # as `ownnet predict` reads
        predicted = conf.argmax(axis=1)
        right = int(np.sum(predicted == labels))
        for (path, label), p in zip(written, predicted, strict=True):
            if p != label:
                print(f"{path.name}: read as {p}")
        print(f"{args.model} reads {right}/{len(labels)} ({right / len(labels):.1%}) right")
    return 0


def run_dream(args: argparse.Namespace) -> int:

    if args.steps < 0 or not args.lr > 0 or args.blur < 0:
        raise OwnnetError(
            f"--steps must be >= 0, --lr > 0 and --blur >= 0, found {args.steps}, {args.lr}, "
            f"{args.blur}"
        )
    model, _ = load_model(args.model)
    picture = prepare(args.image) / 255.0
    tracer = Tracer(model)
    names = [info.name for info in tracer.layers[1:]]
    layers = [x.strip() for x in args.layers.split(",") if x.strip()] if args.layers else names
    unknown = [x for x in layers if x not in names]
    if unknown:
        raise OwnnetError(f"--layers: this model has layers {names}, found {unknown}")
    digit = int(np.asarray(model.outputs(np.rint(picture * 255).astype(np.uint8)[None])).argmax())
    print(f"{args.image}: read as {digit}; layers {', '.join(names)}")
    dreams = dream(tracer, picture, layers, steps=args.steps, lr=args.lr, blur=args.blur)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for d in dreams:
        path = save_grey_png(np.rint(d.image * 255), out / f"dream-{d.layer}.png", zoom=8)
        print(f"{d.layer}: 0.5*sum(a^2) {d.start:.3g} -> {d.end:.3g}; wrote {path}")
    title = f"{Path(args.model).name}: {Path(args.image).name} dreamt by each layer"
    path = save_figure(dream_figure(picture, dreams, title=title), out / "dreams.png")
    print(f"wrote {path}")
    return 0
