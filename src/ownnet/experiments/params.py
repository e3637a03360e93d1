"""What a sweep run depends on: its parameters, their defaults, and a config's identity.

A *config* is a plain dict with every parameter of :data:`PARAMS` filled in, so two
spellings of the same run (``lr=0.1`` or ``lr=.10``, or leaving ``lr`` at its default)
are the same run. Parameters whose default is "the model's" (``hidden``, ``lr``,
``epochs`` and the engine's settings) take the value :mod:`ownnet.config` gives the
model, so a sweep trains the same network ``ownnet train`` would. A config's identity is
the JSON text of the parameters away from their defaults (:func:`canonical`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.config import DEFAULTS as MODEL_DEFAULTS
from ownnet.errors import OwnnetError
from ownnet.nn.models import DEFAULT_LR


@dataclass(frozen=True)
class Param:
    """One sweep parameter: its type, default, allowed values and meaning."""

    kind: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False  # may be None ("all" / "auto")
    models: tuple[str, ...] | None = None  # the models it applies to (None: all)

    def parse(self, name: str, text: str) -> Any:
        """``"0.1"`` → ``0.1`` for this parameter; raises :class:`OwnnetError`."""
        text = text.strip()
        if self.optional and text.lower() in ("", "all", "auto", "none"):
            return None
        try:
            if self.kind is bool:
                lowered = text.lower()
                if lowered in ("1", "true", "yes", "on"):
                    value: Any = True
                elif lowered in ("0", "false", "no", "off"):
                    value = False
                else:
                    raise ValueError(text)
            elif self.kind is int:
                value = int(text)
            elif self.kind is float:
                value = float(text)
            else:
                value = text
        except ValueError:
            raise OwnnetError(
                f"parameter {name}: expected {self.kind.__name__}, found {text!r}"
            ) from None
        return self.check(name, value)

    def check(self, name: str, value: Any) -> Any:
        """Validate and normalise a value (int → float for float parameters)."""
        if value is None and self.optional:
            return None
        if self.kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        if self.kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, self.kind) or (self.kind is int and isinstance(value, bool)):
            raise OwnnetError(f"parameter {name}: expected {self.kind.__name__}, found {value!r}")
        if self.choices is not None and value not in self.choices:
            raise OwnnetError(
                f"parameter {name}: expected one of {', '.join(self.choices)}, found {value!r}"
            )
        if self.minimum is not None and value < self.minimum:
            raise OwnnetError(f"parameter {name}: expected at least {self.minimum}, found {value}")
        if self.maximum is not None and value > self.maximum:
            raise OwnnetError(f"parameter {name}: expected at most {self.maximum}, found {value}")
        if self.kind is float and not np.isfinite(value):
            raise OwnnetError(f"parameter {name}: expected a finite number, found {value}")
        return value


CLASSIC, MLP = ("classic",), ("mlp",)

#: Everything a run depends on. ``ownnet sweep --param NAME=V1,V2`` sweeps any of them.
#: New parameters must default to the old behaviour: a config's identity leaves out
#: the parameters at their defaults, so stores stay valid when parameters are added.
PARAMS: dict[str, Param] = {
    "model": Param(
        str,
        "classic",
        "classic: the book's network, one sample at a time; mlp: the matrix engine",
        choices=("classic", "mlp"),
    ),
    "dataset": Param(str, "mnist", "mnist or fashion-mnist", choices=("mnist", "fashion-mnist")),
    "train_size": Param(
        int, None, "first N training images (all: 60,000)", minimum=1, optional=True
    ),
    "test_size": Param(int, None, "first N test images (all: 10,000)", minimum=1, optional=True),
    "hidden": Param(
        int,
        None,
        "hidden nodes per hidden layer (auto: classic 200, mlp 512)",
        minimum=1,
        optional=True,
    ),
    "lr": Param(
        float,
        None,
        "learning rate (auto: classic 0.1; mlp the optimizer's: sgd 0.1, rmsprop and adam 0.001)",
        minimum=1e-12,
        optional=True,
    ),
    "epochs": Param(
        int,
        None,
        "passes over the training set (auto: classic 5, mlp 20)",
        minimum=1,
        maximum=10_000,
        optional=True,
    ),
    "bias": Param(bool, False, "bias nodes on the input and hidden layers", models=CLASSIC),
    "error_split": Param(
        str,
        "transpose",
        "how the output error is split among the hidden nodes",
        choices=("transpose", "transpose_scaled", "proportional", "equal"),
        models=CLASSIC,
    ),
    "rotate": Param(
        float, 0.0, "the book's augmentation: also train on copies rotated by +-DEG", minimum=0
    ),
    "random_rotate": Param(
        float,
        0.0,
        "rotate each image by a random angle in [-DEG, DEG] every epoch",
        minimum=0,
        maximum=180,
    ),
    "random_shift": Param(
        int, 0, "shift each image by a random -N..N pixels every epoch", minimum=0, maximum=13
    ),
    "shuffle": Param(
        bool,
        None,
        "new order each epoch (auto: classic keeps the file order as the book, mlp shuffles)",
        optional=True,
    ),
    "init": Param(
        str,
        "fan_in",
        "initial weights N(0, 1/sqrt(n)): fan_in, n = links into a node (the book's text and "
        "notebooks); fan_out, n = nodes of the receiving layer (the printed book's code)",
        choices=("fan_in", "fan_out"),
        models=CLASSIC,
    ),
    "layers": Param(int, None, "hidden layers (auto: 2)", minimum=1, optional=True, models=MLP),
    "activation": Param(
        str,
        None,
        "hidden activation (auto: relu)",
        optional=True,
        choices=("relu", "sigmoid", "tanh", "leaky_relu", "prelu"),
        models=MLP,
    ),
    "dropout": Param(
        float,
        None,
        "dropout after each hidden layer (auto: 0.2)",
        minimum=0,
        optional=True,
        models=MLP,
    ),
    "batch_size": Param(
        int, None, "samples per step (auto: 128)", minimum=1, optional=True, models=MLP
    ),
    "optimizer": Param(
        str,
        None,
        "sgd, rmsprop or adam (auto: rmsprop)",
        optional=True,
        choices=("sgd", "rmsprop", "adam"),
        models=MLP,
    ),
}


def model_defaults(model: str, optimizer: str | None = None) -> dict[str, Any]:
    """The values the "auto" parameters take for ``model``: its :mod:`ownnet.config`
    defaults (``lr`` is the optimizer's for the mlp)."""
    d = MODEL_DEFAULTS[model]
    if model == "classic":
        return {"hidden": d["hidden"], "lr": d["lr"], "epochs": d["epochs"]}
    opt = optimizer or d["optimizer"]
    return {
        "hidden": d["layers"][0],
        "layers": len(d["layers"]),
        "lr": DEFAULT_LR[opt],
        "epochs": d["epochs"],
        "activation": d["activation"],
        "dropout": d["dropout"],
        "batch_size": d["batch_size"],
        "optimizer": d["optimizer"],
    }


def make_config(**values: Any) -> dict[str, Any]:
    """A full, validated config: the defaults of :data:`PARAMS` (and the model's, for the
    "auto" ones) updated with ``values``.

    Raises :class:`OwnnetError` for an unknown parameter, a bad value, or a parameter set
    for a model it does not apply to.
    """
    unknown = sorted(set(values) - set(PARAMS))
    if unknown:
        raise OwnnetError(
            f"unknown parameter {', '.join(unknown)}; expected one of {', '.join(PARAMS)}"
        )
    config = {name: p.default for name, p in PARAMS.items()}
    for name, value in values.items():
        config[name] = PARAMS[name].check(name, value)
    model = config["model"]
    for name, p in PARAMS.items():
        if p.models is not None and model not in p.models and config[name] != p.default:
            raise OwnnetError(
                f"parameter {name} applies to model {' or '.join(p.models)} only, "
                f"not to {model} (found {name}={config[name]})"
            )
    return _fill(config)


def _fill(config: dict[str, Any]) -> dict[str, Any]:
    """The "auto" parameters of ``config`` set to its model's values."""
    for name, value in model_defaults(config["model"], config.get("optimizer")).items():
        if config.get(name) is None:
            config[name] = value
    return config


def complete(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored config with the parameters it predates filled in at their defaults."""
    return _fill({**{name: p.default for name, p in PARAMS.items()}, **stored})


def split_setting(text: str) -> tuple[str, str | None]:
    """``"train-size=100"`` → ``("train_size", "100")``; the value is ``None`` without ``=``."""
    name, sep, value = text.partition("=")
    return name.strip().replace("-", "_"), value if sep else None


def canonical(config: dict[str, Any]) -> str:
    """The config's identity as text: JSON of the parameters away from their defaults (the
    model's, for the "auto" ones)."""
    auto = model_defaults(config.get("model", "classic"), config.get("optimizer"))
    changed = {
        k: v for k, v in config.items() if k not in PARAMS or v != auto.get(k, PARAMS[k].default)
    }
    return json.dumps(changed, sort_keys=True, separators=(",", ":"))


def model_config(config: dict[str, Any]) -> dict[str, Any]:
    """The :mod:`ownnet.config` settings of a run's config (what :func:`ownnet.from_config`
    builds and :func:`ownnet.config.train` trains)."""
    model = config["model"]
    out: dict[str, Any] = {
        "model": model,
        "lr": config["lr"],
        "epochs": config["epochs"],
        "rotate": config["rotate"],
    }
    if config["shuffle"] is not None:
        out["shuffle"] = config["shuffle"]
    if model == "classic":
        out.update(
            hidden=config["hidden"],
            bias=config["bias"],
            error_split=config["error_split"],
            init=config["init"],
        )
    else:
        out.update(
            layers=[config["hidden"]] * config["layers"],
            dropout=config["dropout"],
            activation=config["activation"],
            batch_size=config["batch_size"],
            optimizer=config["optimizer"],
            max_angle=0.0,
            max_shift=0,
        )
    return out
