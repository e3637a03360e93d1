"""The server's model folder: the only files the page can choose from or write.

A client names a model by its file name, and only names the server listed
itself are ever opened (:meth:`ModelFolder.resolve`); a new file gets a plain
name checked against :data:`NAME` and never replaces an existing one
(:meth:`ModelFolder.new_path`). No name a client sends is joined to a path
unchecked, so nothing it sends reaches another folder.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

#: A file name the page may give a new model: letters, digits, ``._-``, ending in ``.npz``.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}\.npz")
#: At most this many files are listed.
MAX_LISTED = 500


class FolderError(Exception):
    """A name that is not in the folder (404), not allowed (422) or taken (409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ModelFolder:
    """The ``.npz`` files of one folder, plus the model file given on the command line.

    Args:
        path: the folder (the save folder of the watch page, the draw page's "save as").
        pinned: the model file the server was started with (listed even when it lives in
            another folder).
    """

    def __init__(self, path: Path, pinned: Path | None = None) -> None:
        self.path = Path(path)
        self.pinned = Path(pinned) if pinned is not None else None

    def _entries(self) -> dict[str, Path]:
        entries: dict[str, Path] = {}
        try:
            with os.scandir(self.path) as it:
                for entry in it:
                    if len(entries) >= MAX_LISTED:
                        break
                    # regular files only (is_file follows links and is False for a FIFO)
                    if entry.name.endswith(".npz") and entry.is_file():
                        entries[entry.name] = Path(entry.path)
        except OSError:
            pass  # a folder that went away lists nothing
        if self.pinned is not None:
            entries[self.pinned.name] = self.pinned
        return entries

    def list(self) -> list[dict[str, Any]]:
        """``[{"name", "size", "modified"}]`` sorted by name (sizes in bytes, times as
        ``YYYY-MM-DD HH:MM``)."""
        out = []
        for name, path in sorted(self._entries().items()):
            try:
                st = path.stat()
            except OSError:
                continue
            modified = time.strftime("%Y-%m-%d %H:%M", time.localtime(st.st_mtime))
            out.append({"name": name, "size": st.st_size, "modified": modified})
        return out

    def resolve(self, name: Any) -> Path:
        """The file listed as ``name``.

        Raises:
            FolderError: 422 for a name that is not a string, 404 for one not listed.
        """
        if not isinstance(name, str):
            raise FolderError(422, f"'name' must be a file name, found {type(name).__name__}")
        entries = self._entries()
        if name not in entries:
            listed = sorted(entries)
            shown = ", ".join(listed[:8]) + (", ..." if len(listed) > 8 else "")
            raise FolderError(
                404, f"no model {name[:100]!r} in the server's model folder (it has: {shown})"
            )
        return entries[name]

    def new_path(self, name: Any) -> Path:
        """Where a new model called ``name`` is written.

        Raises:
            FolderError: 422 for a name that is not a plain ``.npz`` file name, 409 for
                one that exists.
        """
        if not isinstance(name, str) or not NAME.fullmatch(name) or ".." in name:
            shown = repr(name[:100]) if isinstance(name, str) else type(name).__name__
            raise FolderError(
                422,
                f"expected a file name of letters, digits, '.', '_' and '-' ending in .npz "
                f"(no folders), found {shown}",
            )
        path = self.path / name
        if path.exists() or name in self._entries():
            raise FolderError(409, f"{name} exists already: choose another name")
        return path

    def unique_path(self, stem: str) -> Path:
        """A new file ``stem.npz``, or ``stem-2.npz``, ... if taken (server-made names)."""
        for n in range(1, 1000):
            name = f"{stem}.npz" if n == 1 else f"{stem}-{n}.npz"
            if not (self.path / name).exists():
                return self.path / name
        raise FolderError(409, f"too many files named {stem}-N.npz")
