"""The book's network: three layers, sigmoid, one sample at a time, float64.

This is the network of *Make Your Own Neural Network*, with the same maths:

* weights ``wih`` of shape ``(hidden, input)`` and ``who`` of shape
  ``(output, hidden)``, drawn from ``normal(0, n_in ** -0.5)``;
* inputs scaled ``x / 255 * 0.99 + 0.01``, targets 0.01 everywhere and 0.99
  at the label (:mod:`ownnet.book`);
* output errors ``e_o = t - o``, hidden errors ``e_h = who.T @ e_o`` (taken
  before ``who`` changes), and the updates
  ``who += lr * outer(e_o * o * (1 - o), h)``,
  ``wih += lr * outer(e_h * h * (1 - h), x)``.

It is fast because every step writes into preallocated buffers and updates the weights
in place; :meth:`Network.fit` trains in blocks of samples (:mod:`ownnet.blocks`), still
exactly one sample at a time (:meth:`Network._train_block`).

``bias=True`` adds a bias node (a constant 1.0) to the input and the hidden
layer; ``error_split`` chooses how the output error is split back among the
hidden nodes (the book's ``"transpose"``, or the alternatives it discusses).
It keeps the model contract of every ownnet model: ``fit``, ``predict``,
``predict_proba``, ``evaluate``, ``read``, ``save`` (:mod:`ownnet.model`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.linalg.blas import dger
from scipy.special import expit
from threadpoolctl import threadpool_limits

from ownnet import blocks
from ownnet.book import TARGET_OFF, book_inputs, book_targets, book_weights
from ownnet.error_splits import ERROR_SPLITS, split_errors
from ownnet.inputs import as_training_data
from ownnet.model import Model
from ownnet.progress import with_progress
from ownnet.threads import blas_threads
from ownnet.training import (
    Augment,
    Callback,
    History,
    Run,
    as_generator,
    check_epochs,
    run_epochs,
)

#: How the first weights are drawn, ``normal(0, n ** -0.5)``: ``"fan_in"``, ``n`` = the links
#: into a node (the book's text); ``"fan_out"``, ``n`` = the nodes of the receiving layer
#: (the printed book's code: ``pow(self.hnodes, -0.5)``).
INITS = ("fan_in", "fan_out")


class Network(Model):
    """The book's three-layer sigmoid network.

    Args:
        n_input, n_hidden, n_output: layer sizes (784, 200, 10 for MNIST).
        lr: learning rate.
        bias: add a bias node to the input and hidden layers.
        error_split: how the output error is split among the hidden nodes: ``"transpose"``
            (the book: ``who.T @ e``) or an alternative of :mod:`ownnet.error_splits`.
        init: ``"fan_in"`` (the book's text) or ``"fan_out"`` (its printed code), see
            :data:`INITS`.
        seed: seed or ``numpy.random.Generator`` for the initial weights.
    """

    kind = "classic"
    output_activation = "sigmoid"
    #: images per chunk when predicting or evaluating
    eval_chunk = 1000

    def __init__(
        self,
        n_input: int = 784,
        n_hidden: int = 200,
        n_output: int = 10,
        lr: float = 0.1,
        *,
        bias: bool = False,
        error_split: str = "transpose",
        init: str = "fan_in",
        seed: int | np.random.Generator | None = 0,
    ) -> None:
        for name, n in (("n_input", n_input), ("n_hidden", n_hidden), ("n_output", n_output)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"{name} must be a whole number >= 1, found {n!r}")
        if error_split not in ERROR_SPLITS:
            raise ValueError(f"error_split must be one of {ERROR_SPLITS}, found {error_split!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, found {init!r}")
        if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a finite number > 0, found {lr!r}")
        self.n_input, self.n_hidden, self.n_output = int(n_input), int(n_hidden), int(n_output)
        self.lr = float(lr)
        self.bias = bool(bias)
        self.error_split = error_split
        self.init = init
        rng = as_generator(seed)
        b = int(self.bias)
        # fan_out, the printed code: pow(hnodes, -0.5) and pow(onodes, -0.5)
        fans = (self.n_hidden, self.n_output) if init == "fan_out" else (None, None)
        self.wih = book_weights(rng, self.n_hidden, self.n_input + b, fans[0])
        self.who = book_weights(rng, self.n_output, self.n_hidden + b, fans[1])
        self.history = History()
        self.meta: dict[str, Any] = {}
        self._allocate()

    # -- buffers ---------------------------------------------------------------
    def _allocate(self) -> None:
        b = int(self.bias)
        self._x = np.ones(self.n_input + b)  # the bias node stays 1.0
        self._h = np.ones(self.n_hidden + b)
        self._h_in = np.empty(self.n_hidden)
        self._o = np.empty(self.n_output)
        self._e_o = np.empty(self.n_output)
        self._e_h = np.empty(self.n_hidden)
        self._t = np.full(self.n_output, TARGET_OFF)
        self._work: blocks.Workspace | None = None
        #: fit's threads: BLAS's now (fit pins BLAS to one thread; sweeps pin it before)
        self._threads = blas_threads()

    @property
    def sizes(self) -> tuple[int, int, int]:
        """``(n_input, n_hidden, n_output)``."""
        return (self.n_input, self.n_hidden, self.n_output)

    @property
    def n_pixels(self) -> int:  # type: ignore[override]
        return self.n_input

    @property
    def n_classes(self) -> int:  # type: ignore[override]
        return self.n_output

    def __repr__(self) -> str:
        extra = ", bias=True" if self.bias else ""
        if self.error_split != "transpose":
            extra += f", error_split={self.error_split!r}"
        sizes = f"{self.n_input}, {self.n_hidden}, {self.n_output}"
        return f"classic.Network({sizes}, lr={self.lr}{extra})"

    # -- the book's two functions ---------------------------------------------
    def train(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        """One step on one sample: ``inputs (n_input,)`` scaled, ``targets (n_output,)``."""
        self._x[: self.n_input] = np.ravel(inputs)
        self._step(np.ravel(targets))

    def query(self, inputs: np.ndarray) -> np.ndarray:
        """The book's query: scaled inputs ``(n_input,)`` → outputs ``(n_output,)``.

        A batch ``(n, n_input)`` gives ``(n, n_output)``.
        """
        x = np.asarray(inputs, dtype=np.float64)
        single = x.ndim == 1
        x = np.atleast_2d(x)
        if x.shape[1] != self.n_input:
            raise ValueError(f"expected inputs with {self.n_input} values, found {x.shape[1]}")
        if x.size and float(x.max()) > 1.0 + 1e-9:  # pixels 0..255 given as they are
            raise ValueError(
                f"query takes the book's scaled inputs 0.01..1.0, found values up to "
                f"{float(x.max()):g}; scale pixels with ownnet.book.book_inputs, or use "
                "predict/predict_proba, which take pixels"
            )
        hidden = expit(self._affine(x, self.wih))
        out = expit(self._affine(hidden, self.who))
        return out[0] if single else out

    def _affine(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        if self.bias:
            return x @ w[:, :-1].T + w[:, -1]
        return x @ w.T

    def _step(self, t: np.ndarray) -> None:
        """Forward and backward for the sample in ``self._x`` with targets ``t``."""
        x, e_h = self._x, self._e_h
        np.dot(self.wih, x, out=self._h_in)
        expit(self._h_in, out=self._h[: self.n_hidden])
        self._output_step(t)
        # wih += lr * outer(e_h * h * (1 - h), x)
        self._hidden_delta(out=e_h)
        _check_in_place(dger(self.lr, x, e_h, a=self.wih.T, overwrite_a=1), self.wih)

    def _output_step(self, t: np.ndarray) -> None:
        """With the hidden outputs in ``self._h``: the outputs, their errors against
        targets ``t (n_output,)``, the hidden errors (into ``self._e_h``), and the update
        of ``who`` (in place)."""
        h, o, e_o = self._h, self._o, self._e_o
        np.dot(self.who, h, out=o)
        expit(o, out=o)
        np.subtract(t, o, out=e_o)
        self._hidden_errors(e_o, out=self._e_h)
        # who += lr * outer(e_o * o * (1 - o), h)   (in place, rank 1)
        np.multiply(e_o, o, out=e_o)
        np.subtract(1.0, o, out=o)
        np.multiply(e_o, o, out=e_o)
        _check_in_place(dger(self.lr, h, e_o, a=self.who.T, overwrite_a=1), self.who)

    def _hidden_delta(self, out: np.ndarray) -> None:
        """``out (n_hidden,) = e_h * h * (1 - h)``: what the input weights learn from
        (``self._h_in`` is scratch)."""
        hh = self._h[: self.n_hidden]
        np.multiply(self._e_h, hh, out=out)
        np.subtract(1.0, hh, out=self._h_in)
        np.multiply(out, self._h_in, out=out)

    def _hidden_errors(self, e_o: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The book's ``who.T @ e_o`` into ``out (n_hidden,)``, or another way to split the
        output errors (:func:`ownnet.error_splits.split_errors`)."""
        return split_errors(self.who[:, : self.n_hidden], e_o, self.error_split, out)

    def hidden_errors(self, output_errors: np.ndarray) -> np.ndarray:
        """Split output errors ``(n_output,)`` back to hidden errors ``(n_hidden,)``."""
        out = np.empty(self.n_hidden)
        return self._hidden_errors(np.asarray(output_errors, dtype=np.float64), out)

    # -- the model contract -------------------------------------------------------------
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
        """Train one sample at a time, as the book does, for ``epochs`` passes.

        Args:
            x, y: a Dataset, a pair ``(images, labels)``, or images ``x`` with labels
                ``y``; images uint8 0..255 or floats 0..1, ``(n, 28, 28)`` or ``(n, 784)``.
            epochs: train until this many epochs are done (counting ``initial_epoch``).
            batch_size: always one sample at a time: only ``None`` or 1.
            validation_data: measured after each epoch (``val_loss``, ``val_accuracy``).
            callbacks: :class:`ownnet.training.Callback` objects; ``on_batch_end`` comes
                after every chunk of :data:`ownnet.blocks.CHUNK` samples.
            seed: seed or generator of the order (when ``shuffle``) and of ``augment``.
            shuffle: a new order every epoch (the book keeps the file order: False).
            verbose: 1 prints a progress line per epoch; 0 is silent.
            initial_epoch, history: continue a run (see :mod:`ownnet.checkpoint`).
            augment: each epoch trains on ``augment(images, rng)`` (new random rotations
                and shifts: :class:`ownnet.augmentation.RandomTransform`).

        Returns:
            :class:`~ownnet.training.History` (also kept as ``self.history``): the book's
            quadratic ``loss`` and ``accuracy`` over each epoch's samples, the same on
            ``validation_data``, ``seconds``, ``samples_per_s`` and ``lr``.
        """
        if batch_size not in (None, 1):
            raise ValueError(
                f"the book's network learns one sample at a time: batch_size must be 1, "
                f"found {batch_size!r}"
            )
        epochs, initial_epoch = check_epochs(epochs, initial_epoch)
        images, labels = as_training_data(x, y, self.n_input, self.n_output)
        val = None
        if validation_data is not None:
            val = as_training_data(
                validation_data, None, self.n_input, self.n_output, "validation_data"
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
        # One sample at a time is many small BLAS calls: threads only add waiting.
        with threadpool_limits(limits=1, user_api="blas"):
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
        """One step on each sample of a batch, in order, with the book's rule (Keras'
        ``train_on_batch``); returns their mean loss and accuracy before each learnt."""
        images, labels = as_training_data(x, y, self.n_input, self.n_output)
        loss = correct = 0.0
        with threadpool_limits(limits=1, user_api="blas"):
            for idx in blocks.chunks(len(images)):
                part_loss, part_correct = self._train_block(images[idx], labels[idx])
                loss += part_loss
                correct += part_correct
        return loss / len(images), correct / len(images)

    def _train_epoch(
        self, images: np.ndarray, labels: np.ndarray, order: np.ndarray | None, run: Run
    ) -> None:
        """One pass in chunks of :data:`ownnet.blocks.CHUNK` samples, reporting each to ``run``."""
        run.batches = blocks.n_chunks(len(images))
        for idx in blocks.chunks(len(images), order):
            block = images[idx]
            loss, correct = self._train_block(block, labels[idx])
            run.batch_done(len(block), loss, correct)

    def _train_block(self, images: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
        """Train on the samples in order, one at a time, exactly as :meth:`train` (fast:
        :mod:`ownnet.blocks`); returns their summed quadratic loss and how many were right,
        each measured before it was learnt."""
        if self._work is None:
            self._work = blocks.book_workspace(*self.sizes, self.bias, self._threads)
        return blocks.train_samples(
            self.wih, self.who, self.lr, images, labels, self._work, self.error_split
        )

    def _outputs(self, flat: np.ndarray) -> np.ndarray:
        """Outputs ``(n, n_output)`` for flat images ``(n, n_input)``, uint8 or floats 0..1."""
        return self.query(book_inputs(flat))

    def _losses(self, outputs: np.ndarray, labels: np.ndarray) -> float:
        """The book's quadratic loss, ``0.5 * sum((t - o)**2)``, summed over the samples."""
        diff = book_targets(labels, self.n_output) - outputs
        return 0.5 * float(np.vdot(diff, diff))

    # -- model files -------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and config for :func:`ownnet.io.save_model`."""
        config = {
            "n_input": self.n_input,
            "n_hidden": self.n_hidden,
            "n_output": self.n_output,
            "lr": self.lr,
            "bias": self.bias,
            "error_split": self.error_split,
            "activation": "sigmoid",
        }
        return {"wih": self.wih, "who": self.who}, config

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> Network:
        """Rebuild a network saved by :meth:`state` (sizes are checked against the arrays
        before anything is allocated)."""
        sizes = [config.get(k) for k in ("n_input", "n_hidden", "n_output")]
        bias = config.get("bias", False)
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be true or false, found {bias!r}")
        b = int(bias)
        for name, shape in (
            ("wih", (sizes[1], (sizes[0] or 0) + b)),
            ("who", (sizes[2], (sizes[1] or 0) + b)),
        ):
            if name not in arrays:
                raise KeyError(f"missing array {name!r}")
            if tuple(np.shape(arrays[name])) != shape:
                raise ValueError(
                    f"{name} has shape {tuple(np.shape(arrays[name]))}, expected {shape} (config)"
                )
        net = cls.__new__(cls)
        Network.__init__(
            net,
            *sizes,
            config.get("lr", 0.1),
            bias=bias,
            error_split=config.get("error_split", "transpose"),
            seed=0,
        )
        net.load_arrays(arrays)
        return net

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy ``wih`` and ``who`` (as :meth:`state` names them) into the network."""
        for name in ("wih", "who"):
            w = np.asarray(arrays[name], dtype=np.float64)
            want = getattr(self, name).shape
            if w.shape != want:
                raise ValueError(f"{name} has shape {w.shape}, expected {want}")
            setattr(self, name, np.ascontiguousarray(w))

    def copy(self) -> Network:
        """An independent copy with the same weights."""
        arrays, config = self.state()
        return Network.from_state({k: v.copy() for k, v in arrays.items()}, config)


def _check_in_place(result: np.ndarray, weights: np.ndarray) -> None:
    """BLAS updates write into ``weights`` only when it is C-contiguous float64; else copy back."""
    if result.base is not weights and not np.may_share_memory(result, weights):
        weights[...] = result.T
