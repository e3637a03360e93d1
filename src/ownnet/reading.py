"""Reading a picture with a model: one digit, or every digit of a number, left to right.

:func:`read` prepares a picture (:mod:`ownnet.data.images`), finds its digits
(:mod:`ownnet.data.images.digits`), asks the model what each one is and returns a
:class:`Reading`: the number as a string, each digit with its confidence, three
likeliest answers, box and the 28x28 picture the model saw, and warnings a person
can act on (low confidence, ink at the edge, fewer or more digits than expected,
ruled lines removed, faint ink).

Digits that touch are one mark. A mark wider than a digit usually is gets cut into
2, 3, ... pieces (:func:`~ownnet.data.images.digits.split_blob`), and each way of
cutting is scored: how sure the model is of each piece, how digit-like each
piece's shape is (digits are rarely wider than tall) and how much ink the cuts
cross. The best way wins; with ``digits=N`` the best ways that give N digits in all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ownnet.data.images import NoInkError, Options, Scene, find_scene, prepare_ink
from ownnet.data.images.digits import Blob, find_blobs, split_blob, writing_slant
from ownnet.data.images.ink import BOX_LEVEL
from ownnet.data.images.place import place
from ownnet.data.images.stroke import stroke_width
from ownnet.inspect.confidence import confidences, meaning
from ownnet.reading_warnings import warnings_for
from ownnet.shifts import helps, mean_over_shifts, with_shifts

#: The most pieces one mark is cut into.
MAX_PIECES = 6
#: A digit's usual width over its height (along the slant), when a row has too few
#: single digits to measure it; marks at least ``CUT_COUNT`` digits wide are cut, and
#: marks narrower than ``NEVER_CUT`` (width over height) never are.
DIGIT_WIDTH, ALONE_WIDTH, CUT_COUNT, NEVER_CUT = 0.65, 0.85, 1.3, 0.65
#: A piece narrower than this (width over height) is unlikely to be a digit (a 1: ~0.15).
NARROW = 0.12
#: Prices in log-confidence: of each piece more or fewer than the mark's width suggests
#: (squared, per piece), of each stroke a cut crosses, of a piece's squared narrowness.
COUNT_PRICE, STROKE_PRICE, NARROW_PRICE = 0.5, 1.0, 40.0


@dataclass(frozen=True)
class DigitReading:
    """One digit read.

    Attributes:
        digit: the answer, 0..9.
        confidence: the model's confidence in it (0..1).
        top3: the three likeliest digits with their confidences, best first.
        box: ``(left, top, right, bottom)`` in the original image's pixels.
        image: the prepared input the model saw, uint8 ``(28, 28)``.
        ink: the digit's ink as it was cut out of the picture, float ``(h, w)`` (for showing).
        where: the box in the prepared picture (``scene.grey``) as ``(top, left, bottom,
            right)``.
    """

    digit: int
    confidence: float
    top3: list[tuple[int, float]]
    box: tuple[int, int, int, int]
    image: np.ndarray
    ink: np.ndarray | None = None
    where: tuple[int, int, int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "digit": self.digit,
            "confidence": round(self.confidence, 4),
            "top3": [[d, round(c, 4)] for d, c in self.top3],
            "box": list(self.box),
        }


@dataclass(frozen=True)
class Reading:
    """What :func:`read` found in one picture.

    Attributes:
        name: the picture's name (file path or ``"<array>"``).
        number: the digits read, left to right (rows top to bottom), as a string.
        digits: each digit, in the same order.
        warnings: short lines saying what may be wrong and what to try.
        meaning: what the confidences are (softmax probabilities, or normalised outputs).
        scene: the prepared picture (:class:`~ownnet.data.images.Scene`), for showing.
    """

    name: str
    number: str
    digits: list[DigitReading]
    warnings: list[str] = field(default_factory=list)
    meaning: str = ""
    scene: Scene | None = None

    def _only(self) -> DigitReading | None:
        return self.digits[0] if len(self.digits) == 1 else None

    @property
    def digit(self) -> int | None:
        """The digit, when the picture holds one (else None)."""
        one = self._only()
        return None if one is None else one.digit

    @property
    def confidence(self) -> float | None:
        one = self._only()
        return None if one is None else one.confidence

    @property
    def top3(self) -> list[tuple[int, float]] | None:
        one = self._only()
        return None if one is None else one.top3

    @property
    def image(self) -> np.ndarray | None:
        one = self._only()
        return None if one is None else one.image

    def __str__(self) -> str:
        """``7 (confidence 0.87; then 3 0.05, 2 0.04)`` for one digit, ``2026 (confidences
        0.99 0.97 0.98 0.95)`` for a number."""
        one = self._only()
        if one is not None:
            others = ", ".join(f"{d} {c:.2f}" for d, c in one.top3[1:])
            return f"{self.number} (confidence {one.confidence:.2f}; then {others})"
        sure = " ".join(f"{d.confidence:.2f}" for d in self.digits)
        return f"{self.number} (confidences {sure})" if self.digits else "(no digits)"

    def to_json(self) -> dict[str, Any]:
        """``{"file", "number", "digits": [...], "warnings"}``, ready for ``json.dumps``."""
        return {
            "file": self.name,
            "number": self.number,
            "digits": [d.to_json() for d in self.digits],
            "warnings": list(self.warnings),
        }


def probabilities(model: Any, images: np.ndarray, shifts: bool = False) -> tuple[np.ndarray, str]:
    """Per-digit confidences ``(n, 10)`` of uint8 ``images (n, 28, 28)`` and what they mean.

    Uses ``model.predict_proba`` when the model has it, else the normalised outputs of
    :func:`ownnet.inspect.confidence.confidences`. With ``shifts``, the mean over each
    image and its copies shifted one pixel each way (:mod:`ownnet.shifts`).
    """
    if shifts:
        conf, what = probabilities(model, with_shifts(images))
        return mean_over_shifts(conf, len(images)), what
    proba = getattr(model, "predict_proba", None)
    if callable(proba):
        return np.asarray(proba(images), dtype=np.float64), meaning(model)
    return confidences(model, images)


@dataclass
class _Way:
    """One way of reading one mark: its pieces and their pictures."""

    pieces: list[Blob]
    images: list[np.ndarray]
    start: int = 0  # index of the first image in the batch


def _aspect(blob: Blob, slant: float, height: float) -> float:
    """Width along the slant over height (at least ``height``, the row's digit height)."""
    ys, xs = np.nonzero(blob.ink >= BOX_LEVEL)
    if not len(xs):
        return 0.0
    upright = xs - slant * (ys - ys.mean())
    return float(upright.max() - upright.min() + 1) / max(blob.height, height, 1.0)


def _ways(
    blob: Blob, slant: float, aspect: float, count: float, most: int, opts: Options
) -> dict[int, _Way]:
    """Ways of reading ``blob`` (``aspect`` wide for its height) as 1, 2, ... pieces: up
    to about ``count`` (how many digits wide it is) and to ``most`` (the most the
    expected total allows)."""
    if aspect < NEVER_CUT:
        top = 1
    else:
        top = max(1 if count < CUT_COUNT else math.ceil(count + 0.5), most)
    ways = {}
    for k in range(1, max(1, min(MAX_PIECES, top)) + 1):
        pieces = split_blob(blob, k, slant)
        if len(pieces) != k:
            continue
        try:
            images = [_prepare_piece(p, opts) for p in pieces]
        except NoInkError:
            continue
        ways[k] = _Way(pieces, images)
    return ways


def _prepare_piece(piece: Blob, opts: Options) -> np.ndarray:
    return place(piece.ink, **opts.placing()).image


def _score(way: _Way, conf: np.ndarray, s: Survey, count: float) -> float:
    """How likely this way is: the log-confidence of its pieces, a prior on how many
    digits a mark ``count`` digits wide holds (:data:`COUNT_PRICE` times the squared
    difference, per piece), :data:`STROKE_PRICE` per stroke a cut crosses, and a price
    for pieces narrower than any digit."""
    k = len(way.pieces)
    total = -COUNT_PRICE * (count - k) ** 2 / k
    for i, piece in enumerate(way.pieces):
        total += math.log(max(float(conf[way.start + i].max()), 1e-6))
        a = _aspect(piece, s.slant, s.height)
        total -= NARROW_PRICE * max(0.0, NARROW - a) ** 2
        total -= 0.5 * STROKE_PRICE * piece.cut / max(s.stroke, 1.0)  # each cut is on two pieces
    return total


def _counts(blobs: list[Blob], aspects: list[float]) -> list[float]:
    """How many digits wide each blob is: its width over the typical digit width of its
    row (the median of its blobs 0.3 to 1 times as wide as tall, when there are two or
    more: single digits other than 1s), else over
    :data:`DIGIT_WIDTH` (:data:`ALONE_WIDTH` for the only blob of a picture: most
    pictures of one mark show one digit, however wide)."""
    out = []
    for blob, aspect in zip(blobs, aspects, strict=True):
        row = [
            a for b, a in zip(blobs, aspects, strict=True) if b.row == blob.row and 0.3 <= a <= 1.0
        ]  # single digits, not 1s
        alone = ALONE_WIDTH if len(blobs) == 1 else DIGIT_WIDTH
        width = float(np.median(row)) if len(row) >= 2 else alone
        out.append(aspect / max(width, 0.3))
    return out


def _choose(scores: list[dict[int, float]], digits: int | None) -> list[int]:
    """How many pieces each mark is read as: the best score, or the best giving ``digits``."""
    if digits is None or digits < len(scores):
        return [max(s, key=lambda k: s[k]) for s in scores]
    best: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}
    for s in scores:
        nxt: dict[int, tuple[float, list[int]]] = {}
        for total, (value, ks) in best.items():
            for k, v in s.items():
                t = total + k
                if t <= digits and (t not in nxt or value + v > nxt[t][0]):
                    nxt[t] = (value + v, ks + [k])
        best = nxt
    if digits in best:
        return best[digits][1]
    return [max(s, key=lambda k: s[k]) for s in scores]


