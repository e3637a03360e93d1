"""Atomic writes: a kill leaves the old file, and its temporary file is removed by the next
write of the same target, never a live writer's or another target's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ownnet import atomic
from ownnet.atomic import STALE_AFTER, atomic_open, atomic_write_bytes, remove_stale_parts

OLD = time.time() - STALE_AFTER - 60


def _dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _part(folder: Path, name: str, mtime: float = OLD) -> Path:
    path = folder / name
    path.write_bytes(b"half")
    os.utime(path, (mtime, mtime))
    return path


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.skipif(os.name != "posix", reason="process ids are checked on POSIX")
def test_only_stale_parts_of_the_same_target_from_dead_writers_are_removed(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = _part(tmp_path, f".m.npz.{dead}.abc_1234.part")
    kept = [
        _part(tmp_path, f".m.npz.{dead}.abcd1234.part", mtime=time.time()),  # fresh
        _part(tmp_path, f".m.npz.{alive}.abcd1234.part"),  # its writer runs
        _part(tmp_path, f".m.npz.{os.getpid()}.abcd1234.part"),  # ours
        _part(tmp_path, f".n.npz.{dead}.abcd1234.part"),  # another target
        _part(tmp_path, f".m.npz.7.{dead}.abcd1234.part"),  # the target m.npz.7's
        _part(tmp_path, f".m.npz.{dead}.abcd12345.part"),  # not mkstemp's 8 characters
        _part(tmp_path, f".m.npz.{dead}.ABCD1234.part"),  # nor its alphabet
        _part(tmp_path, f"m.npz.{dead}.abcd1234.part"),  # not hidden
        _part(tmp_path, ".m.npz.abcd1234.part", mtime=time.time() - 3600),  # old style, an hour
    ]
    legacy = _part(tmp_path, ".m.npz.wxyz_789.part", mtime=time.time() - 2 * 86400)
    (tmp_path / f".m.npz.{dead}.dir_5678.part").mkdir()  # not a file
    atomic_write_bytes(tmp_path / "m.npz", b"new")
    names = _entries(tmp_path)
    assert stale.name not in names and legacy.name not in names
    assert [path.name for path in kept if path.name not in names] == []
    assert f".m.npz.{dead}.dir_5678.part" in names
    assert (tmp_path / "m.npz").read_bytes() == b"new"
    assert remove_stale_parts(tmp_path / "m.npz") == []  # nothing more to remove


def test_an_unknowable_writer_is_only_cleaned_up_after_a_day(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_ASK_PIDS", False)  # as on Windows: no process table to ask
    part = _part(tmp_path, ".m.npz.123456.abcd1234.part")
    assert remove_stale_parts(tmp_path / "m.npz") == []
    assert remove_stale_parts(tmp_path / "m.npz", now=time.time() + 86400) == [part]


@pytest.mark.skipif(os.name != "posix", reason="kills a child with SIGKILL")
def test_a_writer_killed_mid_write_leaves_the_old_file_and_the_next_write_cleans_up(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    child = textwrap.dedent(
        f"""
        import sys, time
        from ownnet.atomic import atomic_open
        with atomic_open({str(target)!r}) as f:
            f.write(b"half of the new")
            f.flush()
            print("writing", flush=True)
            time.sleep(60)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(atomic.__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert len(parts) == 1 and parts[0].name.startswith(f".model.npz.{proc.pid}.")
    assert target.read_bytes() == b"old"
    atomic_write_bytes(target, b"newer")  # too fresh to be sure: kept
    assert parts[0].exists()
    os.utime(parts[0], (OLD, OLD))
    with atomic_open(target) as f:
        f.write(b"newest")
    assert _entries(tmp_path) == ["model.npz"] and target.read_bytes() == b"newest"


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_open(tmp_path / "x.bin") as f:
        f.write(b"partial")
        raise RuntimeError("stop")
    assert _entries(tmp_path) == []
