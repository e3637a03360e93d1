"""Every notebook runs top to bottom on the installed ownnet with OWNNET_QUICK=1.

The notebooks are built from ``notebooks/src/NN_name.py`` by ``notebooks/make.py``
and committed with the outputs of a full run. Here each one is checked to match
its source and to carry its outputs (plots included, under 1 MB), and is run
again with small settings, in a temporary folder, without touching the
committed file.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip(
    "nbformat", reason="nbformat not installed: pip install -e '.[test]' to run the notebooks"
)
nbclient = pytest.importorskip(
    "nbclient", reason="nbclient not installed: pip install -e '.[test]' to run the notebooks"
)
pytest.importorskip(
    "ipykernel", reason="ipykernel not installed: pip install -e '.[test]' to run the notebooks"
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted((NOTEBOOKS / "src").glob("[0-9][0-9]_*.py"))
#: Seconds one notebook may take with OWNNET_QUICK=1 (they take 5-15 s each on 2 cores).
DEADLINE = 120


def _make_module():
    spec = importlib.util.spec_from_file_location("notebooks_make", NOTEBOOKS / "make.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make = _make_module()


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_there_are_eight_notebooks():
    assert [p.stem[:2] for p in SOURCES] == [f"{i:02d}" for i in range(1, 9)]


@pytest.mark.parametrize("source", SOURCES, ids=_ids(SOURCES))
def test_notebook_is_its_source_with_saved_outputs(source: Path):
    path = NOTEBOOKS / (source.stem + ".ipynb")
    assert path.exists(), f"{path.name} missing: run python notebooks/make.py {source.stem[:2]}"
    size = path.stat().st_size
    assert size < 1_000_000, f"{path.name} is {size / 1e6:.1f} MB: make its plots smaller"
    nb = nbformat.read(path, as_version=4)
    cells = [(c.cell_type, c.source) for c in nb.cells]
    assert cells == make.parse_percent(source.read_text()), (
        f"{path.name} differs from {source.name}: run python notebooks/make.py {source.stem[:2]}"
    )
    code = [c for c in nb.cells if c.cell_type == "code"]
    unrun = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not unrun, f"{path.name}: code cells {unrun} have no saved outputs"
    outputs = [o for c in code for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was saved with an error: {errors[0].get('evalue')}"
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name}: no plots"


def _run(path: Path, folder: Path, env: dict[str, str]) -> float:
    """Execute the notebook at ``path`` in ``folder``; returns the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    deadline = time.monotonic() + DEADLINE

    def remaining(cell) -> int:  # each cell may use what is left of the notebook's time
        return max(1, int(deadline - time.monotonic()))

    client = nbclient.NotebookClient(
        nb,
        timeout_func=remaining,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    start = time.monotonic()
    client.execute(env=env)
    return time.monotonic() - start


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=_ids(SOURCES))
def test_notebook_runs_top_to_bottom_quickly(source: Path, mnist_dir: Path, tmp_path: Path):
    original = NOTEBOOKS / (source.stem + ".ipynb")
    if not original.exists():
        pytest.fail(f"{original.name} missing: run python notebooks/make.py {source.stem[:2]}")
    copy = Path(shutil.copy(original, tmp_path / original.name))
    # The kernel imports the ownnet under test (make.kernel_env), in quick mode.
    env = make.kernel_env(OWNNET_QUICK="1", OWNNET_DATA=str(mnist_dir), PYTHONHASHSEED="0")
    # Small matrices: BLAS threads only wait for each other (and for other jobs on CI).
    env.update(make.ONE_THREAD)
    try:
        seconds = _run(copy, tmp_path, env)
    except nbclient.exceptions.CellTimeoutError:
        pytest.fail(f"{original.name} took more than {DEADLINE} s with OWNNET_QUICK=1")
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{original.name} failed with OWNNET_QUICK=1:\n{exc}")
    print(f"{original.name}: {seconds:.1f} s")
