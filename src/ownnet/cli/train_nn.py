"""``ownnet train --model mlp``: the matrix engine's options and training run.

``ownnet/cli/train.py`` owns the ``train`` command; it calls
:func:`add_arguments` to add these options and :func:`run` to train.
The defaults reproduce the Keras MNIST MLP example: 784-512-512-10, relu,
dropout 0.2, softmax, cross-entropy, RMSprop lr 0.001, batch 128, 20 epochs,
validated on the test set after each epoch.
"""

from __future__ import annotations

import argparse
from typing import Any

#: defaults that depend on the optimiser
DEFAULT_LR = {"sgd": 0.1, "rmsprop": 0.001, "adam": 0.001}
DEFAULT_EPOCHS = 20


def add_arguments(group: Any) -> None:
    """Add the matrix engine's options to ``group`` (a parser or an argument group)."""
    group.add_argument(
        "--layers",
        default="512,512",
        metavar="N,N,...",
        help="hidden layer sizes (512,512)",
    )
    group.add_argument(
        "--activation",
        default="relu",
        choices=["relu", "sigmoid", "tanh", "leaky_relu", "prelu"],
        help="hidden activation (relu)",
    )
    group.add_argument(
        "--dropout", type=float, default=0.2, help="dropout after each hidden layer (0.2)"
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
        default="rmsprop",
        choices=["sgd", "rmsprop", "adam"],
        help="(rmsprop); --lr defaults to 0.1 for sgd, 0.001 for rmsprop and adam; --epochs to 20",
    )
    group.add_argument("--batch-size", type=int, default=128, help="samples per step (128)")
    group.add_argument("--momentum", type=float, default=0.0, help="SGD momentum (0)")
    group.add_argument("--nesterov", action="store_true", help="Nesterov momentum for SGD")
    group.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay (0)")
    group.add_argument(
        "--schedule",
        default="constant",
        metavar="NAME[:ARGS]",
        help="learning rate per epoch: constant, step[:DROP:EVERY] (0.5 every 10), cosine[:MIN_LR]",
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


def parse_layers(text: str) -> list[int]:
    """``"512,512"`` -> ``[512, 512]`` (``""`` -> no hidden layer)."""
    from ownnet.errors import OwnnetError

    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise OwnnetError(f"--layers: expected sizes like 512,512, found {text!r}") from exc
    if any(n < 1 for n in sizes):
        raise OwnnetError(f"--layers: sizes must be at least 1, found {text!r}")
    return sizes


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


def build_network(args: argparse.Namespace, seed: Any) -> Any:
    """The network ``args`` describe."""
    from ownnet.nn.network import Network

    return Network.mlp(
        parse_layers(args.layers),
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
    from ownnet.nn.optimizers import SGD, Adam, RMSprop

    wd = args.weight_decay
    if args.optimizer == "sgd":
        return SGD(lr, momentum=args.momentum, nesterov=args.nesterov, weight_decay=wd)
    if args.optimizer == "adam":
        return Adam(lr, weight_decay=wd)
    return RMSprop(lr, weight_decay=wd)


def run(args: argparse.Namespace, splits: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Train as ``args`` say on ``splits`` (train, test); returns ``(model, history, info)``."""
    import numpy as np

    from ownnet.errors import OwnnetError
    from ownnet.nn.callbacks import Checkpoint, EarlyStopping

    if args.resume:
        return _resume(args, splits)
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
    try:
        net = build_network(args, np.random.default_rng(init_seed))
        optimizer = build_optimizer(args, lr)
    except ValueError as exc:
        raise OwnnetError(str(exc)) from exc
    schedule = parse_schedule(args.schedule, lr, epochs)
    training = {
        "engine": "nn",
        "layers": parse_layers(args.layers),
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
    }
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
    if not args.quiet:
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
        for cb in callbacks:
            if isinstance(cb, EarlyStopping) and cb.restore_best and cb.best_arrays:
                net.load_arrays(cb.best_arrays)
    else:
        history = _fit(net, args, splits, callbacks=callbacks, **kwargs)
    info["test_accuracy"] = net.evaluate(splits.test)
    return net, history, info
