"""The model of an exported draw page, as a script: ``model.js`` sets ``window.ownnetModel``.

A page opened from disk (``file://``) may not ``fetch`` the files beside it, but it may
run a ``<script>`` beside it, so the weights travel as a script. It holds what
:func:`ownnet.io.save_model` stores (the model's ``kind``, its ``config`` and its arrays,
as ``model.state()`` gives them) with every array as little-endian float32 in base64,
and what the page shows without a server: the model card, what the bars mean, and ten
class pictures made here, in Python, by :mod:`ownnet.inspect` (the back-query for a
network of sigmoid layers, activation maximisation for any other). The browser side is
``static/forward.js`` (the engine) and ``static/static-backend.js`` (the page's answers).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from ownnet import __version__
from ownnet.errors import OwnnetError
from ownnet.inspect.backquery import NotInvertibleError, backquery_digits
from ownnet.inspect.confidence import NORMALISED, SOFTMAX, meaning
from ownnet.inspect.maximize import maximize
from ownnet.inspect.stack import InspectError, dense_layers

#: ``format`` of the document in model.js (static-backend.js checks nothing else).
FORMAT = "ownnet-web-model"
#: Layer types and activations the browser engine (static/layers.js) has.
BROWSER_LAYERS = ("Dense", "Dropout", "Flatten", "Activation", "PReLU", "BatchNorm", "Conv2D",
                  "MaxPool2D")  # fmt: skip
BROWSER_ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax")
#: The page draws 28x28 digits.
N_PIXELS = 784


class ExportError(OwnnetError, ValueError):
    """The model or the folder cannot be exported as a static page (the message says why)."""


def model_script(model: Any, meta: dict[str, Any], name: str) -> str:
    """The text of ``model.js`` for ``model`` (a classic or nn network) and its file's ``meta``."""
    document = model_document(model, meta, name)
    return (
        f"// The model of this page, {name}, written by `ownnet export web` (ownnet "
        f"{__version__}).\n// Its arrays are float32, little-endian, in base64; static/forward.js "
        "reads them.\n"
        f"window.ownnetModel = {json.dumps(document, indent=1, default=_json_default)};\n"
    )


def model_document(model: Any, meta: dict[str, Any], name: str) -> dict[str, Any]:
    """What ``window.ownnetModel`` holds (JSON-ready): ``kind``, ``config``, ``arrays``
    (``{name: {shape, dtype, data}}``), ``name``, ``card``, ``meaning``, ``confidence``
    (``"sum"`` or ``"softmax"``) and ``pictures``."""
    from ownnet.web.served import ServedModel

    check_model(model)
    arrays, config = model.state()
    how = meaning(model)
    pictures, note = class_pictures(model)
    return {
        "format": FORMAT,
        "kind": model.kind,
        "config": config,
        "arrays": {key: encode_array(value) for key, value in arrays.items()},
        "name": name,
        "card": ServedModel(model, meta, name).card(),
        "meaning": how,
        "confidence": "sum" if how in (SOFTMAX, NORMALISED) else "softmax",
        "pictures": pictures,
        "pictures_note": note,
    }


def check_model(model: Any) -> None:
    """Raise :class:`ExportError` unless the browser engine can run ``model``."""
    kind = getattr(model, "kind", None)
    if kind == "classic":
        n_pixels = model.n_input
    elif kind == "nn":
        n_pixels = model.n_pixels
        for i, layer in enumerate(model.layers):
            spec = layer.spec()
            if spec["type"] not in BROWSER_LAYERS:
                raise ExportError(
                    f"layer {i} is {spec['type']}: the browser engine has "
                    f"{', '.join(BROWSER_LAYERS)}"
                )
            act = spec.get("activation")
            act_name = act.get("name") if isinstance(act, dict) else act
            if act_name is not None and act_name not in BROWSER_ACTIVATIONS:
                raise ExportError(
                    f"layer {i} ({spec['type']}) has activation {act_name!r}: the browser "
                    f"engine has {', '.join(BROWSER_ACTIVATIONS)}"
                )
        if not any(layer.spec()["type"] == "Dense" for layer in model.layers):
            raise ExportError("the model has no Dense layer: its answers come from one")
    else:
        raise ExportError(f"expected a classic or nn model, found kind {kind!r}")
    if n_pixels != N_PIXELS:
        raise ExportError(
            f"the page draws 28x28 digits: expected {N_PIXELS} inputs, found {n_pixels}"
        )


def encode_array(value: np.ndarray) -> dict[str, Any]:
    """``{shape, dtype: "float32", data}``: the array as little-endian float32 bytes in base64."""
    arr = np.ascontiguousarray(value, dtype="<f4")
    return {"shape": list(arr.shape), "dtype": "float32", "data": _b64(arr.tobytes())}


def class_pictures(model: Any) -> tuple[dict[str, Any] | None, str]:
    """The picture of each class and what the model reads in it, and how they were made.

    Returns ``(pictures, note)``: ``pictures`` is ``{method, images, read_as}`` with
    ``images`` the uint8 pictures ``(n_classes, 784)`` in base64 (0 background, 255 ink)
    and ``read_as`` the class the model gives each; ``None`` when neither way works.
    """

    try:
        layers = dense_layers(model)
    except InspectError as exc:  # e.g. BatchNorm between Dense layers
        return None, str(exc)
    try:
        if layers[0].n_in != N_PIXELS:  # conv layers first: the back-query stops before them
            raise NotInvertibleError("the first dense layer does not take the pixels")
        result = backquery_digits(model)
        method, images, read_as = "backquery", result.images, result.predicted
        note = "the book's back-query, background set to 0 (ownnet.inspect.backquery)"
    except NotInvertibleError:
        found = maximize(model, "output", np.arange(layers[-1].n_out))
        method = "maximize"
        images = np.round(np.clip(found.images, 0.0, 1.0) * 255).astype(np.uint8)
        read_as = np.asarray(model.outputs(images)).argmax(axis=1)
        note = "activation maximisation of each class score (ownnet.inspect.maximize)"
    images = np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), -1)
    pictures = {
        "method": method,
        "images": _b64(images.tobytes()),
        "read_as": [int(d) for d in read_as],
    }
    return pictures, note


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
