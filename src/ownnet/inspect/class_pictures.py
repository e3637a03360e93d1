"""One picture per class, for any model: what the network "thinks" each digit looks like.

* A stack of sigmoid layers (the book's network) is run backwards from each
  answer, the book's back query (:func:`ownnet.inspect.backquery.backquery_digits`),
  drawn with its background at 0 as MNIST's are, so that fed forward again each
  picture reads as its own digit.
* Any other model (relu MLPs, CNNs) gets activation maximisation of each class's
  net input (:func:`ownnet.inspect.maximize.maximize`), each picture scaled to
  its brightest pixel.

Either way the model reads each picture once more and says what it sees
(``read_as``), so a picture that does not read as its own digit is shown as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ownnet.inspect.activations import engine_twin
from ownnet.inspect.backquery import NotInvertibleError, backquery_digits, check_invertible
from ownnet.inspect.maximize import maximize


@dataclass(frozen=True)
class ClassPictures:
    """Attributes:
    method: ``"backquery"`` or ``"maximize"``.
    images: one picture per class ``(k, 28, 28)`` in [0, 1] (0 black, 1 full ink).
    read_as: what the model reads in each picture ``(k,)``.
    """

    method: str
    images: np.ndarray
    read_as: np.ndarray


def class_pictures(model: Any, *, steps: int = 200, seed: int = 0) -> ClassPictures:
    """The back query of a sigmoid network, else activation maximisation (``steps``
    gradient-ascent steps from noise drawn with ``seed``), for every class of ``model``."""
    try:
        check_invertible(model)
    except NotInvertibleError:
        twin = engine_twin(model)  # maximize runs the layers: a copy of its own
        result = maximize(twin, "output", np.arange(twin.n_outputs), steps=steps, seed=seed)
        top = result.images.max(axis=(1, 2), keepdims=True)
        images = result.images / np.maximum(top, 1e-12)
        pixels = np.rint(images * 255).astype(np.uint8)
        read = np.asarray(twin.outputs(pixels)).argmax(axis=1)
        return ClassPictures("maximize", images, read)
    result = backquery_digits(model)
    return ClassPictures("backquery", result.images / 255.0, np.asarray(result.predicted))
