"""Pictures of how a photo was prepared and read (``ownnet predict --show``).

:func:`annotated` draws the picture as it was worked on with a box and the
answer over each digit; :func:`steps_figure` shows each step of the preparation
(:mod:`ownnet.data.images`): the picture, the page, the paper's light, the ink
strength, the lines taken out, the ink, and each digit as cut out and as the
network saw it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Confidence at or above which a box is drawn green (else orange).
SURE = 0.8


def annotated(reading: Any, *, longer_side: int = 1000) -> Image.Image:
    """The prepared picture (``reading.scene.grey``) in RGB with each digit's box and
    ``digit confidence`` over it; at most ``longer_side`` pixels on the longer side."""
    grey = reading.scene.grey
    h, w = grey.shape
    f = min(1.0, longer_side / max(h, w)) if max(h, w) > longer_side else 1.0
    if max(h, w) < 300:
        f = 300 / max(h, w)
    rgb = np.repeat((np.clip(grey, 0, 1) * 255).astype(np.uint8)[:, :, None], 3, axis=2)
    im = Image.fromarray(rgb).resize((max(1, round(w * f)), max(1, round(h * f))))
    draw = ImageDraw.Draw(im)
    size = max(12, round(min(im.size) / 18))
    font = ImageFont.load_default(size=size)
    for d in reading.digits:
        top, left, bottom, right = d.where
        box = (left * f, top * f, right * f - 1, bottom * f - 1)
        colour = (40, 180, 60) if d.confidence >= SURE else (240, 140, 0)
        draw.rectangle(box, outline=colour, width=max(2, size // 6))
        label = f"{d.digit} {d.confidence:.2f}"
        tx, ty = box[0], max(0, box[1] - size - 4)
        bbox = draw.textbbox((tx, ty), label, font=font)
        draw.rectangle(bbox, fill=colour)
        draw.text((tx, ty), label, fill=(255, 255, 255), font=font)
    return im


def steps_figure(reading: Any) -> Figure:
    """One row per step of the preparation, then the digits as cut out and as prepared."""
    scene = reading.scene
    panels: list[tuple[str, np.ndarray, dict[str, Any]]] = [
        ("picture", scene.picture.grey, {"cmap": "gray", "vmin": 0, "vmax": 1}),
    ]
    if scene.page is not None:
        panels.append(("cut to the page", scene.grey, {"cmap": "gray", "vmin": 0, "vmax": 1}))
    panels.append(("the paper's light", scene.contrast.background,
                   {"cmap": "gray", "vmin": 0, "vmax": 1}))  # fmt: skip
    strength = np.clip(scene.contrast.strength, 0, None)
    panels.append((f"ink strength ({scene.contrast.polarity})", strength, {"cmap": "magma"}))
    if scene.lines:
        panels.append((f"{len(scene.lines)} lines taken out", _lines_mask(scene),
                       {"cmap": "Blues", "vmin": 0, "vmax": 1}))  # fmt: skip
    panels.append(("ink", scene.ink, {"cmap": "gray_r", "vmin": 0, "vmax": 1}))
    digits = reading.digits
    ncols = max(len(panels), len(digits), 1)
    from matplotlib.figure import Figure  # plotting stays off the command line's start

    fig = Figure(figsize=(2.2 * ncols, 2.4 * (1 + 2 * bool(digits))))
    nrows = 3 if digits else 1
    for i, (title, image, style) in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.imshow(image, interpolation="nearest", **style)
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    for j, d in enumerate(digits):
        ax = fig.add_subplot(nrows, ncols, ncols + j + 1)
        if d.ink is not None:
            ax.imshow(d.ink, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"digit {j + 1}: cut out", fontsize=8)
        ax.set_axis_off()
        ax = fig.add_subplot(nrows, ncols, 2 * ncols + j + 1)
        ax.imshow(d.image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(f"28x28: read {d.digit} ({d.confidence:.2f})", fontsize=8)
        ax.set_axis_off()
    fig.suptitle(f"{reading.name}: {reading.number}", fontsize=10)
    return fig


def _lines_mask(scene: Any) -> np.ndarray:
    """Where the removed lines ran, as a picture ``(H, W)`` (1 on a line)."""
    h, w = scene.grey.shape
    mask = np.zeros((h, w), np.float32)
    for line in scene.lines:
        length = w if line.horizontal else h
        along = np.arange(length)
        centre = np.round(np.interp(along, line.at, line.centre)).astype(int)
        half = int(np.ceil(line.width / 2))
        for d in range(-half, half + 1):
            across = np.clip(centre + d, 0, (h if line.horizontal else w) - 1)
            if line.horizontal:
                mask[across, along] = 1.0
            else:
                mask[along, across] = 1.0
    return mask
