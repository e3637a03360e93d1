"""Data: MNIST files (formats, dataset, mnist, download), your own images, augmentation."""
