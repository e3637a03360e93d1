"""Which published dataset a set of labels is, by checksum.

MNIST and Fashion-MNIST use the same file names and shapes; their labels tell them
apart. The SHA-256 of the IDX content of each published label file is in
:data:`ownnet.data.download.FILES`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ownnet.data import download as dl
from ownnet.data.streams import Reading, read_exact
from ownnet.errors import DataError

_LABELS_MAX = 1 << 17  # bytes of IDX label content read to identify it (60,008 for MNIST)


def identify_labels(labels: np.ndarray) -> tuple[str, str] | None:
    """``(dataset, split)`` whose published labels ``labels`` (uint8 ``(n,)``) are, by the
    SHA-256 of their IDX content; None for any other labels."""
    content = b"\x00\x00\x08\x01" + len(labels).to_bytes(4, "big") + labels.tobytes()
    return _identify(hashlib.sha256(content).hexdigest())


def _identify(sha256: str) -> tuple[str, str] | None:
    for name, remotes in dl.FILES.items():
        for remote in remotes:
            if "labels" in remote.filename and remote.sha256 == sha256:
                return name, "train" if remote.filename.startswith("train") else "test"
    return None


def identify_file(path: Path) -> tuple[str, str] | None:
    """Which published labels an IDX label file holds (reading at most 128 KiB of it)."""
    try:
        with Reading(path) as f:
            data = read_exact(f, _LABELS_MAX + 1)
    except DataError:
        return None
    return None if len(data) > _LABELS_MAX else _identify(hashlib.sha256(data).hexdigest())
