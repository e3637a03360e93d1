"""Every model from plain settings: the one place the command line, the sweeps and the
web page build networks and say how to train them.

A *config* is a dict such as ``{"model": "mlp", "layers": [64], "epochs": 3}``; whatever
it leaves out takes the model's defaults (:data:`DEFAULTS`), so the same settings give
the same network whichever door they come in by::

    model = ownnet.from_config({"model": "classic", "hidden": 100, "lr": 0.2})
    model.fit(train, validation_data=test, **fit_options(config))

* ``"classic"``: the book's network (:class:`ownnet.classic.Network`), 784-200-10, lr 0.1,
  5 epochs in the file's order; ``rotate`` adds the book's rotated copies of the images;
* ``"mlp"``: the Keras MNIST MLP (:func:`ownnet.nn.models.mlp`), 20 epochs;
* ``"cnn"``: the default CNN (:func:`ownnet.nn.models.cnn`), 12 epochs with a cosine
  learning rate and new random rotations (10°) and shifts (2 px) of the images every epoch;
* ``"reader"``: the reader (:mod:`ownnet.reader`), the CNN with a dense layer of 256 and
  dropout 0.5, 16 epochs with a cosine learning rate, each on MNIST written again by new
  hands (:class:`ownnet.augmentation.Handwriting`): for reading people's own digits;
* ``"book"``: the book's network in the matrix engine (same weights as ``"classic"``);
* ``"neurons"``: the book's network as neurons and links (:mod:`ownnet.neurons`).

``seed`` draws the initial weights; the order, dropout and augmentation draw from an
independent stream of it (:func:`seeds`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet import classic, neurons
from ownnet.augmentation import Handwriting, RandomTransform
from ownnet.data.augment import with_rotations
from ownnet.errors import OwnnetError
from ownnet.network import Network
from ownnet.nn import models as nn_models
from ownnet.nn.schedules import Schedule, get_schedule
from ownnet.sizes import check as check_size
from ownnet.training import History

#: every model's settings at their defaults (the engine's come from ownnet.nn.models)
DEFAULTS: dict[str, dict[str, Any]] = {
    "classic": {
        "hidden": 200,
        "lr": 0.1,
        "bias": False,
        "error_split": "transpose",
        "init": "fan_in",
        "epochs": 5,
        "shuffle": False,
        "rotate": 0.0,
    },
    "book": {**nn_models.DEFAULTS["book"], "epochs": 5, "shuffle": False, "rotate": 0.0},
    "neurons": {
        "hidden": [20],
        "lr": 0.1,
        "bias": False,
        "error_split": "transpose",
        "epochs": 1,
        "shuffle": False,
        "rotate": 0.0,
    },
    "mlp": {
        **nn_models.DEFAULTS["mlp"],
        "epochs": 20,
        "shuffle": True,
        "schedule": "constant",
        "max_angle": 0.0,
        "max_shift": 0,
        "rotate": 0.0,
    },
    "cnn": {
        **nn_models.DEFAULTS["cnn"],
        "epochs": 12,
        "shuffle": True,
        "schedule": "cosine",
        "max_angle": 10.0,
        "max_shift": 2,
        "rotate": 0.0,
    },
    "reader": {
        **nn_models.DEFAULTS["cnn"],
        "layers": [256],
        "dropout": 0.5,
        "epochs": 16,
        "shuffle": True,
        "schedule": "cosine",
        "handwriting": True,
        "rotate": 0.0,
    },
}
#: settings every model takes
COMMON = {"model": "classic", "seed": 0}
#: the engine's models (trained in minibatches, with an optimizer)
ENGINE = ("mlp", "cnn", "reader", "book")
#: the engine's models with a choice of optimizer and schedule, and the CNNs among them
TUNED, CNNS = ("mlp", "cnn", "reader"), ("cnn", "reader")


class ConfigError(OwnnetError, ValueError):
    """A config names an unknown model or setting, or a value of the wrong kind."""


def settings(config: dict[str, Any]) -> dict[str, Any]:
    """The full settings: ``config`` over its model's :data:`DEFAULTS`.

    Raises :class:`ConfigError` for an unknown model or a setting the model does not take.
    """
    model = config.get("model", COMMON["model"])
    if model not in DEFAULTS:
        raise ConfigError(f"model: expected one of {', '.join(DEFAULTS)}, found {model!r}")
    full = {**COMMON, **DEFAULTS[model]}
    unknown = sorted(set(config) - set(full))
    if unknown:
        raise ConfigError(
            f"model {model} has no setting {', '.join(unknown)}; its settings are "
            f"{', '.join(sorted(full))}"
        )
    full.update(config)
    if model in TUNED and full["lr"] is None:
        full["lr"] = nn_models.DEFAULT_LR.get(full["optimizer"], 0.01)
    return full


def seeds(seed: Any) -> tuple[np.random.Generator, np.random.Generator]:
    """``(weights, training)`` generators from one seed: the engine draws its weights and
    its order/dropout/augmentation from two independent streams."""
    init, fit = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init), np.random.default_rng(fit)


def from_config(config: dict[str, Any], *, seed: Any = None) -> Any:
    """A new, untrained model from ``config`` (see the module doc). ``seed`` (a seed or a
    generator) overrides how the weights are drawn."""
    s = settings(config)
    kind = s["model"]
    try:
        if kind == "classic":
            return classic.Network(
                784,
                s["hidden"],
                10,
                s["lr"],
                bias=s["bias"],
                error_split=s["error_split"],
                init=s["init"],
                seed=s["seed"] if seed is None else seed,
            )
        if kind == "neurons":
            hidden = [s["hidden"]] if isinstance(s["hidden"], int) else list(s["hidden"])
            return neurons.Network(
                784,
                *hidden,
                10,
                lr=s["lr"],
                bias=s["bias"],
                error_split=s["error_split"],
                seed=s["seed"] if seed is None else seed,
            )
        init = seeds(s["seed"])[0] if seed is None else seed
        return nn_models.from_config(Network, "cnn" if kind in CNNS else kind, s, seed=init)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {kind}: {exc}") from exc


def fit_options(config: dict[str, Any], *, seed: Any = None) -> dict[str, Any]:
    """The keyword arguments of ``model.fit`` that ``config`` asks for: ``epochs``,
    ``shuffle``, ``seed`` (the training stream of :func:`seeds`, or ``seed``), and for the
    engine ``schedule`` and ``augment`` (the reader's :class:`Handwriting`)."""
    s = settings(config)
    kind = s["model"]
    if kind in ENGINE:
        training = seeds(s["seed"])[1] if seed is None else seed
    else:  # the book's network shuffles, if at all, with its own seed (as `ownnet train`)
        training = np.random.default_rng(s["seed"]) if seed is None else seed
    options: dict[str, Any] = {"epochs": s["epochs"], "shuffle": s["shuffle"], "seed": training}
    if kind in TUNED:
        options["schedule"] = schedule(s["schedule"], s["lr"], s["epochs"])
        if kind == "reader":
            if s["handwriting"]:
                options["augment"] = Handwriting()
        elif s["max_angle"] or s["max_shift"]:
            try:
                options["augment"] = RandomTransform(s["max_angle"], s["max_shift"])
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
    return options


def training_data(config: dict[str, Any], train: Any) -> Any:
    """The training data ``config`` asks for: ``train`` itself, or with ``rotate`` (the
    book's augmentation) also its copies rotated by ``+rotate`` and ``-rotate`` degrees."""
    s = settings(config)
    if s["rotate"]:
        return with_rotations(train, s["rotate"])
    return train


def train(
    config: dict[str, Any],
    data: Any,
    *,
    model: Any = None,
    validation_data: Any = None,
    callbacks: Any = None,
    verbose: int = 0,
    **overrides: Any,
) -> tuple[Any, History]:
    """Build (unless ``model`` is given) and train the model ``config`` describes on
    ``data`` (a Dataset): the one training driver of the command line, the sweeps and the
    web page. ``overrides`` replace :func:`fit_options`' keyword arguments."""
    if model is None:
        check_size(settings(config))
        model = from_config(config)
    options = {**fit_options(config), **overrides}
    history = model.fit(
        training_data(config, data),
        validation_data=validation_data,
        callbacks=callbacks,
        verbose=verbose,
        **options,
    )
    return model, history


def describe(config: dict[str, Any], samples: int) -> str:
    """One line: what will be trained, e.g. ``classic network 784-200-10, sigmoid, lr 0.1,
    5 epochs, 60000 training samples, seed 0``."""
    s = settings(config)
    kind = s["model"]
    tail = f"{s['epochs']} epochs, {samples} training samples, seed {s['seed']}"
    if kind == "classic":
        extra = ", bias" if s["bias"] else ""
        return f"classic network 784-{s['hidden']}-10, sigmoid{extra}, lr {s['lr']}, {tail}" + (
            f", plus copies rotated by +-{s['rotate']:g} degrees" if s["rotate"] else ""
        )
    if kind == "neurons":
        return f"neurons network 784-{s['hidden']}-10, lr {s['lr']}, {tail}"
    if kind == "book":
        return f"the book's network in the matrix engine, 784-{s['hidden']}-10, {tail}"
    layers = "".join(f"-{n}" for n in s["layers"])
    k = s["kernel_size"] if kind in CNNS else 0
    body = (
        f"CNN 1x28x28{''.join(f'-conv{f}-pool' for f in s['filters'])}{layers}-10, "
        f"{k}x{k} kernels{', batchnorm' if s['batchnorm'] else ''}"
        if kind in CNNS
        else f"784{layers}-10, {s['activation']}"
    )
    if kind == "reader":
        jitter = ", each epoch on the images written again by new hands" if s["handwriting"] else ""
        body = "reader: " + body
    elif s["max_angle"] or s["max_shift"]:
        jitter = (
            f", new random rotations up to {s['max_angle']:g} degrees and shifts up to "
            f"{s['max_shift']} px each epoch"
        )
    else:
        jitter = ""
    return (
        f"matrix engine {body}, dropout {s['dropout']}, {s['loss']}, {s['optimizer']} "
        f"lr {s['lr']:g} ({s['schedule']} schedule), batch {s['batch_size']}, "
        f"{tail}{jitter}"
    )


def schedule(text: str | None, lr: float, epochs: int) -> Schedule | None:
    """``"constant"`` (``None``), ``"step[:DROP:EVERY]"`` (0.5 every 10 epochs) or
    ``"cosine[:MIN_LR]"`` → a learning-rate schedule starting at ``lr``."""
    if text is None:
        return None
    name, *parts = str(text).split(":")
    try:
        values = [float(p) for p in parts]
        if name == "constant" and not values:
            return None
        if name == "step" and len(values) in (0, 2):
            drop, every = values or (0.5, 10)
            return get_schedule("step", lr=lr, drop=drop, every=int(every))
        if name == "cosine" and len(values) <= 1:
            return get_schedule("cosine", lr=lr, epochs=epochs, min_lr=values[0] if values else 0)
    except ValueError as exc:
        raise ConfigError(f"schedule {text!r}: {exc}") from exc
    raise ConfigError(
        f"schedule: expected constant, step[:DROP:EVERY] or cosine[:MIN_LR], found {text!r}"
    )
