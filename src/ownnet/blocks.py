"""The book's network trained one sample at a time, exactly, at the speed of matrix products.

The book trains its network on one sample after another: each sample meets the
weights that the samples before it have left. Done literally, that is two
``(hidden, input)`` matrix-vector products and one rank-1 update of the
``(hidden, input)`` weights per sample, and Python overhead around them. This
module gets the same numbers (to rounding) with the big products done for a
whole block of samples at once, and with the work of the next block done on a
second core while the first walks through the current block sample by sample.

**The Gram trick.** Within a block of ``m`` samples the input weights after
samples ``0..i-1`` are ``wih_i = wih_0 + lr * sum_{j<i} d_j x_j^T`` (``d_j`` is
sample ``j``'s hidden delta ``e_h * h * (1 - h)``), so sample ``i``'s hidden input is

    wih_i @ x_i = wih_0 @ x_i + lr * sum_{j<i} (x_j . x_i) d_j

``wih_0 @ x`` for the whole block and the block's dot products ``x_j . x_i``
(its *Gram matrix*) are two matrix products; the walk through the block then
needs only ``i`` vectors of ``hidden`` values per sample, and ``wih`` is
updated once per block, by one more product ``wih += lr * D^T X``.

**The next block on the second core.** ``wih_{k+1} @ x`` for the next block
``k + 1`` is ``wih_k @ x + lr * (X_{k+1} X_k^T) D_k``: the big product
``X_{k+1} wih_k^T`` needs only the weights at the start of block ``k``, so a
worker thread computes it, with the next block's Gram matrix and ``X_{k+1} X_k^T``,
while the main thread walks through block ``k``. Once block ``k``'s deltas ``D_k``
are known, a small ``(m, m) @ (m, hidden)`` product completes it, and the main
thread applies block ``k``'s update to ``wih``. The same arithmetic is done with
one thread or two, so the result does not depend on the thread count.

**Handing the interpreter over quickly.** The walk is a Python loop: it holds the
interpreter lock nearly all the time, and the worker needs the lock for a moment
before and after each of its products. By default Python hands the lock over
every 5 ms, so the worker would spend most of a block waiting for it; while two
threads train, it hands it over every 0.1 ms (:func:`ownnet.handover.quick_handovers`).
The worker's products are NumPy calls, which let go of the lock while they run. The
update is one SciPy BLAS call (``dgemm``, adding into ``wih`` in place), which keeps
the lock, so the main thread makes it, between two walks, when the worker has
nothing to do.

**The walk through a block** is about ten NumPy calls per sample on buffers
made once: the hidden outputs and the outputs share one row ``[h, (1), o]``,
the errors one row ``[e_h, (0), e_o]``, so that one pass of three calls gives
both deltas ``[d, (0), delta_o]``; the output weights ``who`` (``outputs x
hidden``, small) are updated after every sample with a rank-1 BLAS update, as
the book does. The outputs of the block are kept, so the quadratic loss
``0.5 * sum((t - o)**2)`` and whether each sample was right cost two NumPy
calls per block.

**Chunks.** A model hands :func:`train_samples` its samples :data:`CHUNK` at a time
(:func:`chunks`), so that ``fit`` can report to its callbacks between calls; a call
walks its chunk in blocks of :data:`BLOCK`, looking one block ahead.

Shapes: ``wih (hidden, inputs [+1])`` and ``who (outputs, hidden [+1])`` as the
book writes them (the ``+1`` is the bias node's column when ``bias``); images
are uint8 ``(m, inputs)``, labels ``(m,)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from scipy.linalg.blas import dgemm, dger
from scipy.special import expit

from ownnet.book import INPUTS, TARGET_OFF, TARGET_ON, book_inputs
from ownnet.error_splits import split_errors
from ownnet.handover import quick_handovers

#: samples per block: the Gram matrix is ``(BLOCK, BLOCK)``
BLOCK = 64
#: samples per call of :func:`train_samples` when a model trains (:func:`chunks`)
CHUNK = 1024


class Workspace:
    """Buffers for :func:`train_samples`, made once per network and reused.

    Args:
        n_input, n_hidden, n_output: layer sizes.
        bias: the network has bias nodes (a constant 1.0 input and hidden node).
        inputs: ``(256,)`` float64, the network's input for each pixel value (the book's
            ``p / 255 * 0.99 + 0.01``).
        targets: ``(off, on)``, the target values (the book's 0.01 and 0.99).
        block: samples per block.
        threads: 2 (or more) computes the next block's products on a worker thread;
            1 does everything in order on the calling thread. Same results either way.
    """

    def __init__(
        self,
        n_input: int,
        n_hidden: int,
        n_output: int,
        bias: bool,
        *,
        inputs: np.ndarray,
        targets: tuple[float, float],
        block: int = BLOCK,
        threads: int = 1,
    ) -> None:
        b = int(bias)
        self.sizes = (int(n_input), int(n_hidden), int(n_output))
        self.bias = bool(bias)
        self.block = int(block)
        self.threads = max(1, int(threads))
        n_in, n_hid, n_out = self.sizes
        m = self.block
        #: a row [hidden, (bias node), outputs]
        width = n_hid + b + n_out
        #: scaled inputs of three blocks in turn (previous, current, next), bias column 1.0
        self.x = [np.ones((m, n_in + b)) for _ in range(3)]
        #: per block: rows [hidden input of sample i | deltas of samples before it]
        self.q = [np.zeros((m, width)) for _ in range(2)]
        #: per block in turn: lr * (x_i . x_j) below the diagonal, 1 on it (lower triangle read)
        self.grams = [np.zeros((m, m)) for _ in range(2)]
        self.pixels = np.empty((m, n_in))  # scaled pixels, when x has a bias column
        self.cross = np.zeros((m, m))
        self.product = np.zeros((m, n_hid))
        self.correction = np.zeros((m, n_hid))
        self.y = np.zeros((m, width))  # [h, (1), o] per sample
        if b:
            self.y[:, n_hid] = 1.0
        self.e = np.zeros((m, width))  # [e_h, (0), e_o] per sample
        self.t = np.zeros((m, n_out))
        self.z = np.empty(width)
        self.tmp = np.empty(width)
        self.ones = np.ones(width)
        self.inputs = np.asarray(inputs, dtype=np.float64)
        if self.inputs.shape != (256,):
            raise ValueError(
                f"inputs must have one value per pixel value (256,), found {self.inputs.shape}"
            )
        self.table = np.full((n_out, n_out), float(targets[0]))
        np.fill_diagonal(self.table, float(targets[1]))
        # views made once: the walk through a block only looks them up
        self.rows = [
            (
                self.y[i],
                self.y[i, :n_hid],
                self.y[i, : n_hid + b],
                self.y[i, n_hid + b :],
                self.e[i],
                self.e[i, :n_hid],
                self.e[i, n_hid + b :],
                self.t[i],
            )
            for i in range(m)
        ]
        self.heads = [[q[: i + 1] for i in range(m)] for q in self.q]
        self.gram_rows = [[g[i, : i + 1] for i in range(m)] for g in self.grams]
        self.deltas = [[(q[i], q[i, n_hid + b :]) for i in range(m)] for q in self.q]
        self._pool: ThreadPoolExecutor | None = None

    def pool(self) -> ThreadPoolExecutor:
        """The worker thread (made on first use)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="ownnet-blocks")
        return self._pool

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_pool": None}  # a thread does not travel

    def close(self) -> None:
        """Stop the worker thread."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def book_workspace(
    n_input: int, n_hidden: int, n_output: int, bias: bool, threads: int = 1
) -> Workspace:
    """A :class:`Workspace` for the book's encoding (:mod:`ownnet.book`): its inputs
    :data:`~ownnet.book.INPUTS` and its targets ``(TARGET_OFF, TARGET_ON)``."""
    targets = (TARGET_OFF, TARGET_ON)
    return Workspace(
        n_input, n_hidden, n_output, bias, inputs=INPUTS, targets=targets, threads=threads
    )


def chunks(n: int, order: np.ndarray | None = None) -> Iterator[slice | np.ndarray]:
    """One pass over ``n`` samples, :data:`CHUNK` at a time: slices in file order, or
    consecutive parts of ``order`` (a permutation ``(n,)``)."""
    for start in range(0, n, CHUNK):
        yield slice(start, start + CHUNK) if order is None else order[start : start + CHUNK]


def n_chunks(n: int) -> int:
    """How many chunks :func:`chunks` makes of ``n`` samples."""
    return -(-n // CHUNK)


def train_samples(
    wih: np.ndarray,
    who: np.ndarray,
    lr: float,
    images: np.ndarray,
    labels: np.ndarray,
    work: Workspace,
    error_split: str = "transpose",
) -> tuple[float, int]:
    """Train on ``images (n, inputs)`` uint8 with ``labels (n,)``, one sample at a time in
    order, exactly as the book's ``train()`` would; ``wih`` and ``who`` (C-contiguous
    float64) are updated in place.

    Returns ``(loss, right)``: the sum over the samples of the quadratic loss
    ``0.5 * sum((t - o)**2)`` of the outputs each sample met, and how many of them had
    their label as the largest output.
    """
    n = len(images)
    if n == 0:
        return 0.0, 0
    n_in, n_hid, n_out = work.sizes
    if wih.shape != (n_hid, n_in + work.bias) or who.shape != (n_out, n_hid + work.bias):
        raise ValueError(
            f"weights {wih.shape} and {who.shape} do not fit a workspace for {work.sizes} "
            f"with bias={work.bias}"
        )
    for w in (wih, who):
        if not (w.dtype == np.float64 and w.flags.c_contiguous):
            raise ValueError("wih and who must be C-contiguous float64 arrays")
    m = work.block
    blocks = [(s, min(s + m, n)) for s in range(0, n, m)]
    last = len(blocks) - 1
    lr = float(lr)
    loss = 0.0
    right = 0
    pending: Future[None] | None = None
    use_pool = work.threads > 1 and last > 0

    def scale(k: int) -> np.ndarray:
        s, e = blocks[k]
        x = work.x[k % 3]
        if images.dtype != np.uint8:  # floats 0..1: the book's inputs, computed
            x[: e - s, :n_in] = book_inputs(images[s:e])
        elif work.bias:  # take into a contiguous array: a strided one is ten times slower
            np.take(work.inputs, images[s:e], out=work.pixels[: e - s])
            x[: e - s, :n_in] = work.pixels[: e - s]
        else:
            np.take(work.inputs, images[s:e], out=x[: e - s])
        return x[: e - s]

    def ahead(k: int) -> None:
        """Worker, while block ``k`` is walked: ``X_{k+1} wih_k^T``, block ``k + 1``'s
        Gram matrix and ``lr X_{k+1} X_k^T``, none of which needs block ``k``'s deltas."""
        s, e = blocks[k + 1]
        x1 = work.x[(k + 1) % 3][: e - s]
        np.matmul(x1, wih.T, out=work.product[: e - s])
        _gram(x1, work.grams[(k + 1) % 2], lr)
        s0, e0 = blocks[k]
        cross = work.cross[: e - s, : e0 - s0]
        np.matmul(x1, work.x[k % 3][: e0 - s0].T, out=cross)
        cross *= lr

    x0 = scale(0)
    np.matmul(x0, wih.T, out=work.q[0][: len(x0), :n_hid])
    _gram(x0, work.grams[0], lr)
    if last > 0:
        scale(1)
    with quick_handovers(use_pool):
        for k, (s, e) in enumerate(blocks):
            mk = e - s
            q = work.q[k % 2]
            if k < last:
                if use_pool:
                    pending = work.pool().submit(ahead, k)
                else:
                    ahead(k)
            np.take(work.table, labels[s:e], axis=0, out=work.t[:mk])
            _walk(who, lr, work, k % 2, mk, error_split)
            e_o = work.e[:mk, n_hid + work.bias :]
            loss += 0.5 * float(np.vdot(e_o, e_o))
            outputs = work.y[:mk, n_hid + work.bias :]
            right += int(np.count_nonzero(outputs.argmax(axis=1) == labels[s:e]))
            if pending is not None:
                pending.result()
                pending = None
            if k < last:
                # the next block's hidden inputs: X_{k+1} wih_k^T + lr (X_{k+1} X_k^T) D_k
                m1 = blocks[k + 1][1] - blocks[k + 1][0]
                corr = work.correction[:m1]
                np.matmul(work.cross[:m1, :mk], q[:mk, :n_hid], out=corr)
                np.add(work.product[:m1], corr, out=work.q[(k + 1) % 2][:m1, :n_hid])
            _update(wih, lr, q, work.x[k % 3], (s, e), n_hid)
            if k + 2 <= last:
                scale(k + 2)  # into the slot of block k, whose work is done
    return loss, right


