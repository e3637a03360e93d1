"""What the commands write: figures and greyscale pictures as PNG files, tables as CSV.

:mod:`ownnet.inspect` computes arrays and draws matplotlib figures; the commands that show
them (``ownnet inspect``, ``ownnet backquery``, ``ownnet test --report``, ``ownnet predict
--show``) save them with these functions. Every file is written atomically
(:mod:`ownnet.atomic`): it is there whole, or not at all.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from ownnet.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 100) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically; returns the path."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


def save_grey_png(image: np.ndarray, path: str | os.PathLike[str], *, zoom: int = 1) -> Path:
    """Write a uint8 ``(h, w)`` picture as a greyscale PNG (optionally enlarged ``zoom`` times)."""
    im = Image.fromarray(np.asarray(image, dtype=np.uint8))
    if zoom > 1:
        im = im.resize((im.width * zoom, im.height * zoom), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


def write_csv(
    path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Path:
    """Write a CSV table (``header``, then one line per row) atomically; returns the path."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue().encode())
    return path
