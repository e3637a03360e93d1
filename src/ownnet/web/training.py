"""Watch it learn: a small training run in a background thread that reports as it goes.

A run trains one of the :data:`PRESETS` on the first ``samples`` training
images. Every ``every`` batches it measures loss and accuracy on held-out test
images (the first :data:`PROBE` of the test set) and takes the current pictures
(the back-query for the classic network, the first layer's weights for the
MLP), and publishes them as a ``progress`` event to its :class:`EventLog`; the
server streams that log to the browser. A run ends ``done``, ``stopped`` (the
stop button) or ``error``; the model it trained can then be saved.

Only the event log and a few status fields are shared with the server's event
loop; the model and data are touched by the training thread alone until it ends.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ownnet.web import pictures
from ownnet.web.events import EventLog

#: Held-out test images on which each progress report measures loss and accuracy.
PROBE = 1000
#: At most this many progress events per run (``every`` is raised to keep under it).
MAX_PROGRESS_EVENTS = 400

#: The presets of the watch page, with their default settings.
PRESETS: dict[str, dict[str, Any]] = {
    "classic": {
        "title": "the book's network: 784-hidden-10, sigmoid, one sample at a time",
        "hidden": 100,
        "lr": 0.1,
        "samples": 10000,
        "epochs": 1,
        "every": 1,
        "batch": 1024,  # the classic network reports every block (ownnet.classic.BLOCK)
    },
    "mlp": {
        "title": "small MLP: 784-hidden-10, relu, softmax, cross-entropy, Adam, batches of 32",
        "hidden": 64,
        "lr": 0.001,
        "samples": 10000,
        "epochs": 2,
        "every": 20,
        "batch": 32,
    },
}


@dataclass(frozen=True)
class RunSettings:
    """What a run trains. ``every`` is in batches (blocks of 1024 samples for the classic
    network)."""

    preset: str = "classic"
    hidden: int = 100
    lr: float = 0.1
    samples: int = 10000
    epochs: int = 1
    every: int = 10
    seed: int = 0

    @classmethod
    def from_preset(cls, preset: str, **overrides: Any) -> RunSettings:
        """The preset's defaults with the given (not None) values instead."""
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}: expected one of {sorted(PRESETS)}")
        base = {k: v for k, v in PRESETS[preset].items() if k in cls.__dataclass_fields__}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(preset=preset, **base)

    @property
    def batch(self) -> int:
        return int(PRESETS[self.preset]["batch"])


class Stopped(Exception):
    """Raised inside the training loop when the stop button was pressed."""


