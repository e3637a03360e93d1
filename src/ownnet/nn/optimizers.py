"""Optimisers: SGD (momentum, Nesterov), RMSprop, Adam; L2 weight decay.

``step(params)`` takes a list of :class:`Param` (name, value, grad, decay)
and updates every value in place with a handful of NumPy ufunc passes that
write into kept scratch arrays: no new arrays per step, and no BLAS level-1
calls (SciPy's BLAS is a second OpenBLAS with threads of its own, which fight
NumPy's still-spinning ones: an RMSprop step with ``saxpy``/``sscal`` made a
training epoch 3.6 times slower). The gradients are left as they are.
``threads > 1`` splits large updates into blocks over a thread pool.

Weight decay is the L2 penalty ``0.5 * weight_decay * sum(W**2)`` added to the
cost, i.e. ``weight_decay * W`` added to the gradient of every parameter whose
``decay`` flag is set (weights, not biases).

The update rules follow PyTorch's (and Keras' for RMSprop and Adam, whose
default ``eps`` this uses):

* SGD: ``v = mu v + g``; ``w -= lr v`` (Nesterov: ``w -= lr (g + mu v)``);
* RMSprop: ``s = rho s + (1 - rho) g**2``; ``w -= lr g / (sqrt(s) + eps)``;
* Adam: ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``,
  ``w -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ownnet.nn.registry import from_spec


@dataclass
class Param:
    """One trainable array: ``name`` like ``"layer0.W"``, its ``value``, ``grad``, and
    whether weight decay applies."""

    name: str
    value: np.ndarray
    grad: np.ndarray
    decay: bool = False


#: values per block of an update (256 KiB of float32)
BLOCK = 65536

_POOL: ThreadPoolExecutor | None = None


def _default_threads() -> int:
    try:
        return min(len(os.sched_getaffinity(0)), 8)
    except AttributeError:  # pragma: no cover - not on Linux
        return min(os.cpu_count() or 1, 8)


def _pool(n_threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of worker threads (NumPy's ufuncs release the GIL)."""
    global _POOL
    if _POOL is None or _POOL._max_workers < n_threads - 1:
        _POOL = ThreadPoolExecutor(n_threads - 1, thread_name_prefix="ownnet-optimizer")
    return _POOL


