"""Learning-rate schedules, per epoch: ``schedule(epoch) -> lr`` (``epoch`` counts from 0).

* ``constant``: ``lr``;
* ``step``: ``lr * drop ** (epoch // every)``;
* ``cosine``: ``min_lr + (lr - min_lr) * (1 + cos(pi * epoch / epochs)) / 2``.
"""

from __future__ import annotations

import math
from typing import Any

from ownnet.nn.registry import from_spec


class Schedule:
    """A constant learning rate."""

    name = "constant"

    def __init__(self, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, found {lr}")
        self.lr = float(lr)

    def __call__(self, epoch: int) -> float:
        return self.lr

    def config(self) -> dict[str, Any]:
        return {"lr": self.lr}

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, **self.config()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class StepDecay(Schedule):
    """Multiply the rate by ``drop`` every ``every`` epochs."""

    name = "step"

    def __init__(self, lr: float, drop: float = 0.5, every: int = 10) -> None:
        super().__init__(lr)
        if not 0.0 < drop <= 1.0:
            raise ValueError(f"step drop must be in (0, 1], found {drop}")
        if int(every) < 1:
            raise ValueError(f"step every must be at least 1 epoch, found {every}")
        self.drop, self.every = float(drop), int(every)

    def __call__(self, epoch: int) -> float:
        return self.lr * self.drop ** (epoch // self.every)

    def config(self) -> dict[str, Any]:
        return {"lr": self.lr, "drop": self.drop, "every": self.every}


class Cosine(Schedule):
    """Cosine annealing from ``lr`` at epoch 0 towards ``min_lr`` at epoch ``epochs``."""

    name = "cosine"

    def __init__(self, lr: float, epochs: int, min_lr: float = 0.0) -> None:
        super().__init__(lr)
        if int(epochs) < 1:
            raise ValueError(f"cosine epochs must be at least 1, found {epochs}")
        if not 0.0 <= min_lr <= lr:
            raise ValueError(f"cosine min_lr must be in [0, lr], found {min_lr}")
        self.epochs, self.min_lr = int(epochs), float(min_lr)

    def __call__(self, epoch: int) -> float:
        t = min(epoch, self.epochs) / self.epochs
        return self.min_lr + (self.lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * t))

    def config(self) -> dict[str, Any]:
        return {"lr": self.lr, "epochs": self.epochs, "min_lr": self.min_lr}


#: Schedules by name.
SCHEDULES: dict[str, type[Schedule]] = {"constant": Schedule, "step": StepDecay, "cosine": Cosine}


def get_schedule(spec: str | dict[str, Any] | Schedule, **options: Any) -> Schedule:
    """A schedule from a name plus options, a spec ``{"name": ..., ...}``, or an instance."""
    if isinstance(spec, Schedule):
        return spec
    return from_spec(SCHEDULES, "schedule", spec, **options)
