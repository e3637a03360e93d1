"""Pictures and descriptions of a model for the page: back-query, first-layer weights, sizes.

The pictures themselves come from :mod:`ownnet.inspect`; this module only turns
them into what a browser draws: uint8 ``(n, 28, 28)`` arrays and PNG strips.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

from ownnet.inspect import backquery as bq
from ownnet.inspect.backquery import NotInvertibleError, backquery_digits, check_invertible
from ownnet.inspect.feature_maps import conv_layers
from ownnet.inspect.stack import InspectError, dense_layers
from ownnet.inspect.units import first_layer_weights

#: First-layer pictures shown for a model without a back-query (hidden units 0..N-1).
N_UNITS = 10


def has_backquery(model: Any) -> bool:
    """Whether :mod:`ownnet.inspect.backquery` can run ``model`` backwards (sigmoid layers)."""

    try:
        check_invertible(model)
    except NotInvertibleError:
        return False
    return True


def backquery_images(model: Any) -> np.ndarray | None:
    """The book's back-query picture of each digit as uint8 ``(10, 28, 28)``, or None.

    Made by :func:`ownnet.inspect.backquery.backquery` (targets 0.01 and 0.99 at
    the digit); its values 0.01..0.99 become 0..255, so high values are light, as
    ink is in the network's input.
    """

    try:
        values = bq.backquery(model, bq.book_targets(np.arange(10)))
    except bq.NotInvertibleError:  # what has_backquery checks; raised before any work
        return None
    return bq.to_image(values)


def first_layer_images(model: Any, n: int = N_UNITS) -> np.ndarray | None:
    """The input weights of the first ``n`` hidden units as uint8 ``(n, 28, 28)``, or None.

    Each picture is stretched on its own so that 0 is mid-grey: light pixels
    excite the unit, dark ones inhibit it.
    """

    try:
        first = dense_layers(model)[0]
        pics = first_layer_weights(model, np.arange(min(n, first.n_out)))
    except InspectError:  # a conv network, or layers the inspection tools cannot take apart
        return None
    # in the weights' own precision (float32 for the engine), as the page always drew them
    w = pics.reshape(len(pics), -1).astype(first.weights.dtype)
    scale = np.abs(w).max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    return np.rint(127.5 + 127.5 * w / scale).astype(np.uint8).reshape(pics.shape)


def strip_png(images: np.ndarray, zoom: int = 4, gap: int = 4) -> bytes:
    """Pictures uint8 ``(n, h, w)`` side by side (``gap`` pixels apart, ``zoom`` times) as PNG."""

    n, h, w = images.shape
    canvas = np.full((h * zoom, n * w * zoom + (n - 1) * gap), 255, np.uint8)
    for i, img in enumerate(images):
        big = np.kron(np.asarray(img, np.uint8), np.ones((zoom, zoom), np.uint8))
        x = i * (w * zoom + gap)
        canvas[:, x : x + w * zoom] = big
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG")
    return buf.getvalue()


def layer_sizes(model: Any) -> list[int] | None:
    """Units per layer, input first (``[784, 200, 10]``), where the model says."""

    try:
        layers = dense_layers(model)
    except InspectError:  # e.g. BatchNorm between Dense layers: the Dense weights alone
        sizes: list[int] = []
        for layer in getattr(model, "layers", None) or []:
            w = getattr(layer, "W", None)
            if w is not None and np.ndim(w) == 2:
                if not sizes:
                    sizes.append(int(np.shape(w)[0]))
                sizes.append(int(np.shape(w)[1]))
        return sizes or None
    return [layers[0].n_in, *(x.n_out for x in layers)]


def describe(model: Any, config: dict[str, Any]) -> str:
    """One line: ``"784-200-10, sigmoid"``, or for a CNN ``"1x28x28, conv 32 3x3, pool 2,
    conv 64 3x3, pool 2, 128, 10; relu, softmax"``."""

    if conv_layers(model):
        return _describe_cnn(model)
    sizes = layer_sizes(model)
    shape = "-".join(str(s) for s in sizes) if sizes else "?"
    activation = config.get("activation")
    if activation is None:
        acts = []
        for layer in getattr(model, "layers", None) or []:
            name = _layer_activation(layer)
            if name and name not in acts:
                acts.append(name)
        activation = ", ".join(acts) if acts else None
    return f"{shape}, {activation}" if activation else shape


def _describe_cnn(model: Any) -> str:
    parts = ["x".join(str(n) for n in model.input_shape)]
    acts: list[str] = []
    for layer in model.layers:
        name = type(layer).__name__
        if name == "Conv2D":
            kh, kw = layer.kernel_size
            parts.append(f"conv {layer.filters} {kh}x{kw}")
        elif name == "MaxPool2D":
            parts.append(f"pool {layer.pool_size}")
        elif name == "Dense":
            parts.append(str(layer.units))
        act = _layer_activation(layer)
        if act and act != "linear" and act not in acts:
            acts.append(act)
    return ", ".join(parts) + (f"; {', '.join(acts)}" if acts else "")


def _layer_activation(layer: Any) -> str | None:
    try:
        config = layer.config()
    except Exception:
        return None
    act = config.get("activation") if isinstance(config, dict) else None
    if isinstance(act, dict):
        act = act.get("name")
    return str(act) if act else None


def report_pictures(model: Any, backquery: bool) -> dict[str, Any]:
    """The pictures of a watch-page report: the back query of each digit, drawn with its
    background at 0 and labelled with what the network reads in it (if ``backquery``), else
    the first layer's weights of the first hidden units; each 784 bytes in base64."""

    images = None
    if backquery:
        result = backquery_digits(model)
        images = result.images
        title = "back query: the input each output asks for (and what the network reads in it)"
        labels = [f"{d} \u2192 {p}" for d, p in zip(result.labels, result.predicted, strict=True)]
    else:
        images = first_layer_images(model)
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
