"""The reader's evaluation set (benchmarks/reader_set.py): the same files from the same seed
and fonts, and a record of what they follow from."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import reader_set  # noqa: E402


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_same_seed_and_fonts_write_the_same_files(tmp_path: Path) -> None:
    for out in (tmp_path / "a", tmp_path / "b"):
        reader_set.make(out, "dev", n_digits=6, n_numbers=2, seed=3)
    a, b = files(tmp_path / "a" / "dev"), files(tmp_path / "b" / "dev")
    assert len(a) == 6 + 2 + 2  # the images, the manifest and made.json
    assert a == b
    rows = [json.loads(line) for line in a["manifest.jsonl"].decode().splitlines()]
    assert [r["kind"] for r in rows] == ["digit"] * 6 + ["number"] * 2
    assert all(r["file"] in a for r in rows)
    reader_set.make(tmp_path / "c", "dev", n_digits=6, n_numbers=2, seed=4)
    assert files(tmp_path / "c" / "dev") != a  # another seed, other files


def test_a_split_records_what_it_was_made_with(tmp_path: Path) -> None:
    reader_set.make(tmp_path, "holdout", n_digits=2, n_numbers=1, seed=5)
    recipe = reader_set.made(tmp_path / "holdout")
    assert recipe == reader_set.made_with("holdout", 2, 1, 5)
    assert recipe["fonts"] == reader_set.pens.available_fonts()[1::2]  # the dev split's
    # fonts are the others
    assert reader_set.made(tmp_path / "nowhere") is None
