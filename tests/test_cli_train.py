"""`ownnet train` and `ownnet test` end to end on a small IDX folder."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import floor_for_data

from ownnet import __version__
from ownnet.cli import main
from ownnet.io import load_model


def test_help_and_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"ownnet {__version__}"
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--hidden", "--lr", "--epochs", "--seed", "--data", "--out"):
        assert flag in out


def test_console_script_runs():
    result = subprocess.run(
        [sys.executable, "-m", "ownnet", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "train" in result.stdout and "test" in result.stdout


def test_train_then_test(small_mnist_dir, tmp_path, capsys):
    out = tmp_path / "model.npz"
    code = main(
        [
            "train",
            "--data",
            str(small_mnist_dir),
            "--hidden",
            "40",
            "--epochs",
            "2",
            "--seed",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert f"data: mnist: {small_mnist_dir} (idx), 3000 train and 500 test images" in text
    assert "classic network 784-40-10, sigmoid, lr 0.1, 2 epochs, 3000 training samples" in text
    assert "Epoch 1/2" in text and "Epoch 2/2" in text and text.count("val_acc: ") == 2
    assert "peak memory" in text and f"saved {out}" in text
    model, meta = load_model(out)
    assert model.wih.shape == (40, 784)
    assert meta["seed"] == 3 and meta["training"]["epochs"] == 2
    assert len(meta["dataset"]["checksum"]) == 64
    # measured 0.902 on real MNIST, 1.0 on the stand-in digits
    assert meta["test_accuracy"] >= floor_for_data(real=0.88, synthetic=0.97)
    assert meta["history"]["val_accuracy"][-1] == meta["test_accuracy"]

    assert main(["test", str(out), "--data", str(small_mnist_dir)]) == 0
    report = capsys.readouterr().out
    acc_line = next(line for line in report.splitlines() if line.startswith("accuracy:"))
    assert float(acc_line.split()[1]) == pytest.approx(meta["test_accuracy"], abs=1e-4)
    assert "accuracy per digit" in report and "true\\pred" in report
    rows = [line for line in report.splitlines() if line[:1].isdigit() and len(line.split()) == 11]
    assert len(rows) == 10
    counts = np.array([[int(v) for v in row.split()[1:]] for row in rows])
    assert counts.sum() == 500


def test_same_seed_same_model(small_mnist_dir, tmp_path):
    paths = []
    for name in ("a.npz", "b.npz"):
        paths.append(tmp_path / name)
        args = ["train", "--data", str(small_mnist_dir), "--hidden", "8", "--epochs", "1"]
        assert main([*args, "--out", str(paths[-1]), "--quiet"]) == 0
    a, _ = load_model(paths[0])
    b, _ = load_model(paths[1])
    np.testing.assert_array_equal(a.wih, b.wih)


def test_test_reports_bad_model_file(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a model")
    assert main(["test", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.npz" in err and "Traceback" not in err
