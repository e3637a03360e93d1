"""``ownnet train``: train a network on MNIST and save it.

The options become a config (:mod:`ownnet.cli.train_options`), the config a model
(:func:`ownnet.config.from_config`), and :func:`ownnet.config.train` trains it: the same
path the Python API, the sweeps and the web page take.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ownnet.callbacks import Checkpoint, EarlyStopping
from ownnet.checkpoint import load_checkpoint
from ownnet.cli.common import add_data_options, check_writable, int_range, load_data
from ownnet.cli.train_options import add_options, config_from
from ownnet.config import describe, settings, train
from ownnet.errors import OwnnetError
from ownnet.memory import peak_rss_mb
from ownnet.reader import default_path
from ownnet.sizes import check
from ownnet.threads import default_threads

#: a network that gives one answer for this share of the test images, and gets no more than
#: CHANCE_FACTOR times chance right, collapsed
COLLAPSED, CHANCE_FACTOR = 0.9, 1.5

DESCRIPTION = """\
Train a network on MNIST and save it as a model file.

The default is the book's network: 784-200-10, sigmoid, lr 0.1, 5 epochs, one
sample at a time in the file's order (97.4%% test accuracy at seed 0).
--model mlp trains the matrix engine's Keras-style MLP (784-512-512-10, relu,
dropout 0.2, RMSprop, 20 epochs), --model cnn its convolutional network (two 3x3
conv + 2x2 max-pool stages, dense 128, Adam with a cosine schedule, 12 epochs on
new random rotations and shifts of the images), --model reader the CNN for
reading people's own digits (dense 256, 16 epochs on MNIST written again by new
hands each epoch: slant, pen width, elastic distortion); it is kept where
`ownnet predict` and `ownnet serve` find it when no model is named.

Options left out take the model's defaults, the same ones `ownnet.from_config`
uses in Python. Every epoch prints the loss and accuracy on the training samples
and on the validation data (the test set, unless --val-split). The output file is
checked before training starts, so a long run is never lost at the end.
"""


def register(sub: argparse._SubParsersAction) -> None:

    p = sub.add_parser(
        "train",
        help="train a network on MNIST and save it",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(p)
    add_data_options(p)
    p.add_argument(
        "--out",
        metavar="FILE",
        help="where to save the model (default: ownnet-model.npz; for --model reader "
        "<cache>/models/reader.npz, where predict and serve look for it)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--threads",
        type=int_range(1, 1024),
        metavar="N",
        help="threads for training (default: one per physical core, at most 8, whatever "
        "the load). An MLP's matrix products use them all; a CNN splits each batch over "
        "them (another count can change float32 results in the last digits); the classic "
        "network uses a second one for the next block of samples, with the same numbers",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    start = time.perf_counter()
    config = config_from(args)
    out = check_writable(args.out or default_out(args.model))
    if args.checkpoint:
        check_writable(args.checkpoint, "--checkpoint")
    if not args.resume:
        check(settings(config))
    splits = load_data(args.data, args.name, progress=not args.quiet, say=not args.quiet)
    with threadpool_limits(limits=args.threads or default_threads(), user_api="blas"):
        model, info = _resume(args, splits) if args.resume else _train(args, config, splits)
    path = model.save(out, **info)
    print(f"test accuracy: {info['test_accuracy']:.4f}")
    total = time.perf_counter() - start
    print(f"total time: {total:.1f} s; peak memory: {peak_rss_mb():.0f} MB")
    print(f"saved {path}")
    return 0


def default_out(model: str) -> Path:
    """Where a model is saved without --out: the reader where predict and serve find it."""
    return default_path() if model == "reader" else Path("ownnet-model.npz")


def _callbacks(args: argparse.Namespace, info: dict[str, Any], resume: Any = None) -> list[Any]:

    callbacks: list[Any] = []
    patience = info["training"].get("early_stopping")
    if patience is not None:
        stopping = EarlyStopping(patience=int(patience))
        callbacks.append(resume.restore(stopping) if resume is not None else stopping)
    path = args.checkpoint or (args.resume if resume is not None else None)
    if path:
        callbacks.append(Checkpoint(path, info=info))
    return callbacks


def _train(args: argparse.Namespace, config: dict[str, Any], splits: Any) -> tuple[Any, dict]:

    full = settings(config)
    val_split = args.val_split
    if val_split is None and args.early_stopping is not None:
        val_split = 0.1
    full["early_stopping"] = args.early_stopping
    info = {
        "training": {
            **full,
            "validation": f"split {val_split}" if val_split else "test set",
            "samples": len(splits.train),
        },
        "seed": full["seed"],
        "dataset": {"name": args.name, "checksum": splits.train.checksum()},
    }
    if not args.quiet:
        print(describe(config, len(splits.train)), flush=True)
    validation = {"validation_split": val_split} if val_split else {"validation_data": splits.test}
    model, _ = train(
        config,
        splits.train,
        callbacks=_callbacks(args, info),
        verbose=0 if args.quiet else 1,
        **validation,
    )
    _check_learnt(model, splits.test, full)
    info["test_accuracy"] = model.score(splits.test)
    return model, info


def _check_learnt(model: Any, test: Any, settings: dict[str, Any]) -> None:
    """Refuse to save a network that collapsed: one answer for nearly every test image and no
    better than guessing (a learning rate far too large does this)."""
    predicted = np.asarray(model.predict(test.images))
    counts = np.bincount(predicted, minlength=10)
    accuracy = float(np.mean(predicted == np.asarray(test.labels)))
    if counts.max() >= COLLAPSED * len(predicted) and accuracy <= CHANCE_FACTOR / len(counts):
        raise OwnnetError(
            f"training failed: the network answers {int(counts.argmax())} for "
            f"{counts.max() / len(predicted):.0%} of the test images ({accuracy:.1%} right, no "
            f"better than guessing); with lr {settings['lr']:g} try a smaller learning rate, "
            f"e.g. {settings['lr'] / 10:g} (nothing was saved)"
        )


def _resume(args: argparse.Namespace, splits: Any) -> tuple[Any, dict]:

    r = load_checkpoint(args.resume)
    info = dict(r.info)
    checksum = splits.train.checksum()
    saved = info.get("dataset", {}).get("checksum")
    if saved and saved != checksum:
        raise _error(
            f"{args.resume}: the checkpoint was trained on data with checksum {saved[:12]}..., "
            f"but this training set has {checksum[:12]}...; use the same --data and --name"
        )
    kwargs = r.fit_kwargs(args.epochs)
    info["training"] = {**info.get("training", {}), "epochs": kwargs["epochs"]}
    callbacks = _callbacks(args, info, r)
    if not args.quiet:
        print(
            f"resuming {args.resume} after epoch {r.epoch} of {kwargs['epochs']}"
            + (" (it had stopped early)" if r.stopped else ""),
            flush=True,
        )
    model = r.model
    if r.stopped or r.epoch >= kwargs["epochs"]:
        r.finish(callbacks)  # EarlyStopping puts back its best weights
    else:
        if not kwargs.get("validation_split"):
            kwargs["validation_data"] = splits.test
        model.fit(splits.train, callbacks=callbacks, verbose=0 if args.quiet else 1, **kwargs)
    info["test_accuracy"] = model.score(splits.test)
    return model, info


def _error(message: str) -> Exception:
    return OwnnetError(message)
