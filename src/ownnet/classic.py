"""The book's network: three layers, sigmoid, one sample at a time, float64.

This is the network of *Make Your Own Neural Network*, with the same maths:

* weights ``wih`` of shape ``(hidden, input)`` and ``who`` of shape
  ``(output, hidden)``, drawn from ``normal(0, n_in ** -0.5)``;
* inputs scaled ``x / 255 * 0.99 + 0.01``, targets 0.01 everywhere and 0.99
  at the label;
* output errors ``e_o = t - o``, hidden errors ``e_h = who.T @ e_o`` (taken
  before ``who`` changes), and the updates
  ``who += lr * outer(e_o * o * (1 - o), h)``,
  ``wih += lr * outer(e_h * h * (1 - h), x)``.

It is fast because every step writes into preallocated buffers and the
weight updates are in-place rank-1 BLAS updates (``dger``) instead of a new
``(hidden, input)`` array per sample.

``bias=True`` adds a bias node (a constant 1.0) to the input and the hidden
layer; ``error_split`` chooses how the output error is split back among the
hidden nodes (the book's ``"transpose"``, or the alternatives it discusses).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg.blas import dger
from scipy.special import expit
from threadpoolctl import threadpool_limits

from ownnet import blocks
from ownnet.classifier import Classifier
from ownnet.history import History
from ownnet.threads import blas_threads

#: The ways to split the output error among the hidden nodes (see :meth:`Network.hidden_errors`).
ERROR_SPLITS = ("transpose", "transpose_scaled", "proportional", "equal")

#: ``SCALE[p]`` is the book's input for pixel value ``p``: ``p / 255 * 0.99 + 0.01``.
SCALE = np.arange(256, dtype=np.float64) / 255.0 * 0.99 + 0.01

EVAL_CHUNK = 1000

#: Samples per call of :meth:`Network._train_block` in :meth:`Network.fit`.
BLOCK = 1024


def scale_images(images: np.ndarray) -> np.ndarray:
    """uint8 images ``(n, 28, 28)`` or ``(n, 784)`` → float64 inputs ``(n, 784)`` in 0.01..1.0."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 pixel values 0..255, found dtype {images.dtype}")
    return SCALE[images.reshape(len(images), -1)]


def targets_for(labels: np.ndarray, n_output: int = 10) -> np.ndarray:
    """Labels ``(n,)`` → book targets ``(n, n_output)``: 0.01, and 0.99 at the label."""
    t = np.full((len(labels), n_output), 0.01)
    t[np.arange(len(labels)), labels] = 0.99
    return t


