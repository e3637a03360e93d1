"""Training steps of networks on images split over threads: each thread trains on its own
part of the batch.

Which networks are split (:func:`plan` decides, for ``T`` threads):

* **A network with image layers** (convolutions, pooling: :func:`image_layers`). Each
  batch is cut into parts of consecutive rows: one per thread, or more so that none has
  more than :data:`MAX_PART` samples (the threads take them in turn). Each part goes
  through its own *tower*: a copy of the network whose layers share the parameters but
  keep their own buffers and gradients. The towers run at the same time, each on one
  core: NumPy lets go of Python's lock inside its loops and matrix products, and each
  tower's matrix products run on one BLAS thread. So everything is split, not only the
  matrix products: scaling the pixels, im2col, pooling, activations. Then the towers'
  gradients are added, weighted by the size of their part (each is the gradient of its
  part's mean loss), and the optimiser takes one step, on all threads too. Evaluation
  (:meth:`BatchSplit.chunks`) splits its images the same way.
* **A network without image layers** (``Dense``, ``Dropout``, ``Activation``...) is not
  split: each step runs whole on the calling thread, and only its matrix products use
  the ``T`` BLAS threads (the BLAS cuts each product between them); evaluation too.
  Nearly all of such a network's work is a few matrix products, and a batch of 64 or
  128 rows is small. Towers would make each product half as long, add a pass over all
  the gradients (the towers' sum) and hand work to another thread and wait for it at
  every step: this costs more than the towers gain by running the other passes
  (scaling, activations, dropout) on every core. Measured on two cores, the whole step
  with its products cut by the BLAS was faster than towers for every dense network and
  batch size tried (64 to 1,024), and for 784-200-10 the towers were slower even than
  one thread.
* **A network with BatchNorm** is not split: it needs the statistics of the whole batch
  (its matrix products still use the BLAS threads).

Dropout masks are drawn for the whole batch before the towers start, from the same
generator and in the same order as one thread would draw them, so a split run draws the
same masks and leaves the generator in the same state as an unsplit one. The sums are
taken in another order, so float32 results differ from one thread's in the last digits;
for a given thread count they are the same every run, however busy the machine is. The
same holds where the BLAS cuts the products: it cuts a product of given shapes between a
given number of threads the same way every time.

The towers also run a convolution with relu followed by a 2x2 max pool as one stage
(:class:`ownnet.nn.fused.ConvPool`: the relu after the pooling, on a quarter of the
values), with one thread too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from ownnet.nn.batchnorm import BatchNorm
from ownnet.nn.flatten import Flatten
from ownnet.nn.fused import ConvPool, fusable
from ownnet.nn.layers import Dropout, Layer
from ownnet.threads import blas_threads, controller

#: a part has at least this many samples (smaller parts: fewer towers)
MIN_PART = 16
#: samples per part, at most (see :class:`BatchSplit`)
MAX_PART = 64

_POOL: ThreadPoolExecutor | None = None


T = TypeVar("T")


def callers_errstate(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` to run on another thread under this thread's floating-point error handling
    (``np.errstate`` is per thread: a tower must not warn where its caller is silent)."""
    err = np.geterr()

    def call(*args: Any) -> T:
        with np.errstate(**err):
            return fn(*args)

    return call


def _pool(workers: int) -> ThreadPoolExecutor:
    """A process-wide pool of tower threads (the calling thread runs the first tower)."""
    global _POOL
    if _POOL is None or _POOL._max_workers < workers:
        _POOL = ThreadPoolExecutor(workers, thread_name_prefix="ownnet-tower")
    return _POOL


def image_layers(net: Any) -> bool:
    """Whether ``net`` has layers that work on images ``(channels, height, width)``
    (``Flatten`` only reshapes them: it does not count)."""
    return any(len(x.input_shape) == 3 and not isinstance(x, Flatten) for x in net.layers)


def splittable(net: Any) -> bool:
    """Whether ``net``'s training steps can be split by samples (no BatchNorm)."""
    return not any(isinstance(layer, BatchNorm) for layer in net.layers)


def plan(net: Any, threads: int | None = None) -> BatchSplit | None:
    """A :class:`BatchSplit` for ``net`` over ``threads`` (default: :func:`blas_threads`),
    for training and evaluation; ``None`` (the plain layers, the matrix products on the
    BLAS threads) for a network without image layers or with BatchNorm, and for one
    thread where there is nothing to fuse (module doc)."""
    if not image_layers(net) or not splittable(net):
        return None
    threads = blas_threads() if threads is None else int(threads)
    if threads < 2 and len(stages(net.layers)) == len(net.layers):
        return None
    old = net._split
    if old is not None and old.threads == threads and old.layers == net.layers:
        return old  # the towers and their buffers are still good
    return BatchSplit(net, threads)


def twin(layer: Layer, own_grads: bool) -> Layer:
    """A copy of ``layer`` that shares its parameters, has its own buffers and, if
    ``own_grads``, its own gradient arrays (else it writes into ``layer``'s)."""
    other = copy.copy(layer)
    other._buffers = {}
    if own_grads:
        other.grads = {name: np.zeros_like(g) for name, g in layer.grads.items()}
    return other


def stages(layers: list[Layer]) -> list[Layer]:
    """``layers`` with each fusable convolution and pool replaced by a :class:`ConvPool`."""
    out: list[Layer] = []
    i = 0
    while i < len(layers):
        if i + 1 < len(layers) and fusable(layers[i], layers[i + 1]):
            out.append(ConvPool(layers[i], layers[i + 1]))
            i += 2
        else:
            out.append(layers[i])
            i += 1
    return out


def tower(net: Any, own_grads: bool, buffers_of: Any = None) -> Any:
    """A shallow copy of the network ``net`` whose layers are twins (:func:`twin`), fused into
    :func:`stages`, with buffers of its own, or those of the tower ``buffers_of`` (for
    parts that the same thread trains one after the other)."""
    other = copy.copy(net)
    other.layers = stages([twin(x, own_grads) for x in net.layers])
    other._needs_input_grad = [
        any(x.params for x in other.layers[:i]) for i in range(len(other.layers))
    ]
    other._buffers = {}
    other._split = None
    if buffers_of is not None:
        other._buffers = buffers_of._buffers
        for mine, theirs in zip(other.layers, buffers_of.layers, strict=True):
            mine._buffers = theirs._buffers
            if isinstance(mine, ConvPool):
                mine.conv._buffers, mine.pool._buffers = theirs.conv._buffers, theirs.pool._buffers
    return other


