"""The default thread count is fixed by the machine, not by its load, and the same command
and seed give the same weights whatever else runs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from ownnet import threads
from ownnet.cli import main
from ownnet.io import load_model


def fake_topology(root, cores):
    """A /sys/devices/system/cpu-like folder: logical CPU i sits on core ``cores[i]``."""
    for cpu, (package, core) in enumerate(cores):
        topology = root / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text(f"{package}\n")
        (topology / "core_id").write_text(f"{core}\n")
    return root


def test_hyperthreads_of_one_core_count_once(tmp_path):
    sys_dir = fake_topology(tmp_path, [(0, 0), (0, 1), (0, 0), (0, 1), (1, 0), (1, 0)])
    assert threads.physical_cores([0, 1, 2, 3, 4, 5], sys_dir) == 3
    assert threads.physical_cores([0, 2], sys_dir) == 1  # e.g. under taskset
    assert threads.physical_cores([0, 1, 7], sys_dir) == 3  # no topology: logical CPUs


def test_default_does_not_follow_the_load(monkeypatch):
    quiet = threads.default_threads()
    assert 1 <= quiet <= threads.MAX_THREADS
    monkeypatch.setattr(os, "getloadavg", lambda: (50.0, 50.0, 50.0))
    assert threads.default_threads() == quiet


def train(folder, out, *extra):
    args = ["train", "--model", "mlp", "--data", str(folder), "--layers", "48",
            "--dropout", "0.2", "--epochs", "2", "--batch-size", "64", "--seed", "0",
            "--max-shift", "0", "--max-angle", "0", "--quiet", "--out", str(out)]  # fmt: skip
    args += extra
    assert main(args) == 0
    model, meta = load_model(out)
    return [p.value.copy() for p in model.params()], meta["test_accuracy"]


def test_same_command_same_weights_on_a_busy_machine(small_mnist_dir, tmp_path, monkeypatch):
    quiet, quiet_acc = train(small_mnist_dir, tmp_path / "quiet.npz")
    # another program keeps a core busy, and the load average says so
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        monkeypatch.setattr(os, "getloadavg", lambda: (8.0, 8.0, 8.0))
        loaded, loaded_acc = train(small_mnist_dir, tmp_path / "busy.npz")
    finally:
        busy.kill()
        busy.wait()
    assert loaded_acc == quiet_acc
    for a, b in zip(quiet, loaded, strict=True):
        np.testing.assert_array_equal(a, b)
    if threads.default_threads() > 1:  # the thread count is part of the arithmetic
        one, _ = train(small_mnist_dir, tmp_path / "one.npz", "--threads", "1")
        assert any(not np.array_equal(a, b) for a, b in zip(quiet, one, strict=True))
    else:
        pytest.skip("one physical core: no other thread count to compare with")
