"""How many BLAS threads to train with.

OpenBLAS threads wait for each other by spinning. On a machine where another
program keeps a core busy, a two-thread matrix product waits for the busy core
at every call: measured here, a 784-512-512-10 epoch went from 0.34 s (one
thread) to 5.1 s (two threads) while one other process ran. So ownnet uses only
the cores that are idle now, unless told otherwise.
"""

from __future__ import annotations

import os


def idle_cores() -> int:
    """Cores not busy over the last minute (at least 1): CPU count minus the load average."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    count = count or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows
        return count
    return max(1, min(count, int(count - load + 0.5)))


#: the default BLAS threads of a training run: at most this many
MAX_DEFAULT_THREADS = 2


def default_threads() -> int:
    """The BLAS threads a run uses unless told otherwise: the CPUs this process may use, at
    most :data:`MAX_DEFAULT_THREADS`. It does not depend on the machine's load, so the
    same command and seed give the same numbers whatever else runs (a different thread
    count can change float32 rounding, and so the last digits)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(count or 1, MAX_DEFAULT_THREADS))
