"""One run of a sweep: a full config and a repeat number → per-epoch test accuracies.

A config (:mod:`ownnet.experiments.params`) has an identity, the JSON text of the
parameters away from their defaults (:func:`~ownnet.experiments.params.canonical`); the seed
of repeat ``r`` is derived from that text and ``r`` alone (:func:`derive_seed`),
so the same sweep gives the same numbers on every executor, and on every
machine with the same BLAS.

:func:`execute_run` is what every executor calls, in this process, in a worker
process or on a Dask worker. It takes only a small :class:`RunSpec` (no arrays):
the worker loads the dataset itself from its data folder, once per process
(:func:`load_splits` is cached), so a sweep never ships 50 MB of images per run.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ownnet import __version__
from ownnet.augmentation import RandomTransform
from ownnet.config import from_config, train
from ownnet.data.mnist import load_mnist
from ownnet.errors import OwnnetError
from ownnet.experiments.params import canonical, model_config


def derive_seed(config: dict[str, Any], repeat: int) -> int:
    """The seed of repeat ``repeat`` of ``config``: 63 bits of SHA-256 of both."""
    digest = hashlib.sha256(f"{canonical(config)}|repeat={int(repeat)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


#: the version of how runs train: a new one when the same config would give other numbers
#: (2: every model built and trained through ownnet.config, the engine's own defaults)
RUNS_VERSION = 2


def run_id(config: dict[str, Any], repeat: int, train_checksum: str, test_checksum: str) -> str:
    """The identity of a run in the store: config, repeat, the exact data it saw, and
    :data:`RUNS_VERSION`."""
    text = (
        f"{canonical(config)}|repeat={int(repeat)}|train={train_checksum}|"
        f"test={test_checksum}|runs={RUNS_VERSION}"
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run; small, so it is cheap to send anywhere.

    ``data_dir`` ``None`` lets the worker find the data itself ($OWNNET_DATA or
    its cache). The checksums are what the planning process found; a worker
    whose data differ refuses to run.
    """

    config: dict[str, Any]
    repeat: int
    seed: int
    run_id: str
    train_checksum: str
    test_checksum: str
    data_dir: str | None = None

    @classmethod
    def make(
        cls,
        config: dict[str, Any],
        repeat: int,
        checksums: tuple[str, str],
        data_dir: str | None = None,
    ) -> RunSpec:
        """The spec of repeat ``repeat`` of ``config`` on data with these checksums."""
        return cls(
            config=config,
            repeat=int(repeat),
            seed=derive_seed(config, repeat),
            run_id=run_id(config, repeat, *checksums),
            train_checksum=checksums[0],
            test_checksum=checksums[1],
            data_dir=data_dir,
        )


@dataclass
class RunResult:
    """What a run returns: per-epoch test accuracy and seconds, and where it ran."""

    run_id: str
    config: dict[str, Any]
    repeat: int
    seed: int
    accuracies: list[float]
    epoch_seconds: list[float]
    seconds: float
    train_checksum: str
    test_checksum: str
    ownnet_version: str = __version__
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)

    @property
    def final_accuracy(self) -> float:
        """Test accuracy after the last epoch."""
        return self.accuracies[-1]


# -- data, loaded by each worker process once --------------------------------------------
@functools.lru_cache(maxsize=2)
def _full_splits(dataset: str, data_dir: str | None) -> Any:

    return load_mnist(data_dir, dataset, progress=False)


@functools.lru_cache(maxsize=4)
def load_splits(
    dataset: str, data_dir: str | None, train_size: int | None, test_size: int | None
) -> tuple[Any, Any]:
    """``(train, test)`` Datasets for a run, cached in this process.

    ``train_size``/``test_size`` take the first N samples (``None``: all).
    """
    splits = _full_splits(dataset, data_dir)
    train, test = splits.train, splits.test
    for what, part, size in (("train", train, train_size), ("test", test, test_size)):
        if size is not None and size > len(part):
            raise OwnnetError(
                f"{what}_size {size} is larger than the {dataset} {what} set ({len(part)} samples)"
            )
    if train_size is not None:
        train = train.subset(train_size)
    if test_size is not None:
        test = test.subset(test_size)
    return train, test


def data_checksums(config: dict[str, Any], data_dir: str | None) -> tuple[str, str]:
    """SHA-256 of the training and test data a config uses (loads them in this process)."""
    train, test = load_splits(
        config["dataset"], data_dir, config["train_size"], config["test_size"]
    )
    return train.checksum(), test.checksum()


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """Limit BLAS to one thread here.

    One thread per run makes parallel runs not fight over cores, and makes the
    numbers not depend on how a multithreaded BLAS splits its sums.
    """

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def execute_run(spec: RunSpec) -> RunResult:
    """Train and test one run; the same spec gives the same numbers anywhere.

    ``seconds`` in the result is the run's own time (augmenting, training,
    testing), without loading the data.

    The seed feeds three independent streams: initial weights, the shuffling
    order (and dropout, for the mlp) and the random transforms (when
    ``random_rotate`` or ``random_shift``). The model is built and trained by
    :func:`ownnet.config.train`, as ``ownnet train`` does.
    """
    config = spec.config
    with single_thread_blas():
        try:
            base, test = load_splits(
                config["dataset"], spec.data_dir, config["train_size"], config["test_size"]
            )
        except OwnnetError as exc:  # say where: on a cluster this is another machine
            raise OwnnetError(
                f"run {spec.run_id[:12]} on {socket.gethostname()} (pid {os.getpid()}) "
                f"could not load its data: {exc}"
            ) from exc
        found = (base.checksum(), test.checksum())
        if found != (spec.train_checksum, spec.test_checksum):
            raise OwnnetError(
                f"run {spec.run_id}: the data here ({spec.data_dir or 'default data folder'} "
                f"on {socket.gethostname()}) differ from the data the sweep was planned on: "
                f"expected train/test sha256 {spec.train_checksum[:12]}/"
                f"{spec.test_checksum[:12]}, found {found[0][:12]}/{found[1][:12]}"
            )
        start = time.perf_counter()  # the run itself, not loading the data
        init_seq, order_seq, augment_seq = np.random.SeedSequence(spec.seed).spawn(3)
        settings = model_config(config)
        model = from_config(settings, seed=np.random.default_rng(init_seq))
        augment = None
        if config["random_rotate"] > 0 or config["random_shift"] > 0:
            augment = _jitter(config, np.random.default_rng(augment_seq))
        _, history = train(
            settings,
            base,
            model=model,
            validation_data=test,
            seed=np.random.default_rng(order_seq),
            augment=augment,
        )
    return RunResult(
        run_id=spec.run_id,
        config=config,
        repeat=spec.repeat,
        seed=spec.seed,
        accuracies=history["val_accuracy"],
        epoch_seconds=history["seconds"],
        seconds=time.perf_counter() - start,
        train_checksum=spec.train_checksum,
        test_checksum=spec.test_checksum,
    )


def _jitter(config: dict[str, Any], rng: np.random.Generator) -> Any:
    """New random rotations and shifts every epoch, from the run's own augmentation stream."""
    transform = RandomTransform(config["random_rotate"], config["random_shift"])

    def augment(images: np.ndarray, _: np.random.Generator) -> np.ndarray:
        return transform(images, rng)

    return augment
