"""`ownnet predict MODEL IMAGE...` and `ownnet inspect samples`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ownnet.classic import Network as Classic
from ownnet.cli import main
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


def test_predict_prints_digit_confidence_and_top3(model_file: Path, tmp_path: Path, capsys) -> None:
    a = draw_one(tmp_path / "a.png", True)
    b = draw_one(tmp_path / "b.png", False)
    assert main(["predict", str(model_file), str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "confidence: sigmoid outputs divided by their sum" in out[0]
    for line in out[1:]:
        assert "digit 1  confidence 0." in line and "(top: 1 0." in line
        assert line.count(",") == 2  # three digits listed


def test_show_saves_the_prepared_inputs(model_file: Path, tmp_path: Path, capsys) -> None:
    a = draw_one(tmp_path / "a.png", True)
    (tmp_path / "sub").mkdir()
    a2 = draw_one(tmp_path / "sub" / "a.png", False)  # the same name twice
    show = tmp_path / "show"
    assert main(["predict", str(model_file), str(a), str(a2), "--show", str(show)]) == 0
    names = sorted(p.name for p in show.iterdir())
    assert names == ["a-2.28x28.png", "a.28x28.png", "predictions.png"]
    prepared = np.asarray(Image.open(show / "a.28x28.png"))
    assert prepared.shape == (28, 28) and prepared.max() == 255 and prepared[0].max() == 0
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
    code = main(["predict", str(model_file), str(good), str(text), str(blank)])
    captured = capsys.readouterr()
    assert code == 1
    assert "letter.png: not an image file" in captured.err
    assert "blank.jpg: no ink found" in captured.err
    assert "Traceback" not in captured.err
    assert "good.png" in captured.out and "digit 1" in captured.out


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
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) == 10
    pairs = [re.search(r"-digit-(\d)\.\w+\s+digit (\d)", line).groups() for line in lines]
    assert sum(true == read for true, read in pairs) == right
