"""A disk that fills up is one clear line, and loses nothing that was done: the model file
is written whole or not at all, a sweep keeps every run it recorded. (A full disk is
simulated with a file-size limit, RLIMIT_FSIZE, in a child process.)"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

resource = pytest.importorskip("resource", reason="needs resource.setrlimit (Unix)")


def limited(size: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


def ownnet(args: list[str], size: int, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OWNNET_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "ownnet", *args], preexec_fn=limited(size),
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip


def test_train_on_a_full_disk_says_so_and_leaves_nothing(small_mnist_dir, tmp_path):
    out = tmp_path / "m.npz"
    done = ownnet(["train", "--hidden", "20", "--epochs", "1", "--quiet", "--out", str(out)],
                  50_000, small_mnist_dir)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == f"ownnet train: error: {out}: File too large"
    assert list(tmp_path.iterdir()) == []  # no half file, no temporary file


def test_a_sweep_on_a_full_disk_keeps_what_it_recorded(small_mnist_dir, tmp_path):
    db = tmp_path / "s.db"
    args = ["sweep", "--param", "lr=0.05,0.1,0.2,0.3,0.4,0.5", "--param", "hidden=8",
            "--param", "epochs=1", "--train-size", "500", "--test-size", "100",
            "--db", str(db), "--quiet"]  # fmt: skip
    full = ownnet(args, 70_000, small_mnist_dir)
    assert full.returncode == 1, full.stderr
    line = full.stderr.strip()
    assert "could not record run" in line and "run the sweep again" in line, line
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    con.close()
    assert 0 < kept < 18  # 6 configs x 3 repeats
    again = ownnet(args, 2**40, small_mnist_dir)  # space again: it goes on
    assert again.returncode == 0, again.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 18
    con.close()


def test_a_sweep_store_in_a_folder_that_cannot_be_made(tmp_path, capsys):
    from ownnet.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["sweep", "--param", "lr=0.1", "--db", str(blocker / "s.db"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and f"{blocker / 's.db'}: cannot make its folder: {blocker} is a file" in err
