"""Build the notebooks from their sources and run them, saving the outputs.

Each notebook is written as a Python file ``notebooks/src/NN_name.py`` in the
"percent" format (``# %%`` starts a code cell, ``# %% [markdown]`` a text
cell whose lines start with ``# ``). This script turns each into
``notebooks/NN_name.ipynb``, runs it top to bottom with nbclient (in the
``notebooks/`` folder) and saves it with its outputs, plots included::

    python notebooks/make.py                 # every notebook, full settings
    python notebooks/make.py 03 07           # the notebooks whose names start so
    OWNNET_QUICK=1 python notebooks/make.py  # small settings (what the tests run)
    python notebooks/make.py --no-run        # only rebuild the .ipynb files, no outputs
    python notebooks/make.py --text-only 04  # new text, the saved outputs kept (no code changed)

The kernel imports the ownnet this script imports and uses one BLAS thread
(:data:`ONE_THREAD`). Needs ``nbformat``, ``nbclient`` and ``ipykernel``
(``pip install -e '.[test]'``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
MAX_BYTES = 1_000_000
#: The kernels use one BLAS thread (unless the environment says otherwise), so that the
#: saved times do not depend on what else the machine runs: threads that wait for a busy
#: core make small matrix products many times slower (see ``ownnet.threads``).
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def parse_percent(text: str) -> list[tuple[str, str]]:
    """``# %%`` percent-format text → ``[(cell_type, source), ...]``."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line else "code"
            cells.append((kind, []))
            continue
        if not cells:  # a module docstring or comments before the first cell
            continue
        kind, lines = cells[-1]
        if kind == "markdown":
            line = line[2:] if line.startswith("# ") else line.lstrip("#")
        lines.append(line)
    out = []
    for kind, lines in cells:
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines:
            out.append((kind, "\n".join(lines)))
    return out


def build(source: Path):  # -> nbformat.NotebookNode
    """The notebook (without outputs) for one percent-format source file."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for kind, text in parse_percent(source.read_text()):
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(text))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{source.stem[:2]}-{i:03d}"
    return nb


def kernel_env(**extra: str) -> dict[str, str]:
    """The environment a notebook's kernel runs in: this one, with ``extra``.

    The kernel imports the ownnet this script imports, wherever it runs: the folder
    holding that ``ownnet`` comes first on ``PYTHONPATH``, and relative entries are made
    absolute (the kernel starts in another folder). Plots show inline as in Jupyter,
    whatever ``MPLBACKEND`` says (CI sets Agg).
    """
    import ownnet

    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    paths = [str(Path(ownnet.__file__).resolve().parents[1])]
    paths += [str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.update(extra)
    return env


def execute(nb, cwd: Path, timeout: int = 1800):  # -> nbformat.NotebookNode
    """Run ``nb`` top to bottom in ``cwd``; raises on the first error."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    env = kernel_env()
    for name, value in ONE_THREAD.items():
        env.setdefault(name, value)
    client.execute(env=env)
    return nb


def keep_outputs(nb, saved) -> None:  # (nbformat.NotebookNode, nbformat.NotebookNode)
    """Give ``nb`` (just built from its source) the outputs of ``saved`` (the notebook as
    last run), when only its text changed.

    Raises:
        ValueError: a code cell was added, removed or changed (the notebook must be run).
    """
    old = [c for c in saved.cells if c.cell_type == "code"]
    new = [c for c in nb.cells if c.cell_type == "code"]
    if len(old) != len(new):
        raise ValueError(f"{len(old)} code cells were saved, the source has {len(new)}")
    for i, (before, after) in enumerate(zip(old, new, strict=True)):
        if before.source != after.source:
            raise ValueError(f"code cell {i} changed")
        after.outputs = before.outputs
        after.execution_count = before.execution_count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="prefixes of the notebooks to make (default all)")
    parser.add_argument("--no-run", action="store_true", help="write the notebooks unexecuted")
    parser.add_argument(
        "--text-only",
        action="store_true",
        help="take the text from the sources and keep the saved outputs (refused if code changed)",
    )
    args = parser.parse_args(argv)
    import nbformat

    from ownnet.atomic import atomic_write_bytes

    sources = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if args.names:
        sources = [s for s in sources if any(s.stem.startswith(n) for n in args.names)]
    for source in sources:
        target = HERE / (source.stem + ".ipynb")
        nb = build(source)
        start = time.perf_counter()
        if args.text_only:
            try:
                keep_outputs(nb, nbformat.read(target, as_version=4))
            except (OSError, ValueError) as exc:
                print(f"{target.name}: {exc}: run python notebooks/make.py {source.stem[:2]}")
                return 1
        elif not args.no_run:
            execute(nb, HERE)
        nbformat.validate(nb)
        data = (nbformat.writes(nb) + "\n").encode()
        atomic_write_bytes(target, data)
        size = len(data)
        note = " (over 1 MB: make the plots smaller)" if size > MAX_BYTES else ""
        print(f"{target.name}: {time.perf_counter() - start:.1f} s, {size / 1e3:.0f} kB{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