class TrainingRun:
    """One training run in its own thread.

    Args:
        run_id: counts runs of this server from 1.
        settings: what to train.
        load_data: returns MNIST ``Splits(train, test)`` (called in the thread).
    """

    def __init__(self, run_id: int, settings: RunSettings, load_data: Callable[[], Any]) -> None:
        self.id = run_id
        self.settings = settings
        self.events = EventLog()
        self.status = "starting"
        self.error: str | None = None
        self.model: Any = None
        self.info: dict[str, Any] = {}
        self.saved: str | None = None
        self.started = time.time()
        self.ended: float | None = None
        self._load_data = load_data
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"ownnet-train-{run_id}", daemon=True
        )

    # -- control (any thread) -------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self.status in ("starting", "running", "stopping")

    def stop(self) -> bool:
        """Ask the run to stop after the current batch; False if it had already ended."""
        if not self.running:
            return False
        self._stop.set()
        self.status = "stopping"
        return True

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True once it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def summary(self) -> dict[str, Any]:
        """Status for ``GET /api/train`` (JSON-ready)."""
        return {
            "run": self.id,
            "status": self.status,
            "settings": asdict(self.settings),
            "events": self.events.count(),
            "error": self.error,
            "test_accuracy": self.info.get("test_accuracy"),
            "saved": self.saved,
            "can_save": self.model is not None and not self.running,
            "seconds": round((self.ended or time.time()) - self.started, 3),
        }

    # -- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        status = "error"
        try:
            splits = self._load_data()
            train = splits.train.subset(min(self.settings.samples, len(splits.train)))
            probe = splits.test.subset(min(PROBE, len(splits.test)))
            if self._stop.is_set():
                raise Stopped
            self.status = "running"
            fit = _fit_classic if self.settings.preset == "classic" else _fit_mlp
            model = fit(self, train, probe)
            status = "done"
        except Stopped:
            status = "stopped"
            model = getattr(self, "_model", None)
            if model is not None and self._reported != self._step:
                self._report()  # where it stopped
        except Exception as exc:  # reported to the browser; the server goes on
            self.error = f"{type(exc).__name__}: {exc}"
            model = None
        if model is not None:
            try:
                self.info = self._finish(model, splits, status)
                self.model = model
            except Exception as exc:
                self.error, status, self.model = f"{type(exc).__name__}: {exc}", "error", None
        self.ended = time.time()
        self.status = status
        end = {"status": status, "error": self.error, "can_save": self.model is not None}
        end["test_accuracy"] = self.info.get("test_accuracy")
        end["seconds"] = round(self.ended - self.started, 3)
        self.events.publish("end", end)
        self.events.close()

    def _finish(self, model: Any, splits: Any, status: str) -> dict[str, Any]:
        """Measure the whole test set and make the model file's metadata."""
        s = self.settings
        info = {
            "training": {
                "preset": s.preset,
                "hidden": s.hidden,
                "lr": s.lr,
                "epochs": s.epochs,
                "samples": min(s.samples, len(splits.train)),
                "batch": s.batch if s.preset == "mlp" else 1,
                "samples_seen": self._seen,
                "stopped_early": status == "stopped",
                "trained_with": "ownnet serve (watch it learn)",
            },
            "seed": s.seed,
            "dataset": {"name": splits.train.name, "checksum": splits.train.checksum()},
            "test_accuracy": float(model.evaluate(splits.test)),
        }
        return info

    # -- reports ------------------------------------------------------------------------------
    def _begin(self, model: Any, n: int) -> int:
        """Publish the ``start`` event; returns the report interval in batches."""
        self._model, self._seen, self._step, self._epoch = model, 0, 0, 1
        self._backquery = pictures.has_backquery(model)  # the kind of pictures, for every report
        self._t0 = time.perf_counter()
        s = self.settings
        batches = math.ceil(n / s.batch) * s.epochs
        every = max(s.every, math.ceil(batches / MAX_PROGRESS_EVENTS))
        self.events.publish(
            "start",
            {
                "run": self.id,
                "settings": asdict(s),
                "title": PRESETS[s.preset]["title"],
                "batch": s.batch,
                "every": every,
                "batches": batches,
                "samples": n * s.epochs,
                "probe": PROBE,
                "description": pictures.describe(model, model.state()[1]),
            },
        )
        self._report()
        return every

    def _report(self, train_loss: float | None = None) -> None:
        loss, accuracy = _loss_accuracy(self._model, self._probe)
        self._reported = self._step
        data = {
            "step": self._step,
            "samples": self._seen,
            "epoch": self._epoch,
            "loss": loss,
            "accuracy": accuracy,
            "seconds": round(time.perf_counter() - self._t0, 3),
            "pictures": _pictures(self._model, self._backquery),
        }
        if train_loss is not None:
            data["train_loss"] = float(train_loss)
        self.events.publish("progress", data)


def _fit_classic(run: TrainingRun, train: Any, probe: Any) -> Any:
    """The book's network, one sample at a time; a report every ``every`` blocks of 1024."""
    from ownnet.classic import Network

    s = run.settings
    net = Network(784, s.hidden, 10, s.lr, seed=s.seed)
    run._probe = probe
    every = run._begin(net, len(train))
    last = 0

    def on_progress(done: int, total: int) -> None:
        nonlocal last
        run._step += 1
        run._seen += done - last if done > last else done  # a new epoch starts again at 0
        last = done
        if run._stop.is_set():
            raise Stopped
        if run._step % every == 0:
            run._report()

    def on_epoch_end(epoch: int, history: Any) -> None:
        run._epoch = min(epoch + 1, s.epochs)

    net.fit(
        train,
        s.epochs,
        rng=np.random.default_rng(s.seed),
        progress=False,
        on_progress=on_progress,
        on_epoch_end=on_epoch_end,
    )
    if run._reported != run._step:
        run._report()
    return net


