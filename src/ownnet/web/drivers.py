"""How a watch-page run trains its model: the one place that calls the models' training API.

A driver owns the model of one run and trains it on the samples it is given,
in the order given (the run draws the order and decides when to report and
how fast to go, :mod:`ownnet.web.training`). Training in pieces is the same
training as in one go: the book's network learns sample by sample whatever
the pieces, and the MLP's pieces are whole batches with one optimiser.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ownnet.classic import SCALE, targets_for
from ownnet.classic import Network as BookNetwork
from ownnet.nn import Adam, Network
from ownnet.nn.losses import Quadratic


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
        self.model = BookNetwork(784, hidden, 10, lr, seed=seed)
        self.rng = np.random.default_rng(seed)

    def train(self, data: Any) -> float | None:
        if len(data) == 1:  # slow motion: the book's own train(), for the one sample
            target = targets_for(np.asarray(data.labels), self.model.n_output)[0]
            self.model.train(SCALE[data.images.reshape(-1)], target)
        else:  # the same steps, sample after sample, done in blocks
            self.model.fit(data, 1, progress=False)
        return None


class MlpDriver:
    """A small MLP of the matrix engine: relu, softmax, cross-entropy, Adam, batches of 32."""

    unit = "batch"
    batch = 32

    def __init__(self, hidden: int, lr: float, seed: int) -> None:
        self.model = Network.mlp((hidden,), activation="relu", dropout=0.0, seed=seed)
        self.optimizer = Adam(lr)
        self.rng = np.random.default_rng(seed)

    def train(self, data: Any) -> float | None:
        history = self.model.fit(
            data, 1, batch_size=self.batch, optimizer=self.optimizer, shuffle=False,
            rng=self.rng, verbose=0,
        )  # fmt: skip
        return float(history.last("loss"))


def probe_loss_accuracy(model: Any, probe: Any) -> tuple[float, float]:
    """The model's own cost and its accuracy on ``probe``: the engine's loss (cross-entropy
    for the MLP) through its ``loss_accuracy``, the book's quadratic cost with targets
    0.01/0.99 for the classic network."""
    if hasattr(model, "loss_accuracy"):
        loss, accuracy = model.loss_accuracy(probe)
        return float(loss), float(accuracy)
    outputs = model.outputs(probe.images)
    labels = np.asarray(probe.labels)
    loss = Quadratic().fn(outputs, targets_for(labels, outputs.shape[1]))
    return float(loss), float(np.mean(outputs.argmax(axis=1) == labels))


def make_driver(preset: str, hidden: int, lr: float, seed: int) -> Driver:
    """The driver of a preset (``"classic"`` or ``"mlp"``) with a new model."""
    if preset == "classic":
        return ClassicDriver(hidden, lr, seed)
    return MlpDriver(hidden, lr, seed)
