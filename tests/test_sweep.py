"""ownnet sweep: planning, seeds, the SQLite store, statistics, plots, executors, CLI.

The runs use a small data folder (3,000 train / 500 test images: the real MNIST
when $OWNNET_DATA is set, synthetic digits otherwise; see conftest) cut down
further with train_size/test_size, and tiny hidden layers, so each run takes a
fraction of a second.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image
from scipy import stats as sps

from ownnet.classic import Network
from ownnet.cli import main
from ownnet.data.augment import with_rotations
from ownnet.data.mnist import load_mnist
from ownnet.errors import OwnnetError
from ownnet.experiments.executors import ProcessExecutor, SerialExecutor
from ownnet.experiments.params import PARAMS, canonical, make_config
from ownnet.experiments.plots import plot, points
from ownnet.experiments.presets import PRESETS
from ownnet.experiments.runs import RunResult, derive_seed, execute_run, run_id
from ownnet.experiments.store import Store, StoreError
from ownnet.experiments.summary import Stats, format_table, summarize
from ownnet.experiments.sweep import Plan, parse_param, plan_runs, run_sweep

TINY = {"hidden": 8, "train_size": 600, "test_size": 200, "epochs": 2}


def fake_result(config: dict, repeat: int, accuracies: list[float], seconds: float = 1.0):
    return RunResult(
        run_id=run_id(config, repeat, "a" * 64, "b" * 64),
        config=config,
        repeat=repeat,
        seed=derive_seed(config, repeat),
        accuracies=accuracies,
        epoch_seconds=[seconds / len(accuracies)] * len(accuracies),
        seconds=seconds,
        train_checksum="a" * 64,
        test_checksum="b" * 64,
    )


# -- parameters, configs, seeds -------------------------------------------------------------
def test_parse_param_types_and_errors() -> None:
    assert parse_param("lr=0.01,0.1,.1") == ("lr", [0.01, 0.1])
    assert parse_param("hidden=5, 10") == ("hidden", [5, 10])
    assert parse_param("bias=yes,no") == ("bias", [True, False])
    assert parse_param("train-size=all,100") == ("train_size", [None, 100])
    assert parse_param("error_split=equal") == ("error_split", ["equal"])
    for bad, words in [
        ("lr", "NAME=VALUE"),
        ("speed=1", "unknown parameter 'speed'"),
        ("hidden=ten", "expected int, found 'ten'"),
        ("hidden=0", "at least 1"),
        ("lr=-0.1", "at least"),
        ("error_split=half", "expected one of transpose"),
        ("lr=nan", "finite"),
    ]:
        with pytest.raises(OwnnetError, match=words):
            parse_param(bad)


def test_config_is_complete_and_seed_depends_on_config_and_repeat() -> None:
    a = make_config(lr=0.1)
    assert set(a) == set(PARAMS)
    assert a == make_config()  # 0.1 is the default: the same run
    assert make_config(hidden=100.0)["hidden"] == 100 and make_config(lr=1)["lr"] == 1.0
    seeds = {derive_seed(make_config(lr=lr), r) for lr in (0.1, 0.2) for r in range(3)}
    # a parameter left at its default is not part of the identity: adding parameters
    # later keeps the seeds (and the stored runs) of existing configs
    assert canonical(make_config(hidden=50)) == '{"hidden":50}'
    assert canonical(make_config()) == "{}"
    assert len(seeds) == 6
    assert derive_seed(a, 0) == derive_seed(make_config(), 0)
    assert 0 <= derive_seed(a, 0) < 2**63
    with pytest.raises(OwnnetError, match="unknown parameter"):
        make_config(speed=3)
    # "auto" parameters take the model's own defaults, those of `ownnet train`
    mlp = make_config(model="mlp")
    assert (mlp["hidden"], mlp["layers"], mlp["optimizer"], mlp["lr"]) == (512, 2, "rmsprop", 0.001)
    assert make_config(model="mlp", optimizer="sgd")["lr"] == 0.1
    assert canonical(mlp) == '{"model":"mlp"}'


def test_plan_is_the_grid_product() -> None:
    plan = Plan(base={"hidden": 20}, grid={"lr": [0.1, 0.2, 0.3], "epochs": [1, 2]}, repeats=4)
    configs = plan.configs()
    assert len(configs) == 6
    assert {(c["lr"], c["epochs"]) for c in configs} == {
        (lr, e) for lr in (0.1, 0.2, 0.3) for e in (1, 2)
    }
    assert all(c["hidden"] == 20 for c in configs)
    assert plan.swept() == ["lr", "epochs"]
    with pytest.raises(OwnnetError, match="repeats"):
        Plan(repeats=0)


def test_presets_use_the_books_values() -> None:
    rot = PRESETS["book-rotation"].plan()
    (config,) = rot.configs()
    assert (config["hidden"], config["lr"], config["epochs"], config["rotate"]) == (
        200,
        0.01,
        10,
        10.0,
    )
    assert rot.repeats == 3
    assert config["init"] == "fan_out" and config["shuffle"] is None  # the printed book's code
    heur = PRESETS["heuristics"].plan().configs()
    assert sorted(c["error_split"] for c in heur) == sorted(PARAMS["error_split"].choices)
    assert PRESETS["heuristics"].summary_epochs == (1, 2, 5)
    assert {0.1, 0.2, 0.3, 0.6} <= {c["lr"] for c in PRESETS["book-lr"].plan().configs()}
    assert {5, 10, 100, 200, 500} <= {c["hidden"] for c in PRESETS["book-hidden"].plan().configs()}


# -- statistics ----------------------------------------------------------------------------
def test_stats_equal_scipy_t_interval() -> None:
    values = [0.91, 0.94, 0.925, 0.93, 0.95]
    s = Stats.of(values)
    low, high = sps.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sps.sem(values))
    assert s.n == 5
    assert s.mean == pytest.approx(np.mean(values), abs=1e-15)
    assert s.std == pytest.approx(np.std(values, ddof=1), abs=1e-15)
    assert (s.low, s.high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
    one = Stats.of([0.5])
    assert one.n == 1 and one.mean == 0.5 and math.isnan(one.std) and math.isnan(one.low)


def test_summary_groups_configs_and_epochs() -> None:
    a, b = make_config(lr=0.1, epochs=2), make_config(lr=0.3, epochs=2)
    runs = [
        fake_result(a, 0, [0.5, 0.8]),
        fake_result(a, 1, [0.6, 0.9]),
        fake_result(b, 0, [0.7, 0.7]),
    ]
    rows = summarize(runs)
    assert [(r.params, r.epoch, r.stats.n) for r in rows] == [
        ({"lr": 0.1}, 2, 2),
        ({"lr": 0.3}, 2, 1),
    ]
    assert rows[0].stats.mean == pytest.approx(0.85)
    rows = summarize(runs, epochs=[1, 2, 5])
    assert [(r.params["lr"], r.epoch) for r in rows] == [(0.1, 1), (0.1, 2), (0.3, 1), (0.3, 2)]
    assert rows[0].stats.mean == pytest.approx(0.55)
    table = format_table(rows)
    assert "mean %" in table and "55.00" in table and "95% interval" in table


# -- the store -----------------------------------------------------------------------------
def test_store_keeps_each_run_once(tmp_path: Path) -> None:
    config = make_config(**TINY)
    first = fake_result(config, 0, [0.5, 0.75], seconds=2.0)
    with Store(tmp_path / "s.db") as store:
        assert store.add(first) is True
        assert store.add(first) is False  # already there
        assert store.add(fake_result(config, 1, [0.4, 0.7])) is True
        assert len(store) == 2
        assert store.finished() == {first.run_id, fake_result(config, 1, [0]).run_id}
    with Store(tmp_path / "s.db", create=False) as store:
        (back,) = store.runs([first.run_id])
    assert back.config == config and back.accuracies == [0.5, 0.75]
    assert back.seed == first.seed and back.seconds == 2.0
    assert back.ownnet_version == first.ownnet_version and back.train_checksum == "a" * 64
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute("SELECT COUNT(*) FROM epochs").fetchone() == (4,)
    assert db.execute("SELECT MAX(epoch) FROM epochs").fetchone() == (2,)


def test_store_refuses_a_foreign_file(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("this is not SQLite\n" * 100)
    with pytest.raises(StoreError, match="notes.db: expected an SQLite sweep store"):
        Store(bad)
    with pytest.raises(StoreError, match="no such sweep store"):
        Store(tmp_path / "missing.db", create=False)


# -- runs ----------------------------------------------------------------------------------
def test_a_run_is_the_classic_network_trained_with_its_seed(small_mnist_dir: Path) -> None:
    plan = Plan(base={**TINY, "rotate": 10.0, "shuffle": True}, repeats=1)
    (spec,) = plan_runs(plan, str(small_mnist_dir))
    result = execute_run(spec)
    # The same thing by hand, from the seed, with the classic network and the book's rotations.
    splits = load_mnist(small_mnist_dir, progress=False)
    train, test = splits.train.subset(600), splits.test.subset(200)
    init, order, _ = np.random.SeedSequence(spec.seed).spawn(3)
    net = Network(784, 8, 10, 0.1, seed=np.random.default_rng(init))
    history = net.fit(
        with_rotations(train, 10.0),
        epochs=2,
        validation_data=test,
        shuffle=True,
        seed=np.random.default_rng(order),
        verbose=0,
    )
    assert result.accuracies == history["val_accuracy"]
    assert result.train_checksum == train.checksum() and result.test_checksum == test.checksum()
    assert execute_run(spec).accuracies == result.accuracies  # deterministic


def test_an_mlp_run_trained_epoch_by_epoch_equals_one_fit(small_mnist_dir: Path) -> None:
    from ownnet.nn.network import Network as Engine
    from ownnet.nn.optimizers import Adam

    config = {**TINY, "model": "mlp", "layers": 1, "optimizer": "adam", "lr": 0.01}
    (spec,) = plan_runs(Plan(base=config), str(small_mnist_dir))
    result = execute_run(spec)
    splits = load_mnist(small_mnist_dir, progress=False)
    train, test = splits.train.subset(600), splits.test.subset(200)
    init, order, _ = np.random.SeedSequence(spec.seed).spawn(3)
    net = Engine.mlp((8,), dropout=0.2, seed=np.random.default_rng(init))
    history = net.fit(
        train,
        epochs=2,
        batch_size=128,
        optimizer=Adam(0.01),
        validation_data=test,
        shuffle=True,
        seed=np.random.default_rng(order),
        verbose=0,
    )
    assert result.accuracies == history["val_accuracy"]
    with pytest.raises(OwnnetError, match="error_split applies to model classic only"):
        make_config(model="mlp", error_split="equal")
    with pytest.raises(OwnnetError, match="optimizer applies to model mlp only"):
        make_config(optimizer="adam")


def test_fan_out_init_is_the_printed_books() -> None:
    from ownnet.config import from_config
    from ownnet.experiments.params import model_config

    net = from_config(model_config(make_config(init="fan_out")), seed=0)
    assert net.wih.shape == (200, 784) and net.who.shape == (10, 200)
    # pow(hnodes, -0.5) and pow(onodes, -0.5): 0.0707 and 0.316 (fan_in: 0.0357 and 0.0707)
    assert net.wih.std() == pytest.approx(200**-0.5, rel=0.01)
    assert net.who.std() == pytest.approx(10**-0.5, rel=0.1)
    default = from_config(model_config(make_config()), seed=0)
    assert default.wih.std() == pytest.approx(784**-0.5, rel=0.01)


def test_runs_refuse_other_data(small_mnist_dir: Path) -> None:
    (spec,) = plan_runs(Plan(base=TINY), str(small_mnist_dir))
    other = type(spec)(**{**spec.__dict__, "train_checksum": "0" * 64})
    with pytest.raises(OwnnetError, match="differ from the data the sweep was planned on"):
        execute_run(other)


def test_random_augmentation_changes_with_the_seed_only(small_mnist_dir: Path) -> None:
    plan = Plan(base={**TINY, "random_rotate": 10.0, "random_shift": 1}, repeats=2)
    a, b = plan_runs(plan, str(small_mnist_dir))
    first = execute_run(a).accuracies
    assert execute_run(a).accuracies == first  # the same seed draws the same pictures
    assert a.seed != b.seed and execute_run(b).accuracies != first
    # the same seed without the random pictures trains on other images: other numbers
    (plain,) = plan_runs(Plan(base=TINY), str(small_mnist_dir))
    plain = type(plain)(**{**plain.__dict__, "seed": a.seed})
    assert execute_run(plain).accuracies != first


def test_processes_give_the_serial_numbers(small_mnist_dir: Path, tmp_path: Path) -> None:
    plan = Plan(base=TINY, grid={"lr": [0.1, 0.3]}, repeats=2)
    specs = plan_runs(plan, str(small_mnist_dir))
    with SerialExecutor() as ex:
        serial = {r.run_id: r.accuracies for r in ex.map(specs)}
    with ProcessExecutor(2) as ex:
        results = list(ex.map(specs))
        workers = set(ex._pool._processes)
    assert {r.run_id: r.accuracies for r in results} == serial
    # really other processes, the pool's two (on a busy machine one may take every run)
    assert len(workers) == 2 and {r.pid for r in results} <= workers
    assert os.getpid() not in workers
    assert len(set(map(tuple, serial.values()))) >= 2  # the runs differ (synthetic data may
    assert len({s.seed for s in specs}) == 4  # let two of them reach 100%)


def test_run_sweep_skips_finished_runs(small_mnist_dir: Path, tmp_path: Path) -> None:
    specs = plan_runs(Plan(base=TINY, grid={"lr": [0.1, 0.3]}, repeats=2), str(small_mnist_dir))
    with Store(tmp_path / "s.db") as store, SerialExecutor() as ex:
        first = run_sweep(specs[:3], store, ex, progress=False)
        second = run_sweep(specs, store, ex, progress=False)
        assert (first.ran, first.skipped) == (3, 0)
        assert (second.ran, second.skipped) == (1, 3)
        assert store.finished() == {s.run_id for s in specs}


def test_a_failing_run_stops_the_sweep_and_keeps_finished_runs(
    small_mnist_dir: Path, tmp_path: Path
) -> None:
    specs = plan_runs(Plan(base=TINY, grid={"lr": [0.1, 0.2, 0.3]}), str(small_mnist_dir))
    broken = type(specs[1])(**{**specs[1].__dict__, "test_checksum": "0" * 64})
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(OwnnetError, match="differ from the data"), SerialExecutor() as ex:
            run_sweep([specs[0], broken, specs[2]], store, ex, progress=False)
        assert store.finished() == {specs[0].run_id}
        with pytest.raises(OwnnetError, match="differ from the data"), ProcessExecutor(2) as ex:
            run_sweep([broken], store, ex, progress=False)
        assert len(store) == 1


# -- plots ---------------------------------------------------------------------------------
def test_plot_points_and_files(tmp_path: Path) -> None:
    runs = [
        fake_result(make_config(lr=lr, epochs=2, hidden=h), r, [0.5 + lr, 0.6 + lr + r / 100])
        for lr in (0.1, 0.2)
        for h in (10, 20)
        for r in range(3)
    ]
    pts = points(runs, "lr", "hidden")
    assert sorted(pts) == [10, 20] and sorted(pts[10]) == [0.1, 0.2]
    assert pts[10][0.2] == pytest.approx([0.8, 0.81, 0.82])
    h10 = [r for r in runs if r.config["hidden"] == 10]
    by_epoch = points(h10, "epoch", "lr")
    assert by_epoch[0.1][1] == pytest.approx([0.6, 0.6, 0.6])
    with pytest.raises(OwnnetError, match=r"differ in hidden \(10, 20\)"):
        points(runs, "lr")
    png = plot(runs, tmp_path / "lr.png", x="lr", hue="hidden")
    svg = plot(h10, tmp_path / "epochs.svg", x="epoch", hue="lr", logx=False, title="t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:2000]
    with pytest.raises(OwnnetError, match="expected a .png, .svg or .pdf"):
        plot(runs, tmp_path / "lr.txt", x="lr", hue="hidden")


# -- the command ---------------------------------------------------------------------------
def test_cli_sweep_resume_summary_and_plot(
    small_mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "sweeps.db"
    argv = [
        "sweep",
        "--param",
        "lr=0.1,0.3",
        "--param",
        "hidden=8",
        "--param",
        "epochs=2",
        "--train-size",
        "600",
        "--test-size",
        "200",
        "--repeats",
        "2",
        "--data",
        str(small_mnist_dir),
        "--db",
        str(db),
        "--quiet",
        "--plot",
        str(tmp_path / "lr.png"),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "4 runs (2 configs x 2 repeats); 0 finished before, 4 to run" in out
    assert "plot: ownnet sweep plot" in out
    assert Image.open(tmp_path / "lr.png").size[0] > 300
    lines = [line for line in out.splitlines() if line.strip().startswith(("0.1 ", "0.3 "))]
    assert len(lines) == 2 and all(" 2 " in line for line in lines)  # n = 2 per config
    assert main(argv) == 0
    assert "4 finished before, 0 to run" in capsys.readouterr().out
    with Store(db) as store:
        runs = store.runs()
    assert len(runs) == 4 and len({r.run_id for r in runs}) == 4
    assert main(["sweep", "summary", str(db), "--epochs", "1,2", "--where", "lr=0.3"]) == 0
    out = capsys.readouterr().out
    assert "2 runs" in out and len(out.strip().splitlines()) == 4  # title, header, 2 epochs
    svg = tmp_path / "by-epoch.svg"
    assert main(["sweep", "plot", str(db), "--x", "epoch", "--hue", "lr", "--out", str(svg)]) == 0
    root = ElementTree.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert main(["sweep", "plot", str(db), "--x", "speed"]) == 1
    assert "cannot plot by 'speed'" in capsys.readouterr().err


def test_cli_dry_run_and_bad_input(small_mnist_dir: Path, tmp_path: Path, capsys) -> None:
    db = tmp_path / "s.db"
    base = ["sweep", "--data", str(small_mnist_dir), "--db", str(db), "--train-size", "600"]
    assert main([*base, "--preset", "heuristics", "--repeats", "2", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "8 runs (4 configs x 2 repeats); 0 finished before, 8 would run" in out
    assert out.count('"error_split":"equal"') == 2 and not db.exists()
    assert main([*base, "--preset", "nope"]) == 1
    assert "expected one of book-lr" in capsys.readouterr().err
    assert main([*base, "--param", "hidden=-3"]) == 1
    assert "parameter hidden: expected at least 1, found -3" in capsys.readouterr().err
    assert main([*base, "--train-size", "100000"]) == 1
    assert "larger than the mnist train set" in capsys.readouterr().err
    assert not db.exists()  # nothing ran
    json.dumps(PRESETS["book-lr"].base)  # presets are plain data
