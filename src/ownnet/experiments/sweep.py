"""A sweep: a grid of parameter values × repeats, run on an executor, kept in a store.

>>> plan = Plan(base={"hidden": 20, "epochs": 1}, grid={"lr": [0.1, 0.3]}, repeats=3)
>>> len(plan.configs())
2

:func:`plan_runs` turns a plan into one :class:`RunSpec` per (config, repeat);
:func:`run_sweep` skips the runs the store already has, runs the others and
records each one the moment it finishes.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from ownnet.config import settings
from ownnet.errors import OwnnetError
from ownnet.experiments.executors import Executor
from ownnet.experiments.params import (
    PARAMS,
    canonical,
    make_config,
    model_config,
    split_setting,
)
from ownnet.experiments.runs import RunSpec, data_checksums
from ownnet.experiments.store import Store
from ownnet.sizes import check as check_size


@dataclass
class Plan:
    """Fixed parameters ``base``, swept parameters ``grid`` (name → values) and repeats."""

    base: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    repeats: int = 1

    def __post_init__(self) -> None:
        if self.repeats < 1:
            raise OwnnetError(f"--repeats: expected at least 1, found {self.repeats}")
        for name, values in self.grid.items():
            if not values:
                raise OwnnetError(f"parameter {name}: expected at least one value")

    def configs(self) -> list[dict[str, Any]]:
        """Every full config of the grid, in grid order, without duplicates."""
        names = list(self.grid)
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for values in itertools.product(*(self.grid[n] for n in names)):
            config = make_config(**{**self.base, **dict(zip(names, values, strict=True))})
            key = canonical(config)
            if key not in seen:
                seen.add(key)
                out.append(config)
        return out

    def swept(self) -> list[str]:
        """Names of the parameters with more than one value."""
        return [n for n, v in self.grid.items() if len(v) > 1]


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"lr=0.01,0.1"`` → ``("lr", [0.01, 0.1])``, typed and validated."""
    name, values = split_setting(text)
    if values is None:
        raise OwnnetError(f"--param {text!r}: expected NAME=VALUE[,VALUE...], e.g. lr=0.1,0.2")
    if name not in PARAMS:
        raise OwnnetError(
            f"--param {text!r}: unknown parameter {name!r}; expected one of {', '.join(PARAMS)}"
        )
    parsed = [PARAMS[name].parse(name, v) for v in values.split(",")]
    unique = list(dict.fromkeys(parsed))
    return name, unique


def plan_runs(plan: Plan, data_dir: str | None = None) -> list[RunSpec]:
    """One spec per (config, repeat), config-major; loads each distinct data subset once
    here to learn its checksums."""
    specs = []
    checksums: dict[tuple[Any, ...], tuple[str, str]] = {}
    for config in plan.configs():
        check_size(settings(model_config(config)))  # refused now, not in a worker later
        data_key = (config["dataset"], config["train_size"], config["test_size"])
        if data_key not in checksums:
            checksums[data_key] = data_checksums(config, data_dir)
        for repeat in range(plan.repeats):
            specs.append(RunSpec.make(config, repeat, checksums[data_key], data_dir))
    return specs


@dataclass
class SweepReport:
    """How a sweep went: runs planned, skipped (finished before) and run now."""

    planned: int
    skipped: int
    ran: int
    seconds: float


def pending(specs: list[RunSpec], store: Store) -> list[RunSpec]:
    """The specs whose run the store does not have yet, in order."""
    finished = store.finished()
    return [s for s in specs if s.run_id not in finished]


def run_sweep(
    specs: list[RunSpec], store: Store, executor: Executor, *, progress: bool = True
) -> SweepReport:
    """Run the specs the store lacks on ``executor``, storing each result as it finishes."""

    start = time.perf_counter()
    todo = pending(specs, store)
    bar = None
    if progress and todo:
        bar = tqdm(total=len(todo), desc=f"sweep ({executor.name})", unit="run")
    ran = 0
    try:
        for result in executor.map(todo):
            store.add(result, executor=executor.name)
            ran += 1
            if bar is not None:
                bar.set_postfix_str(f"last {100 * result.final_accuracy:.2f}%")
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return SweepReport(
        planned=len(specs),
        skipped=len(specs) - len(todo),
        ran=ran,
        seconds=time.perf_counter() - start,
    )
