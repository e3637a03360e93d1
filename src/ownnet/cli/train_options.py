"""``ownnet train``'s options, and how they become a config (:mod:`ownnet.config`).

Only the options given on the command line go into the config; everything else takes
the model's defaults from :data:`ownnet.config.DEFAULTS`, the same defaults the Python
API, the sweeps and the web page use.
"""

from __future__ import annotations

import argparse
from typing import Any

from ownnet.cli.common import (
    degrees,
    dropout_rate,
    fraction,
    int_list,
    int_range,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
)
from ownnet.errors import OwnnetError

MODELS = ("classic", "mlp", "cnn", "reader")
CLASSIC, ENGINE, CNN = ("classic",), ("mlp", "cnn", "reader"), ("cnn", "reader")
#: the rotations and shifts of --max-angle and --max-shift (the reader has its own hands)
JITTER = ("mlp", "cnn")

#: option dest -> (config key, the models it applies to); None: every model
OPTIONS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "epochs": ("epochs", None),
    "lr": ("lr", None),
    "seed": ("seed", None),
    "hidden": ("hidden", CLASSIC),
    "bias": ("bias", CLASSIC),
    "error_split": ("error_split", CLASSIC),
    "shuffle": ("shuffle", CLASSIC),
    "rotate": ("rotate", CLASSIC),
    "init": ("init", None),
    "layers": ("layers", ENGINE),
    "activation": ("activation", ("mlp",)),
    "dropout": ("dropout", ENGINE),
    "output": ("output", ENGINE),
    "cost": ("loss", ENGINE),
    "optimizer": ("optimizer", ENGINE),
    "batch_size": ("batch_size", ENGINE),
    "momentum": ("momentum", ENGINE),
    "nesterov": ("nesterov", ENGINE),
    "weight_decay": ("weight_decay", ENGINE),
    "schedule": ("schedule", ENGINE),
    "dtype": ("dtype", ENGINE),
    "input_scale": ("input_scale", ENGINE),
    "max_angle": ("max_angle", JITTER),
    "max_shift": ("max_shift", JITTER),
    "filters": ("filters", CNN),
    "kernel_size": ("kernel_size", CNN),
    "batchnorm": ("batchnorm", CNN),
}


