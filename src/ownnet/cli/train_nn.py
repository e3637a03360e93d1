"""``ownnet train --model mlp|cnn``: the matrix engine's options and training run.

``ownnet/cli/train.py`` owns the ``train`` command; it calls
:func:`add_arguments` to add these options and :func:`run` to train.
The MLP defaults reproduce the Keras MNIST MLP example: 784-512-512-10, relu,
dropout 0.2, softmax, cross-entropy, RMSprop lr 0.001, batch 128, 20 epochs,
validated on the test set after each epoch. The CNN defaults
(:mod:`ownnet.nn.cnn`): conv 3x3x32, pool, conv 3x3x64, pool, dense 128, dropout
0.5, Adam lr 0.001 with a cosine schedule, 12 epochs, each on the training images
rotated by up to 10 degrees and shifted by up to 2 pixels afresh.
"""

from __future__ import annotations

import argparse
from typing import Any

#: defaults that depend on the optimiser
DEFAULT_LR = {"sgd": 0.1, "rmsprop": 0.001, "adam": 0.001}
DEFAULT_EPOCHS = 20
#: defaults that depend on --model (options left out on the command line)
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {"layers": "512,512", "dropout": 0.2, "optimizer": "rmsprop", "schedule": "constant",
            "epochs": DEFAULT_EPOCHS, "max_angle": 0.0, "max_shift": 0},
    "cnn": {"layers": "128", "dropout": 0.5, "optimizer": "adam", "schedule": "cosine",
            "epochs": 12, "max_angle": 10.0, "max_shift": 2},
}  # fmt: skip


def add_arguments(group: Any) -> None:
    """Add the matrix engine's options to ``group`` (a parser or an argument group)."""
    group.add_argument(
        "--layers",
        metavar="N,N,...",
        help="hidden layer sizes (mlp: 512,512; cnn: dense layers after the convolutions, 128)",
    )
    group.add_argument(
        "--activation",
        default="relu",
        choices=["relu", "sigmoid", "tanh", "leaky_relu", "prelu"],
        help="hidden activation (relu)",
    )
    group.add_argument(
        "--dropout", type=float, help="dropout after each hidden layer (mlp: 0.2, cnn: 0.5)"
    )
    group.add_argument(
        "--output",
        default="softmax",
        choices=["softmax", "sigmoid"],
        help="output activation (softmax)",
    )
    group.add_argument(
        "--cost",
        default="cross_entropy",
        choices=["cross_entropy", "quadratic"],
        help="cost function (cross_entropy)",
    )
    group.add_argument(
        "--init",
        choices=["he", "glorot", "normal"],
        help="weight initialiser (glorot, as Keras)",
    )
    group.add_argument(
        "--optimizer",
        choices=["sgd", "rmsprop", "adam"],
        help="(mlp: rmsprop, cnn: adam); --lr defaults to 0.1 for sgd, 0.001 for rmsprop and "
        "adam; --epochs to 20 (cnn: 12)",
    )
    group.add_argument("--batch-size", type=int, default=128, help="samples per step (128)")
    group.add_argument("--momentum", type=float, default=0.0, help="SGD momentum (0)")
    group.add_argument("--nesterov", action="store_true", help="Nesterov momentum for SGD")
    group.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay (0)")
    group.add_argument(
        "--schedule",
        metavar="NAME[:ARGS]",
        help="learning rate per epoch: constant (mlp), step[:DROP:EVERY] (0.5 every 10), "
        "cosine[:MIN_LR] (cnn)",
    )
    group.add_argument(
        "--val-split",
        type=float,
        metavar="FRACTION",
        help="hold out this last fraction of the training set for validation "
        "(default: validate on the test set, as the Keras example does; 0.1 with --early-stopping)",
    )
    group.add_argument(
        "--early-stopping",
        type=int,
        metavar="PATIENCE",
        help="stop when val_loss has not improved for PATIENCE epochs; keep the best weights",
    )
    group.add_argument(
        "--checkpoint", metavar="FILE", help="save the run to FILE after every epoch"
    )
    group.add_argument("--resume", metavar="FILE", help="continue the run saved in checkpoint FILE")
    group.add_argument(
        "--dtype",
        default="float32",
        choices=["float32", "float64"],
        help="float precision (float32)",
    )
    group.add_argument(
        "--input-scale",
        default="unit",
        choices=["unit", "book"],
        help="pixels to inputs: unit = x/255, book = x/255*0.99+0.01 (unit)",
    )
    group.add_argument(
        "--max-angle",
        type=float,
        metavar="DEG",
        help="each epoch, rotate every training image by a random angle up to DEG degrees "
        "(mlp: 0, cnn: 10)",
    )
    group.add_argument(
        "--max-shift",
        type=int,
        metavar="PX",
        help="each epoch, shift every training image by up to PX whole pixels (mlp: 0, cnn: 2)",
    )
    group.add_argument(
        "--filters", default="32,64", metavar="N,N,...", help="cnn: channels per conv layer (32,64)"
    )
    group.add_argument("--kernel-size", type=int, default=3, help="cnn: kernel side (3)")
    group.add_argument(
        "--batchnorm", action="store_true", help="cnn: batch normalisation before each conv relu"
    )


