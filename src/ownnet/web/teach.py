"""Teach it back: one training step on a drawing, with the model's own rule.

"No, it's a 5 — learn it": a copy of the model takes one step on the drawing
and the right answer, the way the model was trained:

* the book's network: its own ``train(inputs, targets)``, the book's update
  with the model's learning rate (inputs ``x / 255 * 0.99 + 0.01``, targets
  0.01 and 0.99);
* a matrix-engine network: its own ``train_on_batch`` on the one-image batch, one
  step of the optimiser the network carries (a new one, so Adam's first step, at its
  starting learning rate).

The served model is never changed in place: the new weights are a new model,
and the old one stays for undo (:mod:`ownnet.web.state`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ownnet.book import book_inputs, book_targets


def teach_step(model: Any, image: np.ndarray, label: int, meta: dict[str, Any]) -> tuple[Any, str]:
    """A copy of ``model`` after one step on uint8 ``image (28, 28)`` labelled ``label``,
    and the rule it used, in words."""
    net = model.copy()
    if net.kind == "classic":
        net.train(book_inputs(image.reshape(-1)), book_targets(np.array([label]), net.n_output)[0])
        return net, f"the book's update, train(inputs, targets), learning rate {net.lr:g}"
    net.train_on_batch(image.reshape(1, -1), np.array([label]))
    return net, f"one step of {net.optimizer!r} on the {net.loss.name} loss"


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
