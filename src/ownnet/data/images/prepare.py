"""The whole preparation of one picture: each step of :mod:`ownnet.data.images` in order.

:func:`find_scene` takes a picture as far as its ink (decode, page, light, lines,
ink); :func:`prepare_steps` then places the ink as one MNIST digit and keeps
every intermediate result; :func:`prepare` returns only the 28x28 image. Each
step can be switched off through :class:`Options` (or keyword arguments of the
same names).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.data.images.background import Contrast, ink_contrast
from ownnet.data.images.decode import Picture, load_picture
from ownnet.data.images.digits import keep_digits
from ownnet.data.images.frame import BOX
from ownnet.data.images.ink import find_ink, ink_box
from ownnet.data.images.lines import Line, find_lines, remove_lines
from ownnet.data.images.page import Page, crop_to_page, find_page
from ownnet.data.images.place import Placement, place


@dataclass(frozen=True)
class Options:
    """Which steps of the preparation run (all of them by default).

    Attributes:
        page: crop a photo to the page when it also shows the surface around it.
        light: measure ink against a local estimate of the paper (uneven light,
            faint pencil); off: against one plane fitted to the border.
        lines: remove ruled and grid lines.
        deslant: shear the digit to MNIST's typical slant.
        widen: widen strokes thinner than MNIST's (``thicken`` in older code).
        thin: thin strokes bolder than MNIST's.
        hairlines: widen the thin parts of strokes (a font's hairlines) to MNIST's
            thinnest pens.
        level: make the strokes' cores full ink, as MNIST's are.
    """

    page: bool = True
    light: bool = True
    lines: bool = True
    deslant: bool = True
    widen: bool = True
    thin: bool = True
    hairlines: bool = True
    level: bool = True

    @classmethod
    def make(cls, options: Options | None = None, **switches: Any) -> Options:
        """``options`` (default: all on) with ``switches`` (e.g. ``lines=False``) applied;
        ``thicken`` is the old name of ``widen``."""
        if "thicken" in switches:
            switches["widen"] = switches.pop("thicken")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(switches) - known)
        if unknown:
            raise TypeError(f"unknown preparation step(s) {unknown}; the steps are {sorted(known)}")
        return dataclasses.replace(options or cls(), **switches)

    def placing(self) -> dict[str, bool]:
        """The switches of :func:`~ownnet.data.images.place.place` (the steps of one digit)."""
        steps = ("deslant", "widen", "thin", "hairlines", "level")
        return {step: getattr(self, step) for step in steps}


@dataclass(frozen=True)
class Scene:
    """A picture taken as far as its ink (:func:`find_scene`).

    Attributes:
        picture: the picture as read (greyscale, working size).
        grey: the part that was worked on (the page, if one was found), float ``(H, W)``.
        offset: ``(top, left)`` of ``grey`` in ``picture.grey``.
        page: the page found, or None.
        contrast: ink strength, polarity and noise of ``grey``.
        lines: the ruled or grid lines removed.
        ink: float ``(H, W)`` in 0..1, 1 for solid ink, lines and noise removed.
    """

    picture: Picture
    grey: np.ndarray
    offset: tuple[int, int]
    page: Page | None
    contrast: Contrast
    lines: list[Line]
    ink: np.ndarray

    @property
    def name(self) -> str:
        return self.picture.name


@dataclass(frozen=True)
class Prepared:
    """The result of :func:`prepare_steps`.

    Attributes:
        image: the prepared input, uint8 ``(28, 28)``, 0 background, 255 ink.
        grey: the greyscale picture that was worked on, float ``(H, W)`` in 0..1 (after
            any reduction of a large image and cropping to the page).
        ink: the ink found, float ``(H, W)`` in 0..1 (1 = full ink), noise removed.
        polarity: ``"dark-on-light"`` or ``"light-on-dark"``.
        box: the digit's bounding box in ``grey`` as ``(top, left, bottom, right)``,
            bottom/right exclusive.
        scale: output pixels per ``grey`` pixel.
        name: the file name (or ``"<array>"``) used in messages.
        scene: everything found on the way (:class:`Scene`).
        placement: the slant and stroke corrections (:class:`Placement`).
    """

    image: np.ndarray
    grey: np.ndarray
    ink: np.ndarray
    polarity: str
    box: tuple[int, int, int, int]
    scale: float
    name: str
    scene: Scene
    placement: Placement


def find_scene(source: Any, *, name: str | None = None, options: Options | None = None) -> Scene:
    """Decode ``source`` and find its ink: page, background and light, lines, noise.

    Raises:
        ImageError: the image cannot be read; NoInkError: it holds no ink.
    """
    opts = options or Options()
    picture = load_picture(source, name=name)
    grey, offset, page = picture.grey, (0, 0), None
    if opts.page:
        page = find_page(grey, picture.colour)
        if page is not None:
            grey = crop_to_page(grey, page)
            offset = (page.box[0], page.box[1])
    contrast = ink_contrast(grey, local=opts.light)
    strength, lines = contrast.strength, []
    if opts.lines:
        lines = find_lines(strength, contrast.noise)
        if lines:
            strength = remove_lines(strength, lines, contrast.noise)
    ink = find_ink(strength, contrast.noise, picture.name)
    return Scene(picture, grey, offset, page, contrast, lines, ink)


def prepare_steps(
    source: Any, *, name: str | None = None, options: Options | None = None, **switches: Any
) -> Prepared:
    """Like :func:`prepare`, returning the intermediate steps as :class:`Prepared`."""
    opts = Options.make(options, **switches)
    scene = find_scene(source, name=name, options=opts)
    return prepare_ink(scene, scene.ink, opts)


def prepare_ink(scene: Scene, ink: np.ndarray, options: Options) -> Prepared:
    """The ink of one digit ``(H, W)`` (of ``scene``) placed as MNIST places a digit: the
    marks that make digits (:func:`~ownnet.data.images.digits.keep_digits`), together."""
    digit = keep_digits(ink)
    box = ink_box(digit)
    top, left, bottom, right = box
    placement = place(digit[top:bottom, left:right], **options.placing())
    scale = BOX / max(bottom - top, right - left)
    return Prepared(
        placement.image, scene.grey, digit, scene.contrast.polarity, box, scale, scene.name,
        scene, placement,
    )  # fmt: skip


def prepare(
    source: Any, *, name: str | None = None, options: Options | None = None, **switches: Any
) -> np.ndarray:
    """An image file, array or Pillow image → MNIST-style uint8 ``(28, 28)``.

    Args:
        source: a path to a PNG/JPEG/BMP/GIF/TIFF/WebP file of any size, a
            Pillow image, or an array ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``
            (uint8 0..255, uint16 0..65535, float 0..1, or bool).
        name: what to call the image in error messages (default: the path).
        options: which steps run (:class:`Options`); keyword switches such as
            ``lines=False`` or ``thicken=False`` change single steps.

    Returns:
        uint8 ``(28, 28)``: 0 background, 255 for the strongest ink, the ink's
        longer side 20 px, its centre of mass at pixel (14, 14).

    Raises:
        ImageError: the file is missing, is not an image, is damaged or too large.
        NoInkError: the image is blank (nothing stands out from the background).
    """
    return prepare_steps(source, name=name, options=options, **switches).image
