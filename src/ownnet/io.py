"""Model files: NumPy ``.npz`` arrays plus JSON metadata, no pickle.

A model file is an ordinary ``.npz`` archive. Every array of the model is
stored under its own name; the metadata is a UTF-8 JSON document stored as a
``uint8`` array under the key ``__meta__``. Files are read with
``allow_pickle=False``, so a model file from a stranger cannot run code.

The metadata always holds::

    {"format": "ownnet-model", "format_version": 1, "kind": "classic" | "nn" | "neurons",
     "ownnet_version": "...", "config": {...}, ...}

``config`` is what the model class needs to rebuild itself; anything else
(training settings, seed, test accuracy, dataset checksum) is free-form.

A model class takes part by providing::

    kind: str                                   # class attribute
    def state(self) -> tuple[dict[str, np.ndarray], dict]   # arrays, config
    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], config: dict) -> Model
"""

from __future__ import annotations

import importlib
import io as _io
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ownnet import __version__
from ownnet.atomic import atomic_write_bytes
from ownnet.errors import ModelFileError
from ownnet.npzfile import NpzArchive

FORMAT = "ownnet-model"
FORMAT_VERSION = 1
META_KEY = "__meta__"

__all__ = ["ModelFileError", "load", "load_arrays", "load_model", "save_arrays", "save_model"]


#: Model kinds: ``meta["kind"]`` -> ``"module:Class"`` of the class that reads it back
#: (imported when a file of that kind is loaded, so that this module imports no model).
KINDS = {
    "classic": "ownnet.classic:Network",
    "nn": "ownnet.network:Network",
    "neurons": "ownnet.neurons:Network",
}


def model_class(kind: Any, path: str | os.PathLike[str] = "model") -> type:
    """The class that reads model files of ``kind``."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise ModelFileError(
            f"{path}: unknown model kind {kind!r}; this ownnet reads {sorted(KINDS)}"
        )
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def save_arrays(
    path: str | os.PathLike[str], arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> Path:
    """Write ``arrays`` and JSON ``meta`` to ``path`` atomically; returns the path."""
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved for the metadata")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ownnet_version": __version__,
        **meta,
    }
    blob = np.frombuffer(json.dumps(meta, indent=1, default=_json_default).encode(), np.uint8)
    buf = _io.BytesIO()
    np.savez(buf, **{META_KEY: blob}, **{k: np.asarray(v) for k, v in arrays.items()})
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


class _Members(Mapping[str, np.ndarray]):
    """A model file's arrays, each read when it is first asked for: a model reads only the
    members it needs, so an extra one in a file costs nothing."""

    def __init__(self, npz: NpzArchive) -> None:
        self._npz = npz
        self._names = [k for k in npz.names if k != META_KEY]
        self._read: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._read:
            if name not in self._names:
                raise KeyError(name)
            self._read[name] = self._npz.read(name)
        return self._read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _read_meta(path: Path, npz: NpzArchive) -> dict[str, Any]:
    """The checked metadata of an open model file."""
    names = npz.names
    if META_KEY not in names:
        raise ModelFileError(
            f"{path}: not an ownnet model file: expected a {META_KEY!r} entry with "
            f"JSON metadata, found only arrays {names[:5]}"
        )
    others = [f for f in npz.filenames if not f.endswith(".npy")]
    if others:
        raise ModelFileError(f"{path}: expected only .npy arrays, found {others[:5]}")
    max_meta = 8 * 2**20  # JSON becomes Python objects, many times its size
    if npz.member(META_KEY).n_bytes > max_meta:
        raise ModelFileError(
            f"{path}: expected metadata of at most {max_meta:,} bytes, "
            f"found {npz.member(META_KEY).n_bytes:,}"
        )
    raw = npz.read(META_KEY)
    try:
        meta = json.loads(raw.tobytes().decode())
    except (ValueError, RecursionError) as exc:  # JSON, UTF-8, a 5000-digit number
        raise ModelFileError(f"{path}: metadata is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ModelFileError(f"{path}: expected format {FORMAT!r}, found {found!r}")
    version = meta.get("format_version")
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not (1 <= version <= FORMAT_VERSION)
    ):
        raise ModelFileError(
            f"{path}: expected model file format version 1..{FORMAT_VERSION} (what this "
            f"ownnet, {__version__}, reads), found {version!r}; a newer one needs a newer "
            "ownnet: upgrade ownnet"
        )
    return meta


def _open(path: str | os.PathLike[str]) -> tuple[Path, NpzArchive]:
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    return path, NpzArchive(path, error=ModelFileError, what="model file")


def load_arrays(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a whole model file: returns ``(arrays, meta)``.

    Read through :class:`ownnet.npzfile.NpzArchive`: no pickle, every declared size
    checked before anything is allocated. Raises :class:`ModelFileError` naming the file
    for a missing, non-regular, truncated, foreign, oversized or newer-format file.
    """
    path, archive = _open(path)
    with archive as npz:
        meta = _read_meta(path, npz)
        return dict(_Members(npz)), meta


def save_model(path: str | os.PathLike[str], model: Any, **info: Any) -> Path:
    """Save ``model`` (anything with ``kind``, ``state()``) with extra metadata ``info``.

    ``info`` may hold training settings, seed, test accuracy, dataset checksum.
    """
    arrays, config = model.state()
    return save_arrays(path, arrays, {"kind": model.kind, "config": config, **info})


def load_model(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Load a model file of any kind: returns ``(model, meta)`` (``ownnet.load`` gives the
    model alone, with ``model.meta``)."""
    path, archive = _open(path)
    with archive as npz:
        meta = _read_meta(path, npz)
        cls = model_class(meta.get("kind"), path)
        config = meta.get("config", {})
        if not isinstance(config, dict):
            raise ModelFileError(f"{path}: expected a config object, found {type(config).__name__}")
        try:
            model = cls.from_state(_Members(npz), config)  # reads only what it needs
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelFileError(
                f"{path}: {meta['kind']} model arrays and config disagree: {exc}"
            ) from exc
    model.meta = meta
    return model, meta


def load(path: str | os.PathLike[str]) -> Any:
    """The model in a model file, of any kind, with its metadata as ``model.meta``."""
    return load_model(path)[0]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in model metadata")
