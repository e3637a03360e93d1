"""Teach it back: one training step on a drawing, with the model's own rule.

"No, it's a 5 — learn it": a copy of the model takes one step on the drawing
and the right answer, the way the model was trained:

* the book's network: its own ``train(inputs, targets)``, the book's update
  with the model's learning rate (inputs ``x / 255 * 0.99 + 0.01``, targets
  0.01 and 0.99);
* a matrix-engine network: one step of its optimiser on the one-image batch
  (forward in training mode, its loss, backward, ``optimizer.step``). The
  optimiser is the one the model file says it was trained with (a new one, so
  Adam's first step), at its starting learning rate.

The served model is never changed in place: the new weights are a new model,
and the old one stays for undo (:mod:`ownnet.web.state`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.classic import SCALE, targets_for
from ownnet.nn.network import TARGETS
from ownnet.nn.optimizers import SGD, Adam, get_optimizer


def teach_step(model: Any, image: np.ndarray, label: int, meta: dict[str, Any]) -> tuple[Any, str]:
    """A copy of ``model`` after one step on uint8 ``image (28, 28)`` labelled ``label``,
    and the rule it used, in words."""
    net = model.copy()
    if net.kind == "classic":
        net.train(SCALE[image.reshape(-1)], targets_for(np.array([label]), net.n_output)[0])
        return net, f"the book's update, train(inputs, targets), learning rate {net.lr:g}"
    optimizer = optimizer_for(meta)
    train_on_batch(net, image.reshape(1, -1), np.array([label]), optimizer)
    return net, f"one step of {optimizer!r} on the {net.loss.name} loss"


def train_on_batch(net: Any, images: np.ndarray, labels: np.ndarray, optimizer: Any) -> float:
    """One optimiser step of an engine network on uint8 ``images (n, n_pixels)`` with
    ``labels (n,)``; returns the batch loss.

    (To be replaced by the model's own ``train_on_batch(x, y)`` once every model has
    one: this is its body written with the engine's public pieces.)
    """
    n = len(images)
    x = net.scale(np.asarray(images, np.uint8).reshape(n, -1)).reshape((n, *net.input_shape))
    off, on = TARGETS[net.targets]
    y = np.full((n, net.n_outputs), off, net.dtype)
    y[np.arange(n), labels] = on
    loss, _ = net.loss_and_grads(x, y, training=True)
    optimizer.step(net.params())
    return float(loss)


def optimizer_for(meta: dict[str, Any]) -> Any:
    """The optimiser a model file says it was trained with (a new one), else plain SGD
    at its learning rate (0.01 if none is recorded)."""
    training = meta.get("training") if isinstance(meta.get("training"), dict) else {}
    spec = training.get("optimizer")
    lr = training.get("lr")
    if isinstance(spec, (dict, str)):
        try:
            return get_optimizer(spec)
        except (ValueError, TypeError, KeyError):
            pass  # a spec this ownnet does not know: plain SGD below
    if training.get("preset") == "mlp" and isinstance(lr, (int, float)):
        return Adam(float(lr))  # a run of the watch page's MLP preset
    return SGD(float(lr) if isinstance(lr, (int, float)) and lr > 0 else 0.01)


def weight_change(before: Any, after: Any) -> dict[str, Any]:
    """How far the weights moved: ``{"relative": |after - before| / |before| over all
    weights, "max": the largest change of one weight, "arrays": [{"name", "relative"}]}``."""
    a, _ = before.state()
    b, _ = after.state()
    rows = []
    total_diff = total_norm = 0.0
    biggest = 0.0
    for name, old in a.items():
        old = np.asarray(old, dtype=np.float64)
        diff = np.asarray(b[name], dtype=np.float64) - old
        d2, n2 = float(np.vdot(diff, diff)), float(np.vdot(old, old))
        total_diff, total_norm = total_diff + d2, total_norm + n2
        biggest = max(biggest, float(np.abs(diff).max()) if diff.size else 0.0)
        rows.append({"name": name, "relative": (d2 / n2) ** 0.5 if n2 > 0 else 0.0})
    relative = (total_diff / total_norm) ** 0.5 if total_norm > 0 else 0.0
    return {"relative": relative, "max": biggest, "arrays": rows}
