"""A 2x2 sweep on a Dask LocalCluster (2 workers) gives the serial run's numbers exactly."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ownnet.experiments.executors import DaskExecutor, SerialExecutor
from ownnet.experiments.store import Store
from ownnet.experiments.sweep import Plan, plan_runs, run_sweep

pytest.importorskip("distributed", reason="Dask distributed is an optional extra (ownnet[cluster])")

TIME_LIMIT = 120  # seconds for the whole cluster test, start-up and clean-up included


def test_local_cluster_equals_serial(small_mnist_dir: Path, tmp_path: Path) -> None:
    plan = Plan(
        base={"hidden": 8, "train_size": 600, "test_size": 200, "epochs": 2},
        grid={"lr": [0.1, 0.3], "hidden": [8, 16]},
        repeats=1,
    )
    specs = plan_runs(plan, str(small_mnist_dir))
    assert len(specs) == 4
    with SerialExecutor() as ex:
        serial = {r.run_id: r.accuracies for r in ex.map(specs)}

    outcome: dict[str, object] = {}

    def on_cluster() -> None:
        try:
            with Store(tmp_path / "dask.db") as store:
                with DaskExecutor("local", workers=2) as ex:
                    outcome["report"] = run_sweep(specs, store, ex, progress=False)
                    outcome["workers"] = len(ex._client.scheduler_info()["workers"])
                    outcome["name"] = ex.name
                outcome["runs"] = store.runs()
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    worker = threading.Thread(target=on_cluster, daemon=True)
    worker.start()
    worker.join(TIME_LIMIT)
    assert not worker.is_alive(), f"the Dask sweep did not finish within {TIME_LIMIT} s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    assert outcome["workers"] == 2 and outcome["name"] == "dask:local:2"
    runs = outcome["runs"]
    assert {r.run_id: r.accuracies for r in runs} == serial  # exactly, every epoch
    assert len({tuple(v) for v in serial.values()}) >= 2  # not all the same numbers
    assert all(r.executor == "dask:local:2" for r in runs)
    assert len({r.host for r in runs}) == 1
