"""One run of a sweep: a full config and a repeat number → per-epoch test accuracies.

A *config* is a plain dict with every parameter of :data:`PARAMS` filled in
(defaults included), so two spellings of the same run (``lr=0.1`` or ``lr=.10``,
or leaving ``lr`` at its default) are the same run. Its identity is the JSON
text of the parameters away from their defaults (:func:`canonical`); the seed
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
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ownnet import __version__
from ownnet.errors import OwnnetError


@dataclass(frozen=True)
class Param:
    """One sweep parameter: its type, default, allowed values and meaning."""

    kind: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    optional: bool = False  # may be None ("all" / "auto")
    models: tuple[str, ...] | None = None  # the models it applies to (None: all)

    def parse(self, name: str, text: str) -> Any:
        """``"0.1"`` → ``0.1`` for this parameter; raises :class:`OwnnetError`."""
        text = text.strip()
        if self.optional and text.lower() in ("", "all", "auto", "none"):
            return None
        try:
            if self.kind is bool:
                lowered = text.lower()
                if lowered in ("1", "true", "yes", "on"):
                    value: Any = True
                elif lowered in ("0", "false", "no", "off"):
                    value = False
                else:
                    raise ValueError(text)
            elif self.kind is int:
                value = int(text)
            elif self.kind is float:
                value = float(text)
            else:
                value = text
        except ValueError:
            raise OwnnetError(
                f"parameter {name}: expected {self.kind.__name__}, found {text!r}"
            ) from None
        return self.check(name, value)

    def check(self, name: str, value: Any) -> Any:
        """Validate and normalise a value (int → float for float parameters)."""
        if value is None and self.optional:
            return None
        if self.kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        if self.kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, self.kind) or (self.kind is int and isinstance(value, bool)):
            raise OwnnetError(f"parameter {name}: expected {self.kind.__name__}, found {value!r}")
        if self.choices is not None and value not in self.choices:
            raise OwnnetError(
                f"parameter {name}: expected one of {', '.join(self.choices)}, found {value!r}"
            )
        if self.minimum is not None and value < self.minimum:
            raise OwnnetError(f"parameter {name}: expected at least {self.minimum}, found {value}")
        if self.kind is float and not np.isfinite(value):
            raise OwnnetError(f"parameter {name}: expected a finite number, found {value}")
        return value


CLASSIC, MLP = ("classic",), ("mlp",)

#: Everything a run depends on. ``ownnet sweep --param NAME=V1,V2`` sweeps any of them.
#: New parameters must default to the old behaviour: a config's identity leaves out
#: the parameters at their defaults, so stores stay valid when parameters are added.
PARAMS: dict[str, Param] = {
    "model": Param(
        str,
        "classic",
        "classic: the book's network, one sample at a time; mlp: the matrix engine",
        choices=("classic", "mlp"),
    ),
    "dataset": Param(str, "mnist", "mnist or fashion-mnist", choices=("mnist", "fashion-mnist")),
    "train_size": Param(
        int, None, "first N training images (all: 60,000)", minimum=1, optional=True
    ),
    "test_size": Param(int, None, "first N test images (all: 10,000)", minimum=1, optional=True),
    "hidden": Param(int, 200, "hidden nodes (per hidden layer)", minimum=1),
    "lr": Param(float, 0.1, "learning rate", minimum=1e-12),
    "epochs": Param(int, 5, "passes over the training set", minimum=1),
    "bias": Param(bool, False, "bias nodes on the input and hidden layers", models=CLASSIC),
    "error_split": Param(
        str,
        "transpose",
        "how the output error is split among the hidden nodes",
        choices=("transpose", "transpose_scaled", "proportional", "equal"),
        models=CLASSIC,
    ),
    "rotate": Param(
        float, 0.0, "the book's augmentation: also train on copies rotated by +-DEG", minimum=0
    ),
    "random_rotate": Param(
        float, 0.0, "rotate each image by a random angle in [-DEG, DEG] every epoch", minimum=0
    ),
    "random_shift": Param(
        int, 0, "shift each image by a random -N..N pixels every epoch", minimum=0
    ),
    "shuffle": Param(
        bool,
        None,
        "new order each epoch (auto: classic keeps the file order as the book, mlp shuffles)",
        optional=True,
    ),
    "init": Param(
        str,
        "fan_in",
        "initial weights N(0, 1/sqrt(n)): fan_in, n = links into a node (the book's text and "
        "notebooks); fan_out, n = nodes of the receiving layer (the printed book's code)",
        choices=("fan_in", "fan_out"),
        models=CLASSIC,
    ),
    "layers": Param(int, 2, "hidden layers", minimum=1, models=MLP),
    "activation": Param(
        str,
        "relu",
        "hidden activation",
        choices=("relu", "sigmoid", "tanh", "leaky_relu", "prelu"),
        models=MLP,
    ),
    "dropout": Param(float, 0.2, "dropout after each hidden layer", minimum=0, models=MLP),
    "batch_size": Param(int, 128, "samples per step", minimum=1, models=MLP),
    "optimizer": Param(
        str, "sgd", "sgd, rmsprop or adam", choices=("sgd", "rmsprop", "adam"), models=MLP
    ),
}


def make_config(**values: Any) -> dict[str, Any]:
    """A full, validated config: the defaults of :data:`PARAMS` updated with ``values``.

    Raises :class:`OwnnetError` for an unknown parameter, a bad value, or a
    parameter set away from its default for a model it does not apply to.
    """
    unknown = sorted(set(values) - set(PARAMS))
    if unknown:
        raise OwnnetError(
            f"unknown parameter {', '.join(unknown)}; expected one of {', '.join(PARAMS)}"
        )
    config = {name: p.default for name, p in PARAMS.items()}
    for name, value in values.items():
        config[name] = PARAMS[name].check(name, value)
    model = config["model"]
    for name, p in PARAMS.items():
        if p.models is not None and model not in p.models and config[name] != p.default:
            raise OwnnetError(
                f"parameter {name} applies to model {' or '.join(p.models)} only, "
                f"not to {model} (found {name}={config[name]})"
            )
    return config


def complete(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored config with the parameters it predates filled in at their defaults."""
    return {**{name: p.default for name, p in PARAMS.items()}, **stored}


