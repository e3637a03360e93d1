"""`ownnet predict [MODEL] IMAGE...` and `ownnet inspect samples`."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ownnet.classic import Network as Classic
from ownnet.cli import main
from ownnet.cli.predict import STEP_SWITCHES
from ownnet.data.images import Options
from ownnet.io import save_model


@pytest.fixture(scope="module")
def model_file(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book's network trained for one epoch on 10,000 MNIST images, saved."""
    from ownnet.data.mnist import load_mnist

    net = Classic(seed=0)
    net.fit(load_mnist(mnist_dir, progress=False).train.subset(10_000), epochs=1, verbose=0)
    return save_model(tmp_path_factory.mktemp("model") / "m.npz", net)


def draw_one(path: Path, dark_on_light: bool) -> Path:
    """A tall stroke (a 1) on a 120x90 picture."""
    a = np.full((120, 90), 240 if dark_on_light else 10, np.uint8)
    a[20:100, 42:50] = 15 if dark_on_light else 250
    Image.fromarray(a).save(path)
    return path


def draw_number(path: Path, text: str = "1717") -> Path:
    """``text`` of 1s and 7s in a pen 9 px wide, spaced, dark on light."""
    im = Image.new("L", (60 + 70 * len(text), 160), 235)
    draw = ImageDraw.Draw(im)
    for i, c in enumerate(text):
        x = 40 + 70 * i
        if c == "1":
            draw.line([(x + 25, 30), (x + 25, 130)], fill=20, width=9)
        else:
            draw.line([(x, 32), (x + 45, 32), (x + 15, 130)], fill=20, width=9, joint="curve")
    im.save(path)
    return path


def test_predict_prints_digit_confidence_and_top3(model_file: Path, tmp_path: Path, capsys) -> None:
    a = draw_one(tmp_path / "a.png", True)
    b = draw_one(tmp_path / "b.png", False)
    assert main(["predict", str(model_file), str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"model: {model_file} (classic)")
    for line in out[1:3]:
        assert "digit 1  confidence 0." in line and "(top: 1 0." in line
        assert line.count(",") == 2  # three digits listed
    assert out[3].startswith("confidence: sigmoid outputs divided by their sum")


def test_a_number_is_read_left_to_right_with_json(model_file: Path, tmp_path: Path, capsys) -> None:
    number = draw_number(tmp_path / "n.png", "17717")
    one = draw_one(tmp_path / "one.png", True)
    assert main(["predict", str(model_file), str(number), str(one), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["file"] for d in lines] == [str(number), str(one)]
    first = lines[0]
    assert len(first["number"]) == 5 and first["number"] == "".join(
        str(d["digit"]) for d in first["digits"]
    )
    boxes = [d["box"] for d in first["digits"]]
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)  # left to right
    assert all(30 <= b[0] and b[2] <= 420 and 20 <= b[1] < b[3] <= 140 for b in boxes)
    for d in first["digits"]:
        assert len(d["top3"]) == 3 and d["top3"][0][0] == d["digit"] and 0 < d["confidence"] <= 1
    assert lines[1]["number"] == "1" and isinstance(lines[1]["warnings"], list)


def test_every_preparation_step_has_a_switch(model_file: Path, tmp_path: Path, capsys) -> None:
    assert sorted(STEP_SWITCHES.values()) == sorted(f.name for f in dataclasses.fields(Options))
    im = Image.new("L", (160, 200), 235)  # a 2 in a font's style: bold curve, hairline base
    draw = ImageDraw.Draw(im)
    curve = [(40, 70), (55, 40), (90, 35), (115, 60), (100, 100), (40, 160)]
    draw.line(curve, fill=20, width=14, joint="curve")
    draw.line([(40, 160), (125, 160)], fill=20, width=1)
    im.save(tmp_path / "two.png")
    tops = []
    for extra in ([], ["--no-hairlines"]):
        assert main(["predict", str(model_file), str(tmp_path / "two.png"), "--json", *extra]) == 0
        tops.append(json.loads(capsys.readouterr().out)["digits"][0]["top3"])
    assert tops[0] != tops[1]  # the switch reaches the preparation


def test_expected_count_and_warnings(model_file: Path, tmp_path: Path, capsys) -> None:
    number = draw_number(tmp_path / "n.png", "171")
    assert main(["predict", str(model_file), str(number), "--digits", "4", "--json"]) == 0
    captured = capsys.readouterr()
    reading = json.loads(captured.out)
    assert any("found 3 digits, fewer than the 4 expected" in w for w in reading["warnings"])
    assert main(["predict", str(model_file), str(number), "--digits", "4"]) == 0
    assert "n.png: warning: found 3 digits" in capsys.readouterr().err


def test_show_saves_boxes_steps_and_inputs(model_file: Path, tmp_path: Path, capsys) -> None:
    a = draw_one(tmp_path / "a.png", True)
    (tmp_path / "sub").mkdir()
    a2 = draw_one(tmp_path / "sub" / "a.png", False)  # the same name twice
    n = draw_number(tmp_path / "n.png", "17")
    show = tmp_path / "show"
    assert main(["predict", str(model_file), str(a), str(a2), str(n), "--show", str(show)]) == 0
    names = sorted(p.name for p in show.iterdir())
    assert names == sorted([
        "a.28x28.png", "a.png", "a.steps.png", "a-2.28x28.png", "a-2.png", "a-2.steps.png",
        "n.1.28x28.png", "n.2.28x28.png", "n.png", "n.steps.png", "predictions.png",
    ])  # fmt: skip
    prepared = np.asarray(Image.open(show / "a.28x28.png"))
    assert prepared.shape == (28, 28) and prepared.max() == 255 and prepared[0].max() == 0
    boxed = np.asarray(Image.open(show / "n.png").convert("RGB")).astype(int)
    assert ((boxed[..., 1] - boxed[..., 0]) > 80).any()  # green boxes drawn
    # --as-is reads those 28x28 files back unchanged and gives the same answer
    capsys.readouterr()
    assert main(["predict", str(model_file), str(show / "a.28x28.png"), "--as-is"]) == 0
    assert "digit 1" in capsys.readouterr().out


def test_bad_files_are_named_and_the_rest_still_read(
    model_file: Path, tmp_path: Path, capsys
) -> None:
    good = draw_one(tmp_path / "good.png", True)
    text = tmp_path / "letter.png"
    text.write_text("Dear reader")
    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (50, 50), "white").save(blank)
    lab = tmp_path / "lab.tif"
    Image.merge("LAB", [Image.open(good)] + [Image.new("L", (90, 120), 128)] * 2).save(lab)
    code = main(["predict", str(model_file), str(text), str(good), str(blank), str(lab)])
    captured = capsys.readouterr()
    assert code == 1
    assert "letter.png: not an image file" in captured.err
    assert "blank.jpg: no ink found" in captured.err
    assert "Traceback" not in captured.err
    assert "3 of 4 images" not in captured.err and "2 of 4 images could not be read" in captured.err
    assert "good.png" in captured.out and "lab.tif" in captured.out


