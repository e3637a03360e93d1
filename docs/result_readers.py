"""What a measuring command printed, turned into the values of a results file.

``docs/make_results.py`` runs each command of its registry in a work folder (a
:class:`Context`); the functions here read what the command printed or wrote there (a model
file, a CSV, a sweep store, JSON lines) and return the values, with this machine's paths
replaced by the ones a reader would see (:func:`neutral`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: absolute paths must never reach a results file
MACHINE_PATH = re.compile(r"(?<![\w.~$])/(?:[\w.+-]+/)+[\w.+-]*")


class EntryFailed(Exception):
    """A command failed or printed something other than expected."""


@dataclass
class Context:
    """Where an entry runs: its working folder, the data, quick or full settings."""

    work: Path
    data: Path | None
    quick: bool
    out: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def cache(self) -> Path:
        return self.work / "cache"


# -- readers --------------------------------------------------------------------------------------


def json_lines(output: str) -> list[dict[str, Any]]:
    """The JSON objects a benchmark printed, one per line."""
    found = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    if not found:
        raise EntryFailed("the benchmark printed no JSON line")
    return found


def neutral(value: Any, ctx: Context) -> Any:
    """``value`` with this machine's paths replaced: the data folder by the cache a reader
    would have (``~/.cache/ownnet``), the work folder by ``.``, the home folder by ``~``;
    raises :class:`EntryFailed` if an absolute path is left."""
    if isinstance(value, dict):
        return {k: neutral(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [neutral(v, ctx) for v in value]
    if not isinstance(value, str):
        return value
    text = value
    swaps = [(str(ctx.cache), "~/.cache/ownnet"), (str(ctx.work) + "/", ""), (str(ctx.work), ".")]
    if ctx.data is not None:
        swaps.insert(0, (str(ctx.data), f"~/.cache/ownnet/{ctx.data.name}"))
    swaps.append((str(Path.home()), "~"))
    for old, new in swaps:
        text = text.replace(old, new)
    left = MACHINE_PATH.findall(text)
    if left:
        raise EntryFailed(f"a path of this machine is left in the output: {left[0]}")
    return text


# -- readers: what a command printed -> values --------------------------------------------------
TOTAL = re.compile(r"total time: ([\d.]+) s; peak memory: ([\d.]+) MB")


def read_train(out_file: str) -> Callable[[Context, str], dict[str, Any]]:
    """Values of an ``ownnet train`` run: the model file's history and the printed totals."""

    def read(ctx: Context, output: str) -> dict[str, Any]:
        import numpy as np

        import ownnet

        model = ownnet.load(ctx.work / out_file)
        meta = model.meta
        history = meta["history"]
        totals = TOTAL.search(output)
        if not totals:
            raise EntryFailed("ownnet train printed no 'total time: ... peak memory' line")
        with np.load(ctx.work / out_file, allow_pickle=False) as arrays:
            params = sum(arrays[k].size for k in arrays.files if not k.startswith("__"))
        return {
            "test_accuracy": meta["test_accuracy"],
            "val_accuracy": history["val_accuracy"],
            "epoch_seconds": [round(s, 2) for s in history["seconds"]],
            "samples_per_s": [round(s, 1) for s in history["samples_per_s"]],
            "epochs": len(history["val_accuracy"]),
            "total_seconds": float(totals[1]),
            "peak_mb": float(totals[2]),
            "parameters": int(params),
            "output": neutral(output, ctx),
        }

    return read


def read_test(ctx: Context, output: str) -> dict[str, Any]:
    m = re.search(r"accuracy: ([\d.]+) \((\d+)/(\d+)\)", output)
    if not m:
        raise EntryFailed("ownnet test printed no 'accuracy: A (R/N)' line")
    return {
        "accuracy": float(m[1]),
        "right": int(m[2]),
        "images": int(m[3]),
        "mistakes": int(m[3]) - int(m[2]),
        "output": neutral(output, ctx),
    }


def read_backquery(ctx: Context, output: str) -> dict[str, Any]:
    m = re.search(r"(\d+)/(\d+) back-queried pictures are read as their own digit", output)
    if not m:
        raise EntryFailed("ownnet backquery printed no 'N/M back-queried pictures' line")
    grey = re.search(r"fed forward as they are: (\d+)/(\d+)", output)
    values = {"own": int(m[1]), "of": int(m[2]), "output": neutral(output, ctx)}
    if grey:
        values["book_grey"] = int(grey[1])
    return values


def read_samples(ctx: Context, output: str) -> dict[str, Any]:
    m = re.search(r"reads (\d+)/(\d+) \(", output)
    if not m:
        raise EntryFailed("ownnet inspect samples printed no 'reads R/N' line")
    return {"right": int(m[1]), "count": int(m[2]), "accuracy": int(m[1]) / int(m[2])}


