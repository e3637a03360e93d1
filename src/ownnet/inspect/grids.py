"""Grids of small pictures (digits, weights) as matplotlib figures.

Figures are made with :class:`matplotlib.figure.Figure` directly, never with
``pyplot``, so nothing here touches global plotting state or needs a display. The
commands save them (:mod:`ownnet.cli.output`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def image_grid(
    images: np.ndarray,
    *,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    cmap: str = "Greys",
    symmetric: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
    title: str | None = None,
    cell: float = 1.25,
    colorbar: bool = False,
) -> Figure:
    """A figure showing ``images (n, h, w)`` in a grid with optional titles.

    Args:
        images: ``(n, h, w)`` pictures, or ``(n, h*w)`` with ``h == w``.
        titles: one short label per picture.
        ncols: pictures per row (default: about square).
        cmap: matplotlib colour map; ``"Greys"`` shows high values dark, as the book does.
        symmetric: scale each picture on its own to ``[-m, m]`` with ``m = max|value|``
            (for weights, with a diverging map such as ``"RdBu_r"``).
        vmin, vmax: a common colour range for all pictures (default: each picture's
            own range when ``symmetric``, else the range of all pictures).
        title: a heading over the grid.
        cell: inches per picture.
        colorbar: add one colour bar (only meaningful with a common range).
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"cannot show rows of {images.shape[1]} values as square pictures")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"expected pictures (n, h, w), found shape {images.shape}")
    n = len(images)
    ncols = int(ncols or math.ceil(math.sqrt(n)))
    nrows = math.ceil(n / ncols)
    head = 0.25 + 0.2 * (title.count("\n") + 1) if title else 0.05
    text = 0.25 if titles is not None else 0.05
    bar = 0.7 if colorbar else 0.0
    gap = 0.05  # inches around each picture
    width, height = ncols * cell + bar, nrows * (cell + text) + head
    # the layout is computed here, not by a layout engine: cheap and the same every time
    from matplotlib.figure import Figure  # plotting stays off the command line's start

    fig = Figure(figsize=(width, height))
    if vmin is None and vmax is None and not symmetric:
        vmin, vmax = float(images.min()), float(images.max())
    mappable = None
    for i in range(n):
        r, c = divmod(i, ncols)
        left = (c * cell + gap) / width
        bottom = (height - head - (r + 1) * (cell + text) + gap) / height
        ax = fig.add_axes((left, bottom, (cell - 2 * gap) / width, (cell - 2 * gap) / height))
        ax.set_axis_off()
        lo, hi = vmin, vmax
        if symmetric and lo is None and hi is None:
            m = float(np.abs(images[i]).max()) or 1.0
            lo, hi = -m, m
        mappable = ax.imshow(images[i], cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8, pad=2)
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.1 / height, va="top")
    if colorbar and mappable is not None:
        cax = fig.add_axes(((width - bar + 0.15) / width, 0.15, 0.15 / width, 0.7))
        fig.colorbar(mappable, cax=cax)
    return fig
