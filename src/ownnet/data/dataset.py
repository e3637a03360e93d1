"""The Dataset type: uint8 images and labels that stay uint8 until the model's edge."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ownnet.data.layout import N_CLASSES, check_labels
from ownnet.errors import DataError


@dataclass(frozen=True)
class DataFiles:
    """A complete set of files for one dataset in one folder, and how it was found.

    ``format`` is ``"idx"``, ``"npz"`` or ``"csv"``; ``train`` and ``test`` are the files of
    each split (IDX: images then labels; npz: the same single file; CSV: one file).
    ``name`` is the dataset (``"mnist"``), ``found_by`` where the folder came from:
    ``"--data"``, ``"$OWNNET_DATA"``, ``"cache"`` or ``"download"``.
    """

    directory: Path
    format: str
    train: tuple[Path, ...]
    test: tuple[Path, ...]
    name: str = "mnist"
    found_by: str = ""

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file, each once."""
        return tuple(dict.fromkeys(self.train + self.test))

    def describe(self) -> str:
        """One line for a user: ``"mnist: /data/mnist (idx)"``."""
        return f"{self.name}: {self.directory} ({self.format})"


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Images ``(n, 28, 28)`` uint8 and labels ``(n,)`` uint8 (0..9).

    ``name`` says what it is (``"mnist-train"``), ``source`` where it came from (file
    paths), ``origin`` the :class:`DataFiles` it was read from, if any. The arrays are
    read-only views, so a dataset cannot change under its cached :meth:`checksum`; make a
    copy to edit pixels.
    """

    images: np.ndarray
    labels: np.ndarray
    name: str = "dataset"
    source: str = ""
    origin: DataFiles | None = None
    _sha256: list[str] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        images, labels = self.images, self.labels
        if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 3:
            raise DataError(
                f"{self.name}: expected images as a uint8 array (n, 28, 28), "
                f"found {_describe(images)}"
            )
        if not isinstance(labels, np.ndarray) or labels.dtype != np.uint8 or labels.ndim != 1:
            raise DataError(
                f"{self.name}: expected labels as a uint8 array (n,), found {_describe(labels)}"
            )
        if len(images) != len(labels):
            raise DataError(
                f"{self.name}: expected as many labels as images, "
                f"found {len(images)} images and {len(labels)} labels"
            )
        check_labels(labels, self.name)
        for attr, arr in (("images", images), ("labels", labels)):
            view = arr.view()
            view.flags.writeable = False
            object.__setattr__(self, attr, view)

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        shape = "x".join(str(d) for d in self.images.shape[1:])
        return f"Dataset({self.name!r}, {len(self)} images {shape}, source={self.source!r})"

    def subset(self, n: int | slice | np.ndarray | list[int]) -> Dataset:
        """The first ``n`` samples, a slice, or the samples at an index (or boolean) array."""
        if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
            if not 0 <= n <= len(self):
                raise DataError(
                    f"{self.name}: expected a subset size 0..{len(self)}, found {int(n)}"
                )
            index: slice | np.ndarray = slice(0, int(n))
            tag = f"[:{int(n)}]"
        elif isinstance(n, slice):
            index = n
            parts = [str(v) if v is not None else "" for v in (n.start, n.stop)]
            tag = "[" + ":".join(parts) + (f":{n.step}" if n.step is not None else "") + "]"
        else:
            index = np.asarray(n)
            if index.dtype == bool:
                if index.shape != (len(self),):
                    raise DataError(
                        f"{self.name}: expected a boolean mask of length {len(self)}, "
                        f"found shape {index.shape}"
                    )
            elif index.dtype.kind not in "iu" or index.ndim != 1:
                raise DataError(
                    f"{self.name}: expected an int, a slice or a 1-d index array, "
                    f"found {_describe(index)}"
                )
            elif index.size and (index.max() >= len(self) or index.min() < -len(self)):
                raise DataError(
                    f"{self.name}: expected indices below {len(self)}, found {index.max()}"
                )
            tag = f"[{int(np.count_nonzero(index)) if index.dtype == bool else index.size} picked]"
        return Dataset(
            self.images[index], self.labels[index], self.name + tag, self.source, self.origin
        )

    def checksum(self) -> str:
        """SHA-256 hex digest of the image bytes followed by the label bytes (cached)."""
        if not self._sha256:
            h = hashlib.sha256()
            h.update(memoryview(np.ascontiguousarray(self.images)).cast("B"))
            h.update(memoryview(np.ascontiguousarray(self.labels)).cast("B"))
            self._sha256.append(h.hexdigest())
        return self._sha256[0]

    def label_counts(self) -> np.ndarray:
        """How many samples of each label: int64 ``(10,)``."""
        return np.bincount(self.labels, minlength=N_CLASSES)


class Splits(NamedTuple):
    """The training and the test set."""

    train: Dataset
    test: Dataset

    @property
    def source(self) -> DataFiles | None:
        """The files both were read from: dataset name, folder, format, how it was found."""
        return self.train.origin

    def describe(self) -> str:
        """One line saying what was used: ``"mnist: /data/mnist (idx)"``."""
        if self.train.origin is not None:
            return self.train.origin.describe()
        return f"{self.train.name}: {self.train.source}"


def _describe(x: object) -> str:
    if isinstance(x, np.ndarray):
        return f"{x.dtype.name} array of shape {x.shape}"
    return type(x).__name__
