"""Checkpoints: a model file that also holds everything needed to continue the run.

Any model's run can be kept (the book's network, the engine, the neurons model).
Arrays: the model's (``wih``, ``layer0.W`` ...), the engine optimiser's state under
``optimizer/<param>/<slot>``, and callbacks' arrays under ``callback/<key>/<name>``.
Metadata (JSON): ``kind`` and ``config`` as any model file, the ``history`` (as a model
file keeps it), plus ``checkpoint``: finished epoch, total epochs, fit settings (with the
augmentation's spec), optimiser spec and step count, schedule spec, the random
generator's state, callbacks' JSON state, and ``info``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ownnet.augmentation import from_spec
from ownnet.errors import ModelFileError
from ownnet.io import load_arrays, model_class, save_arrays
from ownnet.nn.optimizers import Optimizer, get_optimizer
from ownnet.nn.schedules import Schedule, get_schedule
from ownnet.training import Callback, History, Run

OPT = "optimizer/"
CALLBACK = "callback/"


def save_checkpoint(
    path: str | os.PathLike[str], run: Run, info: dict[str, Any] | None = None
) -> Path:
    """Write ``run`` to ``path`` atomically; returns the path."""
    arrays, config = run.model.state()
    arrays = dict(arrays)
    if run.optimizer is not None:
        for key, value in run.optimizer.state_arrays().items():
            arrays[OPT + key] = value
    callbacks: dict[str, Any] = {}
    for cb in run.callbacks:
        if not cb.key:
            continue
        json_state, cb_arrays = cb.state()
        callbacks[cb.key] = json_state
        for name, value in cb_arrays.items():
            arrays[f"{CALLBACK}{cb.key}/{name}"] = value
    meta = {
        "kind": run.model.kind,
        "config": config,
        "checkpoint": {
            "epoch": run.epoch,
            "epochs": run.epochs,
            "stopped": run.stop,
            "stop_reason": run.stop_reason,
            "settings": run.settings,
            "optimizer": run.optimizer.spec() if run.optimizer is not None else None,
            "iterations": run.optimizer.iterations if run.optimizer is not None else 0,
            "schedule": run.schedule.spec() if run.schedule is not None else None,
            "rng": _rng_state(run.rng) if run.rng is not None else None,
            "callbacks": callbacks,
            "info": info or {},
        },
    }
    if run.history.history:
        meta["history"] = run.history.to_dict()
    return save_arrays(path, arrays, meta)


@dataclass
class Resume:
    """A loaded checkpoint: pass :meth:`fit_kwargs` to ``network.fit`` to continue."""

    model: Any
    optimizer: Optimizer | None
    rng: np.random.Generator | None
    history: History
    epoch: int
    epochs: int
    stopped: bool
    settings: dict[str, Any]
    schedule: Schedule | None
    info: dict[str, Any]
    callback_states: dict[str, tuple[dict[str, Any], dict[str, np.ndarray]]] = field(
        default_factory=dict
    )

    def restore(self, callback: Callback) -> Callback:
        """Load ``callback``'s saved state into it (if the checkpoint has one); returns it."""
        if callback.key in self.callback_states:
            callback.load_state(*self.callback_states[callback.key])
        return callback

    def fit_kwargs(self, epochs: int | None = None) -> dict[str, Any]:
        """Keyword arguments for ``network.fit`` that continue the run (to ``epochs``).

        They include ``augment`` when the run had one of :mod:`ownnet.augmentation`'s
        (:func:`ownnet.augmentation.from_spec`); another ``augment`` callable is not kept
        in the checkpoint, so pass it again.
        """
        s = self.settings
        kwargs: dict[str, Any] = {
            "epochs": self.epochs if epochs is None else int(epochs),
            "shuffle": s.get("shuffle", True),
            "seed": self.rng,
            "initial_epoch": self.epoch,
            "history": self.history,
        }
        if self.optimizer is not None:  # the engine's own settings
            kwargs.update(
                batch_size=s["batch_size"],
                optimizer=self.optimizer,
                schedule=self.schedule,
                validation_split=s.get("validation_split", 0.0),
            )
        augment = from_spec(s.get("augment"))
        if augment is not None:
            kwargs["augment"] = augment
        return kwargs

    def finish(self, callbacks: Sequence[Callback]) -> None:
        """End the loaded run without training more: each callback's ``on_train_end``
        (e.g. :class:`~ownnet.nn.callbacks.EarlyStopping` puts back its best weights)."""
        run = Run(
            model=self.model,
            optimizer=self.optimizer,
            rng=self.rng,
            history=self.history,
            epoch=self.epoch,
            epochs=self.epochs,
            settings=self.settings,
            schedule=self.schedule,
            callbacks=list(callbacks),
            stop=self.stopped,
        )
        for cb in run.callbacks:
            cb.on_train_end(run)


def load_checkpoint(path: str | os.PathLike[str]) -> Resume:
    """Read a checkpoint written by :class:`ownnet.callbacks.Checkpoint`."""
    arrays, meta = load_arrays(path)
    ck = meta.get("checkpoint")
    if not isinstance(ck, dict):
        raise ModelFileError(
            f"{path}: not a training checkpoint: expected 'checkpoint' metadata, found a "
            f"model file of kind {meta.get('kind')!r} without it"
        )
    cls = model_class(meta.get("kind"), path)
    try:
        model_arrays = {k: v for k, v in arrays.items() if not k.startswith((OPT, CALLBACK))}
        model = cls.from_state(model_arrays, meta["config"])
        model.meta = meta
        optimizer = None
        if ck.get("optimizer"):
            optimizer = get_optimizer(ck["optimizer"])
            opt_arrays = {k[len(OPT) :]: v for k, v in arrays.items() if k.startswith(OPT)}
            optimizer.load_state_arrays(opt_arrays, ck["iterations"])
        rng = _rng_from_state(ck["rng"]) if ck.get("rng") else None
        history = History.from_dict(meta.get("history", {}))
        schedule = get_schedule(ck["schedule"]) if ck.get("schedule") else None
        states = {}
        for key, json_state in ck.get("callbacks", {}).items():
            prefix = f"{CALLBACK}{key}/"
            cb_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            states[key] = (json_state, cb_arrays)
        return Resume(
            model=model,
            optimizer=optimizer,
            rng=rng,
            history=history,
            epoch=int(ck["epoch"]),
            epochs=int(ck["epochs"]),
            stopped=bool(ck.get("stopped", False)),
            settings=dict(ck["settings"]),
            schedule=schedule,
            info=dict(ck.get("info", {})),
            callback_states=states,
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ModelFileError(f"{path}: checkpoint is incomplete or inconsistent: {exc}") from exc


def _rng_state(rng: np.random.Generator) -> dict[str, Any]:
    state = rng.bit_generator.state
    if not isinstance(state, dict):  # pragma: no cover - all NumPy bit generators give dicts
        raise TypeError(f"cannot save the state of {type(rng.bit_generator).__name__}")
    return state  # its arrays and NumPy ints become JSON in ownnet.io.save_arrays


def _rng_from_state(state: dict[str, Any]) -> np.random.Generator:
    name = state.get("bit_generator")
    cls = getattr(np.random, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, np.random.BitGenerator)):
        raise ValueError(f"unknown random bit generator {name!r}")
    bit_generator = cls()
    bit_generator.state = state
    return np.random.Generator(bit_generator)
