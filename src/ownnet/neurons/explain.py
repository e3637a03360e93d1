"""A small :class:`ownnet.neurons.Network` explained: one training step as tables, and a drawing.

:meth:`ownnet.neurons.Network.explain` trains on one sample and prints what
:func:`format_step` makes of it: for every layer, each neuron's total input,
output, sensitivity (its error), slope and delta, and for every link its old
weight, the input it carried, what it sent back, its change and its new
weight. Values have 6 decimals; weight changes and new weights 8, as changes
are small. :func:`draw_network` draws the neurons and links of a small network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ownnet.neurons import Layer, Network

SPLIT_WORDS = {
    "transpose": "weight x sensitivity (the book's rule)",
    "transpose_scaled": "weight x sensitivity / n",
    "proportional": "weight / sum|weights| x sensitivity",
    "equal": "sensitivity / n",
    "gradient": "weight x delta (true backpropagation)",
}


def _num(v: float, decimals: int = 6, sign: bool = False) -> str:
    return f"{v:+.{decimals}f}" if sign else f"{v:.{decimals}f}"


def _table(header: Sequence[str], rows: list[list[str]], total: int, what: str) -> list[str]:
    """Right-aligned columns (the first left-aligned), indented; notes rows left out."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  " + "  ".join([first, *rest]).rstrip()

    out = [line(header)]
    out += [line(r) for r in rows]
    if total > len(rows):
        out.append(f"  ... and {total - len(rows)} more {what}")
    return out


def _neuron_rows(layer: Layer, k: int, last: int, targets: np.ndarray, limit: int) -> list[str]:
    if k == 0:
        rows = [[n.name, _num(n.output)] for n in layer.senders[:limit]]
        return _table(["neuron", "output"], rows, len(layer.senders), "neurons")
    header = ["neuron", "total in", "output"]
    if k == last:
        header.append("target")
    header += ["sensitivity", "slope", "delta"]
    rows = []
    for j, n in enumerate(layer.neurons[:limit]):
        row = [n.name, _num(n.total), _num(n.output)]
        if k == last:
            row.append(_num(float(targets[j])))
        rows.append(row + [_num(n.sensitivity), _num(n.slope), _num(n.delta)])
    lines = _table(header, rows, len(layer.neurons), "neurons")
    if layer.bias is not None:
        lines.append(f"  {layer.bias.name}: output 1.000000, takes no error")
    return lines


def _link_rows(layer: Layer, old: np.ndarray, sends: bool, limit: int) -> list[str]:
    header = ["link", "weight", "input"]
    if sends:
        header.append("sent back")
    header += ["delta", "change", "new weight"]
    rows = []
    flat_old = old.ravel()
    for i, link in enumerate(layer.links[:limit]):
        row = [
            f"{link.source.name} -> {link.target.name}",
            _num(flat_old[i]),
            _num(link.source.output),
        ]
        if sends:
            row.append("-" if link.source.is_bias else _num(link.sent))
        row += [_num(link.target.delta), _num(link.change, 8, sign=True), _num(link.weight, 8)]
        rows.append(row)
    return _table(header, rows, len(layer.links), "links")


