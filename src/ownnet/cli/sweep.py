"""``ownnet sweep``: a grid of parameters × repeats, resumable, in an SQLite store.

``ownnet sweep [--preset NAME] [--param NAME=V1,V2 ...] [--repeats N]`` runs the
grid; ``ownnet sweep summary DB`` prints the table; ``ownnet sweep plot DB --x lr``
draws the curve with error bars.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ownnet.cli.common import int_range
from ownnet.errors import OwnnetError
from ownnet.experiments.executors import make_executor
from ownnet.experiments.params import PARAMS, canonical
from ownnet.experiments.plots import plot
from ownnet.experiments.presets import PRESETS
from ownnet.experiments.store import DEFAULT_DB, Store
from ownnet.experiments.summary import (
    format_table,
    format_value,
    parse_where,
    select,
    summarize,
    varying,
)
from ownnet.experiments.sweep import Plan, parse_param, pending, plan_runs, run_sweep

#: the most runs (seeds) per config a sweep takes
MAX_REPEATS = 10_000

DESCRIPTION = """\
Run a grid of parameter values, each config several times with different seeds,
and keep every finished run in an SQLite store (default ownnet-sweeps.db): the
config, seed, test accuracy after every epoch, seconds, ownnet version and the
data checksums. Running the same command again skips the runs that finished, so
an interrupted sweep (even by kill -9) resumes where it stopped. At the end it
prints, per config, the mean test accuracy, its standard deviation and 95%
interval over the repeats.

  ownnet sweep --param lr=0.01,0.05,0.1,0.2,0.3 --param epochs=1,2,5 --repeats 5
  ownnet sweep --preset book-rotation --workers 2
  ownnet sweep summary ownnet-sweeps.db
  ownnet sweep plot ownnet-sweeps.db --x lr --hue epochs --out lr.png

