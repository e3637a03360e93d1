"""The reader: a network for reading people's own digits, and how it is trained.

A network trained on MNIST as it is learns MNIST's 250 writers. The reader is
the default CNN (:mod:`ownnet.nn.cnn`: two 3x3 conv + pool stages, 32 and 64
channels) with a wider dense layer (256, dropout 0.5, softmax) trained on MNIST where
every image is written again, differently, before each epoch
(:class:`Handwriting`): bent by a smooth random displacement field (elastic
distortion), slanted, turned, stretched, moved, and drawn with a thicker or
thinner pen with softer or harder edges. It learns the digits, not the hands.

``ownnet train --model reader`` trains it (:func:`train_reader`) and keeps it at
:func:`default_path` (``<cache>/models/reader.npz``, the cache being
``$OWNNET_CACHE`` or ``~/.cache/ownnet``), where ``ownnet predict`` and
``ownnet serve`` look for a model when none is named (:func:`find_reader`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ownnet.data.distort import (
    add_strokes,
    change_gamma,
    change_thickness,
    elastic_fields,
    erase_spots,
    stroke_widths,
    warp,
)

#: training epochs (cosine schedule from LR to 0)
EPOCHS = 16
LR = 0.001
BATCH_SIZE = 128
#: the network's settings (:meth:`ownnet.nn.Network.cnn`)
NETWORK: dict[str, Any] = {
    "filters": (32, 64),
    "kernel_size": 3,
    "dense": 256,
    "dropout": 0.5,
    "batchnorm": False,
}
#: file name of the trained reader under ``<cache>/models``
FILE_NAME = "reader.npz"


class Handwriting:
    """``augment(images, rng)`` for :meth:`ownnet.nn.Network.fit`: each training image
    written again by a new hand, before every epoch.

    Per image, independently: with probability ``keep`` it stays as it is; else it
    is turned by up to ``max_angle`` degrees, slanted by a shear up to
    ``max_shear``, stretched by ``scale`` (each direction on its own), moved by up
    to ``max_shift`` pixels, bent by an elastic field of up to ``elastic`` px
    (root mean square), given a pen ``width`` px wide (uniform in that range, by
    grey dilation or erosion of at most ``max_erode`` of a pixel per side) and a
    gamma in ``gamma``; a share ``strays`` of them gets a stray stroke near the edge and
    a share ``gaps`` a gap in the ink.

    Called with uint8 images ``(n, 784)`` (or ``(n, 28, 28)``); returns new uint8
    images of the same shape.
    """

    def __init__(
        self,
        *,
        keep: float = 0.2,
        max_angle: float = 12.0,
        max_shear: float = 0.4,
        scale: tuple[float, float] = (0.85, 1.1),
        max_shift: float = 2.0,
        elastic: float = 1.5,
        width: tuple[float, float] = (1.6, 4.5),
        max_erode: float = 0.6,
        gamma: tuple[float, float] = (0.6, 1.6),
        strays: float = 0.1,
        gaps: float = 0.1,
    ) -> None:
        self.keep = float(keep)
        self.max_angle = float(max_angle)
        self.max_shear = float(max_shear)
        self.scale = (float(scale[0]), float(scale[1]))
        self.max_shift = float(max_shift)
        self.elastic = float(elastic)
        self.width = (float(width[0]), float(width[1]))
        self.max_erode = float(max_erode)
        self.gamma = (float(gamma[0]), float(gamma[1]))
        self.strays = float(strays)
        self.gaps = float(gaps)

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        images = np.asarray(images)
        shape = images.shape
        n = len(images)
        if n == 0:
            return images
        batch = images.reshape(n, 28, 28)
        out = batch.copy()
        moved = np.flatnonzero(rng.random(n) >= self.keep)
        if len(moved):
            out[moved] = self.rewrite(batch[moved], rng)
        return out.reshape(shape)

    def rewrite(self, batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Every image of ``batch (m, 28, 28)`` written by a new random hand."""
        m = len(batch)
        target = rng.uniform(*self.width, m)
        amount = np.clip((target - stroke_widths(batch)) / 2.0, -self.max_erode, 1.0)
        pen = change_thickness(batch, amount)
        dy, dx = elastic_fields(m, rng, size=1.0)
        strength = rng.uniform(0.0, self.elastic, m)[:, None]
        moved = warp(
            pen,
            angles=rng.uniform(-self.max_angle, self.max_angle, m),
            shears=rng.uniform(-self.max_shear, self.max_shear, m),
            scales=rng.uniform(*self.scale, (m, 2)),
            shifts=rng.uniform(-self.max_shift, self.max_shift, (m, 2)),
            fields=(dy * strength, dx * strength),
        )
        gammas = np.exp(rng.uniform(np.log(self.gamma[0]), np.log(self.gamma[1]), m))
        out = change_gamma(moved, gammas)
        for share, change in ((self.strays, add_strokes), (self.gaps, erase_spots)):
            if share > 0:
                some = np.flatnonzero(rng.random(m) < share)
                if len(some):
                    out[some] = change(out[some], rng)
        return out

    def spec(self) -> dict[str, Any]:
        """JSON-ready description (for model files and checkpoints)."""
        return {"name": "handwriting", **{k: v for k, v in vars(self).items()}}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Handwriting:
        """The augmentation :meth:`spec` describes (a resumed run draws the same hands)."""
        return cls(**{k: v for k, v in spec.items() if k != "name"})

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"Handwriting({inner})"


