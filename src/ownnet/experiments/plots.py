"""The book's performance curves, with error bars: test accuracy against a parameter.

Each point is the mean over the runs (seeds) of one config, its error bar the
95% t interval of that mean; the single runs are drawn as faint dots behind.
``x`` is a parameter (``lr``, ``hidden``, ...) or ``"epoch"``, which reads the
per-epoch accuracies of every run. Drawn with Matplotlib's Agg canvas (no
display needed); the file type follows the suffix (``.png``, ``.svg``, ``.pdf``).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ownnet.atomic import atomic_write_bytes
from ownnet.errors import OwnnetError
from ownnet.experiments.params import PARAMS
from ownnet.experiments.summary import RunLike, Stats, format_value, sort_key, varying

LABELS = {
    "lr": "learning rate",
    "hidden": "hidden nodes",
    "epochs": "epochs",
    "epoch": "epoch",
    "rotate": "rotation ± degrees",
    "error_split": "error split",
    "train_size": "training samples",
}


#: Legend text for some parameter values.
VALUE_LABELS = {
    ("error_split", "equal"): "equal: sum(e) / N to every node",
    ("error_split", "proportional"): "proportional to the link weights",
    ("error_split", "transpose"): "W.T @ e (the book)",
    ("error_split", "transpose_scaled"): "W.T @ e / N",
    ("init", "fan_in"): "weights N(0, 1/sqrt(links in)): the book's text",
    ("init", "fan_out"): "weights N(0, 1/sqrt(layer size)): the book's code",
}


def points(
    runs: Sequence[RunLike], x: str, hue: str | None = None
) -> dict[Any, dict[Any, list[float]]]:
    """``{hue value: {x value: [accuracy of each run]}}`` (hue ``None`` when not given).

    Raises :class:`OwnnetError` when a parameter other than ``x`` and ``hue``
    varies among ``runs`` (filter them first, e.g. with ``--where``).
    """
    if not runs:
        raise OwnnetError("no finished runs to plot")
    for name in (x, hue):
        if name is not None and name != "epoch" and name not in PARAMS:
            raise OwnnetError(
                f"cannot plot by {name!r}: expected epoch or one of {', '.join(PARAMS)}"
            )
    if hue == "epoch":
        raise OwnnetError("--hue epoch is not supported; use --x epoch")
    free = {x, hue} | ({"epochs"} if x == "epoch" else set())
    others = [k for k in varying(runs) if k not in free]
    if others:
        values = {k: sorted({format_value(r.config.get(k), k) for r in runs}) for k in others}
        raise OwnnetError(
            "the runs also differ in "
            + "; ".join(f"{k} ({', '.join(v)})" for k, v in values.items())
            + ": pick one with --where NAME=VALUE or use one as --hue"
        )
    out: dict[Any, dict[Any, list[float]]] = {}
    for r in runs:
        line = out.setdefault(r.config.get(hue) if hue else None, {})
        if x == "epoch":
            for epoch, acc in enumerate(r.accuracies, start=1):
                line.setdefault(epoch, []).append(acc)
        else:
            line.setdefault(r.config.get(x), []).append(r.accuracies[-1])
    return out


def plot(
    runs: Sequence[RunLike],
    out: str | os.PathLike[str],
    *,
    x: str,
    hue: str | None = None,
    title: str | None = None,
    logx: bool | None = None,
) -> Path:
    """Draw mean test accuracy (%) against ``x`` with 95% error bars; one line per ``hue``.

    Returns the path written (atomically). ``logx`` defaults to a log axis when
    the x values span more than a factor of 20.
    """
    from matplotlib.figure import Figure

    data = points(runs, x, hue)
    path = Path(out)
    fmt = path.suffix.lower().lstrip(".") or "png"
    if fmt not in ("png", "svg", "pdf"):
        raise OwnnetError(f"{path}: expected a .png, .svg or .pdf file name, found .{fmt}")
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    all_x: list[float] = []
    counts: set[int] = set()
    lines = sorted(data, key=sort_key)
    for i, hue_value in enumerate(lines):
        line = data[hue_value]
        xs = sorted(line, key=sort_key)
        if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in xs):
            raise OwnnetError(f"cannot plot by {x!r}: its values {xs} are not numbers")
        stats = [Stats.of(line[v]) for v in xs]
        counts.update(s.n for s in stats)
        means = [100 * s.mean for s in stats]
        errors = [0.0 if math.isnan(s.half_width) else 100 * s.half_width for s in stats]
        label = None
        if hue is not None:
            label = VALUE_LABELS.get(
                (hue, hue_value), f"{LABELS.get(hue, hue)} {format_value(hue_value, hue)}"
            )
        # Whole epochs: move the lines apart a little so their error bars do not hide each other.
        dodge = 0.08 * (i - (len(lines) - 1) / 2) if x == "epoch" else 0.0
        shown = [v + dodge for v in xs]
        bars = ax.errorbar(shown, means, yerr=errors, marker="o", capsize=4, label=label)
        colour = bars.lines[0].get_color()
        for v, at in zip(xs, shown, strict=True):
            ys = [100 * a for a in line[v]]
            ax.plot([at] * len(ys), ys, ".", color=colour, alpha=0.3, markersize=4)
        all_x.extend(float(v) for v in xs)
    if logx is None:
        positive = [v for v in all_x if v > 0]
        logx = bool(positive) and min(positive) > 0 and max(positive) / min(positive) > 20
    if logx:
        ax.set_xscale("log")
    if x == "epoch":
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(LABELS.get(x, x))
    ax.set_ylabel("test accuracy (%)")
    n = "/".join(str(c) for c in sorted(counts))
    ax.set_title(title or f"test accuracy by {LABELS.get(x, x)}: mean and 95% interval, n={n}")
    ax.grid(True, alpha=0.3)
    if hue is not None:
        ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    atomic_write_bytes(path, buf.getvalue())
    return path