def add_options(p: argparse.ArgumentParser) -> None:
    """Every model's options (a value left out takes the model's default)."""
    p.add_argument(
        "--model",
        choices=MODELS,
        default="classic",
        help="classic: the book's 3-layer network; mlp: the matrix engine's "
        "Keras-style MLP; cnn: its convolutional network; reader: the CNN for reading "
        "people's own digits, trained on MNIST written by new hands (default: classic)",
    )
    p.add_argument(
        "--epochs",
        type=positive_int,
        help="passes over the training set (classic 5, mlp 20, cnn 12, reader 16)",
    )
    p.add_argument(
        "--lr",
        type=positive_float,
        help="learning rate (classic 0.1; sgd 0.1, rmsprop and adam 0.001)",
    )
    p.add_argument(
        "--seed",
        type=nonneg_int,
        default=0,
        help="seed for the weights, the order, dropout and augmentation (0)",
    )
    p.add_argument(
        "--init",
        choices=["fan_in", "fan_out", "he", "glorot", "normal"],
        help="initial weights: classic fan_in (the book's text) or fan_out (its "
        "printed code); engine he, glorot (default, as Keras) or normal",
    )
    book = p.add_argument_group("classic network")
    book.add_argument("--hidden", type=int_range(1, 1_000_000), help="hidden nodes (200)")
    book.add_argument("--bias", action="store_true", default=None, help="add bias nodes")
    book.add_argument(
        "--error-split",
        choices=["transpose", "transpose_scaled", "proportional", "equal"],
        help="how the output error is split among the hidden nodes (the book's: transpose)",
    )
    book.add_argument(
        "--shuffle",
        action="store_true",
        default=None,
        help="shuffle the samples each epoch (the book keeps the file order)",
    )
    book.add_argument(
        "--rotate",
        type=degrees,
        metavar="DEG",
        help="also train on copies rotated by +DEG and -DEG degrees (the book uses 10)",
    )
    nn = p.add_argument_group("matrix engine (--model mlp, cnn or reader)")
    nn.add_argument(
        "--layers",
        type=int_list,
        metavar="N,N,...",
        help="hidden layer sizes (mlp: 512,512; cnn and reader: dense layers after the "
        "convolutions, 128 and 256)",
    )
    nn.add_argument(
        "--activation",
        choices=["relu", "sigmoid", "tanh", "leaky_relu", "prelu"],
        help="mlp hidden activation (relu)",
    )
    nn.add_argument(
        "--dropout",
        type=dropout_rate,
        help="dropout after each hidden layer, 0 <= rate < 1 (mlp 0.2, cnn 0.5)",
    )
    nn.add_argument("--output", choices=["softmax", "sigmoid"], help="output activation (softmax)")
    nn.add_argument(
        "--cost", choices=["cross_entropy", "quadratic"], help="cost function (cross_entropy)"
    )
    nn.add_argument("--optimizer", choices=["sgd", "rmsprop", "adam"], help="mlp rmsprop, cnn adam")
    nn.add_argument("--batch-size", type=int_range(1, 65536), help="samples per step (128)")
    nn.add_argument("--momentum", type=dropout_rate, help="SGD momentum, 0 <= m < 1 (0)")
    nn.add_argument("--nesterov", action="store_true", default=None, help="Nesterov momentum")
    nn.add_argument("--weight-decay", type=nonneg_float, help="L2 weight decay (0)")
    nn.add_argument(
        "--schedule",
        metavar="NAME[:ARGS]",
        help="learning rate per epoch: constant (mlp), step[:DROP:EVERY] (0.5 "
        "every 10), cosine[:MIN_LR] (cnn)",
    )
    nn.add_argument(
        "--val-split",
        type=fraction,
        metavar="FRACTION",
        help="hold out this last fraction of the training set for validation "
        "(default: validate on the test set; 0.1 with --early-stopping)",
    )
    nn.add_argument(
        "--early-stopping",
        type=nonneg_int,
        metavar="PATIENCE",
        help="stop when val_loss has not improved for PATIENCE epochs; keep the best weights",
    )
    nn.add_argument("--checkpoint", metavar="FILE", help="save the run to FILE after every epoch")
    nn.add_argument("--resume", metavar="FILE", help="continue the run saved in checkpoint FILE")
    nn.add_argument("--dtype", choices=["float32", "float64"], help="float precision (float32)")
    nn.add_argument(
        "--input-scale",
        choices=["unit", "book"],
        help="pixels to inputs: unit = x/255, book = x/255*0.99+0.01 (unit)",
    )
    nn.add_argument(
        "--max-angle",
        type=degrees,
        metavar="DEG",
        help="each epoch, rotate every training image by a random angle up to DEG "
        "degrees (mlp 0, cnn 10)",
    )
    nn.add_argument(
        "--max-shift",
        type=int_range(0, 8),
        metavar="PX",
        help="each epoch, shift every training image by up to PX whole pixels (0..8; mlp 0, cnn 2)",
    )
    nn.add_argument(
        "--filters", type=int_list, metavar="N,N,...", help="cnn: channels per conv layer (32,64)"
    )
    nn.add_argument("--kernel-size", type=int_range(1, 28), help="cnn: kernel side (3)")
    nn.add_argument(
        "--batchnorm",
        action="store_true",
        default=None,
        help="cnn: batch normalisation before each conv relu",
    )


def config_from(args: argparse.Namespace) -> dict[str, Any]:
    """The config the options ask for: ``model``, ``seed`` and the options given."""
    config: dict[str, Any] = {"model": args.model, "seed": args.seed}
    for option, dest in (("--val-split", "val_split"), ("--early-stopping", "early_stopping")):
        if getattr(args, dest, None) is not None and args.model not in ENGINE:
            raise OwnnetError(
                f"{option} is an option of --model mlp, cnn or reader, not of {args.model}"
            )
    for dest, (key, models) in OPTIONS.items():
        value = getattr(args, dest, None)
        if value is None or dest == "seed":
            continue
        if models is not None and args.model not in models:
            option = "--" + dest.replace("_", "-")
            raise OwnnetError(
                f"{option} is an option of --model {' or '.join(models)}, not of {args.model}"
            )
        config[key] = value
    return config