@dataclass(frozen=True)
class Survey:
    """A picture prepared for reading, before any model looks at it (:func:`survey`).

    Attributes:
        scene: the picture taken as far as its ink.
        blobs: its marks grouped into digits (or touching groups), in reading order.
        ways: for each blob, the ways of reading it, by number of pieces.
        counts: for each blob, how many digits wide it is.
        digits: the number of digits expected, if given.
        slant, height, stroke: the writing's slant, digit height and stroke width.
    """

    scene: Scene
    blobs: list[Blob]
    ways: list[dict[int, _Way]]
    counts: list[float]
    digits: int | None
    slant: float
    height: float
    stroke: float

    def images(self) -> np.ndarray:
        """Every piece's prepared picture, uint8 ``(n, 28, 28)``, in the order of the ways."""
        return np.stack([im for w in self.ways for way in w.values() for im in way.images])


def survey(
    source: Any,
    *,
    digits: int | None = None,
    name: str | None = None,
    options: Options | None = None,
    **switches: Any,
) -> Survey:
    """Prepare ``source`` for reading: its ink, its digits and the ways of cutting touching
    ones, each piece prepared as MNIST (no model needed). See :func:`read`."""
    opts = Options.make(options, **switches)
    scene = find_scene(source, name=name, options=opts)
    blobs = find_blobs(scene.ink)
    if not blobs:
        raise NoInkError(f"{scene.name}: no ink found")
    slant = writing_slant(scene.ink)
    height = float(np.median([b.height for b in blobs]))
    stroke = stroke_width(scene.ink)
    aspects = [_aspect(b, slant, height) for b in blobs]
    counts = _counts(blobs, aspects)
    most = max(1, digits - len(blobs) + 1) if digits else 1
    ways = [
        _ways(b, slant, a, c, most, opts) for b, a, c in zip(blobs, aspects, counts, strict=True)
    ]
    if len(blobs) == 1 and 1 in ways[0]:  # one digit: exactly what prepare() gives
        ways[0][1] = _Way([blobs[0]], [prepare_ink(scene, scene.ink, opts).image])
    start = 0
    for options_of_blob in ways:
        for way in options_of_blob.values():
            way.start = start
            start += len(way.images)
    return Survey(scene, blobs, ways, counts, digits, slant, height, stroke)


