"""How a watch-page run trains its model: the one place that calls the models' training API.

A driver owns the model of one run (built by :func:`ownnet.config.from_config`, as
``ownnet train`` builds it) and trains it on the samples it is given, in the order given
(the run draws the order and decides when to report and how fast to go,
:mod:`ownnet.web.training`). Training in pieces is the same training as in one go: the
book's network learns sample by sample whatever the pieces (in slow motion through the
book's own ``train()``), and the MLP's pieces are whole batches with one optimiser.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ownnet.book import book_inputs, book_targets
from ownnet.config import from_config


class Driver(Protocol):
    """What a run needs from the model it trains."""

    #: what one step is: ``"sample"`` (the book's network) or ``"batch"``
    unit: str
    #: samples per step
    batch: int
    #: the model being trained
    model: Any
    #: the generator that shuffles each epoch
    rng: np.random.Generator

    def train(self, data: Any) -> float | None:
        """Train on the dataset ``data`` in its order; the mean training loss if known."""
        ...


class ClassicDriver:
    """The book's network (:class:`ownnet.classic.Network`): one sample at a time."""

    unit = "sample"
    batch = 1

    def __init__(self, hidden: int, lr: float, seed: int) -> None:
        self.model = from_config({"model": "classic", "hidden": hidden, "lr": lr, "seed": seed})
        self.rng = np.random.default_rng(seed)

    def train(self, data: Any) -> float | None:
        if len(data) == 1:  # slow motion: the book's own train(), for the one sample
            target = book_targets(np.asarray(data.labels), self.model.n_output)[0]
            self.model.train(book_inputs(data.images.reshape(-1)), target)
            return None
        loss, _ = self.model.train_on_batch(data)  # the same steps, sample after sample
        return loss


class MlpDriver:
    """A small MLP of the matrix engine: relu, softmax, cross-entropy, Adam, batches of 32."""

    unit = "batch"
    batch = 32

    def __init__(self, hidden: int, lr: float, seed: int) -> None:
        config = {"model": "mlp", "layers": [hidden], "dropout": 0.0, "optimizer": "adam",
                  "lr": lr, "batch_size": self.batch, "seed": seed}  # fmt: skip
        self.model = from_config(config)
        self.rng = np.random.default_rng(seed)

    def train(self, data: Any) -> float | None:
        history = self.model.fit(data, epochs=1, shuffle=False, seed=self.rng, verbose=0)
        return float(history.last("loss"))


def probe_loss_accuracy(model: Any, probe: Any) -> tuple[float, float]:
    """The model's own loss (the book's quadratic cost, the MLP's cross-entropy) and its
    accuracy on ``probe``."""
    loss, accuracy = model.evaluate(probe)
    return float(loss), float(accuracy)


def make_driver(preset: str, hidden: int, lr: float, seed: int) -> Driver:
    """The driver of a preset (``"classic"`` or ``"mlp"``) with a new model."""
    if preset == "classic":
        return ClassicDriver(hidden, lr, seed)
    return MlpDriver(hidden, lr, seed)
