"""Sweep speed: 8 classic runs, serial and then on 2 worker processes, in one go.

    OWNNET_DATA=/path/to/mnist nice python benchmarks/sweep_speed.py [--workers 2]

Each run trains the book's 784-200-10 network for one epoch on the first
``--train-size`` training images and tests it on the 10,000 test images
(4 learning rates x 2 repeats). Both sweeps start from empty stores; the
serial one reuses the data this process loaded to plan the runs, the worker
processes start fresh and load the data themselves, and that start-up is
timed too. Prints one JSON line; exits 1 if the two sweeps' accuracies differ
or the speed-up is below ``--min-speedup``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from ownnet import __version__
from ownnet.experiments.executors import ProcessExecutor, SerialExecutor
from ownnet.experiments.store import Store
from ownnet.experiments.sweep import Plan, plan_runs, run_sweep


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="MNIST folder (default: $OWNNET_DATA or the cache)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--min-speedup", type=float, default=1.7)
    args = parser.parse_args()

    plan = Plan(
        base={"hidden": args.hidden, "epochs": 1, "train_size": args.train_size},
        grid={"lr": [0.05, 0.1, 0.2, 0.3]},
        repeats=2,
    )
    specs = plan_runs(plan, args.data)  # loads the data here once, for the checksums
    seconds = {}
    accuracies = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (
            ("serial", SerialExecutor),
            (f"workers{args.workers}", lambda: ProcessExecutor(args.workers)),
        ):
            with Store(Path(tmp) / f"{name}.db") as store:
                start = time.perf_counter()
                with make() as executor:
                    report = run_sweep(specs, store, executor, progress=False)
                seconds[name] = time.perf_counter() - start
                assert report.ran == len(specs)
                accuracies[name] = {r.run_id: r.accuracies for r in store.runs()}
    serial, parallel = seconds["serial"], seconds[f"workers{args.workers}"]
    same = len(set(map(lambda d: json.dumps(d, sort_keys=True), accuracies.values()))) == 1
    speedup = serial / parallel
    print(
        json.dumps(
            {
                "benchmark": "sweep_speed",
                "runs": len(specs),
                "config": {"hidden": args.hidden, "epochs": 1, "train_size": args.train_size},
                "serial_s": round(serial, 2),
                f"workers{args.workers}_s": round(parallel, 2),
                "speedup": round(speedup, 3),
                "same_accuracies": same,
                "mean_accuracy": round(
                    sum(a[-1] for a in accuracies["serial"].values()) / len(specs), 4
                ),
                "cpus": os.cpu_count(),
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                "ownnet": __version__,
                "python": platform.python_version(),
            }
        )
    )
    if not same:
        print("the serial and parallel sweeps gave different accuracies", file=sys.stderr)
        return 1
    if speedup < args.min_speedup:
        print(f"speed-up {speedup:.2f} is below {args.min_speedup}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
