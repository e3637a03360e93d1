"""The robustness probe (benchmarks/robustness.py), quick, on the IDX files and the web API:
every input gets the boundary's own answer (no traceback, no 5xx, no hang), the valid
inputs among them are accepted, and the class lines say what was tried."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "benchmarks" / "robustness.py"


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    pytest.importorskip("fastapi", reason="needs the web extra: pip install 'ownnet[web]'")
    pytest.importorskip("multipart", reason="needs the web extra: pip install 'ownnet[web]'")
    repro = tmp_path_factory.mktemp("repro")
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    argv = [sys.executable, str(PROBE), "--quick", "--classes", "idx,web"]
    done = subprocess.run(
        [*argv, "--repro-dir", str(repro)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {line["class"]: line for line in out}


@pytest.mark.parametrize("cls", ["idx", "web"])
def test_quick_probe_finds_no_traceback_5xx_or_hang(lines: dict[str, dict], cls: str) -> None:
    line = lines[cls]
    assert line["inputs"] == 40  # --quick: 40 inputs per class
    assert line["traceback"] == 0 and line["hang"] == 0 and line["unclear_error"] == 0, line
    assert line.get("http_5xx", 0) == 0, line
    assert "valid_inputs_refused" not in line and "probe_errors" not in line, line
    assert line["clean_error"] > line["accepted"] > 0, line  # hostile, with valid ones among them
    assert line["clean_error"] + line["accepted"] == line["inputs"]
    assert line["peak_rss_mb"] >= line["base_rss_mb"] > 0