def parse_layers(text: str, option: str = "--layers") -> list[int]:
    """``"512,512"`` -> ``[512, 512]`` (``""`` -> no hidden layer)."""
    from ownnet.errors import OwnnetError

    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise OwnnetError(f"{option}: expected sizes like 512,512, found {text!r}") from exc
    if any(n < 1 for n in sizes):
        raise OwnnetError(f"{option}: sizes must be at least 1, found {text!r}")
    return sizes


def fill_defaults(args: argparse.Namespace) -> None:
    """Give the options left out on the command line the defaults of ``args.model``."""
    for name, value in MODEL_DEFAULTS[args.model].items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)


def augmentation(max_angle: float, max_shift: int) -> Any:
    """A :class:`~ownnet.nn.augmentation.RandomTransform`, or ``None`` for no augmentation."""
    from ownnet.errors import OwnnetError
    from ownnet.nn.augmentation import RandomTransform

    if max_angle < 0 or max_shift < 0:
        raise OwnnetError(
            f"--max-angle and --max-shift must be >= 0, found {max_angle} and {max_shift}"
        )
    return RandomTransform(max_angle, max_shift) if max_angle or max_shift else None


def parse_schedule(text: str, lr: float, epochs: int) -> Any:
    """``--schedule`` text -> a schedule (``None`` for constant)."""
    from ownnet.errors import OwnnetError
    from ownnet.nn.schedules import Cosine, StepDecay

    name, *parts = text.split(":")
    try:
        values = [float(p) for p in parts]
        if name == "constant" and not values:
            return None
        if name == "step" and len(values) in (0, 2):
            drop, every = values or (0.5, 10)
            return StepDecay(lr, drop, int(every))
        if name == "cosine" and len(values) <= 1:
            return Cosine(lr, epochs, values[0] if values else 0.0)
    except ValueError as exc:
        raise OwnnetError(f"--schedule {text!r}: {exc}") from exc
    raise OwnnetError(
        f"--schedule: expected constant, step[:DROP:EVERY] or cosine[:MIN_LR], found {text!r}"
    )


def build_network(
    args: argparse.Namespace, layers: list[int], filters: list[int], seed: Any
) -> Any:
    """The network ``args`` describe, with the parsed ``--layers`` and ``--filters`` (cnn)."""
    from ownnet.nn.network import Network

    if args.model == "cnn":
        return Network.cnn(
            filters,
            kernel_size=args.kernel_size,
            dense=layers,
            dropout=args.dropout,
            batchnorm=args.batchnorm,
            output=args.output,
            loss=args.cost,
            input_scale=args.input_scale,
            dtype=args.dtype,
            seed=seed,
        )
    return Network.mlp(
        layers,
        activation=args.activation,
        dropout=args.dropout,
        output=args.output,
        loss=args.cost,
        init=args.init,
        input_scale=args.input_scale,
        dtype=args.dtype,
        seed=seed,
    )


def build_optimizer(args: argparse.Namespace, lr: float) -> Any:
    from ownnet.nn.optimizers import get_optimizer

    sgd = {"momentum": args.momentum, "nesterov": args.nesterov} if args.optimizer == "sgd" else {}
    return get_optimizer(args.optimizer, lr=lr, weight_decay=args.weight_decay, **sgd)


