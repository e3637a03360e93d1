"""How many threads to train with: a fixed number, so that a run can be repeated.

The rule: **one thread per physical core this process may run on** (hyper-threads
of one core count once; ``taskset`` and container CPU sets are respected), at most
:data:`MAX_THREADS`. It depends on the machine, never on how busy the machine is
right now, so the same command and seed give the same numbers whatever else runs.

The thread count is part of a run's arithmetic: the matrix engine splits each
batch between its threads (:mod:`ownnet.nn.parallel`) and matrix products
between BLAS threads, and float32 sums taken in another order round differently.
A run with ``--threads 1`` and one with ``--threads 2`` therefore end with
slightly different weights (and accuracies that differ in the last digits);
each is repeatable. The book's network (:mod:`ownnet.blocks`) gives the same
numbers with any thread count.

The training code reads the count from BLAS (:func:`blas_threads`): the command line
sets it with threadpoolctl's ``threadpool_limits``, sweeps pin each run to one.
"""

from __future__ import annotations

import os
from pathlib import Path

from threadpoolctl import ThreadpoolController

#: the default never goes above this (more threads split a batch of 128 too finely)
MAX_THREADS = 8

_CPU_DIR = Path("/sys/devices/system/cpu")
_CONTROLLER: ThreadpoolController | None = None


def usable_cpus() -> list[int]:
    """The logical CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def physical_cores(cpus: list[int] | None = None, cpu_dir: Path = _CPU_DIR) -> int:
    """How many distinct physical cores the logical ``cpus`` (default: :func:`usable_cpus`)
    are on, from Linux's ``/sys`` topology; the number of ``cpus`` where it is not readable."""
    cpus = usable_cpus() if cpus is None else cpus
    cores = set()
    for cpu in cpus:
        topology = cpu_dir / f"cpu{cpu}" / "topology"
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return max(1, len(cpus))
        cores.add((package, core))
    return max(1, len(cores))


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses now (``threadpool_limits`` sets it; 1 where
    threadpoolctl finds no BLAS)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    info = _CONTROLLER.select(user_api="blas").info()
    return max([int(lib["num_threads"]) for lib in info] or [1])


def controller() -> ThreadpoolController:
    """threadpoolctl's controller of this process's thread pools (made once)."""
    blas_threads()
    assert _CONTROLLER is not None
    return _CONTROLLER


def default_threads() -> int:
    """The thread count used when none is given: :func:`physical_cores`, at most
    :data:`MAX_THREADS`."""
    return min(physical_cores(), MAX_THREADS)
