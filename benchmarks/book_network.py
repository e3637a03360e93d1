"""The book's network exactly as *Make Your Own Neural Network* writes it.

The baseline for ``classic_speed.py``: ``numpy.dot`` on column vectors and
new arrays for every sample. Not part of the package.
"""

from __future__ import annotations

import numpy
import scipy.special


class BookNetwork:
    def __init__(self, wih: numpy.ndarray, who: numpy.ndarray, learningrate: float) -> None:
        self.wih = wih.copy()
        self.who = who.copy()
        self.lr = learningrate
        self.activation_function = lambda x: scipy.special.expit(x)

    def train(self, inputs_list, targets_list) -> None:
        inputs = numpy.array(inputs_list, ndmin=2).T
        targets = numpy.array(targets_list, ndmin=2).T
        hidden_inputs = numpy.dot(self.wih, inputs)
        hidden_outputs = self.activation_function(hidden_inputs)
        final_inputs = numpy.dot(self.who, hidden_outputs)
        final_outputs = self.activation_function(final_inputs)
        output_errors = targets - final_outputs
        hidden_errors = numpy.dot(self.who.T, output_errors)
        self.who += self.lr * numpy.dot(
            (output_errors * final_outputs * (1.0 - final_outputs)),
            numpy.transpose(hidden_outputs),
        )
        self.wih += self.lr * numpy.dot(
            (hidden_errors * hidden_outputs * (1.0 - hidden_outputs)), numpy.transpose(inputs)
        )

    def query(self, inputs_list):
        inputs = numpy.array(inputs_list, ndmin=2).T
        hidden_outputs = self.activation_function(numpy.dot(self.wih, inputs))
        return self.activation_function(numpy.dot(self.who, hidden_outputs))


def train_epoch(net: BookNetwork, images: numpy.ndarray, labels: numpy.ndarray) -> None:
    """One pass as the book does it: scale each record, make its targets, train."""
    for image, label in zip(images, labels):
        inputs = (numpy.asarray(image.ravel(), dtype=float) / 255.0 * 0.99) + 0.01
        targets = numpy.zeros(10) + 0.01
        targets[int(label)] = 0.99
        net.train(inputs, targets)
