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


def children_of(pid: int) -> set[int]:
    """The pids of the living processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkill_of_a_sweep_with_workers_leaves_no_worker_behind(
    small_mnist_dir: Path, tmp_path: Path
) -> None:
    if not Path("/proc/self/stat").exists():
        import pytest

        pytest.skip("needs Linux /proc to find the worker processes")
    db = tmp_path / "sweeps.db"
    cmd = [*sweep_command(small_mnist_dir, db), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while count_runs(db) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep stored nothing within 90 s"
            time.sleep(0.02)
        workers = {pid for pid in children_of(proc.pid)}
        assert len(workers) >= 2, "expected the sweep's worker processes"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:  # don't leave them to the rest of the suite either
        os.kill(pid, signal.SIGKILL)
    assert not left, f"worker processes {left} outlived the killed sweep"
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert count_runs(db) == 4 * REPEATS
