"""A sweep killed with SIGKILL and started again ends with every run exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ownnet.experiments.runs import execute_run
from ownnet.experiments.store import Store
from ownnet.experiments.sweep import Plan, plan_runs

GRID = {"lr": [0.05, 0.1, 0.2, 0.3], "hidden": [12]}
BASE = {"train_size": 3000, "test_size": 200, "epochs": 2}
REPEATS = 3  # 12 runs of ~0.2 s each


def sweep_command(data: Path, db: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ownnet",
        "sweep",
        "--param",
        "lr=0.05,0.1,0.2,0.3",
        "--param",
        "hidden=12",
        "--param",
        "epochs=2",
        "--train-size",
        "3000",
        "--test-size",
        "200",
        "--repeats",
        str(REPEATS),
        "--data",
        str(data),
        "--db",
        str(db),
        "--quiet",
    ]


def count_runs(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_sigkill_then_resume_stores_every_run_once(small_mnist_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "sweeps.db"
    cmd = sweep_command(small_mnist_dir, db)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while count_runs(db) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep stored nothing within 60 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Store(db) as store:
        before = {r.run_id: r for r in store.runs()}
    assert 3 <= len(before) < 12, "the kill came after the sweep had finished"
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} finished before, {12 - len(before)} to run" in done.stdout

    plan = Plan(base=BASE, grid=GRID, repeats=REPEATS)
    specs = plan_runs(plan, str(small_mnist_dir))
    con = sqlite3.connect(db)
    ids = [row[0] for row in con.execute("SELECT run_id FROM runs")]
    per_run = dict(con.execute("SELECT run_id, COUNT(*) FROM epochs GROUP BY run_id"))
    con.close()
    assert sorted(ids) == sorted(s.run_id for s in specs)  # every run, exactly once
    assert per_run == {s.run_id: 2 for s in specs}  # with both epochs
    with Store(db) as store:
        after = {r.run_id: r for r in store.runs()}
    for rid, run in before.items():  # the runs from before the kill were kept, not redone
        assert after[rid].finished_at == run.finished_at
        assert after[rid].accuracies == run.accuracies
    for spec in (specs[0], specs[-1]):  # and the numbers are the runs' numbers
        assert after[spec.run_id].accuracies == execute_run(spec).accuracies
