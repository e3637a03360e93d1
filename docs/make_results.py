"""Regenerate every results file the documentation reads its numbers from, and the README.

    python docs/make_results.py                 # every entry that is missing or stale
    python docs/make_results.py --list          # the entries, their commands and status
    python docs/make_results.py --only sweep-book-lr,train-book
    python docs/make_results.py --force         # rerun even the fresh ones
    python docs/make_results.py --quick         # small settings: checks the machinery fast
    python docs/make_results.py --readme        # only render README.md from its template

Each entry of :data:`ENTRIES` runs one command (``ownnet ...`` or ``python benchmarks/...``),
reads what it measured, and writes ``docs/results/<name>.json`` atomically with the command,
the ownnet version, the date and the machine (see ``benchmarks/results.py``). An entry is
fresh when its file was made from the current source (the file's ``code`` fingerprint) with
the same settings; fresh entries are skipped, so an interrupted regeneration resumes where
it stopped (sweeps even resume inside, from their store). Models, stores and outputs are
kept in ``build/results-work``. ``--quick`` runs every command on 2,000 training and 500 test
images (and fewer epochs) and marks the files "quick": the pages then say so.

The data: ``--data DIR`` or ``$OWNNET_DATA``, else the cache (downloaded if needed). The
outputs shown in the docs name the data folder as the cache, ``~/.cache/ownnet/mnist``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shlex
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "docs"))

import results  # noqa: E402
from result_readers import (  # noqa: E402
    Context,
    EntryFailed,
    check_values,
    neutral,
    read_backquery,
    read_cases,
    read_damage,
    read_kinds,
    read_one_json,
    read_reader,
    read_samples,
    read_test,
    read_train,
    sweep_values,
)

WORK = ROOT / "build" / "results-work"
README_TEMPLATE = ROOT / "docs" / "README.md.in"
README = ROOT / "README.md"
#: small settings for --quick (and the data folder it makes)
QUICK_TRAIN, QUICK_TEST = 2000, 500
#: the sweeps' small-settings run that CI repeats (``check`` in their results files)
CHECK_ARGS = f"--train-size {QUICK_TRAIN} --test-size {QUICK_TEST} --repeats 1"


@dataclass
class Entry:
    """One results file: the command that measures it and how to read what it printed.

    ``command`` is what a reader types (``ownnet`` and ``python`` run this interpreter);
    ``quick`` is added to it under ``--quick``; ``hidden(ctx)`` gives arguments added to
    both that are not part of the recorded command (where a store is kept, no progress
    bar: nothing that changes a number). ``needs`` names entries whose files
    (``ownnet-model.npz``...) this one uses. ``read`` turns
    the run into the values.
    """

    name: str
    title: str
    command: str
    read: Callable[[Context, str], dict[str, Any]]
    quick: str = ""
    hidden: Callable[[Context], str] | None = None
    needs: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()
    makes: tuple[str, ...] = ()
    check: Callable[[Context], dict[str, Any]] | None = None
    time_hint: str = ""

    def argv_text(self, ctx: Context) -> str:
        return self.command + (f" {self.quick}" if ctx.quick and self.quick else "")

    def fingerprint(self) -> str:
        return results.code_fingerprint(ROOT / s for s in self.scripts)


# -- running commands -------------------------------------------------------------------------
def run_command(ctx: Context, text: str, hidden: str = "", label: str = "") -> str:
    """Run ``text`` (plus ``hidden`` arguments) in the work folder; stream its output to
    this terminal and return its standard output. Raises :class:`EntryFailed` on failure."""
    argv = shlex.split(text) + shlex.split(hidden)
    if argv[0] == "ownnet":
        argv = [sys.executable, "-m", "ownnet", *argv[1:]]
    elif argv[0] == "python":  # scripts are named from the repository's root
        script = ROOT / argv[1] if len(argv) > 1 and argv[1].endswith(".py") else None
        argv = [sys.executable, *([str(script)] if script else argv[1:2]), *argv[2:]]
    print(f"  $ {text}", flush=True)
    env = {**os.environ, **ctx.env}
    proc = subprocess.Popen(
        argv, cwd=ctx.work, env=env, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        print(f"  | {line}", end="", flush=True)
    if proc.wait() != 0:
        raise EntryFailed(f"{label or text}: exit status {proc.returncode}")
    return "".join(lines)


def sweep_entry(preset: str, title: str, time_hint: str) -> Entry:
    name = f"sweep-{preset}"

    def store(ctx: Context, kind: str) -> Path:
        fp = results.code_fingerprint()[:12]
        return ctx.work / f"{name}-{kind}-{fp}.db"

    def read(ctx: Context, output: str) -> dict[str, Any]:
        return sweep_values(store(ctx, "quick" if ctx.quick else "full"), preset)

    def check(ctx: Context) -> dict[str, Any]:
        command = f"ownnet sweep --preset {preset} {CHECK_ARGS}"
        db = store(ctx, "check")
        run_command(ctx, command, f"--db {db.name} --quiet", label=f"{name} check")
        return {"command": command, "values": check_values(sweep_values(db, preset, False))}

    def hidden(ctx: Context) -> str:
        return f"--db {store(ctx, 'quick' if ctx.quick else 'full').name} --quiet"

    return Entry(
        name,
        title,
        f"ownnet sweep --preset {preset} --workers 2",
        read,
        quick=f"--train-size {QUICK_TRAIN} --test-size {QUICK_TEST} --repeats 2",
        hidden=hidden,
        check=check,
        time_hint=time_hint,
    )


def serve_entry(name: str, title: str, endpoint: str, model: str) -> Entry:
    """``benchmarks/serve_load.py`` on ``endpoint`` (``predict`` or ``inside``) with a model
    file another entry makes."""
    flag = "" if endpoint == "predict" else f" --endpoint {endpoint}"
    return Entry(
        name,
        title,
        f"python benchmarks/serve_load.py{flag} --model {model}",
        read_one_json,
        quick="--requests 300",
        needs=("train-cnn",) if model == "cnn.npz" else ("train-book",),
        scripts=("benchmarks/serve_load.py",),
        time_hint="1 min",
    )


# -- the registry ---------------------------------------------------------------------------------
BOOK_MODEL = "ownnet-model.npz"
ENTRIES: list[Entry] = [
    Entry(
        "train-book",
        "the book's network with ownnet train's defaults",
        "ownnet train",
        read_train(BOOK_MODEL),
        makes=(BOOK_MODEL,),
        time_hint="1 min",
    ),
    Entry(
        "test-book",
        "the default model on the MNIST test set",
        f"ownnet test {BOOK_MODEL}",
        read_test,
        needs=("train-book",),
        time_hint="5 s",
    ),
    Entry(
        "train-mlp",
        "the Keras MNIST MLP in the matrix engine",
        "ownnet train --model mlp --out mlp.npz",
        read_train("mlp.npz"),
        quick="--epochs 2",
        time_hint="2 min",
    ),
    Entry(
        "train-cnn",
        "the default CNN",
        "ownnet train --model cnn --out cnn.npz",
        read_train("cnn.npz"),
        quick="--epochs 1",
        makes=("cnn.npz",),
        time_hint="10 min",
    ),
    Entry(
        "train-reader",
        "the reader: the CNN trained on MNIST written by new hands",
        "ownnet train --model reader --out reader.npz",
        read_train("reader.npz"),
        quick="--epochs 1",
        makes=("reader.npz",),
        time_hint="20 min",
    ),
    Entry(
        "reader",
        "digits and numbers in many hands read by the book model and the reader",
        "python benchmarks/reader.py --set reader-set --book ownnet-model.npz "
        "--reader reader.npz --ablation --timing",
        read_reader,
        quick="--limit 100 --ablation-limit 40",
        needs=("train-book", "train-reader"),
        scripts=(
            "benchmarks/reader.py",
            "benchmarks/reader_set.py",
            "benchmarks/handwriting_pens.py",
            "benchmarks/handwriting_paper.py",
        ),
        time_hint="25 min",
    ),
    Entry(
        "backquery",
        "the back query of the default model",
        f"ownnet backquery {BOOK_MODEL} --out backquery.png",
        read_backquery,
        needs=("train-book",),
        time_hint="5 s",
    ),
    Entry(
        "damage",
        "the default model with neurons removed, noise added, digits rotated",
        f"ownnet inspect damage {BOOK_MODEL} --out damage",
        read_damage,
        read_kinds,
        needs=("train-book",),
        time_hint="1 min",
    ),
    Entry(
        "handwriting",
        "the default model reading 1,000 rendered photo-like digits",
        f"ownnet inspect samples photos --count 1000 --seed 1 --model {BOOK_MODEL}",
        read_samples,
        quick="--count 200",
        needs=("train-book",),
        time_hint="30 s",
    ),
    Entry(
        "classic-speed",
        "ownnet.classic against the book's own code",
        "python benchmarks/classic_speed.py",
        read_one_json,
        quick="--samples 2000 --repeats 1",
        scripts=("benchmarks/classic_speed.py", "benchmarks/book_network.py"),
        time_hint="2 min",
    ),
    Entry(
        "neurons-speed",
        "the neurons model against the book's network",
        "python benchmarks/neurons_speed.py",
        read_one_json,
        quick="--samples 50",
        scripts=("benchmarks/neurons_speed.py",),
        time_hint="20 s",
    ),
    Entry(
        "engine-speed",
        "the matrix engine against PyTorch, seconds per epoch",
        "python benchmarks/speed.py",
        read_cases,
        quick="--samples 6000 --repeats 1",
        scripts=("benchmarks/speed.py",),
        time_hint="5 min",
    ),
    Entry(
        "cnn-speed",
        "the default CNN against PyTorch, seconds per epoch, one thread",
        "python benchmarks/speed.py --case cnn --threads 1",
        read_cases,
        quick="--samples 1280 --repeats 1",
        scripts=("benchmarks/speed.py",),
        time_hint="10 min",
    ),
    Entry(
        "inference",
        "predictions per second and one-image latency against PyTorch",
        "python benchmarks/inference.py",
        read_kinds,
        quick="--batch 2000 --calls 50 --repeats 2",
        scripts=("benchmarks/inference.py",),
        time_hint="3 min",
    ),
    Entry(
        "data-info",
        "where ownnet data info looks for MNIST, and what it finds",
        "ownnet data info",
        lambda ctx, output: {"output": neutral(output, ctx)},
        time_hint="5 s",
    ),
    Entry(
        "data-load",
        "loading MNIST in a fresh Python process",
        "python benchmarks/data_load.py",
        read_one_json,
        scripts=("benchmarks/data_load.py",),
        time_hint="10 s",
    ),
    serve_entry("serve-load", "ownnet serve under 32 clients at once", "predict", BOOK_MODEL),
    serve_entry(
        "serve-inside",
        "the inside view (every layer and the saliency map) under 32 clients, book network",
        "inside",
        BOOK_MODEL,
    ),
    serve_entry(
        "serve-inside-cnn", "the inside view under 32 clients, the default CNN", "inside", "cnn.npz"
    ),
    Entry(
        "parallel-sweeps",
        "8 sweep runs serially and on 2 worker processes",
        "python benchmarks/sweep_speed.py --min-speedup 0",
        read_one_json,
        quick=f"--train-size {QUICK_TRAIN}",
        scripts=("benchmarks/sweep_speed.py",),
        time_hint="1 min",
    ),
    sweep_entry("book-lr", "the book's learning rates, 3 seeds each", "3 min"),
    sweep_entry("book-hidden", "the book's hidden layer sizes, 3 seeds each", "5 min"),
    sweep_entry("book-epochs", "the book's epochs, 3 seeds each", "8 min"),
    sweep_entry("heuristics", "four ways to split the error, 3 seeds each", "6 min"),
    sweep_entry("book-rotation", "the book's best network, with rotations", "10 min"),
]
BY_NAME = {e.name: e for e in ENTRIES}


# -- freshness, the quick data, the README ------------------------------------------------------
def status(entry: Entry, ctx: Context) -> str:
    """``missing``; ``stale`` (made from other code); ``quick`` or ``full`` (made with other
    settings than this run's); or ``fresh``. Only a fresh entry is skipped."""
    path = ctx.out / f"{entry.name}.json"
    if not path.exists():
        return "missing"
    try:
        data = results.read(entry.name, ctx.out)
    except results.ResultsError:
        return "stale"
    if data["code"] != entry.fingerprint():
        return "stale"
    if data["settings"] != ("quick" if ctx.quick else "full"):
        return data["settings"]
    return "fresh"


def made_files_fresh(entry: Entry, ctx: Context) -> bool:
    """Whether the files ``entry`` leaves in the work folder come from the current code."""
    stamp = ctx.work / f".{entry.name}.code"
    return (
        all((ctx.work / f).exists() for f in entry.makes)
        and stamp.exists()
        and stamp.read_text() == entry.fingerprint()
    )


def quick_data(ctx: Context, source: Path | None) -> Path:
    """A small MNIST folder (2,000 + 500 images, IDX) cut from the real files."""
    target = ctx.work / "quick-data" / "mnist"
    if (target / "t10k-labels-idx1-ubyte.gz").exists():
        return target
    from ownnet.data.mnist import load_mnist

    splits = load_mnist(source, progress=False)
    target.mkdir(parents=True, exist_ok=True)
    parts = (("train", splits.train, QUICK_TRAIN), ("t10k", splits.test, QUICK_TEST))
    for prefix, split, n in parts:
        for kind, array, magic in (
            ("images-idx3", split.images[:n], 0x0803),
            ("labels-idx1", split.labels[:n], 0x0801),
        ):
            header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
            with gzip.open(target / f"{prefix}-{kind}-ubyte.gz", "wb") as f:
                f.write(header + array.tobytes())
    return target


def render_readme(out: Path = README, directory: Path = results.RESULTS_DIR) -> str:
    """README.md from its template, the numbers filled in from the results files."""
    found = results.read_all(directory)
    text, used = results.render(README_TEMPLATE.read_text(encoding="utf-8"), found, "README.md.in")
    quick = [name for name in used if found[name]["settings"] == "quick"]
    if quick:  # say so, as the site's pages do
        text += (
            f"\n> The numbers above ({', '.join(quick)}) are provisional: they come from a quick "
            "run with small settings. `python docs/make_results.py` measures them in full.\n"
        )
    return text


def write_readme() -> None:
    text = render_readme()
    if not README.exists() or README.read_text(encoding="utf-8") != text:
        results.atomic_write_text(README, text)
        print("wrote README.md")


# -- the command --------------------------------------------------------------------------------
def run_entry(entry: Entry, ctx: Context, done: set[str]) -> None:
    """Run ``entry`` (after the entries it needs, when their files are missing or stale)."""
    for need in entry.needs:
        if need not in done and not made_files_fresh(BY_NAME[need], ctx):
            print(f"[{entry.name}] needs {need} first", flush=True)
            run_entry(BY_NAME[need], ctx, done)
    fingerprint = entry.fingerprint()
    started = time.perf_counter()
    command = entry.argv_text(ctx)
    hidden = entry.hidden(ctx) if entry.hidden is not None else ""
    output = run_command(ctx, command, hidden, label=entry.name)
    values = entry.read(ctx, output)
    check = entry.check(ctx) if entry.check is not None else None
    path = results.write(
        entry.name,
        title=entry.title,
        command=command,
        values=values,
        seconds=time.perf_counter() - started,
        check=check,
        settings="quick" if ctx.quick else "full",
        code=fingerprint,
        directory=ctx.out,
    )
    if entry.makes:
        (ctx.work / f".{entry.name}.code").write_text(fingerprint)
    done.add(entry.name)
    print(f"[{entry.name}] wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Regenerate the results files the documentation reads its numbers from.",
        epilog="entries: " + ", ".join(BY_NAME),
    )
    p.add_argument("--only", metavar="NAME,NAME", help="only these entries")
    p.add_argument("--force", action="store_true", help="rerun fresh entries too")
    p.add_argument("--quick", action="store_true", help="small settings (files marked quick)")
    p.add_argument("--list", action="store_true", help="list the entries and their status")
    p.add_argument("--readme", action="store_true", help="only render README.md")
    p.add_argument("--data", type=Path, help="MNIST folder (default: $OWNNET_DATA or the cache)")
    p.add_argument("--out", type=Path, default=results.RESULTS_DIR, help="results folder")
    p.add_argument("--work", type=Path, default=WORK, help="models, stores, outputs")
    p.add_argument("--stop-on-error", action="store_true", help="stop at the first failure")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.readme:
        write_readme()
        return 0
    names = list(BY_NAME) if not args.only else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        print(f"--only: unknown entries {unknown}; expected some of {', '.join(BY_NAME)}")
        return 2
    work = (args.work / ("quick" if args.quick else "full")).resolve()
    data = args.data or (Path(os.environ["OWNNET_DATA"]) if os.environ.get("OWNNET_DATA") else None)
    if data is not None and (data / "mnist").is_dir():  # a folder that holds mnist/
        data = data / "mnist"
    ctx = Context(work=work, data=data.resolve() if data else None, quick=args.quick,
                  out=args.out.resolve())  # fmt: skip
    if args.list:
        for n in names:
            e = BY_NAME[n]
            print(f"{n:20s} {status(e, ctx):8s} ~{e.time_hint:7s} {e.argv_text(ctx)}")
        return 0
    work.mkdir(parents=True, exist_ok=True)
    # The children find the data as a reader's machine would: in the cache.
    ctx.env = {"MPLBACKEND": "Agg", "OWNNET_CACHE": str(ctx.cache)}
    ctx.env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    )
    os.environ.pop("OWNNET_DATA", None)
    source = ctx.data
    if args.quick:
        ctx.data = quick_data(ctx, source)
    if ctx.data is not None:
        link = ctx.cache / "mnist"
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(ctx.data, target_is_directory=True)
    todo = [n for n in names if args.force or status(BY_NAME[n], ctx) != "fresh"]
    print(f"{len(names)} entries, {len(names) - len(todo)} fresh, {len(todo)} to run", flush=True)
    done: set[str] = set()
    failed: list[str] = []
    for i, name in enumerate(todo, 1):
        entry = BY_NAME[name]
        print(f"[{i}/{len(todo)}] {name}: {entry.title} (~{entry.time_hint})", flush=True)
        started = time.perf_counter()
        try:
            run_entry(entry, ctx, done)
        except (EntryFailed, results.ResultsError, OSError, KeyError, ValueError) as exc:
            failed.append(name)
            print(f"[{name}] FAILED: {exc}", flush=True)
            if args.stop_on_error:
                break
        else:
            print(f"[{name}] done in {time.perf_counter() - started:.0f} s", flush=True)
    if args.out.resolve() == results.RESULTS_DIR:
        write_readme()
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `... --list | head`
        sys.stderr.close()
        sys.exit(0)
