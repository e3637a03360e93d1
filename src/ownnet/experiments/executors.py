"""Where the runs of a sweep execute: here, in local worker processes, or on Dask.

Every executor calls the same function (:func:`ownnet.experiments.runs.execute_run`)
on the same small :class:`~ownnet.experiments.runs.RunSpec` values and yields the
results as they finish, in any order. Each run uses one BLAS thread wherever it
executes, so the numbers are the same on every executor.

* :class:`SerialExecutor` runs them one after another in this process.
* :class:`ProcessExecutor` (``--workers N``) starts N fresh Python processes
  ("spawn") with ``OPENBLAS_NUM_THREADS=1`` and friends in their environment; each
  ends when the sweep's process ends, even when it is killed (:func:`exit_with_parent`).
* :class:`DaskExecutor` (``--scheduler tcp://HOST:PORT`` for an existing
  cluster, ``--scheduler local`` for a ``LocalCluster`` of N single-threaded
  worker processes). Dask's nanny already sets the BLAS variables to 1 for its
  workers; the workers need ownnet installed and the data in their data folder.

Workers load the dataset themselves, once per process, from the data folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from ownnet.errors import OwnnetError
from ownnet.experiments.runs import RunResult, RunSpec, execute_run

#: Environment variables that cap the threads of the BLAS and OpenMP libraries.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

RunFn = Callable[[RunSpec], RunResult]

#: seconds between a worker's looks at whether its parent is still there
PARENT_CHECK = 1.0
#: Linux prctl option: the signal a process gets when its parent dies
_PR_SET_PDEATHSIG = 1


def exit_with_parent(parent: int) -> None:
    """Make this worker process end when the process that started it (``parent``) ends,
    even by ``kill -9``: on Linux the kernel sends it SIGKILL (``prctl``); everywhere a
    watchdog thread exits the process once its parent id is no longer ``parent``."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK)
        os._exit(1)

    threading.Thread(target=watch, name="ownnet-parent-watch", daemon=True).start()


class Executor:
    """Base: a context manager whose :meth:`map` yields results as runs finish."""

    name = "executor"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(self, specs: Iterable[RunSpec], fn: RunFn = execute_run) -> Iterator[RunResult]:
        """Run ``fn`` on every spec; yield each result when it is ready."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers and connections."""


class SerialExecutor(Executor):
    """One run after another in this process."""

    name = "serial"

    def map(self, specs: Iterable[RunSpec], fn: RunFn = execute_run) -> Iterator[RunResult]:
        for spec in specs:
            yield fn(spec)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _drain(futures: list[Future[Any]]) -> Iterator[Any]:
    """Yield the results of concurrent futures as they complete; cancel the rest on error."""
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
    finally:
        for fut in pending:
            fut.cancel()


class ProcessExecutor(Executor):
    """``workers`` local processes, each with one BLAS thread."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise OwnnetError(f"--workers: expected at least 1, found {workers}")
        self.workers = int(workers)
        self.name = f"processes:{self.workers}"
        self._env = contextlib.ExitStack()
        # Spawned children read these when they import NumPy; kept set while the pool lives.
        # (execute_run also limits BLAS to one thread around each run.)
        self._env.enter_context(_environment({k: "1" for k in THREAD_VARIABLES}))
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        )

    def map(self, specs: Iterable[RunSpec], fn: RunFn = execute_run) -> Iterator[RunResult]:
        futures = [self._pool.submit(fn, spec) for spec in specs]
        yield from _drain(futures)

    def __exit__(self, exc_type: object, *exc: object) -> None:
        # On an error or Ctrl-C, stop the runs in flight instead of waiting for them.
        self.close(terminate=exc_type is not None)

    def close(self, *, terminate: bool = False) -> None:
        if terminate:
            for process in list(getattr(self._pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._env.close()


class DaskExecutor(Executor):
    """Runs on a Dask distributed cluster: ``"local"`` starts a ``LocalCluster``.

    Args:
        scheduler: ``"tcp://HOST:PORT"`` of a running scheduler, or ``"local"``.
        workers: worker processes for ``"local"`` (one thread each); ignored otherwise.
        timeout: seconds to wait for the scheduler to answer.
    """

    def __init__(self, scheduler: str, workers: int = 2, *, timeout: float = 30.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise OwnnetError(
                "--scheduler needs Dask distributed: pip install 'ownnet[cluster]'"
            ) from exc
        self._cluster = None
        if scheduler == "local":
            if workers < 1:
                raise OwnnetError(f"--workers: expected at least 1, found {workers}")
            self._cluster = LocalCluster(
                n_workers=int(workers),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: never clash with a running 8787
                silence_logs=logging.ERROR,
                env={k: "1" for k in THREAD_VARIABLES},
            )
            self.name = f"dask:local:{int(workers)}"
            address: Any = self._cluster
        else:
            self.name = f"dask:{scheduler}"
            address = scheduler
        try:
            self._client = Client(address, timeout=timeout)
        except OSError as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise OwnnetError(
                f"--scheduler {scheduler}: could not reach the Dask scheduler "
                f"within {timeout:g} s: {exc}"
            ) from exc

    def map(self, specs: Iterable[RunSpec], fn: RunFn = execute_run) -> Iterator[RunResult]:
        from distributed import as_completed

        specs = list(specs)
        if not specs:
            return
        futures = self._client.map(fn, specs, pure=False)
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            self._client.cancel(futures)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """Serial (no options), local processes (``workers``) or Dask (``scheduler``)."""
    if scheduler:
        return DaskExecutor(scheduler, workers or 2)
    if workers and workers > 1:
        return ProcessExecutor(workers)
    return SerialExecutor()
