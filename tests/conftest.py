"""Shared fixtures: the real MNIST (through $OWNNET_DATA) and small IDX folders."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file (gzip-compressed when the name ends in .gz)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def read_idx_gz(path: Path) -> np.ndarray:
    """Minimal independent IDX reader used to check the package's reader."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def real_mnist_dir() -> Path | None:
    """The folder of the real MNIST files named by $OWNNET_DATA, if it holds them."""
    env = os.environ.get("OWNNET_DATA")
    if not env:
        return None
    for d in (Path(env), Path(env) / "mnist"):
        if (d / IDX_NAMES["train_images"]).exists():
            return d
    return None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST folder; tests that need it skip when $OWNNET_DATA is not set."""
    d = real_mnist_dir()
    if d is None:
        pytest.skip("needs the real MNIST: set OWNNET_DATA to the folder with the IDX files")
    return d


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable fake digits: a fixed blob pattern per class plus noise, uint8 (n, 28, 28)."""
    rng = np.random.default_rng(1234)
    prototypes = (rng.random((10, 28, 28)) > 0.75) * 255
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    noise = rng.random((n, 28, 28)) < 0.1
    images = np.where(noise, 255 - prototypes[labels], prototypes[labels]).astype(np.uint8)
    return images, labels


@pytest.fixture(scope="session")
def small_mnist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of the four IDX .gz files: 3,000 train and 500 test images.

    Taken from the real MNIST when $OWNNET_DATA has it, else synthetic digits.
    """
    out = tmp_path_factory.mktemp("small-mnist")
    real = real_mnist_dir()
    if real is not None:
        parts = {k: read_idx_gz(real / v) for k, v in IDX_NAMES.items()}
        parts = {
            "train_images": parts["train_images"][:3000],
            "train_labels": parts["train_labels"][:3000],
            "test_images": parts["test_images"][:500],
            "test_labels": parts["test_labels"][:500],
        }
    else:
        tri, trl = synthetic_digits(3000, 1)
        tei, tel = synthetic_digits(500, 2)
        parts = {"train_images": tri, "train_labels": trl, "test_images": tei, "test_labels": tel}
    for key, array in parts.items():
        write_idx(out / IDX_NAMES[key], array)
    return out