def part_bounds(n: int, parts: int) -> list[int]:
    """Cut ``n`` rows into at most ``parts`` runs of consecutive rows, as equal as possible and
    each at least :data:`MIN_PART` long (one run if ``n`` is small): ``[0, ..., n]``."""
    parts = max(1, min(parts, n // MIN_PART))
    return [n * k // parts for k in range(parts + 1)]


class BatchSplit:
    """Training steps of ``net`` split into parts of the batch over ``threads`` threads.

    Batches are cut into parts of at most :data:`MAX_PART` samples even when fewer threads
    take them (each thread takes its parts in turn): a convolution's bands of rows then
    stay small enough for its matrix products to run at full speed.
    """

    def __init__(self, net: Any, threads: int) -> None:
        self.net = net
        self.threads = max(1, int(threads))
        #: the network's layers when the towers were made
        self.layers = list(net.layers)
        #: the network's Dropout layers
        self.dropouts = [x for x in net.layers if isinstance(x, Dropout)]
        #: one tower per part (made as needed); the first writes its gradients into the
        #: network's own arrays
        self.towers: list[Any] = []
        #: per tower, its gradient arrays in the order of ``net.params()``, and its Dropouts
        self.grads: list[list[np.ndarray]] = []
        self.tower_dropouts: list[list[Dropout]] = []

    def _towers(self, parts: int) -> list[Any]:
        while len(self.towers) < parts:
            k = len(self.towers)
            same_thread = self.towers[k - self.threads] if k >= self.threads else None
            t = tower(self.net, own_grads=k > 0, buffers_of=same_thread)
            self.towers.append(t)
            self.grads.append([x.grads[name] for x in t.layers for name in x.params])
            self.tower_dropouts.append([x for x in t.layers if isinstance(x, Dropout)])
        return self.towers[:parts]

    def bounds(self, n: int) -> list[int]:
        """Where the parts of a batch of ``n`` begin and end."""
        return part_bounds(n, max(self.threads, -(-n // MAX_PART)))

    def train_batch(
        self, images: np.ndarray, labels: np.ndarray, idx: np.ndarray, optimizer: Any
    ) -> tuple[float, int]:
        """One step on ``images[idx]`` (uint8 ``(n, n_pixels)``); returns (mean loss, correct)."""
        net = self.net
        n = len(idx)
        bounds = self.bounds(n)
        parts = len(bounds) - 1
        towers = self._towers(parts)
        for d, layer in enumerate(self.dropouts):  # the masks one thread would draw, by rows
            bits = layer.random_bits(n)
            per = len(bits) // n
            for t in range(parts):
                self.tower_dropouts[t][d].bits = bits[bounds[t] * per : bounds[t + 1] * per]

        def run(first: int) -> list[tuple[float, int]]:
            """This thread's parts: ``first``, ``first + threads``, ..."""
            return [
                towers[t]._batch_gradients(images, labels, idx[bounds[t] : bounds[t + 1]])
                for t in range(first, parts, self.threads)
            ]

        if parts == 1:
            results = run(0)
            optimizer.step(net._params)
        else:
            threads = min(self.threads, parts)
            with controller().limit(limits=1, user_api="blas"):
                work = callers_errstate(run)
                futures = [_pool(threads - 1).submit(work, t) for t in range(1, threads)]
                try:
                    mine = run(0)
                finally:
                    theirs = [f.result() for f in futures]
                by_thread = [mine, *theirs]
                results = [by_thread[t % threads][t // threads] for t in range(parts)]
                self._add_gradients(bounds)
                # the update too on all threads (it goes value by value: same result)
                own = optimizer.threads
                optimizer.threads = max(own or 1, threads)
                try:
                    optimizer.step(net._params)
                finally:
                    optimizer.threads = own
        sizes = np.diff(bounds)
        loss = sum(r[0] * s for r, s in zip(results, sizes, strict=True)) / n
        return float(loss), sum(r[1] for r in results)

    def chunks(self, flat: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
        """Evaluation of uint8 images ``flat (n, n_pixels)``: ``(first row, outputs, logits or
        None)`` per chunk, in order. The threads take chunks in turn, each through its own
        tower; a chunk's arrays are valid until the next is asked for."""
        starts = list(range(0, len(flat), MAX_PART))
        towers = self._towers(min(self.threads, len(starts)))

        def run(t: int, start: int) -> tuple[int, np.ndarray, np.ndarray | None]:
            tower = towers[t]
            out = tower._forward_pixels(flat[start : start + MAX_PART], False)
            return start, out, tower._logits()

        if len(towers) == 1:  # one thread (or one chunk): no waiting for other BLAS threads
            for start in starts:
                with controller().limit(limits=1, user_api="blas"):
                    result = run(0, start)
                yield result
            return
        pool = _pool(len(towers) - 1)
        for first in range(0, len(starts), len(towers)):
            group = starts[first : first + len(towers)]
            with controller().limit(limits=1, user_api="blas"):
                work = callers_errstate(run)
                futures = [pool.submit(work, t, s) for t, s in enumerate(group[1:], start=1)]
                try:
                    results = [run(0, group[0])]
                finally:
                    results += [f.result() for f in futures]
            yield from results

    def _add_gradients(self, bounds: list[int]) -> None:
        """The batch's gradients, ``sum_t (n_t / n) * grads_t``, into the first tower's arrays
        (the network's own)."""
        n = bounds[-1]
        weights = [(b - a) / n for a, b in zip(bounds[:-1], bounds[1:])]
        equal = len(set(weights)) == 1
        for k, total in enumerate(self.grads[0]):
            if equal:  # (g_0 + g_1 + ...) / T
                for t in range(1, len(weights)):
                    total += self.grads[t][k]
                total *= weights[0]
            else:
                total *= weights[0]
                for t in range(1, len(weights)):
                    total += self.grads[t][k] * weights[t]
