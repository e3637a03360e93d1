"""Summaries of stored runs: mean, standard deviation and 95% interval per config.

The 95% interval is Student's t interval of the mean,
``mean ± t(0.975, n - 1) * sd / sqrt(n)`` with the sample standard deviation
(``ddof=1``); it needs at least two runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import stdtrit  # the t distribution's quantile (scipy.stats' t.ppf)

from ownnet.errors import OwnnetError
from ownnet.experiments.params import PARAMS, canonical, split_setting


class RunLike(Protocol):
    config: dict[str, Any]
    accuracies: list[float]
    seconds: float


@dataclass(frozen=True)
class Stats:
    """Mean, sample standard deviation and 95% t interval of ``n`` values."""

    n: int
    mean: float
    std: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        """Statistics of ``values`` (``std`` and the interval are NaN for one value)."""
        x = np.asarray(values, dtype=np.float64)
        if x.size == 0:
            raise ValueError("no values")
        mean = float(x.mean())
        if x.size < 2:
            return cls(1, mean, math.nan, math.nan, math.nan)

        std = float(x.std(ddof=1))
        half = float(stdtrit(x.size - 1, 0.975)) * std / math.sqrt(x.size)
        return cls(int(x.size), mean, std, mean - half, mean + half)

    @property
    def half_width(self) -> float:
        """Half the width of the 95% interval."""
        return (self.high - self.low) / 2


@dataclass(frozen=True)
class Row:
    """One line of a summary: a config (its varying parameters), an epoch, and stats."""

    params: dict[str, Any]
    epoch: int
    stats: Stats
    seconds: float  # mean seconds per run


def parse_where(items: Iterable[str]) -> dict[str, Any]:
    """``["lr=0.1", "hidden=100"]`` → ``{"lr": 0.1, "hidden": 100}`` (typed)."""
    where: dict[str, Any] = {}
    for text in items:
        name, value = split_setting(text)
        if value is None or name not in PARAMS:
            raise OwnnetError(
                f"--where {text!r}: expected NAME=VALUE with NAME one of {', '.join(PARAMS)}"
            )
        where[name] = PARAMS[name].parse(name, value)
    return where


def select(runs: Iterable[RunLike], where: dict[str, Any]) -> list[RunLike]:
    """The runs whose config matches every ``name=value`` in ``where``."""
    return [r for r in runs if all(r.config.get(k) == v for k, v in where.items())]


def varying(runs: Sequence[RunLike]) -> list[str]:
    """Parameters that take more than one value among ``runs``, in :data:`PARAMS` order."""
    names = []
    for name in PARAMS:
        values = {sort_key(r.config.get(name)) for r in runs}
        if len(values) > 1:
            names.append(name)
    return names


def sort_key(value: Any) -> Any:
    """Orders parameter values with ``None`` ("all", "auto") last."""
    return (value is None, value if value is not None else 0)


def summarize(runs: Sequence[RunLike], epochs: Sequence[int] | None = None) -> list[Row]:
    """One row per config (and per epoch in ``epochs``; default: the config's last epoch)."""
    keys = varying(runs)
    groups: dict[str, list[RunLike]] = {}
    for r in runs:
        groups.setdefault(canonical(r.config), []).append(r)
    rows = []
    for members in groups.values():
        config = members[0].config
        wanted = (
            [config["epochs"]] if epochs is None else [e for e in epochs if e <= config["epochs"]]
        )
        for epoch in wanted:
            values = [m.accuracies[epoch - 1] for m in members if len(m.accuracies) >= epoch]
            if not values:
                continue
            rows.append(
                Row(
                    params={k: config.get(k) for k in keys},
                    epoch=epoch,
                    stats=Stats.of(values),
                    seconds=float(np.mean([m.seconds for m in members])),
                )
            )
    rows.sort(key=lambda row: ([sort_key(row.params[k]) for k in keys], row.epoch))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """A plain-text table: varying parameters, epoch, n, mean, sd, 95% interval (percent)."""
    if not rows:
        return "(no finished runs)"
    keys = list(rows[0].params)
    header = [*keys, "epoch", "n", "mean %", "sd %", "95% interval %", "s/run"]
    lines = []
    for row in rows:
        s = row.stats
        interval = "-" if math.isnan(s.low) else f"{100 * s.low:.2f} .. {100 * s.high:.2f}"
        sd = "-" if math.isnan(s.std) else f"{100 * s.std:.2f}"
        lines.append(
            [
                *(format_value(row.params[k], k) for k in keys),
                str(row.epoch),
                str(s.n),
                f"{100 * s.mean:.2f}",
                sd,
                interval,
                f"{row.seconds:.1f}",
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    out += ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def format_value(value: Any, name: str | None = None) -> str:
    """A parameter value as the command line writes it (``None``: all, or auto)."""
    if value is None:
        return "all" if name in ("train_size", "test_size") else "auto"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
