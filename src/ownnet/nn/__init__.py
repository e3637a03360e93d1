"""The matrix engine: layers, activations, costs, optimisers and a Keras-like ``Network``.

Pure computation: nothing here reads or writes a file or prints. Weights are
``(n_in, n_out)``; everything runs on minibatches in float32 by default (float64 on
request) with buffers kept from batch to batch. Images ``(batch, channels, height,
width)`` go through ``Conv2D``, ``MaxPool2D``, ``BatchNorm`` and ``Flatten``
(``Network.cnn()``: the default CNN).

Read in this order: :mod:`~ownnet.nn.dense` (one layer, forward and backward),
:mod:`~ownnet.nn.activations`, :mod:`~ownnet.nn.losses`, :mod:`~ownnet.nn.network` (the
stack), :mod:`~ownnet.nn.fit` (minibatches), :mod:`~ownnet.nn.optimizers`.
``ownnet.Network`` is this ``Network`` with ``save`` and ``read``.
"""

from ownnet.nn.batchnorm import BatchNorm
from ownnet.nn.conv import Conv2D
from ownnet.nn.dense import Dense
from ownnet.nn.flatten import Flatten
from ownnet.nn.layers import Activation, Dropout, Layer, PReLU
from ownnet.nn.losses import CrossEntropy, Quadratic
from ownnet.nn.network import Network
from ownnet.nn.optimizers import SGD, Adam, RMSprop
from ownnet.nn.pooling import MaxPool2D
from ownnet.nn.schedules import Cosine, StepDecay
from ownnet.training import TrainingDiverged

__all__ = [
    "SGD",
    "Activation",
    "Adam",
    "BatchNorm",
    "Conv2D",
    "Cosine",
    "CrossEntropy",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "MaxPool2D",
    "Network",
    "PReLU",
    "Quadratic",
    "RMSprop",
    "StepDecay",
    "TrainingDiverged",
]
