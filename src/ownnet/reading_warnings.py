"""Warnings a person can act on, for a picture that was read (:func:`ownnet.reading.read`).

Each is one short line that says what was seen and what to try: a digit read
with low confidence, ink that runs off the edge of the picture, more or fewer
digits than expected, ruled lines that were taken out, faint ink, several rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Digits read with less confidence than this are pointed out.
LOW_CONFIDENCE = 0.5
#: Ink weaker than this (fraction of the paper's brightness) is faint.
FAINT = 0.15


def warnings_for(
    scene: Any, digits: list[Any], *, expected: int | None = None, rows: int = 1
) -> list[str]:
    """The warnings for ``scene`` (:class:`~ownnet.data.images.Scene`) read as ``digits``
    (:class:`~ownnet.reading.DigitReading`); ``expected`` is the count the person gave."""
    notes = []
    for i, d in enumerate(digits):
        if d.confidence < LOW_CONFIDENCE:
            where = f"digit {i + 1} of {len(digits)}" if len(digits) > 1 else "the digit"
            notes.append(
                f"{where} read as {d.digit} with low confidence {d.confidence:.2f} "
                f"(next: {d.top3[1][0]}); check what the network saw with --show DIR, "
                "or try a sharper, closer, better-lit photo"
            )
    if touches_edge(scene.ink):
        notes.append(
            "ink touches the edge of the picture: a digit may be cut off; "
            "leave some paper around the digits (or crop less tightly)"
        )
    if expected is not None and len(digits) != expected:
        more = "more" if len(digits) > expected else "fewer"
        notes.append(
            f"found {len(digits)} digits, {more} than the {expected} expected: "
            "check the boxes with --show DIR; leave a gap between digits, crop tighter "
            "to leave out other marks"
        )
    if scene.lines:
        kinds = {"horizontal" if ln.horizontal else "vertical" for ln in scene.lines}
        notes.append(
            f"removed {len(scene.lines)} {' and '.join(sorted(kinds))} ruled line(s) "
            "of the paper: check with --show DIR that no stroke went with them"
        )
    solid = scene.ink > 0.5
    peak = float(np.percentile(scene.contrast.strength[solid], 90)) if solid.any() else 0.0
    if peak < FAINT:
        notes.append(
            f"faint ink (only {peak:.0%} darker than the paper): more light, "
            "a darker pen or a closer photo help"
        )
    if rows > 1:
        notes.append(f"found {rows} rows of digits: read row by row, top to bottom")
    return notes


def touches_edge(ink: np.ndarray, level: float = 0.5) -> bool:
    """Whether strong ink of ``ink (H, W)`` lies on the picture's outermost pixels."""
    if min(ink.shape) < 3:
        return True
    edges = (ink[0], ink[-1], ink[:, 0], ink[:, -1])
    return any(bool((e >= level).any()) for e in edges)
