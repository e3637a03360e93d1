"""Watch it learn: small training runs in background threads that report as they go.

A run trains one of the :data:`PRESETS` on the first ``samples`` training
images (through a driver, :mod:`ownnet.web.drivers`). Every ``every`` steps
(a step is one sample for the book's network, one batch for the MLP), and at
the end of each epoch, it measures loss and accuracy on held-out test images
(the first :data:`PROBE` of the test set), takes the current pictures (the
back-query for the classic network, the first layer's weights for the MLP)
and publishes them as a ``progress`` event to its :class:`EventLog`, which the
server streams to the browser.

``speed`` (samples per second, changeable while the run goes) slows a run
down so that there is something to watch: at a few samples per second the
book's network learns one sample at a time through its own ``train()``, and
each report shows the sample and what the network answered before learning it.

A run ends ``done``, ``stopped`` (the stop button) or ``error``; the model it
trained can then be saved. :class:`ownnet.web.trainer.Trainer` keeps the runs.
Only the event log and a few status fields are shared with the server's event
loop; the model and data are touched by the run's thread alone until it ends.
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
from ownnet.web.drivers import make_driver, probe_loss_accuracy
from ownnet.web.events import EventLog

#: Held-out test images on which each progress report measures loss and accuracy.
PROBE = 1000
#: At full speed ``every`` is raised to keep a run under this many progress reports.
MAX_PROGRESS_EVENTS = 400
#: At a set speed, a run trains in this many pieces a second (then waits).
PIECES_PER_SECOND = 10
#: At or below this speed (samples per second) each report shows the sample just learnt.
SLOW_MOTION = 20.0

#: The presets of the watch page: their defaults, and the speed the page suggests.
PRESETS: dict[str, dict[str, Any]] = {
    "classic": {
        "title": "the book's network: 784-hidden-10, sigmoid, learns from one sample at a time",
        "hidden": 100,
        "lr": 0.1,
        "samples": 10000,
        "epochs": 1,
        "every": 50,
        "batch": 1,
        "unit": "sample",
        "suggested_speed": 500,
    },
    "mlp": {
        "title": "small MLP: 784-hidden-10, relu, softmax, cross-entropy, Adam, batches of 32",
        "hidden": 64,
        "lr": 0.001,
        "samples": 10000,
        "epochs": 2,
        "every": 5,
        "batch": 32,
        "unit": "batch",
        "suggested_speed": 2000,
    },
}


@dataclass(frozen=True)
class RunSettings:
    """What a run trains. ``every`` is in steps; ``speed`` in samples per second (None:
    as fast as it goes)."""

    preset: str = "classic"
    hidden: int = 100
    lr: float = 0.1
    samples: int = 10000
    epochs: int = 1
    every: int = 50
    seed: int = 0
    speed: float | None = None

    @classmethod
    def from_preset(cls, preset: str, **overrides: Any) -> RunSettings:
        """The preset's defaults with the given (not None) values instead."""
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}: expected one of {sorted(PRESETS)}")
        base = {k: v for k, v in PRESETS[preset].items() if k in cls.__dataclass_fields__}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(preset=preset, **base)


class Stopped(Exception):
    """Raised inside the training loop when the stop button was pressed."""


