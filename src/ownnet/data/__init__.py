"""Data: MNIST readers and download (mnist), your own images (images), augmentation (augment)."""
