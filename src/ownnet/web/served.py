"""The model the server answers with: the model, its metadata, its card and pictures.

A :class:`ServedModel` never changes; loading another model (a finished
training run saved from the watch page) replaces the whole object, so a
request that started with one model finishes with it.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ownnet.web import pictures


@dataclass
class ServedModel:
    """A loaded model.

    Attributes:
        model: anything with ``kind`` and ``outputs(uint8 (n, 28, 28)) -> (n, 10)``.
        meta: the model file's metadata (``kind``, ``config``, ``training``, ...).
        name: what the page calls it (the file name, never a full path).
        source: ``"file"`` (given on the command line) or ``"trained here"``.
    """

    model: Any
    meta: dict[str, Any]
    name: str
    source: str = "file"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _backquery: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_file(cls, path: str | Path) -> ServedModel:
        """Load a model file (any kind) with :func:`ownnet.io.load_model`."""
        from ownnet.io import load_model

        model, meta = load_model(path)
        return cls(model, meta, Path(path).name, "file")

    def outputs(self, images: np.ndarray) -> np.ndarray:
        """Network outputs for uint8 images ``(n, 28, 28)`` → ``(n, 10)``."""
        return np.asarray(self.model.outputs(images), dtype=np.float64)

    @functools.cached_property
    def confidence_meaning(self) -> str:
        """What :meth:`confidences` are, in words (as ``ownnet predict`` says)."""
        from ownnet.inspect.confidence import meaning

        return meaning(self.model)

    def confidences(self, outputs: np.ndarray) -> np.ndarray:
        """Outputs ``(10,)`` → confidences summing to 1, by the rule of
        :func:`ownnet.inspect.confidence.normalise` (softmax outputs as they are, sigmoid
        outputs divided by their sum, anything else through a softmax)."""
        from ownnet.inspect.confidence import normalise

        return normalise(outputs, self.confidence_meaning)

    def backquery_images(self) -> np.ndarray | None:
        """The ten back-query pictures as uint8 ``(10, 28, 28)``, or None for a kind without."""
        with self._lock:
            if "images" not in self._backquery:
                self._backquery["images"] = pictures.backquery_images(self.model)
            return self._backquery["images"]

    def backquery_png(self) -> bytes | None:
        """The back-query pictures as one PNG grid (digits 0..9 left to right), or None."""
        images = self.backquery_images()
        if images is None:
            return None
        with self._lock:
            if "png" not in self._backquery:
                self._backquery["png"] = pictures.strip_png(images)
            return self._backquery["png"]

    @functools.cached_property
    def _shape(self) -> dict[str, Any]:
        """The card's facts about the network itself, worked out once (the model never changes)."""
        config = self.meta.get("config", {})
        return {
            "sizes": pictures.layer_sizes(self.model),
            "description": pictures.describe(self.model, config),
            "has_backquery": pictures.has_backquery(self.model),
        }

    def card(self) -> dict[str, Any]:
        """What the page shows about the model (JSON-ready)."""
        meta = self.meta
        config = meta.get("config", {})
        dataset = meta.get("dataset") if isinstance(meta.get("dataset"), dict) else {}
        shape = self._shape
        return {
            "name": self.name,
            "source": self.source,
            "kind": meta.get("kind", getattr(self.model, "kind", "?")),
            "sizes": shape["sizes"],
            "description": shape["description"],
            "test_accuracy": meta.get("test_accuracy"),
            "settings": meta.get("training", {}),
            "seed": meta.get("seed"),
            "dataset": dataset.get("name"),
            "ownnet_version": meta.get("ownnet_version"),
            "config": config,
            "has_backquery": shape["has_backquery"],
        }
