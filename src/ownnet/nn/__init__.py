"""The matrix engine: layers, activations, costs, optimisers and a Keras-like ``Network``.

Weights are ``(n_in, n_out)``; everything runs on minibatches in float32 by
default (float64 on request) with buffers kept from batch to batch.
"""

from ownnet.nn.callbacks import Checkpoint, EarlyStopping
from ownnet.nn.layers import Activation, Dense, Dropout, Layer, PReLU
from ownnet.nn.losses import CrossEntropy, Quadratic
from ownnet.nn.network import Network, TrainingDiverged
from ownnet.nn.optimizers import SGD, Adam, RMSprop
from ownnet.nn.schedules import Cosine, StepDecay

__all__ = [
    "SGD",
    "Activation",
    "Adam",
    "Checkpoint",
    "Cosine",
    "CrossEntropy",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "Layer",
    "Network",
    "PReLU",
    "Quadratic",
    "RMSprop",
    "StepDecay",
    "TrainingDiverged",
]