def _gram(x: np.ndarray, out: np.ndarray, lr: float) -> None:
    """``out[:m, :m]`` = ``lr * (x_i . x_j)`` below the diagonal and 1 on it, for the block's
    inputs ``x (m, inputs)`` (only the lower triangle is read)."""
    m = len(x)
    np.matmul(x, x.T, out=out if m == len(out) else out[:m, :m])
    out *= lr
    out.flat[:: len(out) + 1] = 1.0


def _update(
    wih: np.ndarray, lr: float, q: np.ndarray, x: np.ndarray, span: tuple[int, int], n_hid: int
) -> None:
    """``wih += lr * D^T @ X`` for a block's deltas ``D = q[:, :n_hid]`` and inputs ``X``."""
    mk = span[1] - span[0]
    d = q[:mk, :n_hid]
    # wih.T is Fortran-ordered: BLAS writes into wih itself
    dgemm(lr, x[:mk].T, d.T, beta=1.0, c=wih.T, trans_b=1, overwrite_c=1)


def _walk(
    who: np.ndarray, lr: float, work: Workspace, which: int, mk: int, error_split: str
) -> None:
    """The samples of one block, one at a time: the outputs, errors and both deltas of
    sample ``i`` go into row ``i`` of ``work.y``, ``work.e`` and ``work.q[which]``;
    ``who`` is updated after each."""
    n_hid = work.sizes[1]
    heads, deltas, gram_rows = work.heads[which], work.deltas[which], work.gram_rows[which]
    z, tmp, ones = work.z, work.tmp, work.ones
    z_h = z[:n_hid]
    who_t = who.T  # Fortran-ordered (hidden [+1], outputs): dger writes into who
    w_h = who[:, :n_hid]
    back = w_h.T
    dot, multiply, subtract = np.dot, np.multiply, np.subtract
    inline = error_split == "transpose"  # the book's split, without a function call
    for i in range(mk):
        y, y_h, y_hb, y_o, e, e_h, e_o, t = work.rows[i]
        # hidden outputs: sigmoid(wih_0 x_i + lr sum_{j<i} (x_j . x_i) d_j)
        dot(gram_rows[i], heads[i], z)
        expit(z_h, y_h)
        # outputs and their errors
        dot(who, y_hb, y_o)
        expit(y_o, y_o)
        subtract(t, y_o, e_o)
        # hidden errors (from who before its update)
        if inline:
            dot(back, e_o, e_h)
        else:
            split_errors(w_h, e_o, error_split, e_h)
        # [d, (0), delta_o] = [e_h, (0), e_o] * y * (1 - y), over the last row's values
        q_i, delta_o = deltas[i]
        multiply(e, y, q_i)
        subtract(ones, y, tmp)
        multiply(q_i, tmp, q_i)
        # who += lr * outer(delta_o, [h, (1)]), in place
        dger(lr, y_hb, delta_o, a=who_t, overwrite_a=1)
