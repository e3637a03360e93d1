"""Confusion matrices and per-class accuracy, as numbers and as text."""

from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts ``(n_classes, n_classes)``: row = true label, column = predicted label."""
    labels = np.asarray(labels, dtype=np.intp)
    predicted = np.asarray(predicted, dtype=np.intp)
    if labels.shape != predicted.shape:
        raise ValueError(f"{labels.shape[0]} labels but {predicted.shape[0]} predictions")
    return np.bincount(labels * n_classes + predicted, minlength=n_classes**2).reshape(
        n_classes, n_classes
    )


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Accuracy per true class ``(n_classes,)``; NaN for a class that never occurs."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)


def format_confusion(matrix: np.ndarray, class_names: list[str] | None = None) -> str:
    """The matrix as an aligned text table, true labels down, predictions across."""
    n = len(matrix)
    names = class_names or [str(i) for i in range(n)]
    width = max(5, len(str(int(matrix.max()))) + 1, *(len(s) + 1 for s in names))
    head = "true\\pred".ljust(10) + "".join(s.rjust(width) for s in names)
    rows = [
        names[i].ljust(10) + "".join(str(int(v)).rjust(width) for v in matrix[i]) for i in range(n)
    ]
    return "\n".join([head, *rows])