def run(args: argparse.Namespace, splits: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Train as ``args`` say on ``splits`` (train, test); returns ``(model, history, info)``."""
    import numpy as np

    from ownnet.errors import OwnnetError
    from ownnet.nn.callbacks import Checkpoint, EarlyStopping

    if args.resume:
        return _resume(args, splits)
    fill_defaults(args)
    if args.dropout is not None and not 0.0 <= args.dropout < 1.0:
        raise OwnnetError(f"--dropout must be in [0, 1), found {args.dropout}")
    if args.batch_size < 1:
        raise OwnnetError(f"--batch-size must be at least 1, found {args.batch_size}")
    epochs = args.epochs if args.epochs is not None else DEFAULT_EPOCHS
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    val_split = args.val_split
    if val_split is None:
        val_split = 0.1 if args.early_stopping is not None else 0.0
    init_seed, fit_seed = np.random.SeedSequence(args.seed).spawn(2)
    filters = parse_layers(args.filters, "--filters") if args.model == "cnn" else []
    layers = parse_layers(args.layers)
    try:
        net = build_network(args, layers, filters, np.random.default_rng(init_seed))
        optimizer = build_optimizer(args, lr)
    except ValueError as exc:
        raise OwnnetError(str(exc)) from exc
    schedule = parse_schedule(args.schedule, lr, epochs)
    augment = augmentation(args.max_angle, args.max_shift)
    training = {
        "engine": "nn",
        "model": args.model,
        "layers": layers,
        "activation": args.activation,
        "dropout": args.dropout,
        "output": args.output,
        "cost": args.cost,
        "init": args.init,
        "optimizer": optimizer.spec(),
        "schedule": args.schedule,
        "batch_size": args.batch_size,
        "epochs": epochs,
        "validation": f"split {val_split}" if val_split else "test set",
        "early_stopping": args.early_stopping,
        "dtype": args.dtype,
        "input_scale": args.input_scale,
        "samples": len(splits.train),
        "augment": augment.spec() if augment is not None else None,
    }
    if args.model == "cnn":
        training["filters"] = filters
        training["kernel_size"] = args.kernel_size
        training["batchnorm"] = args.batchnorm
    info = {
        "training": training,
        "seed": args.seed,
        "dataset": {"name": args.name, "checksum": splits.train.checksum()},
    }
    callbacks: list[Any] = []
    if args.early_stopping is not None:
        callbacks.append(EarlyStopping(patience=args.early_stopping))
    if args.checkpoint:
        callbacks.append(Checkpoint(args.checkpoint, info=info))
    if not args.quiet and args.model == "cnn":
        convs = "-".join(f"conv{n}-pool" for n in training["filters"])
        dense = "".join(f"-{n}" for n in training["layers"])
        print(
            f"matrix engine CNN 1x28x28-{convs}{dense}-10, {args.kernel_size}x{args.kernel_size}"
            f" kernels{', batchnorm' if args.batchnorm else ''}, dropout {args.dropout}, "
            f"{optimizer!r}, {args.schedule} schedule, batch {args.batch_size}, {epochs} epochs, "
            f"{len(splits.train)} training samples"
            + (f" (new random {augment!r} each epoch)" if augment is not None else "")
            + f", seed {args.seed}",
            flush=True,
        )
    elif not args.quiet:
        hidden = "-".join(str(n) for n in training["layers"])
        print(
            f"matrix engine 784-{hidden}{'-' if hidden else ''}10, {args.activation}, "
            f"dropout {args.dropout}, {args.cost}, {optimizer!r}, batch {args.batch_size}, "
            f"{epochs} epochs, {len(splits.train)} training samples, seed {args.seed}",
            flush=True,
        )
    history = _fit(
        net,
        args,
        splits,
        epochs=epochs,
        batch_size=args.batch_size,
        optimizer=optimizer,
        schedule=schedule,
        validation_split=val_split,
        rng=np.random.default_rng(fit_seed),
        callbacks=callbacks,
        augment=augment,
    )
    info["test_accuracy"] = net.evaluate(splits.test)
    return net, history, info


def _fit(net: Any, args: argparse.Namespace, splits: Any, **kwargs: Any) -> Any:
    from ownnet.errors import OwnnetError

    if not kwargs.get("validation_split"):
        kwargs["validation_split"] = 0.0
        kwargs["validation_data"] = splits.test
    try:
        return net.fit(splits.train, verbose=0 if args.quiet else 1, **kwargs)
    except ValueError as exc:
        raise OwnnetError(str(exc)) from exc


def _resume(args: argparse.Namespace, splits: Any) -> tuple[Any, Any, dict[str, Any]]:
    from ownnet.errors import OwnnetError
    from ownnet.nn.callbacks import Checkpoint, EarlyStopping
    from ownnet.nn.checkpoint import load_checkpoint

    r = load_checkpoint(args.resume)
    info = dict(r.info)
    checksum = splits.train.checksum()
    saved = info.get("dataset", {}).get("checksum")
    if saved and saved != checksum:
        raise OwnnetError(
            f"{args.resume}: the checkpoint was trained on data with checksum {saved[:12]}..., "
            f"but this training set has {checksum[:12]}...; use the same --data and --name"
        )
    kwargs = r.fit_kwargs(args.epochs)
    training = dict(info.get("training", {}))
    training["epochs"] = kwargs["epochs"]
    info["training"] = training
    callbacks: list[Any] = []
    patience = training.get("early_stopping")
    if patience is not None:
        callbacks.append(r.restore(EarlyStopping(patience=int(patience))))
    callbacks.append(Checkpoint(args.checkpoint or args.resume, info=info))
    net = r.network
    if not args.quiet:
        print(
            f"resuming {args.resume} after epoch {r.epoch} of {kwargs['epochs']}"
            + (" (it had stopped early)" if r.stopped else ""),
            flush=True,
        )
    if r.stopped or r.epoch >= kwargs["epochs"]:
        history = r.history
        r.finish(callbacks)  # EarlyStopping puts back its best weights
    else:
        history = _fit(net, args, splits, callbacks=callbacks, **kwargs)
    info["test_accuracy"] = net.evaluate(splits.test)
    return net, history, info