def split_setting(text: str) -> tuple[str, str | None]:
    """``"train-size=100"`` → ``("train_size", "100")``; the value is ``None`` without ``=``."""
    name, sep, value = text.partition("=")
    return name.strip().replace("-", "_"), value if sep else None


def canonical(config: dict[str, Any]) -> str:
    """The config's identity as text: JSON of the parameters away from their defaults."""
    changed = {k: v for k, v in config.items() if k not in PARAMS or v != PARAMS[k].default}
    return json.dumps(changed, sort_keys=True, separators=(",", ":"))


def derive_seed(config: dict[str, Any], repeat: int) -> int:
    """The seed of repeat ``repeat`` of ``config``: 63 bits of SHA-256 of both."""
    digest = hashlib.sha256(f"{canonical(config)}|repeat={int(repeat)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def run_id(config: dict[str, Any], repeat: int, train_checksum: str, test_checksum: str) -> str:
    """The identity of a run in the store: config, repeat and the exact data it saw."""
    text = f"{canonical(config)}|repeat={int(repeat)}|train={train_checksum}|test={test_checksum}"
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
    from ownnet.data.mnist import load_mnist

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


@functools.lru_cache(maxsize=1)
def _rotated(dataset: str, data_dir: str | None, train_size: int | None, angle: float) -> Any:
    from ownnet.data.augment import with_rotations

    train, _ = load_splits(dataset, data_dir, train_size, None)
    return with_rotations(train, angle)


# -- models ------------------------------------------------------------------------------
class ClassicModel:
    """The book's network (:class:`ownnet.classic.Network`), trained one epoch at a time."""

    def __init__(self, config: dict[str, Any], init: np.random.Generator, order: Any) -> None:
        from ownnet.classic import Network

        self.net = Network(
            784,
            config["hidden"],
            10,
            config["lr"],
            bias=config["bias"],
            error_split=config["error_split"],
            seed=init,
        )
        if config["init"] == "fan_out":
            # The printed book draws wih with pow(hnodes, -0.5) and who with pow(onodes, -0.5).
            net = self.net
            b = int(net.bias)
            net.wih = init.normal(0.0, net.n_hidden**-0.5, (net.n_hidden, net.n_input + b))
            net.who = init.normal(0.0, net.n_output**-0.5, (net.n_output, net.n_hidden + b))
        self.order = order if config["shuffle"] else None  # the book: file order

    def epoch(self, train: Any, test: Any) -> tuple[float, float]:
        """Train one epoch; returns ``(test accuracy, training seconds)``."""
        history = self.net.fit(train, 1, test=test, rng=self.order, progress=False)
        return history.last("test_accuracy"), history.last("seconds")


class MlpModel:
    """The matrix engine's MLP (:meth:`ownnet.nn.network.Network.mlp`), one epoch at a time.

    One optimizer object and one generator live across the epochs, so training
    epoch by epoch equals one ``fit`` over all epochs.
    """

    def __init__(self, config: dict[str, Any], init: np.random.Generator, order: Any) -> None:
        from ownnet.nn.network import Network
        from ownnet.nn.optimizers import get_optimizer

        self.net = Network.mlp(
            (config["hidden"],) * config["layers"],
            activation=config["activation"],
            dropout=config["dropout"],
            seed=init,
        )
        self.optimizer = get_optimizer(config["optimizer"], lr=config["lr"])
        self.batch_size = config["batch_size"]
        self.shuffle = config["shuffle"] is not False  # auto: shuffle
        self.rng = order

    def epoch(self, train: Any, test: Any) -> tuple[float, float]:
        """Train one epoch; returns ``(test accuracy, training seconds)``."""
        history = self.net.fit(
            train,
            1,
            batch_size=self.batch_size,
            optimizer=self.optimizer,
            validation_data=test,
            shuffle=self.shuffle,
            rng=self.rng,
            verbose=0,
        )
        return history.last("val_accuracy"), history.last("seconds")


#: Model runners: ``cls(config, init_rng, order_rng)`` with ``epoch(train, test)``.
MODELS: dict[str, Callable[..., Any]] = {"classic": ClassicModel, "mlp": MlpModel}


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """Limit BLAS to one thread here.

    One thread per run makes parallel runs not fight over cores, and makes the
    numbers not depend on how a multithreaded BLAS splits its sums.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def execute_run(spec: RunSpec) -> RunResult:
    """Train and test one run; the same spec gives the same numbers anywhere.

    ``seconds`` in the result is the run's own time (augmenting, training,
    testing), without loading the data.

    The seed feeds three independent streams: initial weights, the shuffling
    order (and dropout, for the mlp) and the random transforms (when
    ``random_rotate`` or ``random_shift``).
    """
    from ownnet.data.augment import random_transform, with_rotations

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
        model = MODELS[config["model"]](
            config, np.random.default_rng(init_seq), np.random.default_rng(order_seq)
        )
        augment_rng = np.random.default_rng(augment_seq)
        jitter = config["random_rotate"] > 0 or config["random_shift"] > 0
        accuracies: list[float] = []
        epoch_seconds: list[float] = []
        for _ in range(config["epochs"]):
            train = base
            if jitter:
                train = random_transform(
                    base,
                    augment_rng,
                    max_angle=config["random_rotate"],
                    max_shift=config["random_shift"],
                )
                if config["rotate"]:
                    train = with_rotations(train, config["rotate"])
            elif config["rotate"]:
                train = _rotated(
                    config["dataset"], spec.data_dir, config["train_size"], config["rotate"]
                )
            accuracy, seconds = model.epoch(train, test)
            accuracies.append(accuracy)
            epoch_seconds.append(seconds)
    return RunResult(
        run_id=spec.run_id,
        config=config,
        repeat=spec.repeat,
        seed=spec.seed,
        accuracies=accuracies,
        epoch_seconds=epoch_seconds,
        seconds=time.perf_counter() - start,
        train_checksum=spec.train_checksum,
        test_checksum=spec.test_checksum,
    )
