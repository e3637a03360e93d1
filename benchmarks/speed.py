"""Seconds per epoch of the matrix engine against PyTorch CPU, in one run.

Cases (MNIST-sized: 60,000 uint8 images of 784 pixels):

* ``a64``, ``a128``: 784-200-10, sigmoid layers, quadratic cost, SGD lr 0.1, batch 64 / 128;
* ``b128``: 784-512-512-10, relu, dropout 0.2, softmax + cross-entropy, RMSprop lr 0.001,
  batch 128 (the Keras MNIST MLP);
* ``cnn`` (not in the default list; ``--case cnn``): the default CNN (``Network.cnn()``:
  conv 3x3x32 same + relu, 2x2 max pool, conv 3x3x64 same + relu, 2x2 max pool, dense 128
  relu, dropout 0.5, softmax), Adam lr 0.001, batch 128; no augmentation (the same
  images for both engines).

Both engines train the same network on the same data with the same number
of threads (``--threads``, default ownnet's: one per physical core; ownnet splits
each batch between them, ``ownnet.nn.parallel``; ``torch.set_num_threads``).
PyTorch gets the images as one float32 tensor scaled once (its usual setup);
ownnet scales each batch from uint8.

The machine may be shared, so the two engines take turns on short segments
of the epoch (``--segments``, each about a tenth of an epoch), ``--repeats``
times, after a warm-up, with a pause between turns (``--pause``: OpenBLAS's
idle worker threads spin for a while after each call and would steal a core
from the next engine); an engine's epoch time is the sum over the segments
of its best time for each. A burst of load from another process then falls on
both engines and is filtered out, instead of spoiling a whole epoch of one.
The median full-epoch time (the sum of one round of segments) is reported too.

The run also measures the machine's sgemm rate (float32 ``matmul`` of
``--gemm-size`` square matrices, best of several, at the start, between the
cases and at the end) and reports ownnet's epoch time as a multiple of the
FLOP bound ``6 * parameters * samples / rate`` (for the CNN: ``6 * multiply-adds
per sample * samples / rate``). ``ownnet_per_torch`` is ownnet's epoch time over
PyTorch's.

Prints one JSON line per case, then one with the sgemm rate::

    OWNNET_DATA=../shared/data/mnist nice python benchmarks/speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ownnet.nn import SGD, Adam, Dense, Dropout, Network, RMSprop
from ownnet.nn.cnn import multiply_adds
from ownnet.threads import default_threads

CASES = ("a64", "a128", "b128")
#: cases that run only when asked for
MORE_CASES = ("cnn",)


def load_images(data: str | None, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """MNIST training images ``(n, 784)`` uint8 and labels, or same-sized synthetic data."""
    try:
        from ownnet.data.mnist import load_mnist

        train = load_mnist(data, download=False, progress=False).train
        images = np.asarray(train.images).reshape(len(train.images), -1)[:n]
        return np.ascontiguousarray(images), np.asarray(train.labels)[:n], "mnist"
    except Exception as exc:  # noqa: BLE001 - any failure: fall back, and say so
        print(f"# no MNIST ({exc}); using synthetic data", file=sys.stderr)
        rng = np.random.default_rng(0)
        images = (rng.random((n, 784)) < 0.19) * rng.integers(1, 256, (n, 784))
        return images.astype(np.uint8), rng.integers(0, 10, n).astype(np.uint8), "synthetic"


def sgemm_rate(size: int, repeats: int = 5) -> float:
    """Best float32 matmul rate in FLOP/s for ``size``-square matrices."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    c = np.empty_like(a)
    np.matmul(a, b, out=c)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    return 2.0 * size**3 / best


def ownnet_model(case: str, seed: int) -> tuple[Network, Any, int]:
    if case == "cnn":
        return Network.cnn(seed=seed), Adam(0.001), 128
    if case.startswith("a"):
        net = Network(
            [Dense(200, "sigmoid", init="normal"), Dense(10, "sigmoid", init="normal")],
            loss="quadratic",
            seed=seed,
        )
        return net, SGD(0.1), int(case[1:])
    net = Network(
        [
            Dense(512, "relu", init="he"),
            Dropout(0.2),
            Dense(512, "relu", init="he"),
            Dropout(0.2),
            Dense(10, "softmax"),
        ],
        loss="cross_entropy",
        seed=seed,
    )
    return net, RMSprop(0.001, rho=0.9, eps=1e-7), 128


