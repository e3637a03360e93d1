"""The matrix engine's network as users hold it: :class:`ownnet.nn.Network` plus the two
edges every model has, ``save`` and ``read`` (:class:`ownnet.model.Model`).

All the computation is in :mod:`ownnet.nn`, which never touches a file; this class only
joins it to model files and photos. ``Network.mlp()``, ``Network.cnn()``,
``Network.book()`` and ``ownnet.load`` give instances of it.
"""

from __future__ import annotations

from ownnet import nn
from ownnet.model import Model


class Network(nn.Network, Model):
    """A stack of layers (see :class:`ownnet.nn.network.Network` for the arguments) that
    can also ``save(path)`` and ``read(photo)``."""
