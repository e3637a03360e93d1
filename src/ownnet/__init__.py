"""ownnet: make your own neural network from scratch with NumPy, on MNIST."""

__version__ = "0.1.0"