def format_step(
    net: Network, before: Sequence[np.ndarray], targets: np.ndarray, *, limit: int = 12
) -> str:
    """Tables of the training step ``net`` has just taken from weights ``before``.

    Args:
        net: a network right after :meth:`~ownnet.neurons.Network.train`.
        before: its weight matrices before that step, ``(n_out, n_in [+1])`` per layer.
        targets: the targets of the step ``(n_output,)``.
        limit: rows shown per table.
    """
    shape = "-".join(str(n) for n in net.sizes)
    bias = "with bias neurons" if net.bias else "no bias neurons"
    lines = [
        f"One training step of a {shape} network (lr {net.lr:g}, {bias}).",
        "A neuron's delta = sensitivity x slope, where slope = output x (1 - output).",
        f"Each link sends back {SPLIT_WORDS[net.error_split]},",
        "then changes its weight by lr x delta x input.",
    ]
    last = len(net.layers) - 1
    for k, layer in enumerate(net.layers):
        lines.append("")
        if k == 0:
            lines.append(f"{layer.name} layer")
        elif k == last:
            lines.append(f"{layer.name} layer: sensitivity = target - output")
        else:
            lines.append(f"{layer.name} layer: sensitivity = sum of what its links sent back")
        lines += _neuron_rows(layer, k, last, targets, limit)
    for k in range(1, last + 1):
        layer, below = net.layers[k], net.layers[k - 1]
        lines.append("")
        lines.append(f"links {below.name} -> {layer.name}")
        lines += _link_rows(layer, before[k - 1], sends=k > 1, limit=limit)
    return "\n".join(lines)


def draw_network(
    net: Network,
    ax: Axes | None = None,
    *,
    values: bool = True,
    weights: bool = True,
    title: str | None = None,
) -> Figure:
    """Draw a small network: neurons as circles (bias neurons as squares), links as lines.

    A link's width grows with ``|weight|``; red links have positive weights, blue
    negative ones.

    Args:
        net: the network (a few neurons per layer; beyond ~12 it gets crowded).
        ax: matplotlib axes to draw into (default: a new figure).
        values: write each neuron's last output inside it.
        weights: write each link's weight next to it.
        title: a heading.

    Returns:
        The figure drawn into.
    """
    from matplotlib.figure import Figure

    if ax is None:
        depth = max(len(layer.senders) for layer in net.layers)
        fig = Figure(figsize=(2.2 * len(net.layers) + 0.5, 0.9 * depth + 0.8))
        ax = fig.add_subplot()
    fig = ax.figure
    where: dict[int, tuple[float, float]] = {}
    index: dict[int, tuple[int, int]] = {}
    for k, layer in enumerate(net.layers):
        senders = layer.senders
        for j, neuron in enumerate(senders):
            where[id(neuron)] = (float(k), (len(senders) - 1) / 2 - j)
            index[id(neuron)] = (j, len(layer.neurons))
    links = net.links
    biggest = max((abs(link.weight) for link in links), default=1.0) or 1.0
    for link in links:
        (x0, y0), (x1, y1) = where[id(link.source)], where[id(link.target)]
        colour = "#c0392b" if link.weight >= 0 else "#2471a3"
        width = 0.4 + 3.6 * abs(link.weight) / biggest
        ax.plot([x0, x1], [y0, y1], color=colour, lw=width, alpha=0.7, zorder=1)
        if weights:
            # the labels of links into the i-th target sit at the same fraction t of
            # their line, a different t for each target, so no two labels meet
            i, n = index[id(link.target)]
            t = 0.2 + 0.6 * i / max(n - 1, 1)
            xt, yt = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            ax.text(
                xt,
                yt,
                f"{link.weight:.2f}",
                fontsize=8,
                ha="center",
                va="center",
                color=colour,
                zorder=3,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
            )
    for k, layer in enumerate(net.layers):
        for neuron in layer.senders:
            x, y = where[id(neuron)]
            marker = "s" if neuron.is_bias else "o"
            ax.scatter([x], [y], s=1100, marker=marker, c="#fdfefe", edgecolors="#17202a", zorder=4)
            text = neuron.name if not values else f"{neuron.name}\n{neuron.output:.2f}"
            ax.text(x, y, text, fontsize=8, ha="center", va="center", zorder=5)
        ax.text(
            k,
            -(max(len(la.senders) for la in net.layers) / 2) - 0.2,
            layer.name,
            ha="center",
            va="top",
            fontsize=9,
        )
    ax.set_xlim(-0.5, len(net.layers) - 0.5)
    depth = max(len(layer.senders) for layer in net.layers)
    ax.set_ylim(-depth / 2 - 0.7, depth / 2)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig
