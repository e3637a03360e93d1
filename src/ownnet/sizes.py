"""How big a model from settings will be, before it is built.

``--hidden 100000000`` would ask NumPy for hundreds of GiB; :func:`check` refuses such a
config with a message naming the size, the limit and how to raise it, before a single
weight is drawn. The estimate counts the weights (with their gradients and the
optimizer's two slots) and, for a training batch, every layer's outputs three times
(forward values, gradients, scratch).
"""

from __future__ import annotations

import os
from typing import Any

from ownnet.errors import OwnnetError

#: refuse a model whose training would need more than this many bytes (change it with
#: the environment variable below, in GiB)
MAX_GIB_ENV = "OWNNET_MAX_MODEL_GIB"
DEFAULT_MAX_GIB = 8.0


class TooLarge(OwnnetError, ValueError):
    """A model's settings would need more memory than the limit."""


def _sizes(values: Any) -> list[int]:
    return [int(values)] if isinstance(values, int) else [int(v) for v in values]


def estimate(settings: dict[str, Any]) -> tuple[int, int]:
    """``(parameters, bytes to train)`` of a model from its full settings (``ownnet.config``)."""
    kind = settings["model"]
    batch = int(settings.get("batch_size", 1) or 1)
    itemsize = (
        4
        if settings.get("dtype", "float32") == "float32" and kind in ("mlp", "cnn", "reader")
        else 8
    )
    outputs = 0
    if kind in ("classic", "book", "neurons", "mlp"):
        sizes = [784, *_sizes(settings.get("layers") if kind == "mlp" else settings["hidden"]), 10]
        params = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
        outputs = sum(sizes[1:])
    else:  # cnn and reader: `same` convolutions, each followed by a 2x2 pool
        k = int(settings["kernel_size"])
        side, channels, params = 28, 1, 0
        for f in _sizes(settings["filters"]):
            params += k * k * channels * f + f
            outputs += 2 * f * side * side  # conv output and relu/pool
            side, channels = max(side // 2, 1), f
        sizes = [channels * side * side, *_sizes(settings["layers"]), 10]
        params += sum(a * b + b for a, b in zip(sizes, sizes[1:]))
        outputs += sum(sizes[1:]) + k * k * channels * 28 * 28  # + the im2col of a layer
    return params, itemsize * (4 * params + 3 * batch * outputs)


def limit_bytes() -> float:
    """The limit, from ``$OWNNET_MAX_MODEL_GIB`` (default 8 GiB)."""
    text = os.environ.get(MAX_GIB_ENV)
    try:
        gib = float(text) if text else DEFAULT_MAX_GIB
    except ValueError:
        raise OwnnetError(f"${MAX_GIB_ENV}: expected a number of GiB, found {text!r}") from None
    return gib * 2**30


def check(settings: dict[str, Any]) -> tuple[int, int]:
    """:func:`estimate`, refusing a model above the limit with :class:`TooLarge`."""
    params, needed = estimate(settings)
    limit = limit_bytes()
    if needed > limit:
        raise TooLarge(
            f"this {settings['model']} model has {params:,} parameters and "
            f"would need about {needed / 2**30:,.1f} GiB to train; the limit is "
            f"{limit / 2**30:g} GiB (set ${MAX_GIB_ENV} to raise it)"
        )
    return params, needed
