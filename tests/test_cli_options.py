"""Every bad option of `ownnet train` is one line before anything runs; a run that cannot
succeed stops with advice and saves nothing."""

from __future__ import annotations

import pytest

from ownnet.cli import main

BAD = [
    (["--lr", "0"], "argument --lr: expected a number > 0, found 0"),
    (["--lr", "-1"], "argument --lr: expected a number > 0, found -1"),
    (["--lr", "nan"], "argument --lr: expected a finite number, found 'nan'"),
    (["--lr", "inf"], "argument --lr: expected a finite number, found 'inf'"),
    (["--hidden", "0"], "argument --hidden: expected a whole number 1..1000000, found 0"),
    (["--hidden", "100000000"], "expected a whole number 1..1000000, found 100000000"),
    (["--epochs", "0"], "argument --epochs: expected a whole number >= 1, found 0"),
    (["--epochs", "-3"], "argument --epochs: expected a whole number >= 1, found -3"),
    (["--seed", "-1"], "argument --seed: expected a whole number >= 0, found -1"),
    (["--rotate", "nan"], "argument --rotate: expected a finite number, found 'nan'"),
    (["--model", "mlp", "--max-angle", "nan"], "argument --max-angle: expected a finite number"),
    (["--model", "mlp", "--max-shift", "1000"], "expected a whole number 0..8, found 1000"),
    (["--model", "mlp", "--dropout", "1"], "argument --dropout: expected a number >= 0 and < 1"),
    (["--model", "mlp", "--layers", "32,x"], "expected sizes like 512,512, found '32,x'"),
    (["--model", "mlp", "--batch-size", "0"], "argument --batch-size: expected a whole number"),
    (["--model", "mlp", "--val-split", "1.5"], "argument --val-split: expected a number > 0"),
    (["--epochs", "two"], "argument --epochs: expected a whole number, found 'two'"),
    # found by benchmarks/robustness.py: a BLAS thread count that overflows C's int
    (["--threads", "99999999999999999999"], "argument --threads: expected a whole number 1..1024"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_options_are_one_line_before_anything_runs(args, message, tmp_path, capsys):
    out = tmp_path / "model.npz"
    assert main(["train", *args, "--data", str(tmp_path / "none"), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err
    assert lines[0].startswith("ownnet train: error:") and lines[0].endswith("--help)")
    assert captured.out == "" and not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "mlp", "--layers", "100000000"], "parameters and would need about"),
        (
            ["--model", "cnn", "--filters", "1000000"],
            "the limit is 8 GiB (set $OWNNET_MAX_MODEL_GIB",
        ),
        (
            ["--model", "mlp", "--hidden", "5"],
            "--hidden is an option of --model classic, not of mlp",
        ),
        (
            ["--bias", "--val-split", "0.1"],
            "--val-split is an option of --model mlp, cnn or reader",
        ),
    ],
)
def test_impossible_settings_are_refused_before_the_data_is_read(args, message, tmp_path, capsys):
    # no data folder exists here: the refusal must come first
    assert main(["train", *args, "--data", str(tmp_path / "none"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_an_output_that_cannot_be_written_fails_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["train", "--out", str(blocker / "model.npz"), "--data", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert f"--out {blocker / 'model.npz'}: cannot write in {blocker}" in captured.err
    assert "Epoch" not in captured.out and "data:" not in captured.out


def test_a_run_that_learns_nothing_is_not_saved(small_mnist_dir, tmp_path, capsys):
    out = tmp_path / "model.npz"
    code = main(["train", "--lr", "1000", "--hidden", "20", "--epochs", "1", "--quiet",
                 "--data", str(small_mnist_dir), "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert "the test images" in err and "no better than guessing" in err
    assert "try a smaller learning rate, e.g. 100" in err


def test_a_diverging_engine_run_names_the_epoch_and_saves_nothing(
    small_mnist_dir, tmp_path, capsys, recwarn
):
    out = tmp_path / "model.npz"
    code = main(["train", "--model", "mlp", "--layers", "16", "--optimizer", "sgd",
                 "--lr", "1e30", "--epochs", "2", "--quiet", "--data", str(small_mnist_dir),
                 "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and not out.exists(), err
    assert "at epoch 1, batch" in err and "try a smaller learning rate" in err
    assert "Traceback" not in err
    # no NumPy warnings either, from any of the threads the batch is split over
    assert [str(w.message) for w in recwarn if w.category is RuntimeWarning] == []


def test_a_validation_split_of_no_samples_is_one_line(small_mnist_dir, tmp_path, capsys):
    code = main(["train", "--model", "mlp", "--layers", "8", "--val-split", "1e-320",
                 "--epochs", "1", "--quiet", "--data", str(small_mnist_dir),
                 "--out", str(tmp_path / "m.npz")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.strip().splitlines() == [
        "ownnet train: error: validation_split 1e-320 of 3000 samples leaves no validation "
        "or no training samples"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "99999999999999999999"], "argument --workers: expected a whole number"),
        (["--repeats", "99999999999999999999"], "argument --repeats: expected a whole number"),
        (["--param", "random_shift=99999999999999999999"], "random_shift: expected at most 13"),
        (["--param", "epochs=99999999999999999999"], "epochs: expected at most 10000"),
    ],
)
def test_sweep_counts_out_of_range_are_one_line(args, message, tmp_path, capsys):
    assert main(["sweep", *args, "--db", str(tmp_path / "s.db")]) in (1, 2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_a_sweep_of_a_network_too_large_is_refused_before_any_run(tmp_path, capsys):
    db = tmp_path / "s.db"
    huge = ["--param", "hidden=99999999999999999999", "--train-size", "100", "--test-size", "50"]
    code = main(["sweep", *huge, "--db", str(db), "--data", str(tmp_path / "none")])
    captured = capsys.readouterr()
    assert code == 1 and "the limit is 8 GiB" in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and not db.exists()
