"""Reading each digit in five places (ownnet.shifts): the shifts, the mean, and who gets it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ownnet.classic import Network as Classic
from ownnet.cli import main
from ownnet.data.augment import transform
from ownnet.io import save_model
from ownnet.nn import Network
from ownnet.reading import probabilities, read
from ownnet.shifts import SHIFTS, helps, mean_over_shifts, with_shifts


def rolled(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The reference: np.roll, then the rows and columns that came round set to 0."""
    out = np.roll(images, (rows, cols), axis=(1, 2))
    if rows > 0:
        out[:, :rows] = 0
    elif rows < 0:
        out[:, rows:] = 0
    if cols > 0:
        out[:, :, :cols] = 0
    elif cols < 0:
        out[:, :, cols:] = 0
    return out


@pytest.mark.parametrize("rows, cols", [(0, 1), (0, -1), (1, 0), (-1, 0), (2, -3), (0, 0)])
def test_whole_pixel_shifts_move_ink_and_bring_in_blank(rows: int, cols: int) -> None:
    images = np.random.default_rng(0).integers(1, 256, (3, 28, 28), dtype=np.uint8)
    got = transform(images, 0.0, (rows, cols))
    assert got.dtype == np.uint8 and got.shape == images.shape
    np.testing.assert_array_equal(got, rolled(images, rows, cols))


def test_with_shifts_orders_copies_by_shift_and_the_mean_undoes_it() -> None:
    images = np.random.default_rng(1).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    copies = with_shifts(images)
    assert copies.shape == (len(SHIFTS) * 4, 28, 28)
    for k, (r, c) in enumerate(SHIFTS):
        np.testing.assert_array_equal(copies[4 * k : 4 * k + 4], transform(images, 0.0, (r, c)))
    values = np.arange(len(SHIFTS) * 4 * 10, dtype=np.float64).reshape(-1, 10)
    expected = np.mean([values[4 * k : 4 * k + 4] for k in range(len(SHIFTS))], axis=0)
    np.testing.assert_allclose(mean_over_shifts(values, 4), expected)


def test_probabilities_with_shifts_are_the_mean_of_five_readings() -> None:
    net = Classic(seed=3)
    images = np.random.default_rng(2).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    got, meaning = probabilities(net, images, shifts=True)
    one_by_one = [probabilities(net, transform(images, 0.0, (r, c)))[0] for r, c in SHIFTS]
    np.testing.assert_allclose(got, np.mean(one_by_one, axis=0), rtol=1e-12)
    assert meaning == probabilities(net, images)[1]
    assert not np.allclose(got, one_by_one[0])  # the shifted copies do count


def test_networks_without_convolutions_read_in_five_places() -> None:
    assert helps(Classic(seed=0))
    assert helps(Network.mlp((16,), seed=0))
    assert not helps(Network.cnn(filters=(2,), dense=(8,), seed=0))
    assert helps(object())  # no layers: nothing slides over the image


def counting(net):
    """``net`` with its ``predict_proba`` counting the images it is given."""
    seen: list[int] = []
    inner = net.predict_proba

    def predict_proba(images):
        seen.append(len(images))
        return inner(images)

    net.predict_proba = predict_proba
    return net, seen


def one_stroke() -> np.ndarray:
    a = np.full((120, 90), 240, np.uint8)
    a[20:100, 42:50] = 15
    return a


def test_read_shifts_by_default_only_for_networks_without_convolutions() -> None:
    book, seen = counting(Classic(seed=0))
    read(book, one_stroke())
    assert seen == [len(SHIFTS)]
    read(book, one_stroke(), shifts=False)
    assert seen[-1] == 1
    cnn, seen = counting(Network.cnn(filters=(2,), dense=(8,), seed=0))
    read(cnn, one_stroke())
    assert seen == [1]
    read(cnn, one_stroke(), shifts=True)
    assert seen[-1] == len(SHIFTS)


def test_predict_no_shifts_reads_once(tmp_path: Path, capsys) -> None:
    net = Classic(seed=5)
    net.wih *= 40  # sharp outputs, so that where the stroke sits shows in the confidence
    net.who *= 40
    path = save_model(tmp_path / "m.npz", net)
    image = tmp_path / "one.png"
    Image.fromarray(one_stroke()).save(image)
    found = {}
    for flag in ([], ["--no-shifts"]):
        assert main(["predict", str(path), str(image), "--json", *flag]) == 0
        found[bool(flag)] = json.loads(capsys.readouterr().out)["digits"][0]
    prepared = read(net, image).digits[0].image[None]
    for once, shifts in ((False, True), (True, False)):
        expected = probabilities(net, prepared, shifts=shifts)[0][0]
        assert found[once]["confidence"] == pytest.approx(expected.max(), abs=6e-5)
    assert abs(found[True]["confidence"] - found[False]["confidence"]) > 1e-3
