"""Neurons and links: the book's network as objects you can follow one at a time.

The matrix network (:mod:`ownnet.classic`) does everything with whole arrays.
Here the same network is built from small objects, so each step of learning
is something one neuron or one link does:

**Forward.** Each :class:`Link` carries ``input × weight`` to the neuron it
feeds; each :class:`Neuron` adds up what its links carry and applies the
sigmoid ``1 / (1 + e^-total)``. A bias neuron (``bias=True``) always outputs
1.0 and feeds every neuron of the next layer, as in :class:`classic.Network`.

**Backward.** Each output neuron's *sensitivity* is its error ``target −
output``. A neuron's *delta* is its sensitivity times the slope of its
sigmoid, ``output × (1 − output)``. Each link then

1. sends its share of the error back to the neuron it comes from (whose
   sensitivity is the sum of what its links send back), and only after that
2. changes its weight by ``lr × delta × input``.

What a link sends back is set by ``error_split``:

``"transpose"`` (the book, the default)
    ``weight × sensitivity``: the output neuron's error ``t − o`` split in
    proportion to the weights, as the book's ``who.T @ output_errors``.
``"transpose_scaled"``, ``"proportional"``, ``"equal"``
    the book's alternatives, as in :class:`classic.Network`:
    ``weight × sensitivity / n``, ``weight / sum|weights| × sensitivity`` and
    ``sensitivity / n`` (``n`` = neurons sending, bias not counted).
``"gradient"``
    ``weight × delta``: true backpropagation. A neuron's sensitivity is then
    ``-dE/d(output)`` for the loss ``E = ½ Σ (t − o)²`` and every weight
    change is ``-lr × dE/dw``. The book's rule leaves the slope of the
    output neuron out of what it sends back; this one keeps it.

Every link sends back before any weight of its layer changes, so the errors
come from the weights the forward pass used, exactly as the book computes
``hidden_errors`` before it updates ``who``. With the same start and the same
samples this network ends with the same weights as :class:`classic.Network`
(``tests/test_neurons.py`` checks this to 1e-9).

It is slow by design, a few thousand links per millisecond: use it on small
networks, to watch and to check, and :mod:`ownnet.classic` to learn MNIST.

Example::

    >>> from ownnet.neurons import Network
    >>> net = Network(2, 2, 2, lr=0.5, seed=1)
    >>> text = net.explain([0.05, 0.10], [0.01, 0.99])   # prints the table
"""

from ownnet.neurons.explain import draw_network, format_step
from ownnet.neurons.network import Network
from ownnet.neurons.parts import ERROR_SPLITS, Layer, Link, Neuron, sigmoid

__all__ = [
    "ERROR_SPLITS",
    "Layer",
    "Link",
    "Network",
    "Neuron",
    "draw_network",
    "format_step",
    "sigmoid",
]
