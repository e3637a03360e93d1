"""Sweeps that redo the book's experiments, each point with several seeds.

*Make Your Own Neural Network* tunes the 784-N-10 network one run per point:
the learning rate at 1 epoch with 100 hidden nodes (0.1, 0.2, 0.3, 0.6 ...),
the number of epochs, the number of hidden nodes (5 to 500), and training on
copies of each digit rotated by ±10 degrees (200 hidden nodes, learning rate
0.01, 10 epochs). It also discusses other ways to split the output error back
among the hidden nodes than ``W.T @ e``.

All presets use the printed book's initial weights (``init=fan_out``, see
:data:`BOOK`) and keep the training file order, as the book does.

The per-epoch test accuracy of every run is stored, so a preset that trains
for E epochs also gives the curve for every epoch up to E: the accuracy after
epoch k of a run equals a k-epoch run with the same seed (the learning rate
has no schedule). ``plot`` says how to draw each preset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ownnet.experiments.sweep import Plan


@dataclass(frozen=True)
class Preset:
    """A named sweep: what it redoes, its plan, and the plot that shows it."""

    name: str
    description: str
    base: dict[str, Any]
    grid: dict[str, tuple[Any, ...]]
    repeats: int = 3
    plot: dict[str, Any] = field(default_factory=dict)
    summary_epochs: tuple[int, ...] | None = None

    def plan(self) -> Plan:
        """A fresh :class:`Plan` (callers may change it)."""
        return Plan(
            base=dict(self.base),
            grid={k: list(v) for k, v in self.grid.items()},
            repeats=self.repeats,
        )


#: The printed book's network: its code draws the initial weights with ``pow(hnodes, -0.5)``
#: and ``pow(onodes, -0.5)`` (the receiving layer's size), not the ``pow(inodes, -0.5)`` of
#: its text and of its later notebooks (ownnet's classic default). The book's results
#: come from the printed code, so the presets use it.
BOOK = {"init": "fan_out"}

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "book-lr",
            "learning rate 0.01..0.6 at 1 epoch, 100 hidden nodes (the book's first tuning)",
            base={"hidden": 100, "epochs": 1, **BOOK},
            grid={"lr": (0.01, 0.05, 0.1, 0.2, 0.3, 0.6)},
            plot={"x": "lr"},
        ),
        Preset(
            "book-epochs",
            "1..10 epochs at learning rates 0.1 and 0.2, 100 hidden nodes",
            base={"hidden": 100, "epochs": 10, **BOOK},
            grid={"lr": (0.1, 0.2)},
            plot={"x": "epoch", "hue": "lr"},
            summary_epochs=(1, 2, 5, 7, 10),
        ),
        Preset(
            "book-hidden",
            "5..500 hidden nodes at learning rate 0.1, 1 epoch",
            base={"lr": 0.1, "epochs": 1, **BOOK},
            grid={"hidden": (5, 10, 20, 50, 100, 200, 500)},
            plot={"x": "hidden", "logx": True},
        ),
        Preset(
            "book-rotation",
            "the book's best: 200 hidden, lr 0.01, 10 epochs, original and +-10 degree copies",
            base={"hidden": 200, "lr": 0.01, "epochs": 10, **BOOK},
            grid={"rotate": (10.0,)},
            plot={"x": "epoch", "hue": "rotate"},
            summary_epochs=(1, 5, 10),
        ),
        Preset(
            "heuristics",
            "four ways to split the error (equal, proportional, W.T @ e, W.T @ e / N), "
            "100 hidden, lr 0.1, 1..5 epochs",
            base={"hidden": 100, "lr": 0.1, "epochs": 5, **BOOK},
            grid={"error_split": ("equal", "proportional", "transpose", "transpose_scaled")},
            plot={"x": "epoch", "hue": "error_split"},
            summary_epochs=(1, 2, 5),
        ),
    )
}
