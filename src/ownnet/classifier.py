"""What every ownnet model answers, the same way: ``predict``, ``predict_proba``,
``evaluate``, ``score`` (after scikit-learn and Keras).

A model provides its raw outputs for a batch of flat images (:meth:`Classifier._outputs`)
and its loss (:meth:`Classifier._losses`); this class turns them into labels, confidences
and accuracies. Images may be one image ``(28, 28)`` or ``(784,)`` or a batch, uint8
0..255 or floats 0..1 (:mod:`ownnet.inputs`).

``predict_proba`` gives per-class scores that sum to 1 and says what they are
(:attr:`Classifier.proba_meaning`): a softmax layer's outputs are probabilities; the
book's sigmoid outputs (each between 0 and 1, trained towards 0.01 and 0.99, not summing
to 1) are divided by their sum, which ranks the classes as the outputs do but is not a
calibrated probability; any other outputs go through a softmax.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ownnet.inputs import as_images, as_training_data

#: what predict_proba returns, by the output layer's activation
SOFTMAX = "softmax probabilities"
NORMALISED = "sigmoid outputs divided by their sum (not calibrated probabilities)"
SOFTMAXED = "softmax of the outputs"
#: images per chunk when predicting or evaluating
EVAL_CHUNK = 2048


class Evaluation(NamedTuple):
    """``evaluate``'s answer: the mean loss and the fraction classified right."""

    loss: float
    accuracy: float


def proba_meaning(output_activation: str) -> str:
    """What ``predict_proba`` gives for a model whose output layer has this activation."""
    if output_activation == "softmax":
        return SOFTMAX
    if output_activation == "sigmoid":
        return NORMALISED
    return SOFTMAXED


def normalise(outputs: np.ndarray, meaning: str) -> np.ndarray:
    """Outputs ``(..., n_classes)`` → confidences summing to 1 along the last axis, by the
    rule :func:`proba_meaning` names."""
    out = np.asarray(outputs, dtype=np.float64)
    if meaning in (SOFTMAX, NORMALISED):
        return out / np.maximum(out.sum(axis=-1, keepdims=True), 1e-300)
    e = np.exp(out - out.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Classifier:
    """The answering half of the model contract.

    A model sets ``n_pixels`` (inputs per image), ``n_classes`` and
    ``output_activation`` and implements :meth:`_outputs` and :meth:`_losses`.
    """

    n_pixels: int
    n_classes: int
    output_activation: str = "sigmoid"
    eval_chunk: int = EVAL_CHUNK
    #: inputs are pixels (uint8 0..255 or floats 0..1); False: any finite features
    takes_pixels: bool = True

    # -- what a model provides ------------------------------------------------------------
    def _outputs(self, flat: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Raw outputs ``(n, n_classes)`` for flat images ``(n, n_pixels)`` (uint8 or
        floats 0..1)."""
        raise NotImplementedError

    def _losses(self, outputs: np.ndarray, labels: np.ndarray) -> float:  # pragma: no cover
        """The summed loss of ``outputs (n, n_classes)`` against ``labels (n,)``."""
        raise NotImplementedError

    # -- what every model answers ---------------------------------------------------------
    def outputs(self, x: Any) -> np.ndarray:
        """Raw outputs, float64: ``(n, n_classes)`` for a batch, ``(n_classes,)`` for one image."""
        flat, single = as_images(x, self.n_pixels, pixels=self.takes_pixels)
        out = np.empty((len(flat), self.n_classes))
        for i in range(0, len(flat), self.eval_chunk):
            out[i : i + self.eval_chunk] = self._outputs(flat[i : i + self.eval_chunk])
        return out[0] if single else out

    def predict(self, x: Any) -> np.ndarray | int:
        """Predicted labels ``(n,)`` for a batch, or one label for one image."""
        out = self.outputs(x)
        return int(out.argmax()) if out.ndim == 1 else out.argmax(axis=1)

    @property
    def proba_meaning(self) -> str:
        """What :meth:`predict_proba` gives for this model, in words."""
        return proba_meaning(self.output_activation)

    def predict_proba(self, x: Any) -> np.ndarray:
        """Per-class scores that sum to 1: ``(n, n_classes)``, or ``(n_classes,)`` for one
        image. What they are depends on the output layer (:attr:`proba_meaning`)."""
        return normalise(self.outputs(x), self.proba_meaning)

    def evaluate(self, x: Any, y: Any = None) -> Evaluation:
        """``(loss, accuracy)`` on a Dataset, a pair ``(x, y)`` or images ``x`` with labels
        ``y``; the loss is the model's own (the book's: quadratic), without dropout."""
        images, labels = as_training_data(
            x, y, self.n_pixels, self.n_classes, pixels=self.takes_pixels
        )
        return Evaluation(*self._loss_accuracy(images, labels))

    def score(self, x: Any, y: Any = None) -> float:
        """The fraction classified right (scikit-learn's ``score``)."""
        return self.evaluate(x, y).accuracy

    def _loss_accuracy(self, images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        """``(mean loss, accuracy)`` for checked flat images and labels, a chunk at a time."""
        total = 0.0
        correct = 0
        for i in range(0, len(images), self.eval_chunk):
            out = self._outputs(images[i : i + self.eval_chunk])
            lab = labels[i : i + len(out)]
            total += self._losses(out, lab)
            correct += int(np.count_nonzero(out.argmax(axis=1) == lab))
        return total / len(images), correct / len(images)
