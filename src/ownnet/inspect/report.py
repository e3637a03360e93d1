"""A test report as pictures: the confusion matrix and a gallery of the worst mistakes.

:func:`report_for` reads the test set once and returns

* ``confusion`` - the confusion matrix as a figure (rows: true digit, columns: the
  network's answer), each cell with its count, coloured by the share of its row;
* ``mistakes`` - a figure of the wrongly read test images the network was most sure
  of, each titled ``true → read (confidence)``;
* ``rows`` - every mistake: test index, true label, answer, confidence, most confident
  first.

``ownnet test MODEL --report DIR`` saves them as ``confusion.png``, ``mistakes.png`` and
``mistakes.csv`` (:func:`ownnet.cli.test.write_report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.confusion import confusion_matrix
from ownnet.inspect.confidence import confidences
from ownnet.inspect.grids import image_grid

GALLERY = 36


def confusion_figure(matrix: np.ndarray, title: str | None = None) -> Any:
    """The confusion matrix as a picture: counts in the cells, colour = share of the true class."""
    from matplotlib.figure import Figure

    matrix = np.asarray(matrix)
    n = len(matrix)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(6.4, 5.6), layout="constrained")
    ax = fig.add_subplot()
    # colour by share on a log-like scale so that small confusions show: sqrt of the share
    im = ax.imshow(np.sqrt(share), cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if matrix[i, j]:
                dark = share[i, j] > 0.5
                ax.text(
                    j,
                    i,
                    str(int(matrix[i, j])),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("network's answer")
    ax.set_ylabel("true digit")
    acc = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(title or f"confusion matrix (accuracy {acc:.4f}, {int(matrix.sum())} images)")
    bar = fig.colorbar(im, ax=ax, shrink=0.8)
    ticks = np.array([0, 0.01, 0.05, 0.2, 0.5, 1.0])
    bar.set_ticks(np.sqrt(ticks))
    bar.set_ticklabels([f"{t:g}" for t in ticks])
    bar.set_label("share of the true digit's images")
    return fig


def worst_mistakes(
    conf: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every wrongly read image, most confident first, from confidences ``(n, n_out)``
    and labels ``(n,)``.

    Returns:
        ``(index (m,), predicted (m,), confidence (m,))`` where ``index`` points into
        the rows of ``conf``.
    """
    predicted = conf.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    c = conf[wrong, predicted[wrong]]
    order = np.argsort(-c, kind="stable")
    return wrong[order], predicted[wrong][order], c[order]


@dataclass(frozen=True)
class Report:
    """A model's test report (see the module doc).

    Attributes:
        confusion: the confusion matrix as a matplotlib figure.
        mistakes: the :data:`GALLERY` most confident mistakes as a matplotlib figure.
        rows: every mistake as ``(test index, true label, answer, confidence)``, most
            confident first.
    """

    confusion: Any
    mistakes: Any
    rows: list[tuple[int, int, int, float]]


def report_for(model: Any, test_dataset: Any) -> Report:
    """The confusion matrix and the worst mistakes of ``model`` on ``test_dataset``.

    Args:
        model: any model with ``predict_proba(images) -> (n, 10)`` and ``proba_meaning``.
        test_dataset: uint8 ``images (n, 28, 28)`` and ``labels (n,)``.
    """
    images = np.asarray(test_dataset.images).reshape(-1, 28, 28)
    labels = np.asarray(test_dataset.labels).astype(np.intp)
    every_conf, how = confidences(model, images)  # one pass over the test set
    index, predicted, conf = worst_mistakes(every_conf, labels)
    matrix = confusion_matrix(labels, every_conf.argmax(axis=1), max(10, int(labels.max()) + 1))

    shown = index[:GALLERY]
    if len(shown):
        titles = [
            f"#{i}: {labels[i]}\u2192{p} ({c:.2f})"
            for i, p, c in zip(shown, predicted[:GALLERY], conf[:GALLERY], strict=True)
        ]
        heading = (
            f"the {len(shown)} most confident of {len(index)} mistakes: "
            f"#test index: true\u2192read (confidence)\nconfidence = {how}"
        )
        fig = image_grid(
            images[shown], titles=titles, ncols=6, cmap="Greys", vmin=0, vmax=255, title=heading
        )
    else:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(4, 1))
        fig.text(0.5, 0.5, "no mistakes", ha="center", va="center")
    rows = [
        (int(i), int(labels[i]), int(p), float(c))
        for i, p, c in zip(index, predicted, conf, strict=True)
    ]
    return Report(confusion_figure(matrix), fig, rows)
