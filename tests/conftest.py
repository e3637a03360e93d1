"""Shared fixtures: the real MNIST (through $OWNNET_DATA) and small IDX folders."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from mnist_files import IDX_NAMES, real_dir, require_real, write_idx_dir
from threadpoolctl import threadpool_limits


def read_idx_gz(path: Path) -> np.ndarray:
    """Minimal independent IDX reader, to cut real files down in fixtures."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


@pytest.fixture()
def one_blas_thread():
    """BLAS on one thread for the test: on tiny matrices threads only add waiting."""
    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST folder; tests that need it skip when it is absent."""
    return require_real("mnist")


def assert_same_run(straight: Path, resumed: Path) -> None:
    """Two nn model files hold the same training: equal parameters, validation losses
    per epoch and test accuracy (a run resumed from a checkpoint against a straight one)."""
    from ownnet.io import load_model

    a, meta_a = load_model(straight)
    b, meta_b = load_model(resumed)
    for p, q in zip(a.params(), b.params(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    assert meta_b["history"]["val_loss"] == meta_a["history"]["val_loss"]
    assert meta_b["test_accuracy"] == meta_a["test_accuracy"]


def floor_for_data(real: float, synthetic: float) -> float:
    """The accuracy floor for a run on ``small_mnist_dir`` (or a fixture built the same
    way): ``real`` when it was cut from the real MNIST, ``synthetic`` when it holds the
    stand-in digits. Each sits a few points under what the code reaches on that data, so
    a wrong gradient or a learning rate far off falls below it."""
    return real if real_dir("mnist") is not None else synthetic


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

    Cut from the real MNIST when it is present, else synthetic digits.
    """
    real = real_dir("mnist")
    if real is not None:
        splits = {}
        for split, n in (("train", 3000), ("test", 500)):
            images, labels = (read_idx_gz(real / f"{stem}.gz") for stem in IDX_NAMES[split])
            splits[split] = (images[:n], labels[:n])
    else:
        splits = {"train": synthetic_digits(3000, 1), "test": synthetic_digits(500, 2)}
    return write_idx_dir(tmp_path_factory.mktemp("small-mnist"), splits)


def blocky_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fake digits a CNN can learn: per class a fixed coarse 7x7 pattern blown up to 28x28
    (shapes that survive pooling, small shifts and rotations, unlike pixel noise), with 5% of
    the pixels flipped. uint8 ``(n, 28, 28)`` and labels ``(n,)``."""
    coarse = np.random.default_rng(1234).random((10, 7, 7)) > 0.6
    prototypes = np.kron(coarse, np.ones((4, 4), bool))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    flip = rng.random((n, 28, 28)) < 0.05
    return (np.where(flip, ~prototypes[labels], prototypes[labels]) * 255).astype(np.uint8), labels


@pytest.fixture(scope="session")
def digits_dir(small_mnist_dir, tmp_path_factory):
    """3,000 + 500 real MNIST digits when they are around, else blocky fake ones."""
    if real_dir("mnist") is not None:
        return small_mnist_dir
    splits = {"train": blocky_digits(3000, 1), "test": blocky_digits(500, 2)}
    return write_idx_dir(tmp_path_factory.mktemp("blocky-digits"), splits)