Seeds come from each config and repeat number, so every executor gives the same
numbers: serial (default), --workers N local processes, or Dask with
--scheduler tcp://HOST:PORT (an existing cluster) or --scheduler local.
"""


def _epilog() -> str:

    lines = ["presets:"]
    lines += [f"  {p.name:14s} {p.description}" for p in PRESETS.values()]
    lines += ["", "parameters (--param NAME=V1,V2,...; one value fixes it):"]
    for name, p in PARAMS.items():
        choices = f" ({'|'.join(p.choices)})" if p.choices else ""
        only = f" [{'/'.join(p.models)} only]" if p.models else ""
        default = format_value(p.default, name)
        lines.append(f"  {name:14s} {p.help}{choices}; default {default}{only}")
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a grid of parameters x repeats; summary and plots with error bars",
        description=DESCRIPTION,
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--preset", help="start from one of the presets listed below")
    p.add_argument("--model", help="sugar for --param model=NAME (default: classic)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="values of one parameter (repeatable); overrides the preset's",
    )
    p.add_argument(
        "--repeats",
        type=int_range(1, MAX_REPEATS),
        help="runs (seeds) per config (default: 3, or the preset's)",
    )
    p.add_argument(
        "--db", default=None, metavar="FILE", help="the store (default: ownnet-sweeps.db)"
    )
    p.add_argument(
        "--workers",
        type=int_range(1, 1024),
        help="local worker processes (or Dask LocalCluster workers)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="run on Dask: tcp://HOST:PORT of a running scheduler, or 'local' for a LocalCluster",
    )
    p.add_argument(
        "--data", metavar="DIR", help="folder with the MNIST files (workers read it too)"
    )
    p.add_argument("--dataset", help="sugar for --param dataset=NAME (mnist, fashion-mnist)")
    p.add_argument("--train-size", metavar="N", help="first N training images (sugar for --param)")
    p.add_argument("--test-size", metavar="N", help="first N test images (sugar for --param)")
    p.add_argument("--plot", metavar="FILE", help="also draw this sweep's plot (.png or .svg)")
    p.add_argument("--dry-run", action="store_true", help="list the runs, run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    actions = p.add_subparsers(dest="action", metavar="[summary|plot]")
    s = actions.add_parser(
        "summary",
        help="print mean, sd and 95%% interval per config from a store",
        description="Print mean, standard deviation and 95% interval per config from a store.",
    )
    s.add_argument("store", metavar="DB", help="sweep store (SQLite)")
    _filter_arguments(s)
    s.add_argument(
        "--epochs",
        metavar="E1,E2",
        help="show the accuracy after these epochs (default: each config's last)",
    )
    g = actions.add_parser(
        "plot",
        help="draw test accuracy against a parameter with 95%% error bars",
        description=(
            "Draw mean test accuracy against a parameter, one line per --hue value, with\n"
            "95% interval error bars and the single runs as faint dots. --x epoch uses the\n"
            "accuracy after every epoch of each run."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument("store", metavar="DB", help="sweep store (SQLite)")
    g.add_argument("--x", required=True, help="parameter on the x axis, or 'epoch'")
    g.add_argument("--hue", help="parameter with one line per value")
    _filter_arguments(g)
    g.add_argument("--out", metavar="FILE", help="output .png or .svg (default: sweep-X[-HUE].png)")
    g.add_argument("--title", help="plot title")
    g.add_argument(
        "--logx", action=argparse.BooleanOptionalAction, help="log x axis (default: auto)"
    )
    p.set_defaults(func=run)


def _filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="only runs with this parameter value (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "summary":
        return _summary(args)
    if args.action == "plot":
        return _plot(args)
    return _sweep(args)


def _plan(args: argparse.Namespace) -> tuple[Any, Any]:

    preset = None
    if args.preset:
        if args.preset not in PRESETS:
            raise OwnnetError(f"--preset {args.preset!r}: expected one of {', '.join(PRESETS)}")
        preset = PRESETS[args.preset]
        plan = preset.plan()
    else:
        plan = Plan(repeats=3)
    texts = list(args.param)
    for name, value in (
        ("model", args.model),
        ("dataset", args.dataset),
        ("train_size", args.train_size),
        ("test_size", args.test_size),
    ):
        if value is not None:
            texts.append(f"{name}={value}")
    for text in texts:
        name, values = parse_param(text)
        plan.grid.pop(name, None)
        plan.base.pop(name, None)
        if len(values) == 1:
            plan.base[name] = values[0]
        else:
            plan.grid[name] = values
    if args.repeats is not None:
        plan.repeats = args.repeats
    plan.__post_init__()
    return plan, preset


def _sweep(args: argparse.Namespace) -> int:
    plan, preset = _plan(args)
    db = args.db or DEFAULT_DB
    if not args.dry_run:  # a store that cannot be written fails now, not after the planning
        Store.check(db)
    specs = plan_runs(plan, args.data)
    configs = list({canonical(s.config): s.config for s in specs}.values())  # plan order
    header = f"sweep: {len(specs)} runs ({len(configs)} configs x {plan.repeats} repeats); "
    if args.dry_run:  # never creates the store
        todo = specs
        if Path(db).exists():
            with Store(db, create=False) as store:
                todo = pending(specs, store)
        print(f"{header}{len(specs) - len(todo)} finished before, {len(todo)} would run")
        for spec in todo:
            what = canonical(spec.config)
            print(f"  {spec.run_id[:12]} repeat {spec.repeat} seed {spec.seed}: {what}")
        return 0
    with Store(db) as store:
        todo = pending(specs, store)
        print(f"{header}{len(specs) - len(todo)} finished before, {len(todo)} to run; store {db}")
        if todo:
            with make_executor(args.workers, args.scheduler) as executor:
                report = run_sweep(specs, store, executor, progress=not args.quiet)
            print(f"ran {report.ran} runs on {executor.name} in {report.seconds:.1f} s")
        everything = store.runs()
    ours = {s.run_id for s in specs}
    runs = [r for r in everything if r.run_id in ours]
    models = {c["model"] for c in configs}
    fixed = {
        k: v
        for k, v in configs[0].items()
        if k not in plan.swept() and (PARAMS[k].models is None or models & set(PARAMS[k].models))
    }
    print("fixed: " + " ".join(f"{k}={format_value(v, k)}" for k, v in fixed.items()))
    epochs = preset.summary_epochs if preset else None
    print(format_table(summarize(runs, epochs)))
    plot_spec = dict(preset.plot) if preset else _default_plot(plan)
    if plot_spec:
        hint = _plot_hint(db, plot_spec, fixed, everything)
        print(f"plot: {hint}")
        if args.plot:
            path = plot(
                runs,
                args.plot,
                x=plot_spec["x"],
                hue=plot_spec.get("hue"),
                logx=plot_spec.get("logx"),
            )
            print(f"wrote {path}")
    return 0


def _default_plot(plan: Any) -> dict[str, Any]:
    swept = plan.swept()
    if not swept:
        return {"x": "epoch"}
    spec: dict[str, Any] = {"x": swept[0]}
    if len(swept) > 1:
        spec["hue"] = swept[1]
    return spec


def _plot_hint(db: str, spec: dict[str, Any], fixed: dict[str, Any], everything: list[Any]) -> str:
    """The ``ownnet sweep plot`` command for this sweep, with --where for the fixed
    parameters that other sweeps in the same store vary."""

    free = {spec["x"], spec.get("hue")}
    parts = ["ownnet sweep plot", db, "--x", spec["x"]]
    if spec.get("hue"):
        parts += ["--hue", spec["hue"]]
    for name in varying(everything):
        if name in fixed and name not in free:
            parts += ["--where", f"{name}={format_value(fixed[name], name)}"]
    return " ".join(parts)


def _load(args: argparse.Namespace) -> list[Any]:

    where = parse_where(args.where)
    with Store(args.store, create=False) as store:
        runs = select(store.runs(), where)
    if not runs:
        raise OwnnetError(
            f"{args.store}: no finished runs"
            + (f" with {' '.join(args.where)}" if args.where else "")
        )
    return runs


def _summary(args: argparse.Namespace) -> int:

    epochs = None
    if args.epochs:
        try:
            epochs = [int(e) for e in args.epochs.split(",")]
        except ValueError:
            raise OwnnetError(f"--epochs {args.epochs!r}: expected numbers like 1,2,5") from None
    runs = _load(args)
    print(f"{args.store}: {len(runs)} runs")
    print(format_table(summarize(runs, epochs)))
    return 0


def _plot(args: argparse.Namespace) -> int:

    runs = _load(args)
    out = args.out or f"sweep-{args.x}" + (f"-{args.hue}" if args.hue else "") + ".png"
    path = plot(runs, out, x=args.x, hue=args.hue, title=args.title, logx=args.logx)
    print(f"wrote {path}", file=sys.stdout)
    return 0