class Optimizer:
    """Base class. ``lr`` may be changed between steps (schedules do)."""

    name: ClassVar[str] = ""
    #: names of the per-parameter state arrays
    slots: tuple[str, ...] = ()

    #: worker threads for an update (``None``: one per available core, at most 8). One by
    #: default: with multithreaded BLAS a second thread only competes with OpenBLAS's
    #: worker, which keeps spinning for a while after each matrix product (measured:
    #: slightly slower); it helps when BLAS runs single-threaded.
    threads: int | None = 1
    #: values per block: every pass of the update rule over a block runs before the next
    #: block, so the block stays in the core's cache (``None``: whole arrays)
    block: int | None = BLOCK
    #: updates of fewer values run in one thread (handing work over costs more)
    parallel_min = 4 * BLOCK

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, found {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, found {weight_decay}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.iterations = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def step(self, params: list[Param]) -> None:
        """Update every ``param.value`` in place from ``param.grad``."""
        self.iterations += 1
        self._prepare()
        n_threads = self.threads or _default_threads()
        if n_threads > 1 and sum(p.value.size for p in params) < self.parallel_min:
            n_threads = 1
        blocks = []
        for p in params:
            slots = self.state.get(p.name)
            if slots is None:
                slots = self.state[p.name] = {s: np.zeros_like(p.value) for s in self.slots}
            if not (p.value.flags.c_contiguous and p.grad.flags.c_contiguous):
                raise ValueError(f"{p.name}: parameters and gradients must be contiguous")
            w = p.value.reshape(-1)
            g = p.grad.reshape(-1)
            state = [slots[name].reshape(-1) for name in self.slots]
            wd = self.weight_decay if p.decay else 0.0
            block = self.block or w.size
            for i in range(0, w.size, block):
                j = min(i + block, w.size)
                blocks.append((w[i:j], g[i:j], [x[i:j] for x in state], wd))
        n_threads = min(n_threads, len(blocks))
        if n_threads <= 1:
            self._run(blocks, 0)
            return
        pool = _pool(n_threads)
        # interleave so that each thread gets a share of every layer
        futures = [pool.submit(self._run, blocks[k::n_threads], k) for k in range(1, n_threads)]
        self._run(blocks[0::n_threads], 0)
        for f in futures:
            f.result()

    def _run(self, blocks: list[Any], worker: int) -> None:
        if not blocks:
            return
        a, b = self._scratch(worker, max(x[0].size for x in blocks), blocks[0][0].dtype)
        for w, g, state, wd in blocks:
            n = w.size
            if wd:  # g + wd * w, in the second scratch block
                decayed = np.multiply(w, wd, out=b[:n])
                decayed += g
                g = decayed
            self._update(w, g, state, a[:n])

    def _prepare(self) -> None:
        """Per-step constants (after ``iterations`` went up)."""

    def _update(self, w: np.ndarray, g: np.ndarray, state: list[np.ndarray], a: np.ndarray) -> None:
        """Update one block ``w`` from ``g`` (read only) and the state blocks; ``a`` is scratch."""
        raise NotImplementedError

    def _scratch(self, worker: int, n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        bufs = self.__dict__.setdefault("_bufs", {})
        buf = bufs.get(worker)
        if buf is None or buf.shape[1] < n or buf.dtype != dtype:
            buf = bufs[worker] = np.empty((2, n), dtype)
        return buf[0], buf[1]

    # -- save / load -------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {"lr": self.lr, "weight_decay": self.weight_decay}

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, **self.config()}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """``{"<param>/<slot>": array}`` for a checkpoint."""
        return {f"{p}/{s}": a for p, slots in self.state.items() for s, a in slots.items()}

    def load_state_arrays(self, arrays: dict[str, np.ndarray], iterations: int) -> None:
        """Restore what :meth:`state_arrays` gave (and the step count)."""
        self.state = {}
        for key, value in arrays.items():
            pname, _, slot = key.rpartition("/")
            if slot not in self.slots:
                raise ValueError(f"{self.name} has no state {slot!r} (found in {key!r})")
            self.state.setdefault(pname, {})[slot] = np.array(value)
        self.iterations = int(iterations)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum."""

    name = "sgd"
    parallel_min = 16 * BLOCK  # two cheap passes: rarely worth a thread

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), found {momentum}")
        if nesterov and momentum == 0.0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.slots = ("velocity",) if self.momentum else ()

    def _update(self, w: np.ndarray, g: np.ndarray, state: list[np.ndarray], a: np.ndarray) -> None:
        if self.momentum:
            v = state[0]
            v *= self.momentum
            v += g
            if self.nesterov:
                np.multiply(v, self.momentum, out=a)
                a += g
            else:
                np.copyto(a, v)
            a *= self.lr
        else:
            np.multiply(g, self.lr, out=a)
        w -= a

    def config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e; Keras' defaults ``lr=0.001, rho=0.9, eps=1e-7``).

    The kept ``mean_square`` is ``s / (1 - rho)``, which saves a pass per step:
    ``u = rho u + g**2`` and ``w -= lr / c * g / (sqrt(u) + eps / c)``, ``c = sqrt(1 - rho)``.
    """

    name = "rmsprop"
    slots = ("mean_square",)

    def __init__(
        self, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-7, weight_decay: float = 0.0
    ) -> None:
        super().__init__(lr, weight_decay)
        if not 0.0 <= rho < 1.0:
            raise ValueError(f"rho must be in [0, 1), found {rho}")
        self.rho = float(rho)
        self.eps = float(eps)

    def _prepare(self) -> None:
        c = math.sqrt(1.0 - self.rho)
        self._step_size, self._eps = self.lr / c, self.eps / c

    def _update(self, w: np.ndarray, g: np.ndarray, state: list[np.ndarray], a: np.ndarray) -> None:
        u = state[0]
        u *= self.rho
        np.multiply(g, g, out=a)
        u += a
        np.sqrt(u, out=a)
        a += self._eps
        np.divide(g, a, out=a)
        a *= self._step_size
        w -= a

    def config(self) -> dict[str, Any]:
        return {"lr": self.lr, "rho": self.rho, "eps": self.eps, "weight_decay": self.weight_decay}


class Adam(Optimizer):
    """Adam (Kingma and Ba 2015), Keras' ``eps=1e-7``."""

    name = "adam"
    slots = ("m", "v")

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name} must be in [0, 1), found {b}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _prepare(self) -> None:
        t = self.iterations
        self._step_size = self.lr / (1.0 - self.beta1**t)
        self._v_scale = 1.0 / math.sqrt(1.0 - self.beta2**t)

    def _update(self, w: np.ndarray, g: np.ndarray, state: list[np.ndarray], a: np.ndarray) -> None:
        m, v = state
        np.subtract(g, m, out=a)  # m += (1 - b1) (g - m)
        a *= 1.0 - self.beta1
        m += a
        np.multiply(g, g, out=a)  # v += (1 - b2) (g^2 - v)
        a -= v
        a *= 1.0 - self.beta2
        v += a
        np.sqrt(v, out=a)  # sqrt(v / (1 - b2^t)) + eps
        a *= self._v_scale
        a += self.eps
        np.divide(m, a, out=a)
        a *= self._step_size
        w -= a

    def config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


#: Optimiser classes by name.
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


def get_optimizer(spec: str | dict[str, Any] | Optimizer, **options: Any) -> Optimizer:
    """An optimiser from a name plus options, a spec ``{"name": ..., ...}``, or an instance."""
    if isinstance(spec, Optimizer):
        return spec
    return from_spec(OPTIMIZERS, "optimizer", spec, **options)
