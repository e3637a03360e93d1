"""Time and memory of loading MNIST in a fresh Python process.

Runs ``import ownnet; ownnet.load_mnist()`` in a new interpreter (``--data`` or
``$OWNNET_DATA``, else the cache) and prints one JSON line: the seconds from the import to
the loaded arrays, the process's peak memory (``ru_maxrss``), and the memory of Python with
NumPy alone for comparison, measured the same way in a second fresh process.

    OWNNET_DATA=path/to/mnist python benchmarks/data_load.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

LOAD = """
import json, resource, time
start = time.perf_counter()
import ownnet
splits = ownnet.load_mnist({data!r}, progress=False, download=False)
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
images = len(splits.train) + len(splits.test)
data_mb = (splits.train.images.nbytes + splits.test.images.nbytes) / 2**20
print(json.dumps({{"seconds": seconds, "peak_mb": peak_mb, "images": images, "data_mb": data_mb}}))
"""
BASELINE = """
import json, resource
import numpy
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def fresh(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="MNIST folder (default: $OWNNET_DATA or the cache)")
    parser.add_argument("--repeats", type=int, default=3, help="take the fastest of this many")
    args = parser.parse_args()
    runs = [fresh(LOAD.format(data=args.data)) for _ in range(args.repeats)]
    best = min(runs, key=lambda r: r["seconds"])
    base = fresh(BASELINE)
    print(
        json.dumps(
            {
                "benchmark": "data_load",
                "images": best["images"],
                "seconds": round(best["seconds"], 3),
                "seconds_all": [round(r["seconds"], 3) for r in runs],
                "peak_mb": round(max(r["peak_mb"] for r in runs), 1),
                "python_numpy_mb": round(base["peak_mb"], 1),
                "data_mb": round(best["data_mb"], 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
