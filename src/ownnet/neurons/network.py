"""The neurons model's network: layers of :class:`~ownnet.neurons.parts.Neuron` joined by
:class:`~ownnet.neurons.parts.Link`, trained one sample at a time (see :mod:`ownnet.neurons`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

from ownnet.book import book_inputs, book_targets, book_weights
from ownnet.inputs import as_training_data
from ownnet.model import Model
from ownnet.neurons.explain import format_step
from ownnet.neurons.parts import ERROR_SPLITS, Layer, Link, Neuron
from ownnet.progress import with_progress
from ownnet.training import (
    Augment,
    Callback,
    History,
    Run,
    as_generator,
    check_epochs,
    run_epochs,
)


def _layer_names(n_layers: int) -> list[tuple[str, str]]:
    """(layer name, neuron prefix) per layer: input/i, hidden/h (h1., h2. if several), output/o."""
    names = [("input", "i")]
    hidden = n_layers - 2
    for k in range(hidden):
        names.append(("hidden", "h") if hidden == 1 else (f"hidden {k + 1}", f"h{k + 1}."))
    names.append(("output", "o"))
    return names


class Network(Model):
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

    kind = "neurons"
    output_activation = "sigmoid"

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
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"layer {k} must have a whole number >= 1 of neurons, found {n!r}")
        if error_split not in ERROR_SPLITS:
            raise ValueError(f"error_split must be one of {ERROR_SPLITS}, found {error_split!r}")
        if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a finite number > 0, found {lr!r}")
        self.sizes = tuple(int(n) for n in sizes)
        self.lr = float(lr)
        self.bias = bool(bias)
        self.error_split = error_split
        self.history = History()
        self.meta: dict[str, Any] = {}
        rng = as_generator(seed)
        self.layers: list[Layer] = []
        names = _layer_names(len(self.sizes))
        for k, ((layer_name, prefix), n) in enumerate(zip(names, self.sizes, strict=True)):
            neurons = [Neuron(f"{prefix}{j + 1}") for j in range(n)]
            is_last = k == len(self.sizes) - 1
            bias_neuron = Neuron("bias", is_bias=True) if self.bias and not is_last else None
            layer = Layer(layer_name, neurons, bias_neuron)
            if self.layers:
                senders = self.layers[-1].senders
                w = book_weights(rng, n, len(senders))
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
        if isinstance(targets, (int, np.integer)):
            targets = book_targets(np.array([int(targets)]), self.sizes[-1])[0]
        before = self.weights
        self.train(inputs, targets)
        text = format_step(self, before, np.ravel(np.asarray(targets, dtype=float)), limit=limit)
        if not learn:
            self.set_weights(before)
        print(text, file=file if file is not None else sys.stdout)
        return text

    # -- the model contract ---------------------------------------------------------------
    @property
    def n_pixels(self) -> int:  # type: ignore[override]
        return self.sizes[0]

    @property
    def n_classes(self) -> int:  # type: ignore[override]
        return self.sizes[-1]

    def fit(
        self,
        x: Any,
        y: Any = None,
        *,
        epochs: int = 1,
        batch_size: int | None = None,
        validation_data: Any = None,
        callbacks: Sequence[Callback] | None = None,
        seed: int | np.random.Generator | None = None,
        shuffle: bool = False,
        verbose: int = 1,
        initial_epoch: int = 0,
        history: History | None = None,
        augment: Augment | None = None,
    ) -> History:
        """Train one sample at a time, neuron by neuron, exactly as
        :meth:`ownnet.classic.Network.fit` takes its arguments (``batch_size`` only 1;
        ``on_batch_end`` comes after every sample) and returns its History."""
        if batch_size not in (None, 1):
            raise ValueError(
                f"neurons learn one sample at a time: batch_size must be 1, found {batch_size!r}"
            )
        epochs, initial_epoch = check_epochs(epochs, initial_epoch)
        images, labels = as_training_data(x, y, self.n_pixels, self.n_classes)
        val = None
        if validation_data is not None:
            val = as_training_data(
                validation_data, None, self.n_pixels, self.n_classes, "validation_data"
            )
        run = Run(
            model=self,
            epochs=epochs,
            history=history if history is not None else History(),
            settings={"epochs": epochs, "shuffle": bool(shuffle)},
            callbacks=with_progress(callbacks, verbose),
            rng=as_generator(seed),
            lr=self.lr,
        )
        self.history = run.history
        return run_epochs(
            run,
            images,
            labels,
            self._train_epoch,
            evaluate=self._loss_accuracy,
            validation=val,
            shuffle=shuffle,
            initial_epoch=initial_epoch,
            augment=augment,
        )

    def train_on_batch(self, x: Any, y: Any = None) -> tuple[float, float]:
        """One step on each sample of a batch, in order; returns their mean loss and
        accuracy, each measured before it was learnt."""
        images, labels = as_training_data(x, y, self.n_pixels, self.n_classes)
        loss = correct = 0.0
        for i in range(len(images)):
            step_loss, right = self._learn(images[i], labels[i])
            loss += step_loss
            correct += right
        return loss / len(images), correct / len(images)

    def _learn(self, image: np.ndarray, label: int) -> tuple[float, bool]:
        """Train on one image; returns its quadratic loss and whether it was right, before."""
        targets = book_targets(np.array([label]), self.n_classes)[0]
        outputs = self.forward(book_inputs(image))
        self.backward(targets)
        return 0.5 * float(np.sum((targets - outputs) ** 2)), int(outputs.argmax()) == label

    def _train_epoch(
        self, images: np.ndarray, labels: np.ndarray, order: np.ndarray | None, run: Run
    ) -> None:
        for i in range(len(images)) if order is None else order:
            loss, right = self._learn(images[i], labels[i])
            run.batch_done(1, loss, int(right))

    def _outputs(self, flat: np.ndarray) -> np.ndarray:
        """Output neurons' values ``(n, n_output)`` for flat images ``(n, n_input)``, one
        forward pass through the neurons per image."""
        return np.array([self.forward(book_inputs(row)) for row in flat]).reshape(
            len(flat), self.n_classes
        )

    def _losses(self, outputs: np.ndarray, labels: np.ndarray) -> float:
        """The book's quadratic loss ``0.5 * sum((t - o)**2)``, summed over the samples."""
        diff = book_targets(labels, self.n_classes) - outputs
        return 0.5 * float(np.vdot(diff, diff))

    # -- model files ------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays (``w1``, ``w2``, ...: each layer's incoming weights ``(n_out, n_in [+1])``)
        and config for :func:`ownnet.io.save_model`."""
        arrays = {f"w{k + 1}": w for k, w in enumerate(self.weights)}
        config = {
            "sizes": list(self.sizes),
            "lr": self.lr,
            "bias": self.bias,
            "error_split": self.error_split,
        }
        return arrays, config

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> Network:
        """Rebuild a network saved by :meth:`state` (shapes checked before building)."""
        sizes = config.get("sizes")
        if not isinstance(sizes, list) or len(sizes) < 2:
            raise ValueError(f"sizes must be a list of at least 2 layer sizes, found {sizes!r}")
        bias = config.get("bias", False)
        for k in range(1, len(sizes)):
            want = (sizes[k], sizes[k - 1] + int(bool(bias)))
            got = tuple(np.shape(arrays[f"w{k}"]))
            if got != want:
                raise ValueError(f"w{k} has shape {got}, the config says {want}")
        net = cls(
            *sizes,
            lr=config.get("lr", 0.1),
            bias=bias,
            error_split=config.get("error_split", "transpose"),
            seed=0,
        )
        net.load_arrays(arrays)
        return net

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Set the weights from arrays named as :meth:`state` names them."""
        self.set_weights([arrays[f"w{k}"] for k in range(1, len(self.sizes))])