def build_reader(seed: int | np.random.Generator | None = 0, **changes: Any) -> Any:
    """The reader's network, untrained: :data:`NETWORK` (with ``changes``, e.g. a smaller
    ``filters=(8, 16)`` for a quick try) on ``(1, 28, 28)`` images."""
    from ownnet.nn.network import Network

    return Network.cnn(**{**NETWORK, **changes}, seed=seed)


def train_reader(
    splits: Any,
    *,
    epochs: int = EPOCHS,
    seed: int = 0,
    verbose: int = 1,
    stream: TextIO | None = None,
    callbacks: Any = (),
    augment: Handwriting | None = None,
    network: dict[str, Any] | None = None,
    lr: float = LR,
) -> tuple[Any, Any, dict[str, Any]]:
    """Train the reader on ``splits.train``, measuring on ``splits.test`` after each epoch.

    Adam (``lr``, :data:`LR`, with a cosine schedule to 0), batch :data:`BATCH_SIZE`, ``epochs``
    epochs, each on the training images rewritten by :class:`Handwriting` (or
    ``augment``); ``network`` changes settings of :data:`NETWORK`.

    Returns:
        ``(network, history, info)``: ``info`` holds the training settings, the seed,
        the seconds it took and the test accuracy, for the model file's metadata.
    """
    from ownnet.nn.optimizers import Adam
    from ownnet.nn.schedules import Cosine

    init_seed, fit_seed = np.random.SeedSequence(seed).spawn(2)
    settings = {**NETWORK, **(network or {})}
    net = build_reader(np.random.default_rng(init_seed), **settings)
    augment = augment if augment is not None else Handwriting()
    start = time.perf_counter()
    history = net.fit(
        splits.train,
        epochs,
        batch_size=BATCH_SIZE,
        optimizer=Adam(lr),
        schedule=Cosine(lr, epochs),
        validation_data=splits.test,
        rng=np.random.default_rng(fit_seed),
        augment=augment,
        callbacks=callbacks,
        verbose=verbose,
        stream=stream,
    )
    seconds = time.perf_counter() - start
    info = {
        "training": {
            "engine": "nn",
            "model": "reader",
            **{k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
            "optimizer": {"name": "adam", "lr": lr},
            "schedule": f"cosine over {epochs} epochs",
            "batch_size": BATCH_SIZE,
            "epochs": epochs,
            "samples": len(splits.train),
            "augment": augment.spec(),
            "seconds": round(seconds, 1),
        },
        "seed": seed,
        "test_accuracy": net.evaluate(splits.test),
    }
    return net, history, info


def default_path() -> Path:
    """Where the trained reader is kept: ``<cache>/models/reader.npz``
    (:func:`ownnet.data.download.cache_root`: ``$OWNNET_CACHE``, else
    ``$XDG_CACHE_HOME/ownnet``, else ``~/.cache/ownnet``)."""
    from ownnet.data.download import cache_root

    return cache_root() / "models" / FILE_NAME


def find_reader() -> Path | None:
    """The trained reader's file if it has been trained (:func:`default_path`), else None."""
    path = default_path()
    return path if path.is_file() else None