def test_folders_skip_links_and_nothing_is_written_outside_show(
    model_file: Path, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    draw_one(folder / "a.png", True)
    outside = draw_one(tmp_path / "secret.png", True)
    (folder / "link.png").symlink_to(outside)
    assert main(["predict", str(model_file), str(folder), "--json"]) == 0
    files = [json.loads(line)["file"] for line in capsys.readouterr().out.splitlines()]
    assert files == [str(folder / "a.png")]
    show = tmp_path / "show"
    (show / "x").mkdir(parents=True)
    (show / "a.png").symlink_to(outside)  # a link where --show writes: replaced, not followed
    before = outside.read_bytes()
    assert main(["predict", str(model_file), str(folder / "a.png"), "--show", str(show)]) == 0
    assert outside.read_bytes() == before
    written = {p.resolve().parent for p in show.rglob("*") if p.is_file()}
    assert written <= {show.resolve(), (show / "x").resolve()}


def test_without_a_model_the_reader_is_needed(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OWNNET_CACHE", str(tmp_path / "cache"))
    image = draw_one(tmp_path / "a.png", True)
    assert main(["predict", str(image)]) != 0
    err = capsys.readouterr().err
    assert "no reader trained yet" in err and "ownnet train --model reader" in err
    assert "Traceback" not in err


def test_folder_of_rendered_samples(model_file: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "samples"
    assert (
        main(["inspect", "samples", str(folder), "--count", "10", "--model", str(model_file)]) == 0
    )
    out = capsys.readouterr().out
    assert "wrote 10 images" in out and "reads " in out
    right = int(out.split("reads ")[1].split("/")[0])
    assert right >= 9
    assert main(["predict", str(model_file), str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()[1:-1]
    assert len(lines) == 10
    pairs = [re.search(r"-digit-(\d)\.\w+\s+digit (\d)", line).groups() for line in lines]
    assert sum(true == read for true, read in pairs) == right
