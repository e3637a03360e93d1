"""The model the server answers with: the model, its metadata, its card and pictures.

A :class:`ServedModel` never changes: teaching the model a drawing, loading
another file or a finished training run makes a new one, so a request that
started with one model finishes with it.

The matrix engine's layers keep their working arrays from one call to the
next, so two threads must not run one network at once: each worker thread
gets its own copy of an engine model (:meth:`ServedModel.worker_model`) and of
the inside-view tracer (:meth:`ServedModel.tracer`). The book's network makes
new arrays on every query and is shared. The copies (and the working arrays
they grew, tens of MB for a CNN) are dropped when the model is no longer served
(:meth:`ServedModel.release`), so the undo history keeps only weights.
"""

from __future__ import annotations

import functools
import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ownnet.errors import ModelFileError
from ownnet.inspect.activations import Tracer
from ownnet.inspect.class_pictures import class_pictures
from ownnet.inspect.confidence import meaning, normalise
from ownnet.io import load_model
from ownnet.web import pictures


def check_regular_file(path: str | os.PathLike[str]) -> Path:
    """``path`` if it is a regular file; reading a FIFO or a device would never end.

    Raises:
        ModelFileError: no such file, or not a regular file.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ModelFileError(f"{path}: no such model file ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "a FIFO, socket or device"
        raise ModelFileError(f"{path}: expected a model file (.npz), found {what}")
    return path


def check_finite(model: Any, name: str) -> None:
    """Refuse a model whose weights hold NaN or infinite values (it would answer nonsense)."""
    arrays, _ = model.state()
    for key, value in arrays.items():
        value = np.asarray(value)
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
            raise ModelFileError(
                f"{name}: the weights {key!r} hold {bad} NaN or infinite values of "
                f"{np.size(value)}: expected finite numbers (retrain the model)"
            )


@dataclass(eq=False)
class ServedModel:
    """A loaded model.

    Attributes:
        model: anything with ``kind``, ``state()``, ``copy()`` and
            ``outputs(uint8 (n, 28, 28)) -> (n, 10)``.
        meta: the model file's metadata (``kind``, ``config``, ``training``, ...).
        name: what the page calls it (the file name, never a full path).
        source: ``"file"``, or ``"trained here"`` for a run saved from the watch page.
        path: the file it was read from (kept on the server, never sent).
        taught: training steps taught on the draw page since it was read.
    """

    model: Any
    meta: dict[str, Any]
    name: str
    source: str = "file"
    path: Path | None = None
    taught: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _copies: dict[tuple[int, str], Any] = field(default_factory=dict, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], source: str = "file") -> ServedModel:
        """Load a model file (any kind) with :func:`ownnet.io.load_model`.

        Raises:
            ModelFileError: not a regular file, not a model file, or weights that are
                not finite.
        """
        path = check_regular_file(path)
        model, meta = load_model(path)
        check_finite(model, str(path))
        return cls(model, meta, path.name, source, path)

    def taught_copy(self, model: Any, steps: int) -> ServedModel:
        """The same model file's entry with ``model`` (taught ``steps`` steps) instead."""
        return ServedModel(model, self.meta, self.name, self.source, self.path, steps)

    # -- running the model (any thread) -----------------------------------------------------
    def _own(self, what: str, make: Any) -> Any:
        """This thread's own ``what`` (made by ``make()`` the first time)."""
        key = (threading.get_ident(), what)
        found = self._copies.get(key)
        if found is None:
            found = make()
            with self._lock:
                self._copies[key] = found
        return found

    def release(self) -> None:
        """Drop the threads' copies (the model is no longer served; they come back if it is)."""
        with self._lock:
            self._copies.clear()

    def worker_model(self) -> Any:
        """The model for this thread: its own copy of an engine model."""
        if self.model.kind == "classic":
            return self.model
        return self._own("model", self.model.copy)

    def outputs(self, images: np.ndarray) -> np.ndarray:
        """Network outputs for uint8 images ``(n, 28, 28)`` → ``(n, 10)``."""
        return np.asarray(self.worker_model().outputs(images), dtype=np.float64)

    def tracer(self) -> Tracer:
        """This thread's :class:`ownnet.inspect.activations.Tracer` of the model."""
        return self._own("tracer", lambda: Tracer(self.model, dtype=np.float32))

    @functools.cached_property
    def confidence_meaning(self) -> str:
        """What :meth:`confidences` are, in words (as ``ownnet predict`` says)."""
        return meaning(self.model)

    def confidences(self, outputs: np.ndarray) -> np.ndarray:
        """Outputs ``(..., 10)`` → confidences summing to 1, by the rule of
        :func:`ownnet.inspect.confidence.normalise` (softmax outputs as they are, sigmoid
        outputs divided by their sum, anything else through a softmax)."""
        return normalise(outputs, self.confidence_meaning)

    # -- pictures, worked out once per model ---------------------------------------------------
    def _once(self, key: str, make: Any) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = make()
            return self._cache[key]

    def class_pictures(self) -> Any:
        """:func:`ownnet.inspect.class_pictures.class_pictures` of the model (cached)."""
        return self._once("classes", lambda: class_pictures(self.model.copy()))

    def backquery_images(self) -> np.ndarray | None:
        """The book's grey back-query pictures as uint8 ``(10, 28, 28)``, or None for a
        kind without."""
        return self._once("backquery", lambda: pictures.backquery_images(self.model))

    def backquery_png(self) -> bytes | None:
        """The back-query pictures as one PNG grid (digits 0..9 left to right), or None."""
        images = self.backquery_images()
        if images is None:
            return None
        return self._once("backquery.png", lambda: pictures.strip_png(images))

    @functools.cached_property
    def layers(self) -> list[dict[str, Any]]:
        """The model's layers as the inside view names them: ``[{"name", "kind", "shape"}]``."""
        return [info.describe() for info in Tracer(self.model).layers]

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
            "layers": self.layers,
            "meaning": self.confidence_meaning,
            "taught": self.taught,
        }
