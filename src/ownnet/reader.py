"""The reader: a network for reading people's own digits, where it is kept, how to train it.

A network trained on MNIST as it is learns MNIST's 250 writers. The reader is a CNN
(two 3x3 conv + 2x2 max-pool stages of 32 and 64 channels, a dense layer of 256 with
dropout 0.5, softmax) trained for 16 epochs on MNIST where every image is written
again, differently, before each epoch (:class:`ownnet.augmentation.Handwriting`). It
learns the digits, not the hands. Its settings are ``ownnet.config``'s ``"reader"``
model, so ``ownnet.from_config({"model": "reader"})``, ``ownnet train --model reader``
and :func:`train_reader` all build the same network.

``ownnet train --model reader`` keeps it at :func:`default_path`
(``<cache>/models/reader.npz``, the cache being ``$OWNNET_CACHE``, else
``$XDG_CACHE_HOME/ownnet``, else ``~/.cache/ownnet``), where ``ownnet predict`` and
``ownnet serve`` look for a model when none is named (:func:`find_reader`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ownnet.augmentation import Handwriting
from ownnet.config import from_config, settings, train
from ownnet.data.download import cache_root

#: file name of the trained reader under ``<cache>/models``
FILE_NAME = "reader.npz"


def build_reader(seed: Any = None, **changes: Any) -> Any:
    """The reader's network, untrained (:class:`ownnet.Network`); ``changes`` are settings
    of the ``"reader"`` model (e.g. ``filters=[8, 16], layers=[64]`` for a quick try)."""
    return from_config({"model": "reader", **changes}, seed=seed)


def train_reader(
    splits: Any,
    *,
    seed: int = 0,
    verbose: int = 0,
    callbacks: Any = None,
    augment: Handwriting | None = None,
    **changes: Any,
) -> tuple[Any, Any, dict[str, Any]]:
    """Train the reader on ``splits.train``, measuring on ``splits.test`` after each epoch.

    ``changes`` are settings of the ``"reader"`` model (``epochs``, ``lr``, ``filters``,
    ``layers``, ...); ``augment`` replaces the default :class:`Handwriting`.

    Returns:
        ``(network, history, info)``: ``info`` holds the settings, the seed and the test
        accuracy, as ``ownnet train`` keeps them in the model file's metadata.
    """
    config = {"model": "reader", "seed": seed, **changes}
    overrides = {} if augment is None else {"augment": augment}
    net, history = train(
        config,
        splits.train,
        validation_data=splits.test,
        callbacks=callbacks,
        verbose=verbose,
        **overrides,
    )
    info = {
        "training": {**settings(config), "samples": len(splits.train)},
        "seed": seed,
        "test_accuracy": net.score(splits.test),
    }
    if augment is not None:
        info["training"]["augment"] = augment.spec()
    return net, history, info


def default_path() -> Path:
    """Where the trained reader is kept: ``<cache>/models/reader.npz``
    (:func:`ownnet.data.download.cache_root`)."""
    return cache_root() / "models" / FILE_NAME


def find_reader() -> Path | None:
    """The trained reader's file if it has been trained (:func:`default_path`), else None."""
    path = default_path()
    return path if path.is_file() else None