def read_damage(ctx: Context, output: str) -> dict[str, Any]:
    """``damage.csv``: per experiment and level, the mean, lowest and highest accuracy."""
    table: dict[str, dict[str, list[float]]] = {}
    with open(ctx.work / "damage" / "damage.csv", newline="") as f:
        for row in csv.DictReader(f):
            level = f"{float(row['level']):g}"
            table.setdefault(row["experiment"], {}).setdefault(level, []).append(
                float(row["accuracy"])
            )
    return {
        experiment: {
            level: {"mean": sum(v) / len(v), "low": min(v), "high": max(v), "n": len(v)}
            for level, v in levels.items()
        }
        for experiment, levels in table.items()
    }


def read_one_json(ctx: Context, output: str) -> dict[str, Any]:
    lines = json_lines(output)
    if len(lines) != 1:
        raise EntryFailed(f"expected one JSON line, found {len(lines)}")
    return neutral(lines[0], ctx)


def read_cases(ctx: Context, output: str) -> dict[str, Any]:
    """``speed.py``: one line per case, then one with the sgemm rates."""
    values: dict[str, Any] = {}
    for line in json_lines(output):
        values[line.get("case", "sgemm")] = neutral(line, ctx)
    return values


def read_kinds(ctx: Context, output: str) -> dict[str, Any]:
    """``inference.py``: one line per model kind (``book``, ``mlp``, ``cnn``)."""
    values = {line["kind"]: neutral(line, ctx) for line in json_lines(output) if "kind" in line}
    if not values:
        raise EntryFailed("inference.py printed no results")
    return values


def read_reader(ctx: Context, output: str) -> dict[str, Any]:
    """``reader.py``: per split, model and preparation (``all``, ``no-page``, ...) the
    shares read exactly; per model the timing of one large photo; per split what its
    files follow from (``sets``: seed, counts, fonts)."""
    values: dict[str, Any] = {}
    for line in json_lines(output):
        if line.get("benchmark") == "reader timing":
            values.setdefault("timing", {})[line["model"]] = neutral(line, ctx)
            continue
        if line.get("benchmark") == "reader set":  # what the split's files follow from
            values.setdefault("sets", {})[line["split"]] = neutral(line, ctx)
            continue
        variant = line["preparation"].replace("all steps", "all").replace(", ", "-")
        variant = variant.replace(" ", "-")
        split = values.setdefault(line["split"], {})
        split.setdefault(line["model"], {})[variant] = neutral(line, ctx)
    if not values:
        raise EntryFailed("reader.py printed no results")
    return values


# -- sweeps -------------------------------------------------------------------------------------
def sweep_values(db: Path, preset_name: str, with_runs: bool = True) -> dict[str, Any]:
    """A sweep store's runs as results values: per config (``lr=0.2``...) the mean, sd and
    95% interval of the final accuracy, the same for every epoch (``by_epoch``), and each
    run's per-epoch accuracies; ``runs`` (for the plot) and ``plot`` (how to draw it)."""
    from ownnet.experiments.presets import PRESETS
    from ownnet.experiments.store import Store
    from ownnet.experiments.summary import Stats, format_value

    preset = PRESETS[preset_name]
    keys = list(preset.grid)
    with Store(db, create=False) as store:
        runs = sorted(store.runs(), key=lambda r: r.repeat)
    if not runs:
        raise EntryFailed(f"{db.name}: no finished runs")
    groups: dict[str, list[Any]] = {}
    for run in runs:
        label = ",".join(f"{k}={format_value(run.config.get(k), k)}" for k in keys)
        groups.setdefault(label, []).append(run)
    order = [
        ",".join(f"{k}={format_value(v, k)}" for k, v in zip(keys, combo))
        for combo in _product([preset.grid[k] for k in keys])
    ]
    values: dict[str, Any] = {"configs": [c for c in order if c in groups]}
    for label in values["configs"]:
        members = groups[label]
        epochs = min(len(r.accuracies) for r in members)

        def stats(epoch: int, members: list[Any] = members) -> dict[str, Any]:
            s = Stats.of([r.accuracies[epoch - 1] for r in members])
            out = {"n": s.n, "mean": s.mean}
            if s.n > 1:
                out.update(sd=s.std, low=s.low, high=s.high)
            return out

        values[label] = {
            **stats(epochs),
            "by_epoch": {str(e): stats(e) for e in range(1, epochs + 1)},
            "accuracies": [list(r.accuracies) for r in members],
            "seconds": sum(r.seconds for r in members) / len(members),
        }
    if with_runs:
        values["runs"] = [
            {
                "config": {k: r.config.get(k) for k in keys},
                "repeat": r.repeat,
                "accuracies": list(r.accuracies),
                "seconds": round(r.seconds, 2),
            }
            for r in runs
        ]
        values["plot"] = dict(preset.plot)
        values["total_run_seconds"] = sum(r.seconds for r in runs)
        values["repeats"] = preset.repeats
    return values


def check_values(values: dict[str, Any]) -> dict[str, Any]:
    """What CI compares for a small-settings sweep: each config's per-run accuracies."""
    return {label: values[label]["accuracies"] for label in values["configs"]}


def _product(lists: list[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [()]
    for values in lists:
        out = [(*o, v) for o in out for v in values]
    return out
