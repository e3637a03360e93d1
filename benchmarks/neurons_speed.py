"""Samples per second of the neurons model against the book's network, in one run.

The same 784-20-10 network (same seed, so the same starting weights) learns the same
MNIST samples one at a time three ways: as :mod:`ownnet.neurons` objects, with
``classic.Network.train`` (the book's ``train``, sample by sample) and with
``classic.Network.fit`` (blocks, still one sample at a time). Prints one JSON line with
each rate, the ratios, and the largest weight difference between the neurons model and
``classic.Network.fit`` afterwards (the two are the same maths).

    OWNNET_DATA=path/to/mnist python benchmarks/neurons_speed.py
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from ownnet import classic, neurons
from ownnet.book import book_inputs, book_targets
from ownnet.data.mnist import load_mnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="MNIST folder (default: $OWNNET_DATA or the cache)")
    parser.add_argument("--samples", type=int, default=300, help="samples for the neurons model")
    parser.add_argument("--hidden", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train = load_mnist(args.data, progress=False).train
    slow_part = train.subset(args.samples)
    fast_part = train.subset(min(len(train), 100 * args.samples))
    x = book_inputs(fast_part.images.reshape(len(fast_part), -1))
    t = book_targets(fast_part.labels, 10)

    with threadpool_limits(1, user_api="blas"):
        slow = neurons.Network(784, args.hidden, 10, seed=args.seed)
        start = time.perf_counter()
        slow.fit(slow_part, epochs=1, verbose=0)
        neurons_rate = len(slow_part) / (time.perf_counter() - start)

        book = classic.Network(784, args.hidden, 10, seed=args.seed)
        start = time.perf_counter()
        for xi, ti in zip(x, t):
            book.train(xi, ti)
        train_rate = len(x) / (time.perf_counter() - start)

        fast = classic.Network(784, args.hidden, 10, seed=args.seed)
        start = time.perf_counter()
        fast.fit(fast_part, epochs=1, verbose=0)
        fit_rate = len(fast_part) / (time.perf_counter() - start)

        same = classic.Network(784, args.hidden, 10, seed=args.seed)
        same.fit(slow_part, epochs=1, verbose=0)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(slow.weights, (same.wih, same.who)))
    print(
        json.dumps(
            {
                "benchmark": "neurons_speed",
                "sizes": [784, args.hidden, 10],
                "samples": len(slow_part),
                "neurons_samples_per_s": round(neurons_rate, 1),
                "classic_train_samples_per_s": round(train_rate, 1),
                "classic_fit_samples_per_s": round(fit_rate, 1),
                "train_per_neurons": round(train_rate / neurons_rate, 1),
                "fit_per_neurons": round(fit_rate / neurons_rate, 1),
                "max_weight_diff": diff,
            }
        )
    )


if __name__ == "__main__":
    main()
