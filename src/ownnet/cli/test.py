"""``ownnet test MODEL``: accuracy, accuracy per digit and the confusion matrix."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from ownnet.cli.common import add_data_options, add_model_argument, load_data, load_model
from ownnet.cli.output import save_figure, write_csv
from ownnet.confusion import confusion_matrix, format_confusion, per_class_accuracy
from ownnet.inspect.report import report_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "test",
        help="test a saved model on the MNIST test set",
        description=(
            "Test a saved model (any kind) on the 10,000 test images: overall accuracy,\n"
            "accuracy per digit and the confusion matrix (rows: true digit, columns:\n"
            "predicted digit)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_argument(p)
    add_data_options(p, name_default=None)
    p.add_argument(
        "--report",
        metavar="DIR",
        help="also write a confusion-matrix PNG and a gallery of the worst mistakes to DIR",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    model = load_model(args.model)
    meta = model.meta
    name = args.name or meta.get("dataset", {}).get("name", "mnist")
    test = load_data(args.data, name).test
    predicted = model.predict(test.images)
    labels = np.asarray(test.labels)
    matrix = confusion_matrix(labels, predicted)
    accuracy = float(np.mean(predicted == labels))
    version = meta.get("ownnet_version")
    print(f"model: {args.model} ({meta.get('kind')}, trained with ownnet {version})")
    print(f"test set: {test.source} ({len(test)} images)")
    print(f"accuracy: {accuracy:.4f} ({int(np.sum(predicted == labels))}/{len(labels)})")
    print("accuracy per digit:")
    for digit, acc in enumerate(per_class_accuracy(matrix)):
        print(f"  {digit}: {acc:.4f} ({matrix[digit, digit]}/{matrix[digit].sum()})")
    print("confusion matrix:")
    print(format_confusion(matrix))
    if args.report:
        for path in write_report(model, test, args.report):
            print(f"wrote {path}")
    return 0


def write_report(model: Any, test_dataset: Any, directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``confusion.png``, ``mistakes.png`` and ``mistakes.csv`` into ``directory``
    (created if missing): :func:`ownnet.inspect.report.report_for` of ``model`` on
    ``test_dataset`` (uint8 ``images (n, 28, 28)``, ``labels (n,)``). Returns the paths."""
    report = report_for(model, test_dataset)
    directory = Path(directory)
    rows = [(i, true, answer, f"{c:.4f}") for i, true, answer, c in report.rows]
    return [
        save_figure(report.confusion, directory / "confusion.png"),
        save_figure(report.mistakes, directory / "mistakes.png"),
        write_csv(directory / "mistakes.csv", ("index", "true", "predicted", "confidence"), rows),
    ]
