"""The matrix engine: layers, activations, costs, optimisers and a Keras-like ``Network``.

Weights are ``(n_in, n_out)``; everything runs on minibatches in float32 by
default (float64 on request) with buffers kept from batch to batch. Images
``(batch, channels, height, width)`` go through ``Conv2D``, ``MaxPool2D``,
``BatchNorm`` and ``Flatten`` (``Network.cnn()``: the default CNN).
"""

from ownnet.nn.augmentation import RandomTransform
from ownnet.nn.batchnorm import BatchNorm
from ownnet.nn.callbacks import Checkpoint, EarlyStopping
from ownnet.nn.conv import Conv2D
from ownnet.nn.flatten import Flatten
from ownnet.nn.layers import Activation, Dense, Dropout, Layer, PReLU
from ownnet.nn.losses import CrossEntropy, Quadratic
from ownnet.nn.network import Network, TrainingDiverged
from ownnet.nn.optimizers import SGD, Adam, RMSprop
from ownnet.nn.pooling import MaxPool2D
from ownnet.nn.schedules import Cosine, StepDecay

__all__ = [
    "SGD",
    "Activation",
    "Adam",
    "BatchNorm",
    "Checkpoint",
    "Conv2D",
    "Cosine",
    "CrossEntropy",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "Flatten",
    "Layer",
    "MaxPool2D",
    "Network",
    "PReLU",
    "Quadratic",
    "RMSprop",
    "RandomTransform",
    "StepDecay",
    "TrainingDiverged",
]
