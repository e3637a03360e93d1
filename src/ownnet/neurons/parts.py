"""The parts of the neurons model: one :class:`Neuron`, one :class:`Link`, one :class:`Layer`.

A neuron adds up what its incoming links carry and applies the sigmoid; a link carries
``input × weight`` forward, sends its share of the error back, and changes its weight by
``lr × delta × input`` (the module :mod:`ownnet.neurons` tells the whole story).
"""

from __future__ import annotations

import math

import numpy as np

from ownnet.error_splits import ERROR_SPLITS as BOOK_SPLITS

#: What a link sends back (see the module doc): the book's four splits, then true backprop.
ERROR_SPLITS = (*BOOK_SPLITS, "gradient")


def sigmoid(x: float) -> float:
    """The logistic function ``1 / (1 + e^-x)`` for one number (no overflow for large ``|x|``)."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


class Neuron:
    """One neuron: sums what its incoming links carry and applies the sigmoid.

    Attributes:
        name: ``"h2"`` for the second hidden neuron, ``"bias"`` for a bias neuron.
        is_bias: a bias neuron has no incoming links, outputs 1.0 and takes no error.
        incoming, outgoing: the links into and out of this neuron.
        total: the sum of what the incoming links carried on the last forward pass.
        output: ``sigmoid(total)`` (or the input value, or 1.0 for a bias neuron).
        sensitivity: the error this neuron was given on the last backward pass.
        delta: ``sensitivity × slope``: what its incoming links learn from.
    """

    __slots__ = (
        "delta",
        "incoming",
        "is_bias",
        "name",
        "outgoing",
        "output",
        "sensitivity",
        "total",
    )

    def __init__(self, name: str, *, is_bias: bool = False) -> None:
        self.name = name
        self.is_bias = is_bias
        self.incoming: list[Link] = []
        self.outgoing: list[Link] = []
        self.total = 0.0
        self.output = 1.0 if is_bias else 0.0
        self.sensitivity = 0.0
        self.delta = 0.0

    def fire(self) -> float:
        """Add up what the incoming links carry, apply the sigmoid; returns the output."""
        total = 0.0
        for link in self.incoming:
            total += link.carry()
        self.total = total
        self.output = sigmoid(total)
        return self.output

    @property
    def slope(self) -> float:
        """The sigmoid's slope at this neuron's total: ``output × (1 − output)``."""
        return self.output * (1.0 - self.output)

    def __repr__(self) -> str:
        return f"Neuron({self.name!r}, output={self.output:.6g})"


class Link:
    """One weighted connection from neuron ``source`` to neuron ``target``.

    Attributes:
        weight: the link's weight.
        signal: what it carried on the last forward pass, ``source.output × weight``.
        sent: what it sent back on the last backward pass.
        change: its last weight change, ``lr × target.delta × source.output``.
    """

    __slots__ = ("change", "sent", "signal", "source", "target", "weight")

    def __init__(self, source: Neuron, target: Neuron, weight: float) -> None:
        self.source = source
        self.target = target
        self.weight = float(weight)
        self.signal = 0.0
        self.sent = 0.0
        self.change = 0.0
        source.outgoing.append(self)
        target.incoming.append(self)

    def carry(self) -> float:
        """Forward: carry ``input × weight`` to the target neuron."""
        self.signal = self.source.output * self.weight
        return self.signal

    def send_back(self, share: float) -> None:
        """Backward: add ``share`` to the source neuron's sensitivity (a bias neuron takes none)."""
        self.sent = share
        if not self.source.is_bias:
            self.source.sensitivity += share

    def learn(self, lr: float) -> None:
        """Backward: change the weight by ``lr × target.delta × input``."""
        self.change = lr * self.target.delta * self.source.output
        self.weight += self.change

    def __repr__(self) -> str:
        return f"Link({self.source.name} -> {self.target.name}, weight={self.weight:.6g})"


class Layer:
    """The neurons of one layer, its bias neuron if any, and the links coming into it.

    ``links`` are ordered target by target: the links into ``neurons[0]`` (from
    each neuron of the previous layer, its bias neuron last), then into
    ``neurons[1]``, ... so they read row by row as the weight matrix.
    """

    __slots__ = ("bias", "links", "name", "neurons")

    def __init__(self, name: str, neurons: list[Neuron], bias: Neuron | None = None) -> None:
        self.name = name
        self.neurons = neurons
        self.bias = bias
        self.links: list[Link] = []

    @property
    def senders(self) -> list[Neuron]:
        """The neurons that feed the next layer: ``neurons`` plus the bias neuron."""
        return self.neurons + ([self.bias] if self.bias is not None else [])

    def weights(self) -> np.ndarray:
        """Weights of the incoming links as a matrix ``(len(neurons), previous senders)``."""
        return np.array([[link.weight for link in n.incoming] for n in self.neurons])

    def set_weights(self, w: np.ndarray) -> None:
        """Set the incoming weights from a matrix ``(len(neurons), previous senders)``."""
        w = np.asarray(w, dtype=np.float64)
        want = (len(self.neurons), len(self.neurons[0].incoming))
        if w.shape != want:
            raise ValueError(f"layer {self.name}: expected weights {want}, found {w.shape}")
        for neuron, row in zip(self.neurons, w.tolist(), strict=True):
            for link, value in zip(neuron.incoming, row, strict=True):
                link.weight = value

    def __len__(self) -> int:
        return len(self.neurons)

    def __repr__(self) -> str:
        extra = " + bias" if self.bias is not None else ""
        return f"Layer({self.name!r}, {len(self.neurons)} neurons{extra})"