def _fit_mlp(run: TrainingRun, train: Any, probe: Any) -> Any:
    """The matrix engine's small MLP, trained ``every`` batches at a time between reports.

    Each epoch draws one shuffled order; ``fit`` then runs on consecutive slices
    of it without shuffling, with the same optimiser and generator throughout,
    which is the same training as one ``fit`` over the epoch.
    """
    from ownnet.nn import Adam, Network

    s = run.settings
    net = Network.mlp((s.hidden,), activation="relu", dropout=0.0, seed=s.seed)
    optimizer = Adam(s.lr)
    rng = np.random.default_rng(s.seed)
    run._probe = probe
    every = run._begin(net, len(train))
    chunk = every * s.batch
    for epoch in range(1, s.epochs + 1):
        run._epoch = epoch
        order = rng.permutation(len(train))
        for start in range(0, len(order), chunk):
            if run._stop.is_set():
                raise Stopped
            part = train.subset(order[start : start + chunk])
            history = net.fit(
                part, 1, batch_size=s.batch, optimizer=optimizer, shuffle=False, rng=rng, verbose=0
            )
            run._seen += len(part)
            run._step += math.ceil(len(part) / s.batch)
            run._report(train_loss=history.last("loss"))
    return net


def _loss_accuracy(model: Any, probe: Any) -> tuple[float, float]:
    """The model's own cost and its accuracy on ``probe``: the engine's loss (cross-entropy
    for the MLP) through its ``loss_accuracy``, the book's quadratic cost with targets
    0.01/0.99 for the classic network."""
    if hasattr(model, "loss_accuracy"):
        loss, accuracy = model.loss_accuracy(probe)
        return float(loss), float(accuracy)
    from ownnet.classic import targets_for
    from ownnet.nn.losses import Quadratic

    outputs = model.outputs(probe.images)
    labels = np.asarray(probe.labels)
    loss = Quadratic().fn(outputs, targets_for(labels, outputs.shape[1]))
    return float(loss), float(np.mean(outputs.argmax(axis=1) == labels))


def _pictures(model: Any, backquery: bool) -> dict[str, Any]:
    """The current back-query (if ``backquery``, else first-layer) pictures, each 784 bytes
    in base64."""
    images = pictures.backquery_images(model) if backquery else None
    if images is not None:
        title, labels = "back-query: the input each output asks for", [str(d) for d in range(10)]
    else:
        images = pictures.first_layer_images(model)
        title = "first layer: the input weights of hidden units (light +, dark -)"
        labels = [f"unit {i}" for i in range(len(images))] if images is not None else []
    if images is None:
        return {"title": "no pictures for this model", "labels": [], "images": []}
    return {
        "title": title,
        "labels": labels,
        "size": 28,
        "images": [base64.b64encode(np.ascontiguousarray(im).tobytes()).decode() for im in images],
    }


class Trainer:
    """At most one training run at a time.

    Args:
        load_data: returns MNIST splits; called in the run's thread.
    """

    def __init__(self, load_data: Callable[[], Any]) -> None:
        self._load_data = load_data
        self._lock = threading.Lock()
        self._runs = 0
        self.current: TrainingRun | None = None

    def start(self, settings: RunSettings) -> TrainingRun:
        """Start a run; raises :class:`Busy` when one is running."""
        with self._lock:
            if self.current is not None and self.current.running:
                raise Busy(self.current)
            self._runs += 1
            run = TrainingRun(self._runs, settings, self._load_data)
            self.current = run
        run.start()
        return run

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop a running run and wait for its thread."""
        run = self.current
        if run is not None and run.running:
            run.stop()
            run.join(timeout)


class Busy(Exception):
    """A run is already going on."""

    def __init__(self, run: TrainingRun) -> None:
        super().__init__(
            f"a training run is already going on (run {run.id}, {run.status}, started "
            f"{time.time() - run.started:.0f} s ago): stop it first"
        )
        self.run = run