class Network(Classifier):
    """The book's three-layer sigmoid network.

    Args:
        n_input, n_hidden, n_output: layer sizes (784, 200, 10 for MNIST).
        lr: learning rate.
        bias: add a bias node to the input and hidden layers.
        error_split: ``"transpose"`` (the book: ``who.T @ e``),
            ``"transpose_scaled"`` (``who.T @ e / n_hidden``),
            ``"proportional"`` (each output error shared among hidden nodes in
            proportion to the link weights, ``w / sum|w|``), or ``"equal"`` (each
            output error shared equally, ``sum(e) / n_hidden`` for every node).
        seed: seed or ``numpy.random.Generator`` for the initial weights.
    """

    kind = "classic"

    def __init__(
        self,
        n_input: int = 784,
        n_hidden: int = 200,
        n_output: int = 10,
        lr: float = 0.1,
        *,
        bias: bool = False,
        error_split: str = "transpose",
        seed: int | np.random.Generator | None = 0,
    ) -> None:
        for name, n in (("n_input", n_input), ("n_hidden", n_hidden), ("n_output", n_output)):
            if int(n) < 1:
                raise ValueError(f"{name} must be at least 1, found {n}")
        if error_split not in ERROR_SPLITS:
            raise ValueError(f"error_split must be one of {ERROR_SPLITS}, found {error_split!r}")
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, found {lr}")
        self.n_input, self.n_hidden, self.n_output = int(n_input), int(n_hidden), int(n_output)
        self.lr = float(lr)
        self.bias = bool(bias)
        self.error_split = error_split
        rng = np.random.default_rng(seed)
        b = int(self.bias)
        self.wih = rng.normal(0.0, (self.n_input + b) ** -0.5, (self.n_hidden, self.n_input + b))
        self.who = rng.normal(0.0, (self.n_hidden + b) ** -0.5, (self.n_output, self.n_hidden + b))
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
        self._t = np.full(self.n_output, 0.01)
        self._work: blocks.Workspace | None = None
        #: fit's threads: BLAS's now (fit pins BLAS to one thread; sweeps pin it before)
        self._threads = blas_threads()

    @property
    def sizes(self) -> tuple[int, int, int]:
        """``(n_input, n_hidden, n_output)``."""
        return (self.n_input, self.n_hidden, self.n_output)

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
        w = self.who[:, : self.n_hidden]
        if self.error_split == "transpose":
            return np.dot(w.T, e_o, out=out)
        if self.error_split == "transpose_scaled":
            np.dot(w.T, e_o, out=out)
            out /= self.n_hidden
            return out
        if self.error_split == "proportional":
            share = w / np.abs(w).sum(axis=1, keepdims=True)
            return np.dot(share.T, e_o, out=out)
        out.fill(e_o.sum() / self.n_hidden)  # "equal"
        return out

    def hidden_errors(self, output_errors: np.ndarray) -> np.ndarray:
        """Split output errors ``(n_output,)`` back to hidden errors ``(n_hidden,)``."""
        out = np.empty(self.n_hidden)
        return self._hidden_errors(np.asarray(output_errors, dtype=np.float64), out)

    # -- datasets --------------------------------------------------------------
    def fit(
        self,
        train: Any,
        epochs: int = 1,
        *,
        test: Any = None,
        rng: np.random.Generator | None = None,
        progress: bool = True,
        on_epoch_end: Callable[[int, History], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> History:
        """Train on a dataset, one sample at a time, for ``epochs`` epochs.

        Args:
            train: anything with uint8 ``images (n, 28, 28)`` and ``labels (n,)``.
            epochs: passes over ``train``.
            test: optional dataset; its accuracy is measured after each epoch.
            rng: shuffle the order each epoch with this generator; ``None``
                keeps the file order, as the book does.
            progress: show a progress bar per epoch with samples/s.
            on_epoch_end: called as ``f(epoch, history)`` after each epoch.
            on_progress: called as ``f(samples_done, samples_total)`` within an epoch.

        Returns:
            :class:`History` with ``seconds``, ``samples_per_s`` and, given
            ``test``, ``test_accuracy`` per epoch.
        """
        images, labels = training_arrays(train, self.n_input, self.n_output)
        # One sample at a time is many small BLAS calls: threads only add waiting.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(images, labels, epochs, test, rng, progress, on_epoch_end, on_progress)

    def _fit(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        epochs: int,
        test: Any,
        rng: np.random.Generator | None,
        progress: bool,
        on_epoch_end: Callable[[int, History], None] | None,
        on_progress: Callable[[int, int], None] | None,
    ) -> History:
        def one_epoch(order: np.ndarray | None, epoch: int) -> None:
            self._epoch(images, labels, order, epoch, epochs, progress, on_progress)

        return fit_epochs(len(images), epochs, one_epoch, self.evaluate, test, rng, on_epoch_end)

    def _epoch(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        order: np.ndarray | None,
        epoch: int,
        epochs: int,
        progress: bool,
        on_progress: Callable[[int, int], None] | None,
    ) -> None:
        n = len(images)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=n, desc=f"epoch {epoch}/{epochs}", unit="sample", unit_scale=True)
        try:
            for start in range(0, n, BLOCK):
                stop = min(start + BLOCK, n)
                idx = slice(start, stop) if order is None else order[start:stop]
                self._train_block(images[idx], labels[idx])
                if bar is not None:
                    bar.update(stop - start)
                if on_progress is not None:
                    on_progress(stop, n)
        finally:
            if bar is not None:
                bar.close()

    def _train_block(self, images: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
        """Train on the samples in order, one at a time, exactly as :meth:`train` (fast:
        :mod:`ownnet.blocks`); returns their summed quadratic loss and how many were right."""
        if self._work is None:
            self._work = blocks.Workspace(
                *self.sizes, self.bias, inputs=SCALE, targets=(0.01, 0.99), threads=self._threads
            )
        return blocks.train_samples(
            self.wih, self.who, self.lr, images, labels, self._work, self.error_split
        )

    def outputs(self, images: np.ndarray) -> np.ndarray:
        """Network outputs for uint8 images ``(n, 28, 28)`` or ``(n, 784)`` → ``(n, n_output)``."""
        flat = flat_images(images, self.n_input, "images")
        out = np.empty((len(flat), self.n_output))
        for i in range(0, len(flat), EVAL_CHUNK):
            out[i : i + EVAL_CHUNK] = self.query(SCALE[flat[i : i + EVAL_CHUNK]])
        return out

    # -- model files -------------------------------------------------------------
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
        """Rebuild a network saved by :meth:`state`."""
        net = cls(
            config["n_input"],
            config["n_hidden"],
            config["n_output"],
            config.get("lr", 0.1),
            bias=config.get("bias", False),
            error_split=config.get("error_split", "transpose"),
            seed=0,
        )
        for name in ("wih", "who"):
            w = np.asarray(arrays[name], dtype=np.float64)
            want = getattr(net, name).shape
            if w.shape != want:
                raise ValueError(f"{name} has shape {w.shape}, expected {want}")
            setattr(net, name, np.ascontiguousarray(w))
        return net

    def copy(self) -> Network:
        """An independent copy with the same weights."""
        arrays, config = self.state()
        return Network.from_state({k: v.copy() for k, v in arrays.items()}, config)


def flat_images(images: np.ndarray, n_input: int, what: str) -> np.ndarray:
    """uint8 ``images (n, 28, 28)`` or ``(n, n_input)`` as a ``(n, n_input)`` view.

    Raises TypeError for other dtypes and ValueError for another pixel count,
    naming ``what`` (e.g. ``"train.images"``).
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"{what}: expected uint8 pixel values 0..255, found dtype {images.dtype}")
    flat = images.reshape(len(images), -1)
    if flat.shape[1] != n_input:
        raise ValueError(f"{what}: expected {n_input} pixels per image, found {flat.shape[1]}")
    return flat


def fit_epochs(
    n: int,
    epochs: int,
    one_epoch: Callable[[np.ndarray | None, int], None],
    evaluate: Callable[[Any], float],
    test: Any,
    rng: np.random.Generator | None,
    on_epoch_end: Callable[[int, History], None] | None,
) -> History:
    """The per-epoch loop of a one-sample-at-a-time network over ``n`` samples.

    Each epoch calls ``one_epoch(order, epoch)`` with the sample order (a permutation
    ``(n,)`` drawn from ``rng``, or ``None`` for the file order), times it, measures
    ``evaluate(test)`` when ``test`` is given, and calls ``on_epoch_end(epoch, history)``.
    Returns the :class:`History` of ``seconds``, ``samples_per_s`` and ``test_accuracy``.
    """
    history = History()
    for epoch in range(1, int(epochs) + 1):
        order = rng.permutation(n) if rng is not None else None
        start = time.perf_counter()
        one_epoch(order, epoch)
        seconds = time.perf_counter() - start
        row: dict[str, float] = {"seconds": seconds, "samples_per_s": n / max(seconds, 1e-9)}
        if test is not None:
            row["test_accuracy"] = evaluate(test)
        history.append(epoch=epoch, **row)
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
    return history


def training_arrays(train: Any, n_input: int, n_output: int) -> tuple[np.ndarray, np.ndarray]:
    """A dataset's images ``(n, n_input)`` uint8 and labels ``(n,)``, checked for training
    a network with ``n_input`` inputs and ``n_output`` outputs."""
    images = flat_images(train.images, n_input, "train.images")
    labels = np.asarray(train.labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if len(labels) and int(labels.max()) >= n_output:
        raise ValueError(f"label {int(labels.max())} needs more than {n_output} outputs")
    return images, labels


def _check_in_place(result: np.ndarray, weights: np.ndarray) -> None:
    """BLAS updates write into ``weights`` only when it is C-contiguous float64; else copy back."""
    if result.base is not weights and not np.may_share_memory(result, weights):
        weights[...] = result.T
