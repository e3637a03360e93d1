"""Speed of ``ownnet.classic`` against the book's code, in one run.

Both train the same 784-200-10 network from the same weights on the same
MNIST samples in the same order. Prints one JSON line: seconds per epoch of
each (extrapolated from ``--samples``), their ratio, and the largest relative
weight difference after 2,000 samples.

    OWNNET_DATA=../shared/data/mnist python benchmarks/classic_speed.py
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from book_network import BookNetwork, train_epoch  # noqa: E402

from ownnet.classic import Network  # noqa: E402
from ownnet.data.mnist import load_mnist  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="MNIST folder (default: $OWNNET_DATA, cache)")
    parser.add_argument("--samples", type=int, default=10000, help="samples timed per model")
    parser.add_argument("--repeats", type=int, default=3, help="take the best of this many")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train = load_mnist(args.data, progress=False).train
    n_epoch = len(train)
    part = train.subset(args.samples)
    start = Network(seed=args.seed)

    def time_ownnet() -> float:
        net = start.copy()
        t = time.perf_counter()
        net.fit(part, epochs=1, verbose=0)
        return time.perf_counter() - t

    def time_book() -> float:
        net = BookNetwork(start.wih, start.who, start.lr)
        t = time.perf_counter()
        train_epoch(net, part.images, part.labels)
        return time.perf_counter() - t

    ours, book = [], []
    # Both with one BLAS thread (ownnet's fit pins itself to one; the book's code
    # gets the same, which is also its fastest setting on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(args.repeats):  # interleaved, so both see the same machine load
            book.append(time_book())
            ours.append(time_ownnet())
    scale = n_epoch / len(part)
    ours_epoch, book_epoch = min(ours) * scale, min(book) * scale

    # Same maths: weights after 2,000 samples.
    check = train.subset(2000)
    net = start.copy()
    net.fit(check, epochs=1, verbose=0)
    ref = BookNetwork(start.wih, start.who, start.lr)
    train_epoch(ref, check.images, check.labels)
    diff = max(
        float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
        for a, b in ((net.wih, ref.wih), (net.who, ref.who))
    )
    print(
        json.dumps(
            {
                "benchmark": "classic_speed",
                "samples_timed": len(part),
                "book_s_per_epoch": round(book_epoch, 2),
                "ownnet_s_per_epoch": round(ours_epoch, 2),
                "ratio": round(book_epoch / ours_epoch, 2),
                "ratio_goal": 4.0,
                "max_rel_weight_diff_2000": diff,
                "python": platform.python_version(),
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
