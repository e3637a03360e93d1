"""How the book's network splits its output errors back among the hidden nodes.

The book sends each output node's error back along the links it came in on, in
proportion to their weights, and then drops the proportion: the hidden errors are
``who.T @ e_o`` (``"transpose"``). It discusses the alternatives, and they are here to
try (``ownnet train --error-split``):

* ``"transpose"``: ``who.T @ e_o``, the book's choice;
* ``"transpose_scaled"``: ``who.T @ e_o / n_hidden``;
* ``"proportional"``: each output error shared among the hidden nodes in proportion to
  the link weights, ``w / sum|w|`` (the book's first idea, before it simplifies);
* ``"equal"``: each output error shared equally, ``sum(e_o) / n_hidden`` for every node.

``who`` is ``(n_output, n_hidden)`` as the book writes it (without a bias column).
"""

from __future__ import annotations

import numpy as np

#: The ways to split the output error among the hidden nodes (see the module doc).
ERROR_SPLITS = ("transpose", "transpose_scaled", "proportional", "equal")


def split_errors(w: np.ndarray, e_o: np.ndarray, split: str, out: np.ndarray) -> np.ndarray:
    """Hidden errors ``out (n_hidden,)`` from output errors ``e_o (n_output,)`` through
    the weights ``w (n_output, n_hidden)``, split as ``split`` says; returns ``out``."""
    if split == "transpose":
        return np.dot(w.T, e_o, out=out)
    if split == "transpose_scaled":
        np.dot(w.T, e_o, out=out)
        out *= 1.0 / w.shape[1]
        return out
    if split == "proportional":
        share = w / np.abs(w).sum(axis=1, keepdims=True)
        return np.dot(share.T, e_o, out=out)
    if split != "equal":
        raise ValueError(f"error_split must be one of {ERROR_SPLITS}, found {split!r}")
    out.fill(e_o.sum() / w.shape[1])
    return out
