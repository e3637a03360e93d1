"""`ownnet train --model mlp`, `--checkpoint`/`--resume` and `ownnet test` on a small IDX folder."""

from __future__ import annotations

import re

import pytest
from conftest import assert_same_run, floor_for_data

from ownnet.cli import main
from ownnet.io import load_model
from ownnet.nn import Network

# Tiny matrices: BLAS threads only cost time (and much more of it on busy cores).
pytestmark = pytest.mark.usefixtures("one_blas_thread")


def train(data, out, *extra):
    return main(
        [
            "train",
            "--model",
            "mlp",
            "--data",
            str(data),
            "--layers",
            "32",
            "--batch-size",
            "100",
            "--seed",
            "2",
            "--out",
            str(out),
            *extra,
        ]
    )


def test_train_mlp_then_test(small_mnist_dir, tmp_path, capsys):
    out = tmp_path / "mlp.npz"
    assert train(small_mnist_dir, out, "--epochs", "2") == 0
    text = capsys.readouterr().out
    assert "matrix engine 784-32-10, relu, dropout 0.2" in text
    assert re.search(
        r"^3000/3000 \[={30}\] - \d+\.\ds - loss: [\d.]+ - acc: [\d.]+ - val_loss: [\d.]+ "
        r"- val_acc: [\d.]+ - [\d,]+ samples/s$",
        text,
        re.M,
    ), text
    model, meta = load_model(out)
    assert isinstance(model, Network) and meta["kind"] == "nn"
    assert meta["training"]["optimizer"] == "rmsprop" and meta["training"]["lr"] == 0.001
    assert meta["config"]["optimizer"]["name"] == "rmsprop"
    assert meta["seed"] == 2 and len(meta["dataset"]["checksum"]) == 64
    # measured 0.816 on real MNIST, 1.0 on the stand-in digits
    assert meta["test_accuracy"] >= floor_for_data(real=0.79, synthetic=0.97)
    assert len(meta["history"]["val_accuracy"]) == 2

    assert main(["test", str(out), "--data", str(small_mnist_dir)]) == 0
    report = capsys.readouterr().out
    acc = float(next(x for x in report.splitlines() if x.startswith("accuracy:")).split()[1])
    assert acc == pytest.approx(meta["test_accuracy"], abs=1e-4)


def test_checkpoint_and_resume_continue_the_same_run(small_mnist_dir, tmp_path, capsys):
    straight, part = tmp_path / "straight.npz", tmp_path / "part.npz"
    ck = tmp_path / "ck.npz"
    opts = ("--quiet", "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.05")
    assert train(small_mnist_dir, straight, "--epochs", "3", *opts) == 0
    assert train(small_mnist_dir, part, "--epochs", "1", "--checkpoint", str(ck), *opts) == 0
    # the first run was for 1 epoch: resuming with --epochs 3 continues it to 3
    assert (
        main(
            [
                "train",
                "--model",
                "mlp",
                "--data",
                str(small_mnist_dir),
                "--resume",
                str(ck),
                "--epochs",
                "3",
                "--out",
                str(part),
                "--quiet",
            ]
        )
        == 0
    )
    assert_same_run(straight, part)
    assert load_model(ck)[1]["checkpoint"]["epoch"] == 3


def test_early_stopping_holds_out_a_split_and_bad_options_are_reported(
    small_mnist_dir, tmp_path, capsys
):
    out = tmp_path / "es.npz"
    assert train(small_mnist_dir, out, "--epochs", "1", "--early-stopping", "2", "--quiet") == 0
    meta = load_model(out)[1]
    assert meta["training"]["validation"] == "split 0.1"
    assert meta["history"]["samples"] == [2700.0]
    capsys.readouterr()
    assert train(small_mnist_dir, out, "--layers", "32,x") == 2
    err = capsys.readouterr().err
    assert "argument --layers: expected sizes like 512,512, found '32,x'" in err
    assert len(err.strip().splitlines()) == 1
    assert train(small_mnist_dir, out, "--schedule", "linear") == 1
    assert "schedule: expected constant" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--model",
                "mlp",
                "--resume",
                str(tmp_path / "none.npz"),
                "--data",
                str(small_mnist_dir),
                "--out",
                str(out),
            ]
        )
        == 1
    )
    assert "none.npz: no such model file" in capsys.readouterr().err
