"""Neurons and links: the book's network as objects you can follow one at a time.

The matrix network (:mod:`ownnet.classic`) does everything with whole arrays.
Here the same network is built from small objects, so each step of learning
is something one neuron or one link does:

**Forward.** Each :class:`Link` carries ``input × weight`` to the neuron it
feeds; each :class:`Neuron` adds up what its links carry and applies the
sigmoid ``1 / (1 + e^-total)``. A bias neuron (``bias=True``) always outputs
1.0 and feeds every neuron of the next layer, as in :class:`classic.Network`.

**Backward.** Each output neuron's *sensitivity* is its error ``target −
output``. A neuron's *delta* is its sensitivity times the slope of its
sigmoid, ``output × (1 − output)``. Each link then

1. sends its share of the error back to the neuron it comes from (whose
   sensitivity is the sum of what its links send back), and only after that
2. changes its weight by ``lr × delta × input``.

What a link sends back is set by ``error_split``:

``"transpose"`` (the book, the default)
    ``weight × sensitivity``: the output neuron's error ``t − o`` split in
    proportion to the weights, as the book's ``who.T @ output_errors``.
``"transpose_scaled"``, ``"proportional"``, ``"equal"``
    the book's alternatives, as in :class:`classic.Network`:
    ``weight × sensitivity / n``, ``weight / sum|weights| × sensitivity`` and
    ``sensitivity / n`` (``n`` = neurons sending, bias not counted).
``"gradient"``
    ``weight × delta``: true backpropagation. A neuron's sensitivity is then
    ``-dE/d(output)`` for the loss ``E = ½ Σ (t − o)²`` and every weight
    change is ``-lr × dE/dw``. The book's rule leaves the slope of the
    output neuron out of what it sends back; this one keeps it.

Every link sends back before any weight of its layer changes, so the errors
come from the weights the forward pass used, exactly as the book computes
``hidden_errors`` before it updates ``who``. With the same start and the same
samples this network ends with the same weights as :class:`classic.Network`
(``tests/test_neurons.py`` checks this to 1e-9).

It is slow by design, a few thousand links per millisecond: use it on small
networks, to watch and to check, and :mod:`ownnet.classic` to learn MNIST.

Example::

    >>> from ownnet.neurons import Network
    >>> net = Network(2, 2, 2, lr=0.5, seed=1)
    >>> text = net.explain([0.05, 0.10], [0.01, 0.99])   # prints the table
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import numpy as np

from ownnet import classic
from ownnet.classifier import Classifier
from ownnet.history import History

#: What a link sends back (see the module doc): the book's four splits, then true backprop.
ERROR_SPLITS = (*classic.ERROR_SPLITS, "gradient")


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


def _layer_names(n_layers: int) -> list[tuple[str, str]]:
    """(layer name, neuron prefix) per layer: input/i, hidden/h (h1., h2. if several), output/o."""
    names = [("input", "i")]
    hidden = n_layers - 2
    for k in range(hidden):
        names.append(("hidden", "h") if hidden == 1 else (f"hidden {k + 1}", f"h{k + 1}."))
    names.append(("output", "o"))
    return names


class Network(Classifier):
    """A fully connected sigmoid network made of :class:`Neuron` and :class:`Link` objects.

    Args:
        sizes: neurons per layer, input first: ``Network(2, 2, 2)``, ``Network(784, 20, 10)``;
            any number of layers from 2.
        lr: learning rate.
        bias: give every layer but the output a bias neuron (a constant 1.0, the
            last sender of its layer), as ``classic.Network(bias=True)``.
        error_split: what a link sends back, one of :data:`ERROR_SPLITS` (module doc).
        seed: seed or ``numpy.random.Generator`` for the initial weights, drawn as
            :class:`classic.Network` draws them (``normal(0, senders ** -0.5)``,
            layer by layer), so a 3-layer network starts equal to the classic one
            of the same seed.
    """

    def __init__(
        self,
        *sizes: int,
        lr: float = 0.1,
        bias: bool = False,
        error_split: str = "transpose",
        seed: int | np.random.Generator | None = 0,
    ) -> None:
        if len(sizes) < 2:
            raise ValueError(f"expected at least 2 layer sizes (input, output), found {sizes}")
        for k, n in enumerate(sizes):
            if int(n) < 1:
                raise ValueError(f"layer {k} must have at least 1 neuron, found {n}")
        if error_split not in ERROR_SPLITS:
            raise ValueError(f"error_split must be one of {ERROR_SPLITS}, found {error_split!r}")
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, found {lr}")
        self.sizes = tuple(int(n) for n in sizes)
        self.lr = float(lr)
        self.bias = bool(bias)
        self.error_split = error_split
        rng = np.random.default_rng(seed)
        self.layers: list[Layer] = []
        names = _layer_names(len(self.sizes))
        for k, ((layer_name, prefix), n) in enumerate(zip(names, self.sizes, strict=True)):
            neurons = [Neuron(f"{prefix}{j + 1}") for j in range(n)]
            is_last = k == len(self.sizes) - 1
            bias_neuron = Neuron("bias", is_bias=True) if self.bias and not is_last else None
            layer = Layer(layer_name, neurons, bias_neuron)
            if self.layers:
                senders = self.layers[-1].senders
                w = rng.normal(0.0, len(senders) ** -0.5, (n, len(senders)))
                for neuron, row in zip(neurons, w.tolist(), strict=True):
                    for source, value in zip(senders, row, strict=True):
                        layer.links.append(Link(source, neuron, value))
            self.layers.append(layer)

    # -- structure ---------------------------------------------------------------
    @property
    def links(self) -> list[Link]:
        """Every link, layer by layer."""
        return [link for layer in self.layers[1:] for link in layer.links]

    @property
    def weights(self) -> list[np.ndarray]:
        """Weight matrices, one per layer after the input: ``(n_out, n_in [+1 bias])``."""
        return [layer.weights() for layer in self.layers[1:]]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Set every weight from matrices shaped as :attr:`weights` gives them."""
        if len(weights) != len(self.layers) - 1:
            raise ValueError(
                f"expected {len(self.layers) - 1} weight matrices, found {len(weights)}"
            )
        for layer, w in zip(self.layers[1:], weights, strict=True):
            layer.set_weights(w)

    def __repr__(self) -> str:
        shape = "-".join(str(n) for n in self.sizes)
        return (
            f"neurons.Network({shape}, lr={self.lr}, bias={self.bias}, "
            f"error_split={self.error_split!r}, {len(self.links)} links)"
        )

    # -- one sample ----------------------------------------------------------------
    def forward(self, inputs: Sequence[float] | np.ndarray) -> np.ndarray:
        """Set the input neurons to ``inputs (n_input,)`` and fire every layer; returns outputs."""
        values = np.ravel(np.asarray(inputs, dtype=np.float64))
        first = self.layers[0]
        if len(values) != len(first):
            raise ValueError(f"expected {len(first)} input values, found {len(values)}")
        for neuron, value in zip(first.neurons, values.tolist(), strict=True):
            neuron.output = value
        for layer in self.layers[1:]:
            for neuron in layer.neurons:
                neuron.fire()
        return np.array([n.output for n in self.layers[-1].neurons])

    def backward(self, targets: Sequence[float] | np.ndarray) -> None:
        """Learn from ``targets (n_output,)`` after :meth:`forward`: send back, then learn."""
        values = np.ravel(np.asarray(targets, dtype=np.float64))
        last = self.layers[-1]
        if len(values) != len(last):
            raise ValueError(f"expected {len(last)} target values, found {len(values)}")
        for neuron, t in zip(last.neurons, values.tolist(), strict=True):
            neuron.sensitivity = t - neuron.output
        for k in range(len(self.layers) - 1, 0, -1):
            layer, below = self.layers[k], self.layers[k - 1]
            for neuron in layer.neurons:
                neuron.delta = neuron.sensitivity * neuron.slope
            if k > 1:  # the input layer needs no error
                for neuron in below.neurons:
                    neuron.sensitivity = 0.0
                self._send_back(layer, len(below))
            for link in layer.links:
                link.learn(self.lr)

    def _send_back(self, layer: Layer, n_senders: int) -> None:
        """Every link into ``layer`` sends its share of its target's error back (old weights)."""
        split = self.error_split
        for neuron in layer.neurons:
            e = neuron.sensitivity
            if split == "transpose":
                for link in neuron.incoming:
                    link.send_back(link.weight * e)
            elif split == "gradient":
                for link in neuron.incoming:
                    link.send_back(link.weight * neuron.delta)
            elif split == "transpose_scaled":
                for link in neuron.incoming:
                    link.send_back(link.weight * e / n_senders)
            elif split == "proportional":
                size = sum(abs(link.weight) for link in neuron.incoming if not link.source.is_bias)
                for link in neuron.incoming:
                    link.send_back(link.weight / size * e)
            else:  # "equal"
                for link in neuron.incoming:
                    link.send_back(e / n_senders)

    def train(
        self, inputs: Sequence[float] | np.ndarray, targets: Sequence[float] | np.ndarray
    ) -> None:
        """One step on one sample: scaled ``inputs (n_input,)``, ``targets (n_output,)``."""
        self.forward(inputs)
        self.backward(targets)

    def query(self, inputs: Sequence[float] | np.ndarray) -> np.ndarray:
        """Outputs: ``(n_input,)`` → ``(n_output,)``, or ``(n, n_input)`` → ``(n, n_output)``."""
        x = np.asarray(inputs, dtype=np.float64)
        if x.ndim == 1:
            return self.forward(x)
        return np.array([self.forward(row) for row in x]).reshape(len(x), self.sizes[-1])

    def explain(
        self,
        inputs: Sequence[float] | np.ndarray,
        targets: Sequence[float] | np.ndarray | int,
        *,
        learn: bool = True,
        limit: int = 12,
        file: TextIO | None = None,
    ) -> str:
        """Train on one sample and print what every neuron and link did, as tables.

        Args:
            inputs: scaled inputs ``(n_input,)``.
            targets: ``(n_output,)``, or a label ``k`` for the book's targets
                (0.01, and 0.99 at ``k``).
            learn: keep the weight changes (False: put the old weights back).
            limit: rows shown per table; the rest are counted, not shown.
            file: where to print (default ``sys.stdout``).

        Returns:
            The printed text.
        """
        from ownnet.explain import format_step

        if isinstance(targets, (int, np.integer)):
            targets = classic.targets_for(np.array([int(targets)]), self.sizes[-1])[0]
        before = self.weights
        self.train(inputs, targets)
        text = format_step(self, before, np.ravel(np.asarray(targets, dtype=float)), limit=limit)
        if not learn:
            self.set_weights(before)
        print(text, file=file if file is not None else sys.stdout)
        return text

    # -- datasets ----------------------------------------------------------------------
    def fit(
        self,
        train: Any,
        epochs: int = 1,
        *,
        test: Any = None,
        rng: np.random.Generator | None = None,
        progress: bool = True,
        on_epoch_end: Callable[[int, History], None] | None = None,
    ) -> History:
        """Train on uint8 ``images (n, 28, 28)`` / ``labels (n,)``, one sample at a time.

        As :meth:`classic.Network.fit`: ``rng`` shuffles each epoch (None keeps the
        order); returns :class:`History` with ``seconds``, ``samples_per_s`` and,
        given ``test``, ``test_accuracy``.
        """
        images, labels = classic.training_arrays(train, self.sizes[0], self.sizes[-1])
        targets = classic.targets_for(labels, self.sizes[-1])

        def one_epoch(order: np.ndarray | None, epoch: int) -> None:
            steps: Any = np.arange(len(images)) if order is None else order
            if progress:
                from tqdm import tqdm

                steps = tqdm(steps, desc=f"epoch {epoch}/{epochs}", unit="sample")
            for i in steps:
                self.train(classic.SCALE[images[i]], targets[i])

        return classic.fit_epochs(
            len(images), epochs, one_epoch, self.evaluate, test, rng, on_epoch_end
        )

    def outputs(self, images: np.ndarray) -> np.ndarray:
        """Output neurons' values ``(n, n_output)`` for uint8 images ``(n, 28, 28)`` or
        ``(n, n_input)``, one forward pass through the neurons per image."""
        flat = classic.flat_images(images, self.sizes[0], "images")
        out = np.empty((len(flat), self.sizes[-1]))
        for i, row in enumerate(flat):
            out[i] = self.forward(classic.SCALE[row])
        return out

    # -- the matrix network ----------------------------------------------------------------
    @classmethod
    def from_classic(cls, net: classic.Network) -> Network:
        """The same network as neurons and links: sizes, lr, bias, error split and weights."""
        out = cls(
            net.n_input,
            net.n_hidden,
            net.n_output,
            lr=net.lr,
            bias=net.bias,
            error_split=net.error_split,
            seed=0,
        )
        out.set_weights([net.wih, net.who])
        return out

    def to_classic(self) -> classic.Network:
        """The same network as a :class:`classic.Network` (3 layers, not the "gradient" split)."""
        if len(self.sizes) != 3:
            raise ValueError(
                f"classic.Network has 3 layers; this network has {len(self.sizes)}: {self.sizes}"
            )
        if self.error_split not in classic.ERROR_SPLITS:
            raise ValueError(
                f"classic.Network has no error_split {self.error_split!r}; "
                f"it has {classic.ERROR_SPLITS}"
            )
        wih, who = self.weights
        config = {
            "n_input": self.sizes[0],
            "n_hidden": self.sizes[1],
            "n_output": self.sizes[2],
            "lr": self.lr,
            "bias": self.bias,
            "error_split": self.error_split,
        }
        return classic.Network.from_state({"wih": wih, "who": who}, config)
