"""Look inside a trained network.

* :mod:`~ownnet.inspect.backquery` - the book's back query: run a sigmoid network
  backwards from an answer to a picture;
* :mod:`~ownnet.inspect.units` - first-layer weights as 28x28 pictures;
* :mod:`~ownnet.inspect.maximize` - activation maximisation for any unit of any
  dense layer (and the output classes), through the matrix engine's backward pass;
* :mod:`~ownnet.inspect.damage` - accuracy as neurons are removed, noise is added
  and the inputs are rotated;
* :mod:`~ownnet.inspect.report` - confusion-matrix picture and the worst mistakes;
* :mod:`~ownnet.inspect.confidence` - per-class confidences and what they mean;
* :mod:`~ownnet.inspect.sample_digits` - photo-like rendered digits for trying
  ``ownnet predict``;
* :mod:`~ownnet.inspect.stack` - both model kinds seen as a stack of dense layers;
* :mod:`~ownnet.inspect.grids` - picture grids as PNG (matplotlib, Agg).
"""
