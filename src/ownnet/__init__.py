"""ownnet: make your own neural network from scratch with NumPy, on MNIST.

The front door (``from ownnet import ...`` or ``ownnet.<name>``)::

    load_mnist(data_dir=None, name="mnist")  the MNIST (or Fashion-MNIST) train and test sets
    load(path)                               a model file -> the model (``model.meta``)
    from_config(config)                      any model from plain settings, as the CLI builds it
    BookNetwork                              the book's network (ownnet.classic.Network)
    Network                                  the matrix engine's network: Network.mlp(), .cnn()
    NeuronNetwork                            the book's network as neurons and links
    Dense, Dropout, Conv2D, MaxPool2D, ...   the engine's layers (ownnet.nn)
    EarlyStopping, Checkpoint, ProgressBar   callbacks for any model's fit
    History, Callback                        what fit returns, and the hooks it calls

Every model keeps the same contract: ``fit(x, y)`` returns a :class:`History`;
``predict``, ``predict_proba``, ``evaluate``, ``score``, ``read(photo)``, ``save(path)``.

    import ownnet
    train, test = ownnet.load_mnist()
    net = ownnet.BookNetwork(784, 200, 10, lr=0.1)
    net.fit(train, epochs=5, validation_data=test)
    net.save("net.npz")
    ownnet.load("net.npz").read("my-digit.png")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> "module:attribute", imported on first use (so that ``import ownnet.nn``
#: loads the engine alone, and ``ownnet --help`` stays quick)
_API = {
    "load_mnist": "ownnet.data.mnist:load_mnist",
    "Dataset": "ownnet.data.dataset:Dataset",
    "load": "ownnet.io:load",
    "from_config": "ownnet.config:from_config",
    "BookNetwork": "ownnet.classic:Network",
    "Network": "ownnet.network:Network",
    "NeuronNetwork": "ownnet.neurons:Network",
    "History": "ownnet.training:History",
    "Callback": "ownnet.training:Callback",
    "TrainingDiverged": "ownnet.training:TrainingDiverged",
    "EarlyStopping": "ownnet.callbacks:EarlyStopping",
    "Checkpoint": "ownnet.callbacks:Checkpoint",
    "ProgressBar": "ownnet.progress:ProgressBar",
    "RandomTransform": "ownnet.augmentation:RandomTransform",
    "OwnnetError": "ownnet.errors:OwnnetError",
    **{
        name: f"ownnet.nn:{name}"
        for name in (
            "Dense",
            "Dropout",
            "Activation",
            "PReLU",
            "Conv2D",
            "MaxPool2D",
            "BatchNorm",
            "Flatten",
            "SGD",
            "RMSprop",
            "Adam",
        )
    },
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    if name in _API:
        module, _, attr = _API[name].partition(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ownnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
