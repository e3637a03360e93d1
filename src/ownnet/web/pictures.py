"""Pictures and descriptions of a model for the page: back-query, first-layer weights, sizes.

The pictures themselves come from :mod:`ownnet.inspect`; this module only turns
them into what a browser draws: uint8 ``(n, 28, 28)`` arrays and PNG strips.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

#: First-layer pictures shown for a model without a back-query (hidden units 0..N-1).
N_UNITS = 10


def has_backquery(model: Any) -> bool:
    """Whether :mod:`ownnet.inspect.backquery` can run ``model`` backwards (sigmoid layers)."""
    try:
        from ownnet.inspect.backquery import check_invertible
        from ownnet.inspect.stack import InspectError
    except ImportError:
        return False
    try:
        check_invertible(model)
    except InspectError:
        return False
    return True


def backquery_images(model: Any) -> np.ndarray | None:
    """The book's back-query picture of each digit as uint8 ``(10, 28, 28)``, or None.

    Made by :func:`ownnet.inspect.backquery.backquery` (targets 0.01 and 0.99 at
    the digit); its values 0.01..0.99 become 0..255, so high values are light, as
    ink is in the network's input.
    """
    if not has_backquery(model):
        return None
    from ownnet.inspect import backquery as bq

    values = bq.backquery(model, bq.book_targets(np.arange(10)))
    return bq.to_image(values)


def first_layer_images(model: Any, n: int = N_UNITS) -> np.ndarray | None:
    """The input weights of the first ``n`` hidden units as uint8 ``(n, 28, 28)``, or None.

    Each picture is stretched on its own so that 0 is mid-grey: light pixels
    excite the unit, dark ones inhibit it.
    """
    weights = first_layer_weights(model)
    if weights is None:
        return None
    w = weights[: min(n, len(weights))]
    scale = np.abs(w).max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    return np.rint(127.5 + 127.5 * w / scale).astype(np.uint8).reshape(len(w), 28, 28)


def first_layer_weights(model: Any) -> np.ndarray | None:
    """The first layer's weights as ``(hidden, 784)``, or None when there is no such layer."""
    if getattr(model, "kind", None) == "classic":
        return np.asarray(model.wih[:, :784])
    layers = getattr(model, "layers", None)
    for layer in layers or []:
        w = getattr(layer, "W", None)
        if w is not None:
            w = np.asarray(w)
            if w.ndim == 2 and w.shape[0] == 784:  # the engine keeps (n_in, n_out)
                return w.T
            return None
    return None


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Stretch each picture of ``(n, h, w)`` floats to 0..255 on its own → uint8."""
    images = np.asarray(images, dtype=np.float64)
    flat = images.reshape(len(images), -1)
    lo = flat.min(axis=1, keepdims=True)
    span = flat.max(axis=1, keepdims=True) - lo
    span[span == 0] = 1.0
    return np.rint((flat - lo) / span * 255.0).astype(np.uint8).reshape(images.shape)


def strip_png(images: np.ndarray, zoom: int = 4, gap: int = 4) -> bytes:
    """Pictures uint8 ``(n, h, w)`` side by side (``gap`` pixels apart, ``zoom`` times) as PNG."""
    from PIL import Image

    n, h, w = images.shape
    canvas = np.full((h * zoom, n * w * zoom + (n - 1) * gap), 255, np.uint8)
    for i, img in enumerate(images):
        big = np.kron(np.asarray(img, np.uint8), np.ones((zoom, zoom), np.uint8))
        x = i * (w * zoom + gap)
        canvas[:, x : x + w * zoom] = big
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG")
    return buf.getvalue()


def layer_sizes(model: Any, config: dict[str, Any]) -> list[int] | None:
    """Units per layer, input first (``[784, 200, 10]``), where the model says."""
    sizes = getattr(model, "sizes", None)
    if sizes is not None and not callable(sizes):
        return [int(s) for s in sizes]
    sizes = []
    for layer in getattr(model, "layers", None) or []:
        w = getattr(layer, "W", None)
        if w is not None and np.ndim(w) == 2:
            if not sizes:
                sizes.append(int(np.shape(w)[0]))
            sizes.append(int(np.shape(w)[1]))
    return sizes or None


def describe(model: Any, config: dict[str, Any]) -> str:
    """One line: ``"784-200-10, sigmoid"``."""
    sizes = layer_sizes(model, config)
    shape = "-".join(str(s) for s in sizes) if sizes else "?"
    activation = config.get("activation")
    if activation is None:
        acts = []
        for layer in getattr(model, "layers", None) or []:
            name = getattr(layer, "activation_name", None) or _layer_activation(layer)
            if name and name not in acts:
                acts.append(name)
        activation = ", ".join(acts) if acts else None
    return f"{shape}, {activation}" if activation else shape


def _layer_activation(layer: Any) -> str | None:
    try:
        config = layer.config()
    except Exception:
        return None
    act = config.get("activation") if isinstance(config, dict) else None
    if isinstance(act, dict):
        act = act.get("name")
    return str(act) if act else None