def read(
    model: Any,
    source: Any,
    *,
    digits: int | None = None,
    name: str | None = None,
    options: Options | None = None,
    shifts: bool | None = None,
    **switches: Any,
) -> Reading:
    """Read the digit or number in ``source`` (path, Pillow image or array) with ``model``.

    Args:
        model: anything with ``predict_proba(images)`` or ``outputs(images)`` for uint8
            ``(n, 28, 28)``.
        source: the picture.
        digits: how many digits the number has, if known (guides cutting touching digits).
        name: what to call the picture in messages.
        options, switches: which preparation steps run (:class:`~ownnet.data.images.Options`).
        shifts: also read each digit shifted one pixel each way (:mod:`ownnet.shifts`);
            default: for networks without convolutions.

    Raises:
        ImageError: the picture cannot be read or holds no ink.
    """
    surveyed = survey(source, digits=digits, name=name, options=options, **switches)
    return read_survey(model, surveyed, shifts=shifts)


def read_survey(model: Any, surveyed: Survey, shifts: bool | None = None) -> Reading:
    """Let ``model`` read a :class:`Survey`: score every way, keep the best (``shifts`` as
    in :func:`read`)."""
    s = surveyed
    conf, meaning = probabilities(model, s.images(), helps(model) if shifts is None else shifts)
    scores = [
        {k: _score(way, conf, s, count) for k, way in blob_ways.items()}
        for blob_ways, count in zip(s.ways, s.counts, strict=True)
    ]
    chosen = _choose(scores, s.digits)
    found: list[DigitReading] = []
    for options_of_blob, k in zip(s.ways, chosen, strict=True):
        way = options_of_blob[k]
        for i, piece in enumerate(way.pieces):
            found.append(_digit(conf[way.start + i], way.images[i], piece, s.scene))
    number = "".join(str(d.digit) for d in found)
    rows = len({b.row for b in s.blobs})
    notes = warnings_for(s.scene, found, expected=s.digits, rows=rows)
    return Reading(s.scene.name, number, found, notes, meaning, s.scene)


def _digit(conf: np.ndarray, image: np.ndarray, piece: Blob, scene: Scene) -> DigitReading:
    order = np.argsort(-conf, kind="stable")[:3]
    top3 = [(int(c), float(conf[c])) for c in order]
    top, left, bottom, right = piece.box
    oy, ox = scene.offset
    s = scene.picture.scale
    box = (
        int(math.floor((left + ox) / s)),
        int(math.floor((top + oy) / s)),
        int(math.ceil((right + ox) / s)),
        int(math.ceil((bottom + oy) / s)),
    )
    return DigitReading(top3[0][0], top3[0][1], top3, box, image, piece.ink, piece.box)