class TorchRun:
    """The same network and loop in PyTorch, written the usual way."""

    def __init__(self, case: str, images: np.ndarray, labels: np.ndarray, seed: int) -> None:
        import torch
        from torch import nn

        self.torch = torch
        torch.manual_seed(seed)
        if case == "cnn":
            self.model = nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(64 * 7 * 7, 128),
                nn.ReLU(),
                nn.Dropout(0.5),
                nn.Linear(128, 10),
            )
            self.opt = torch.optim.Adam(self.model.parameters(), lr=0.001, eps=1e-7)
            self.quadratic = False
            self.batch = 128
        elif case.startswith("a"):
            self.model = nn.Sequential(
                nn.Linear(784, 200), nn.Sigmoid(), nn.Linear(200, 10), nn.Sigmoid()
            )
            self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)
            self.quadratic = True
            self.batch = int(case[1:])
        else:
            self.model = nn.Sequential(
                nn.Linear(784, 512),
                nn.ReLU(),
                nn.Dropout(0.2),
                nn.Linear(512, 512),
                nn.ReLU(),
                nn.Dropout(0.2),
                nn.Linear(512, 10),
            )
            self.opt = torch.optim.RMSprop(self.model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
            self.quadratic = False
            self.batch = 128
        self.x = torch.from_numpy(images.astype(np.float32) / 255.0)
        if case == "cnn":
            self.x = self.x.reshape(-1, 1, 28, 28)
        self.y = torch.from_numpy(labels.astype(np.int64))
        self.y1 = torch.nn.functional.one_hot(self.y, 10).float()

    def train(self, index: np.ndarray) -> float:
        """Train on the samples ``index`` (in this order); returns the seconds taken."""
        F = self.torch.nn.functional
        self.model.train()
        start = time.perf_counter()
        perm = self.torch.from_numpy(index)
        for i in range(0, len(perm), self.batch):
            idx = perm[i : i + self.batch]
            out = self.model(self.x[idx])
            if self.quadratic:
                loss = 0.5 * F.mse_loss(out, self.y1[idx], reduction="sum") / len(idx)
            else:
                loss = F.cross_entropy(out, self.y[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return time.perf_counter() - start


class Subset:
    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels


class OwnnetRun:
    def __init__(self, case: str, images: np.ndarray, labels: np.ndarray, seed: int) -> None:
        self.net, self.opt, self.batch = ownnet_model(case, seed)
        self.images, self.labels = images, labels
        self.rng = np.random.default_rng(seed)

    def train(self, index: np.ndarray) -> float:
        """Train on the samples ``index`` (in this order); returns the seconds taken."""
        data = Subset(self.images[index], self.labels[index])
        start = time.perf_counter()
        self.net.fit(
            data, epochs=1, batch_size=self.batch, optimizer=self.opt, shuffle=False,
            seed=self.rng, verbose=0,
        )  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="MNIST folder (default: $OWNNET_DATA, cache)")
    parser.add_argument(
        "--cases",
        "--case",
        default=",".join(CASES),
        help=f"comma-separated of {','.join(CASES + MORE_CASES)} (default: {','.join(CASES)})",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per engine and case")
    parser.add_argument("--samples", type=int, default=60000, help="samples per epoch")
    parser.add_argument(
        "--threads", type=int, help="threads for both engines (default: ownnet's default)"
    )
    parser.add_argument("--gemm-size", type=int, default=2048)
    parser.add_argument("--no-torch", action="store_true", help="time ownnet only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--segments", type=int, default=10, help="turns per epoch and engine")
    parser.add_argument(
        "--pause", type=float, default=0.3, help="seconds between turns (idle threads stop)"
    )
    args = parser.parse_args()

    images, labels, source = load_images(args.data, args.samples)
    n = len(images)
    threads = args.threads or default_threads()
    with threadpool_limits(threads, user_api="blas"):
        torch = None
        if not args.no_torch:
            import torch

            torch.set_num_threads(threads)
        rates = [sgemm_rate(args.gemm_size)]
        for case in args.cases.split(","):
            engines: dict[str, Any] = {"ownnet": OwnnetRun(case, images, labels, args.seed)}
            if torch is not None:
                engines["torch"] = TorchRun(case, images, labels, args.seed)
            batch = engines["ownnet"].batch
            params = engines["ownnet"].net.n_params
            work = multiply_adds(engines["ownnet"].net) if case == "cnn" else params
            # segments of whole batches, about a tenth of an epoch each
            per = -(-n // (args.segments * batch)) * batch
            bounds = [(i, min(i + per, n)) for i in range(0, n, per)]
            order = np.random.default_rng(args.seed).permutation(n)
            for engine in engines.values():  # warm up
                engine.train(order[: 20 * batch])
            times = {name: np.zeros((args.repeats, len(bounds))) for name in engines}
            for r in range(args.repeats):
                order = np.random.default_rng(args.seed + r).permutation(n)
                for s, (i, j) in enumerate(bounds):
                    for name, engine in engines.items():
                        # let the other engine's idle threads stop spinning first (OpenBLAS
                        # workers busy-wait for a while after each call)
                        time.sleep(args.pause)
                        times[name][r, s] = engine.train(order[i:j])
            best = {name: float(t.min(axis=0).sum()) for name, t in times.items()}
            median = {name: float(np.median(t.sum(axis=1))) for name, t in times.items()}
            rates.append(sgemm_rate(args.gemm_size))
            rate = max(rates)
            bound = 6.0 * work * n / rate
            row: dict[str, Any] = {
                "case": case,
                "batch": batch,
                "params": params,
                "samples": n,
                "data": source,
                "threads": threads,
                "ownnet_s": round(best["ownnet"], 4),
                "ownnet_median_s": round(median["ownnet"], 4),
            }
            if "torch" in best:
                row["torch_s"] = round(best["torch"], 4)
                row["torch_median_s"] = round(median["torch"], 4)
                row["speedup"] = round(best["torch"] / best["ownnet"], 3)
                row["ownnet_per_torch"] = round(best["ownnet"] / best["torch"], 3)
            row["flop_bound_s"] = round(bound, 4)
            row["x_flop_bound"] = round(best["ownnet"] / bound, 3)
            row["sgemm_gflops"] = round(rate / 1e9, 1)
            row["load_avg"] = [round(x, 2) for x in os.getloadavg()]
            print(json.dumps(row), flush=True)
        print(
            json.dumps(
                {
                    "sgemm_gflops": [round(r / 1e9, 1) for r in rates],
                    "gemm_size": args.gemm_size,
                    "threads": threads,
                    "numpy": np.__version__,
                    "torch": getattr(torch, "__version__", None),
                    "machine": platform.processor() or platform.machine(),
                    "load_avg": os.getloadavg()[0],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