class TrainingRun:
    """One training run in its own thread.

    Args:
        run_id: counts runs of this server from 1.
        settings: what to train.
        load_data: returns MNIST ``Splits(train, test)`` (called in the thread).
        beside: the run this one is compared with, if any.
    """

    def __init__(
        self,
        run_id: int,
        settings: RunSettings,
        load_data: Callable[[], Any],
        beside: int | None = None,
    ) -> None:
        self.id = run_id
        self.beside = beside
        self.settings = settings
        self.events = EventLog()
        self.status = "starting"
        self.error: str | None = None
        self.model: Any = None
        self.info: dict[str, Any] = {}
        self.saved: str | None = None
        self.started = time.time()
        self.ended: float | None = None
        self.speed = settings.speed
        self._pace_from = (time.perf_counter(), 0)
        self._load_data = load_data
        self._stop = threading.Event()
        self._driver: Any = None
        self._seen = self._step = self._since = self._reported = 0
        self._epoch = 1
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
        """Ask the run to stop after the current piece; False if it had already ended."""
        if not self.running:
            return False
        self._stop.set()
        self.status = "stopping"
        return True

    def set_speed(self, speed: float | None) -> None:
        """Train at ``speed`` samples per second from now on (None: as fast as it goes)."""
        self._pace_from = (time.perf_counter(), self._seen)
        self.speed = speed

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True once it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def summary(self) -> dict[str, Any]:
        """Status for ``GET /api/train`` (JSON-ready)."""
        return {
            "run": self.id,
            "status": self.status,
            "settings": {**asdict(self.settings), "speed": self.speed},
            "events": self.events.count(),
            "error": self.error,
            "test_accuracy": self.info.get("test_accuracy"),
            "saved": self.saved,
            "can_save": self.model is not None and not self.running,
            "seconds": round((self.ended or time.time()) - self.started, 3),
            "started": self.started,
            "beside": self.beside,
        }

    # -- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        status = "error"
        splits = None
        try:
            splits = self._load_data()
            train = splits.train.subset(min(self.settings.samples, len(splits.train)))
            self._probe = splits.test.subset(min(PROBE, len(splits.test)))
            if self._stop.is_set():
                raise Stopped
            self.status = "running"
            s = self.settings
            self._driver = make_driver(s.preset, s.hidden, s.lr, s.seed)
            self._train(train)
            status = "done"
        except Stopped:
            status = "stopped"
            if self._driver is not None and self._reported != self._step:
                self._report()  # where it stopped
        except Exception as exc:  # reported to the browser; the server goes on
            self.error = f"{type(exc).__name__}: {exc}"
        if status != "error" and self._driver is not None:
            try:
                self.info = self._finish(self._driver, splits, status)
                self.model = self._driver.model
            except Exception as exc:
                self.error, status, self.model = f"{type(exc).__name__}: {exc}", "error", None
        self.ended = time.time()
        self.status = status
        end = {"status": status, "error": self.error, "can_save": self.model is not None}
        end["test_accuracy"] = self.info.get("test_accuracy")
        end["seconds"] = round(self.ended - self.started, 3)
        self.events.publish("end", end)
        self.events.close()

    def _train(self, train: Any) -> None:
        """Every epoch in a new order, in pieces: up to the next report, or one piece's
        worth at the set speed; waits between pieces to keep to the speed."""
        d, s = self._driver, self.settings
        n = len(train)
        steps = math.ceil(n / d.batch) * s.epochs
        every = s.every
        if s.speed is None:  # full speed: a bounded number of reports
            every = max(every, math.ceil(steps / MAX_PROGRESS_EVENTS))
        self._begin(n, every, steps)
        for epoch in range(1, s.epochs + 1):
            self._epoch = epoch
            order = d.rng.permutation(n)
            pos = 0
            while pos < n:
                if self._stop.is_set():
                    raise Stopped
                k = min((every - self._since) * d.batch, n - pos, self._piece(d.batch))
                part = train.subset(order[pos : pos + k])
                shown = self._sample(part) if k == 1 and self._slow() else None
                loss = d.train(part)
                pos += k
                self._seen += k
                self._step += math.ceil(k / d.batch)
                self._since += math.ceil(k / d.batch)
                self._pace()
                if self._since >= every or pos >= n:
                    self._report(loss, shown)

    def _slow(self) -> bool:
        speed = self.speed
        return speed is not None and speed <= SLOW_MOTION

    def _piece(self, batch: int) -> int:
        """Samples to train before the next wait (a whole number of steps)."""
        speed = self.speed
        if speed is None:
            return 1 << 62
        return max(batch, int(speed / PIECES_PER_SECOND) // batch * batch)

    def _pace(self) -> None:
        """Wait until the samples seen so far are due at the set speed (stop ends the wait)."""
        speed = self.speed
        if speed is None:
            return
        t0, seen0 = self._pace_from
        delay = t0 + (self._seen - seen0) / speed - time.perf_counter()
        if delay < -1.0:  # far behind (a busy machine): go on steadily from here
            self._pace_from = (time.perf_counter(), self._seen)
        elif delay > 0 and self._stop.wait(delay):
            raise Stopped

    def _sample(self, part: Any) -> dict[str, Any]:
        """The one sample about to be learnt, and what the network answers before."""
        answer = int(np.asarray(self._driver.model.outputs(part.images)).argmax())
        image = base64.b64encode(np.ascontiguousarray(part.images[0]).tobytes()).decode()
        return {"image": image, "label": int(part.labels[0]), "answer": answer}

    def _finish(self, driver: Any, splits: Any, status: str) -> dict[str, Any]:
        """Measure the whole test set and make the model file's metadata."""
        s = self.settings
        return {
            "training": {
                "preset": s.preset,
                "hidden": s.hidden,
                "lr": s.lr,
                "epochs": s.epochs,
                "samples": min(s.samples, len(splits.train)),
                "batch": driver.batch,
                "samples_seen": self._seen,
                "stopped_early": status == "stopped",
                "trained_with": "ownnet serve (watch it learn)",
            },
            "seed": s.seed,
            "dataset": {"name": splits.train.name, "checksum": splits.train.checksum()},
            "test_accuracy": float(driver.model.score(splits.test)),
        }

    # -- reports ------------------------------------------------------------------------------
    def _begin(self, n: int, every: int, steps: int) -> None:
        """Publish the ``start`` event and the report before any training."""
        model = self._driver.model
        self._backquery = pictures.has_backquery(model)  # the kind of pictures, for every report
        self._t0 = time.perf_counter()
        self._pace_from = (self._t0, 0)
        s = self.settings
        self.events.publish(
            "start",
            {
                "run": self.id,
                "settings": asdict(s),
                "title": PRESETS[s.preset]["title"],
                "unit": self._driver.unit,
                "batch": self._driver.batch,
                "every": every,
                "steps": steps,
                "samples": n * s.epochs,
                "probe": PROBE,
                "description": pictures.describe(model, model.state()[1]),
            },
        )
        self._report()

    def _report(self, train_loss: float | None = None, sample: dict | None = None) -> None:
        loss, accuracy = probe_loss_accuracy(self._driver.model, self._probe)
        self._reported, self._since = self._step, 0
        data = {
            "step": self._step,
            "samples": self._seen,
            "epoch": self._epoch,
            "loss": loss,
            "accuracy": accuracy,
            "seconds": round(time.perf_counter() - self._t0, 3),
            "speed": self.speed,
            "pictures": pictures.report_pictures(self._driver.model, self._backquery),
        }
        if train_loss is not None:
            data["train_loss"] = float(train_loss)
        if sample is not None:
            data["sample"] = sample
        self.events.publish("progress", data)
