"""Speed of ``ownnet.classic`` against the book's code, in one run.

Both train the same 784-200-10 network from the same weights on the same
MNIST samples in the same order, taking turns (book, ownnet, book, ownnet, ...)
so that load from other programs falls on both. Prints one JSON line: seconds
per epoch of each (extrapolated from ``--samples``, the best of ``--repeats``
turns; the medians too), their ratio, the largest relative weight difference
after 2,000 samples and whether the weights agree to ``rtol=1e-9``, and the load
average. The book's code runs with one BLAS thread (its fastest setting for
one sample at a time); ownnet's ``fit`` uses its default threads
(``ownnet.blocks``: the next block's products on a second core).

    OWNNET_DATA=../shared/data/mnist python benchmarks/classic_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
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
from ownnet.threads import default_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="MNIST folder (default: $OWNNET_DATA, cache)")
    parser.add_argument("--samples", type=int, default=10000, help="samples timed per model")
    parser.add_argument("--repeats", type=int, default=5, help="turns per engine")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=default_threads(),
        help="ownnet's threads (default: the machine's physical cores, as `ownnet train`)",
    )
    args = parser.parse_args()

    train = load_mnist(args.data, progress=False).train
    n_epoch = len(train)
    part = train.subset(args.samples)
    start = Network(seed=args.seed)

    def time_ownnet() -> float:
        with threadpool_limits(limits=args.threads, user_api="blas"):
            net = start.copy()  # a network trains on the BLAS threads it was made with
        t = time.perf_counter()
        net.fit(part, epochs=1, verbose=0)
        return time.perf_counter() - t

    def time_book() -> float:
        net = BookNetwork(start.wih, start.who, start.lr)
        # one BLAS thread: the book's code is fastest so (ownnet's fit pins BLAS to one too)
        with threadpool_limits(limits=1, user_api="blas"):
            t = time.perf_counter()
            train_epoch(net, part.images, part.labels)
            return time.perf_counter() - t

    ours, book = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        book.append(time_book())
        ours.append(time_ownnet())
    scale = n_epoch / len(part)
    ours_epoch, book_epoch = min(ours) * scale, min(book) * scale
    ours_median, book_median = np.median(ours) * scale, np.median(book) * scale

    # Same maths: weights after 2,000 samples.
    check = train.subset(2000)
    net = start.copy()
    net.fit(check, epochs=1, verbose=0)
    ref = BookNetwork(start.wih, start.who, start.lr)
    train_epoch(ref, check.images, check.labels)
    pairs = ((net.wih, ref.wih), (net.who, ref.who))
    diff = max(float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12))) for a, b in pairs)
    same = all(bool(np.allclose(a, b, rtol=1e-9, atol=1e-12)) for a, b in pairs)
    print(
        json.dumps(
            {
                "benchmark": "classic_speed",
                "samples_timed": len(part),
                "book_s_per_epoch": round(book_epoch, 2),
                "ownnet_s_per_epoch": round(ours_epoch, 2),
                "ratio": round(book_epoch / ours_epoch, 2),
                "ratio_goal": 8.0,
                "book_median_s": round(book_median, 2),
                "ownnet_median_s": round(ours_median, 2),
                "median_ratio": round(book_median / ours_median, 2),
                "max_rel_weight_diff_2000": diff,
                "weights_equal_1e-9": same,
                "threads": args.threads,
                "load_avg": [round(x, 2) for x in os.getloadavg()],
                "python": platform.python_version(),
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
