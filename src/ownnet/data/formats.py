"""Readers for the three MNIST file formats: IDX (gzip or raw), the book's CSV, Keras' npz.

Every reader returns uint8 arrays and raises :class:`~ownnet.errors.DataError` naming the
file, what was expected and what was found; never a bare numpy, zipfile or zlib
traceback, whatever the bytes. Before allocating memory, each checks the sizes the file
declares against what the file can hold and against a limit on one file's decoded data,
2 GiB unless ``$OWNNET_MAX_BYTES`` says otherwise (see :mod:`ownnet.inputfile`). A FIFO,
device or directory given as a data file is refused at once.

- IDX (:mod:`ownnet.data.idx_format`): ``00 00 <type> <ndim>`` then ``ndim``
  big-endian uint32 sizes, then the data (http://yann.lecun.com/exdb/mnist/). gzip is
  detected from the file's first bytes, not its name.
- CSV (:mod:`ownnet.data.csv_format`): one sample a line, ``label,p1,...,p784`` with
  pixels 0..255 (the book's ``mnist_train.csv``); a Kaggle header line and blank lines
  are skipped, anything else that is not a sample is an error.
- npz (:mod:`ownnet.data.npz_format`): ``x_train, y_train, x_test, y_test`` as in
  Keras' ``mnist.npz``, read by :class:`ownnet.npzfile.NpzArchive` (no pickle).

This module gathers them under one name: ``from ownnet.data.formats import read_idx``.
"""

from __future__ import annotations

from ownnet.data.csv_format import read_csv, write_csv
from ownnet.data.idx_format import (
    IDX_TYPES,
    read_idx,
    read_idx_images,
    read_idx_labels,
    write_idx,
)
from ownnet.data.layout import IMAGE_SHAPE, N_CLASSES, N_PIXELS, check_labels
from ownnet.data.npz_format import NPZ_KEYS, read_npz
from ownnet.data.streams import GZIP_MAGIC
from ownnet.inputfile import MAX_DEFLATE_RATIO

__all__ = [
    "GZIP_MAGIC",
    "IDX_TYPES",
    "IMAGE_SHAPE",
    "MAX_DEFLATE_RATIO",
    "N_CLASSES",
    "NPZ_KEYS",
    "N_PIXELS",
    "check_labels",
    "read_csv",
    "read_idx",
    "read_idx_images",
    "read_idx_labels",
    "read_npz",
    "write_csv",
    "write_idx",
]
