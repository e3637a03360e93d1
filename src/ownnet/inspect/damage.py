"""How gracefully a network fails: remove hidden neurons, add noise, rotate the inputs.

Three experiments on the test set, each a curve of accuracy against damage:

* **neurons** - a growing fraction of the hidden neurons (in every hidden
  layer) is removed: their outgoing weights are set to zero, so nothing they
  compute reaches the next layer. Which neurons go is drawn at random, once
  per seed.
* **noise** - Gaussian noise of standard deviation ``sigma`` (in units of
  full ink, pixel / 255) is added to every pixel, clipped back to 0..255.
* **rotation** - every test image is rotated by the angle (degrees,
  anticlockwise, about its centre, bilinear).

:func:`damage_rows` measures them and :func:`damage_figure` draws one experiment's curve;
``ownnet inspect damage`` writes the rows to ``damage.csv`` and one plot per experiment
(``damage-neurons.png``, ``damage-noise.png``, ``damage-rotation.png``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.data.augment import rotate
from ownnet.inspect.stack import dense_layers, kind_of

FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SIGMAS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
ANGLES = (0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0)


@dataclass(frozen=True)
class DamageRow:
    """One measurement: ``experiment`` at ``level`` with ``seed`` gave ``accuracy``."""

    experiment: str
    level: float
    seed: int
    accuracy: float


def without_neurons(model: Any, fraction: float, rng: np.random.Generator) -> Any:
    """A copy of ``model`` with ``fraction`` of the neurons of every hidden layer removed.

    A removed neuron's outgoing weights are zero (classic: columns of ``who``;
    nn: rows of the next dense layer's ``W``).
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], found {fraction}")
    damaged = model.copy()
    if kind_of(model) == "classic":
        k = int(round(fraction * model.n_hidden))
        gone = rng.choice(model.n_hidden, size=k, replace=False)
        damaged.who[:, gone] = 0.0
        return damaged
    layers = dense_layers(damaged)
    for hidden, nxt in zip(layers[:-1], layers[1:], strict=True):
        k = int(round(fraction * hidden.n_out))
        gone = rng.choice(hidden.n_out, size=k, replace=False)
        damaged.layers[nxt.position].params["W"][gone, :] = 0.0
    return damaged


def with_noise(images: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """uint8 images plus Gaussian noise of ``sigma`` (fraction of full ink), clipped, uint8."""
    x = images.astype(np.float32) / 255.0
    x += rng.normal(0.0, sigma, x.shape).astype(np.float32)
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def rotated(images: np.ndarray, degrees: float) -> np.ndarray:
    """uint8 images ``(n, 28, 28)`` rotated anticlockwise by ``degrees`` about the centre."""
    if degrees == 0:
        return np.asarray(images)
    return rotate(np.asarray(images, dtype=np.uint8), degrees)


def _accuracy(model: Any, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(model.predict(images) == labels))


def damage_rows(
    model: Any,
    test: Any,
    *,
    fractions: Sequence[float] = FRACTIONS,
    sigmas: Sequence[float] = SIGMAS,
    angles: Sequence[float] = ANGLES,
    seeds: Sequence[int] = (0, 1, 2),
    progress: Callable[[str], None] | None = None,
) -> list[DamageRow]:
    """Run the three experiments on ``test`` (uint8 ``images (n, 28, 28)``, ``labels (n,)``)."""
    images = np.asarray(test.images).reshape(-1, 28, 28)
    labels = np.asarray(test.labels)
    rows: list[DamageRow] = []
    for f in fractions:
        for s in seeds:
            damaged = without_neurons(model, f, np.random.default_rng(s))
            rows.append(DamageRow("neurons", float(f), int(s), _accuracy(damaged, images, labels)))
        if progress:
            progress(f"neurons removed {f:.0%}: accuracy {_mean_last(rows, seeds):.4f}")
    for sigma in sigmas:
        for s in seeds:
            noisy = with_noise(images, sigma, np.random.default_rng(s))
            rows.append(DamageRow("noise", float(sigma), int(s), _accuracy(model, noisy, labels)))
        if progress:
            progress(f"noise sigma {sigma:g}: accuracy {_mean_last(rows, seeds):.4f}")
    for angle in angles:
        acc = _accuracy(model, rotated(images, angle), labels)
        rows.append(DamageRow("rotation", float(angle), 0, acc))
        if progress:
            progress(f"rotation {angle:g} degrees: accuracy {acc:.4f}")
    return rows


def _mean_last(rows: list[DamageRow], seeds: Sequence[int]) -> float:
    return float(np.mean([r.accuracy for r in rows[-len(seeds) :]]))


def summarise(rows: list[DamageRow], experiment: str) -> list[tuple[float, float, float, float]]:
    """``(level, mean, min, max)`` accuracy over seeds for one experiment, by level."""
    levels = sorted({r.level for r in rows if r.experiment == experiment})
    out = []
    for level in levels:
        acc = [r.accuracy for r in rows if r.experiment == experiment and r.level == level]
        out.append((level, float(np.mean(acc)), float(np.min(acc)), float(np.max(acc))))
    return out


LABELS = {
    "neurons": ("hidden neurons removed (fraction)", "removing hidden neurons"),
    "noise": ("noise standard deviation (fraction of full ink)", "Gaussian noise on the inputs"),
    "rotation": ("rotation (degrees)", "rotated inputs"),
}


def damage_figure(rows: list[DamageRow], experiment: str, title: str | None = None) -> Any:
    """Accuracy against damage: mean over seeds, with the range of the seeds shaded."""
    from matplotlib.figure import Figure

    data = np.array(summarise(rows, experiment))
    fig = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(data[:, 0], data[:, 1], "o-", color="C0", label="mean over seeds")
    if np.any(data[:, 3] > data[:, 2]):
        ax.fill_between(data[:, 0], data[:, 2], data[:, 3], color="C0", alpha=0.25, label="range")
        ax.legend(loc="lower left")
    ax.axhline(0.1, color="grey", lw=0.8, ls=":")
    ax.text(data[-1, 0], 0.11, "chance", ha="right", va="bottom", fontsize=8, color="grey")
    xlabel, heading = LABELS[experiment]
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(title or heading, fontsize=10)
    return fig
