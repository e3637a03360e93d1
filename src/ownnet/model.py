"""The model contract's two edges: ``save`` (a model file) and ``read`` (your own photo).

Every model a user holds (the book's network, the matrix engine's network, the neurons
model) is a :class:`Model`: it answers as :class:`ownnet.classifier.Classifier` does and
trains with ``fit`` (:mod:`ownnet.training`); these two methods join it to files. They
live here, not in the models, so that the computation (``ownnet.nn`` above all) never
touches a file: ``ownnet.Network`` is ``ownnet.nn.Network`` plus this class.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ownnet import io, reading
from ownnet.classifier import Classifier


class Model(Classifier):
    """A model that can be saved and can read a photo (see the module doc)."""

    kind: str
    #: the metadata of the file the model was loaded from (``{}`` for a new model)
    meta: dict[str, Any]

    def state(self) -> tuple[dict[str, Any], dict[str, Any]]:  # pragma: no cover - abstract
        """``(arrays, config)``: what a model file keeps."""
        raise NotImplementedError

    def save(self, path: str | os.PathLike[str], **info: Any) -> Path:
        """Write the model to ``path`` (``.npz`` arrays + JSON metadata, atomically).

        ``info`` is kept in the metadata (training settings, seed, accuracy...), after what
        the model carries from its own training (its history, if it has one).
        """
        history = getattr(self, "history", None)
        if history is not None and len(history) and "history" not in info:
            info["history"] = history.to_dict()
        return io.save_model(path, self, **info)

    def read(self, source: Any, **options: Any) -> reading.Reading:
        """Read your own handwriting: an image file, bytes, or an array.

        The image is prepared as MNIST digits are (:func:`ownnet.data.images.prepare`)
        and read by this model; see :func:`ownnet.reading.read` for the options and what
        the :class:`~ownnet.reading.Reading` holds (the number, each digit's confidence,
        its top three, the prepared 28x28).
        """
        return reading.read(self, source, **options)
