"""Predictions per second and one-image latency, ownnet against PyTorch CPU, in one run.

For each model kind, the same network in both engines (same weights, random as
initialised: speed does not depend on them), the same uint8 test images in,
predicted labels out:

* ``book``: the book's network 784-200-10, sigmoid, no bias, float64
  (``ownnet.classic.Network``; PyTorch: two bias-free ``Linear`` layers in float64);
* ``mlp``: 784-512-512-10, relu, dropout 0.2 (off in evaluation), softmax, float32;
* ``cnn``: the default CNN (``Network.cnn()``), float32.

*Throughput*: one call on a batch of ``--batch`` images (10,000), predictions per
second. *Latency*: one call on one image, median over ``--calls`` calls. ownnet's
side is ``model.predict(images)``; PyTorch's is what one would write: the uint8
array to a float tensor, scaled, the model in ``eval()`` under ``no_grad``, and the
argmax back as a NumPy array. The engines take turns (A B A B ...) ``--repeats``
times, so that load from other programs falls on both; each figure is the median
of its turns. Both use ``--threads`` threads (default: ownnet's default).

Prints one JSON line per model kind with the load average::

    OWNNET_DATA=../shared/data/mnist python benchmarks/inference.py
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ownnet.classic import Network as Classic
from ownnet.nn import Network
from ownnet.threads import default_threads

KINDS = ("book", "mlp", "cnn")


def test_images(data: str | None, n: int) -> tuple[np.ndarray, str]:
    """``n`` MNIST test images ``(n, 28, 28)`` uint8 (repeated if fewer), or random ones."""
    try:
        from ownnet.data.mnist import load_mnist

        images = np.asarray(load_mnist(data, download=False, progress=False).test.images)
        return np.resize(images, (n, 28, 28)), "mnist"
    except Exception:  # noqa: BLE001 - any failure: fall back, and say so in the output
        rng = np.random.default_rng(0)
        return ((rng.random((n, 28, 28)) < 0.19) * 255).astype(np.uint8), "synthetic"


def ownnet_model(kind: str) -> Any:
    if kind == "book":
        return Classic(784, 200, 10, 0.1, seed=0)
    if kind == "mlp":
        return Network.mlp((512, 512), activation="relu", dropout=0.2, seed=0)
    return Network.cnn(seed=0)


def torch_book(model: Classic) -> Callable[[np.ndarray], np.ndarray]:
    """The book's network with ``model``'s weights in PyTorch (float64, the book's input
    scaling), as a function uint8 images -> labels."""
    import torch
    from torch import nn

    net = nn.Sequential(
        nn.Linear(784, 200, bias=False), nn.Sigmoid(), nn.Linear(200, 10, bias=False), nn.Sigmoid()
    ).double()
    net[0].weight.data = torch.tensor(model.wih)
    net[2].weight.data = torch.tensor(model.who)
    net.eval()

    def predict(images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(images).double().reshape(-1, 784) * (0.99 / 255.0) + 0.01
            return net(x).argmax(dim=1).numpy()

    return predict


def torch_nn(model: Network) -> Callable[[np.ndarray], np.ndarray]:
    """A ``torch.nn.Sequential`` with the weights of a matrix-engine network (Dense, Dropout,
    Conv2D, MaxPool2D, Flatten), as a function uint8 images -> labels."""
    import torch
    from torch import nn

    from ownnet.nn.conv import Conv2D
    from ownnet.nn.dense import Dense
    from ownnet.nn.flatten import Flatten
    from ownnet.nn.layers import Dropout
    from ownnet.nn.pooling import MaxPool2D

    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "softmax": lambda: nn.Softmax(dim=1)}
    mods: list[Any] = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            lin = nn.Linear(*layer.W.shape)
            lin.weight.data = torch.tensor(layer.W.T.copy())
            lin.bias.data = torch.tensor(layer.b.copy())
            mods.append(lin)
        elif isinstance(layer, Conv2D):
            conv = nn.Conv2d(layer.input_shape[0], layer.filters, layer.kernel_size, padding=1)
            conv.weight.data = torch.tensor(layer.W.transpose(3, 2, 0, 1).copy())
            conv.bias.data = torch.tensor(layer.b.copy())
            mods.append(conv)
        elif isinstance(layer, MaxPool2D):
            mods.append(nn.MaxPool2d(layer.pool_size))
        elif isinstance(layer, Flatten):
            mods.append(nn.Flatten())
        elif isinstance(layer, Dropout):
            mods.append(nn.Dropout(layer.rate))
        name = getattr(getattr(layer, "activation", None), "name", "linear")
        if name != "linear":
            mods.append(acts[name]())
    net = nn.Sequential(*mods).eval()
    shape = (-1, *model.input_shape)

    def predict(images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(images).float().reshape(shape) / 255.0
            return net(x).argmax(dim=1).numpy()

    return predict


def timed(f: Callable[[np.ndarray], np.ndarray], images: np.ndarray, calls: int) -> float:
    """Median seconds of ``calls`` calls of ``f(images)``."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        f(images)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="MNIST folder (default: $OWNNET_DATA, cache)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"of {','.join(KINDS)}")
    parser.add_argument("--batch", type=int, default=10000, help="images per throughput call")
    parser.add_argument("--calls", type=int, default=200, help="one-image calls per turn")
    parser.add_argument("--repeats", type=int, default=5, help="turns per engine")
    parser.add_argument("--threads", type=int, help="threads (default: ownnet's default)")
    args = parser.parse_args()

    import torch

    threads = args.threads or default_threads()
    torch.set_num_threads(threads)
    images, source = test_images(args.data, args.batch)
    with threadpool_limits(threads, user_api="blas"):
        for kind in args.kinds.split(","):
            model = ownnet_model(kind)
            engines = {
                "ownnet": model.predict,
                "torch": torch_book(model) if kind == "book" else torch_nn(model),
            }
            agree = float(np.mean(engines["ownnet"](images) == engines["torch"](images)))
            batch: dict[str, list[float]] = {name: [] for name in engines}
            one: dict[str, list[float]] = {name: [] for name in engines}
            for _ in range(args.repeats):
                for name, f in engines.items():
                    batch[name].append(timed(f, images, 1))
                    one[name].append(timed(f, images[:1], args.calls))
            per_s = {k: len(images) / float(np.median(v)) for k, v in batch.items()}
            latency = {k: float(np.median(v)) for k, v in one.items()}
            row = {
                "kind": kind,
                "batch": len(images),
                "data": source,
                "threads": threads,
                "ownnet_per_s": round(per_s["ownnet"]),
                "torch_per_s": round(per_s["torch"]),
                "throughput_ratio": round(per_s["ownnet"] / per_s["torch"], 3),
                "ownnet_latency_ms": round(latency["ownnet"] * 1e3, 4),
                "torch_latency_ms": round(latency["torch"] * 1e3, 4),
                "ownnet_per_torch_latency": round(latency["ownnet"] / latency["torch"], 3),
                "same_predictions": agree,
                "load_avg": [round(x, 2) for x in os.getloadavg()],
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
