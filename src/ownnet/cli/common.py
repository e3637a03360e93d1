"""What several commands share: the data and model arguments, checked number types, and
an output file checked before any long work starts.

Every numeric option is checked by the parser (:func:`positive_int`,
:func:`finite_float`...), so a bad value is one line naming the option, what was
expected and what was found, before anything runs.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ownnet.data.mnist import load_mnist
from ownnet.errors import OwnnetError
from ownnet.io import load

DATASETS = ("mnist", "fashion-mnist")


# -- checked types -----------------------------------------------------------------------
def _number(kind: type, text: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        word = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {word}, found {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, found {text!r}")
    return value


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in ``low..high``."""

    def parse(text: str) -> int:
        value = _number(int, text)
        if value < low or (high is not None and value > high):
            span = f"{low}..{high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"expected a whole number {span}, found {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def float_range(
    low: float, high: float | None = None, *, open_low: bool = False, open_high: bool = False
) -> Callable[[str], float]:
    """An argparse type: a finite number in ``low..high`` (ends open where asked)."""

    def parse(text: str) -> float:
        value = _number(float, text)
        too_low = value <= low if open_low else value < low
        too_high = high is not None and (value >= high if open_high else value > high)
        if too_low or too_high:
            left = f"> {low:g}" if open_low else f">= {low:g}"
            right = (
                "" if high is None else (f" and < {high:g}" if open_high else f" and <= {high:g}")
            )
            raise argparse.ArgumentTypeError(f"expected a number {left}{right}, found {text}")
        return value

    parse.__name__ = "number"
    return parse


positive_int = int_range(1)
nonneg_int = int_range(0)
positive_float = float_range(0.0, open_low=True)
nonneg_float = float_range(0.0)
fraction = float_range(0.0, 1.0, open_low=True, open_high=True)
dropout_rate = float_range(0.0, 1.0, open_high=True)
degrees = float_range(0.0, 180.0)


def int_list(text: str) -> list[int]:
    """An argparse type: sizes such as ``512,512`` (``""``: none), each a whole number >= 1."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 512,512, found {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"expected sizes >= 1, found {text!r}")
    return sizes


# -- data ---------------------------------------------------------------------------------
def add_data_options(parser: Any, *, name_default: str | None = "mnist", what: str = "") -> None:
    """``--data DIR`` and ``--name mnist|fashion-mnist`` (``name_default`` None: the model's)."""
    parser.add_argument(
        "--data",
        metavar="DIR",
        help=f"folder with the dataset files{what} (default: "
        "$OWNNET_DATA, else the cache, downloading MNIST there the first time)",
    )
    default = f"default: {name_default}" if name_default else "default: the model's dataset"
    parser.add_argument(
        "--name", choices=DATASETS, default=name_default, help=f"which dataset ({default})"
    )


def load_data(data_dir: str | None, name: str, *, progress: bool = True, say: bool = True) -> Any:
    """The train and test splits of dataset ``name``, found as ``ownnet data info`` shows;
    prints which dataset and folder were used."""

    splits = load_mnist(data_dir, name, progress=progress)
    if say:
        print(f"data: {describe_source(splits)}", flush=True)
    return splits


def describe_source(splits: Any) -> str:
    """``mnist: <folder> (idx), 60000 train and 10000 test images``: what was read."""
    return f"{splits.describe()}, {len(splits.train)} train and {len(splits.test)} test images"


# -- models -------------------------------------------------------------------------------
def add_model_argument(parser: Any, *, optional: bool = False) -> None:
    """The positional ``MODEL`` file argument."""
    parser.add_argument(
        "model",
        metavar="MODEL",
        nargs="?" if optional else None,
        help="model file written by `ownnet train` (any kind)",
    )


def load_model(path: str) -> Any:
    """The model in ``path`` (``model.meta`` holds its metadata)."""

    return load(path)


# -- outputs ------------------------------------------------------------------------------
def check_writable(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Fail now, not after an hour of training, if ``path`` cannot be written."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.exists() and target.is_dir():
        raise OwnnetError(f"{option} {target}: expected a file name, found a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{target.name}.", suffix=".check"):
            pass
    except OSError as exc:
        raise OwnnetError(
            f"{option} {target}: cannot write in {folder}: {exc.strerror or exc}"
        ) from None
    return target
