"""Test accuracy of the matrix engine on the full MNIST, with the time taken.

Cases:

* ``mlp``: the Keras MNIST MLP example: 784-512-512-10, relu, dropout 0.2,
  softmax + cross-entropy, Glorot init, RMSprop lr 0.001, batch 128, 20 epochs
  (Keras reports about 98.4%);
* ``book``: the book's network in the matrix engine (``Network.book``:
  784-200-10 sigmoid, quadratic cost, batch 1, lr 0.1), 1 epoch;
* ``cnn``: the default CNN (``Network.cnn()``: conv 3x3x32 + pool, conv 3x3x64 +
  pool, dense 128, dropout 0.5), Adam lr 0.001 with a cosine schedule, batch 128,
  12 epochs, each on the training images rotated by up to 10 degrees and shifted by
  up to 2 pixels afresh (``ownnet train --model cnn``'s defaults).

Prints one JSON line per case: test accuracy, seconds (and minutes) of training,
seconds per epoch, and the process's peak memory (``ru_maxrss``; run one case per process
to read it for that case)::

    OWNNET_DATA=../shared/data/mnist nice python benchmarks/accuracy.py --case mlp
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from typing import Any

import numpy as np

from ownnet.augmentation import RandomTransform
from ownnet.data.mnist import load_mnist
from ownnet.memory import peak_rss_mb
from ownnet.nn import SGD, Adam, Cosine, Network, RMSprop


def run_case(case: str, splits: Any, seed: int, epochs: int | None, verbose: int) -> dict:
    init_seed, fit_seed = np.random.SeedSequence(seed).spawn(2)
    if case == "mlp":
        epochs = 20 if epochs is None else epochs
        net = Network.mlp(
            (512, 512), activation="relu", dropout=0.2, seed=np.random.default_rng(init_seed)
        )
        fit = dict(batch_size=128, optimizer=RMSprop(0.001))
    elif case == "book":
        epochs = 1 if epochs is None else epochs
        net = Network.book(784, 200, 10, seed=np.random.default_rng(init_seed))
        fit = dict(batch_size=1, optimizer=SGD(0.1))
    elif case == "cnn":
        epochs = 12 if epochs is None else epochs
        net = Network.cnn(seed=np.random.default_rng(init_seed))
        fit = dict(
            batch_size=128,
            optimizer=Adam(0.001),
            schedule=Cosine(0.001, epochs),
            augment=RandomTransform(max_angle=10, max_shift=2),
        )
    else:
        raise SystemExit(f"unknown case {case!r}; expected mlp, book or cnn")
    start = time.perf_counter()
    history = net.fit(
        splits.train,
        epochs=epochs,
        validation_data=splits.test,
        seed=np.random.default_rng(fit_seed),
        verbose=verbose,
        **fit,
    )
    seconds = time.perf_counter() - start
    train_seconds = sum(history["seconds"])
    return {
        "case": case,
        "epochs": epochs,
        "test_accuracy": round(net.score(splits.test), 4),
        "best_val_accuracy": round(max(history["val_accuracy"]), 4),
        "final_loss": round(history.last("loss"), 4),
        "seconds": round(seconds, 1),
        "minutes": round(seconds / 60, 2),
        "train_seconds_per_epoch": round(train_seconds / epochs, 2),
        "peak_rss_mb": round(peak_rss_mb()),
        "params": net.n_params,
        "seed": seed,
        "load_avg": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--case", default="mlp", help="mlp, book or cnn, or several comma-separated"
    )
    parser.add_argument("--data", help="MNIST folder (default: $OWNNET_DATA, cache)")
    parser.add_argument("--epochs", type=int, help="override the case's epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, help="1: Keras-style line per epoch")
    parser.add_argument("--threads", type=int, help="BLAS threads (needs threadpoolctl)")
    args = parser.parse_args()
    splits = load_mnist(args.data, progress=False)
    limits = contextlib.nullcontext()
    if args.threads:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(args.threads, user_api="blas")
    with limits:
        for case in args.case.split(","):
            row = run_case(case, splits, args.seed, args.epochs, args.verbose)
            row["threads"] = args.threads
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
