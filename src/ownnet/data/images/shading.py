"""Shaded fields: a form's grey box behind the writing is paper of another shade.

A digit written in a shaded field of a form (or cut out with its own grey paper and
pasted) sits on a rectangle that is darker than the paper around it. Measured against
the paper around the field, the whole rectangle looks like faint ink, and the digit
becomes a solid block. :func:`unshade` finds such fields in the ink strength, a
region that is

* nearly a filled rectangle (:data:`MIN_FILL` of its bounding box),
* mostly one even strength (its *shade*: :data:`MIN_EVEN` of its pixels lie near it),
* written on with ink much stronger than the shade (:data:`MIN_STEP`),

and measures the ink inside it against the field's own paper instead.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: A field covers at least this share of its bounding box.
MIN_FILL = 0.8
#: At least this share of a field's pixels lie within :data:`EVEN` of its shade.
MIN_EVEN = 0.5
#: How near the shade a pixel of the field's paper is (fraction of the paper's brightness,
#: or a quarter of the shade, if more).
EVEN = 0.05
#: The writing in a field is at least this much stronger than the shade.
MIN_STEP = 0.25
#: The shade is at most this strong (a darker field is ink: a filled-in box, a bar).
MAX_SHADE = 0.6
#: A field is at least this many pixels tall and wide.
MIN_SIDE = 8


def unshade(strength: np.ndarray, plain: np.ndarray, noise: float) -> np.ndarray:
    """``strength (H, W)`` (0 on the paper, 1 for black ink) with every shaded field
    measured against its own shade. The fields are looked for in ``plain (H, W)``, the
    strength against one plane for the whole paper (a local estimate of the paper
    follows a large field part of the way, and the field is no longer even); inside a
    field the strength is ``(plain - shade) / (1 - shade)``, at least 0."""
    marked = plain > max(4.0 * noise, 0.05)
    labels, n = ndimage.label(marked, structure=np.ones((3, 3), bool))
    if n == 0:
        return strength
    out = strength
    for k, box in enumerate(ndimage.find_objects(labels), start=1):
        tall, wide = box[0].stop - box[0].start, box[1].stop - box[1].start
        if min(tall, wide) < MIN_SIDE:
            continue
        inside = labels[box] == k
        if inside.mean() < MIN_FILL:
            continue
        values = plain[box][inside]
        shade = float(np.percentile(values, 30))
        near = np.abs(values - shade) <= max(EVEN, 0.25 * shade)
        if shade > MAX_SHADE or near.mean() < MIN_EVEN:
            continue
        if float(np.percentile(values, 98)) < shade + MIN_STEP:
            continue  # no writing stronger than the field: a blot, a bar, a bold stroke
        if out is strength:
            out = strength.copy()
        out[box][inside] = np.maximum((values - shade) / (1.0 - shade), 0.0)
    return out
