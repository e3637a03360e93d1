"""Find and load MNIST (or Fashion-MNIST) as uint8 :class:`Dataset` splits.

Where to look, in order:

1. ``--data D`` (the ``data_dir`` argument), 2. ``$OWNNET_DATA``, 3. the cache
   ``~/.cache/ownnet/<name>`` (``$OWNNET_CACHE/<name>`` or ``$XDG_CACHE_HOME/ownnet/<name>``
   when set).

For a folder ``D`` given by 1. or 2., the candidates are ``D/<name>``, then ``D`` itself
unless ``D``'s own name is that of the other dataset (``.../mnist`` is never taken as
Fashion-MNIST, nor ``.../fashion-mnist`` as MNIST), in which case its sibling
``D/../<name>`` is tried instead. So ``OWNNET_DATA=/data/mnist`` finds MNIST there and
Fashion-MNIST in ``/data/fashion-mnist``. As both datasets use the same file names, IDX
train labels that are byte for byte the other dataset's are refused too.

Within a folder the first complete set wins: the four IDX files (each raw or ``.gz``),
then ``<name>.npz`` (Keras' ``mnist.npz``), then ``<name>_train.csv`` + ``<name>_test.csv``
(the book's ``mnist_train.csv``). If nothing is found, the four .gz files are downloaded
into the cache (see :mod:`ownnet.data.download`).
"""

from __future__ import annotations

import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from ownnet.data import download as dl
from ownnet.data.dataset import Dataset, Splits
from ownnet.data.formats import read_csv, read_idx_images, read_idx_labels, read_npz
from ownnet.errors import DataError

__all__ = [
    "NAMES",
    "DataFiles",
    "Dataset",
    "Place",
    "Splits",
    "find_data",
    "load_files",
    "load_mnist",
    "search",
]

NAMES = ("mnist", "fashion-mnist")
DATA_ENV = "OWNNET_DATA"

#: IDX file stems per split: (images, labels).
IDX_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class DataFiles:
    """A complete set of files for one dataset in one folder.

    ``format`` is ``"idx"``, ``"npz"`` or ``"csv"``; ``train`` and ``test`` are the files of
    each split (IDX: images then labels; npz: the same single file; CSV: one file).
    """

    directory: Path
    format: str
    train: tuple[Path, ...]
    test: tuple[Path, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file, each once."""
        return tuple(dict.fromkeys(self.train + self.test))


@dataclass(frozen=True)
class Place:
    """A folder that was searched: why (``origin``), what it holds (``found``) and a note."""

    directory: Path
    origin: str
    found: DataFiles | None
    note: str

    def describe(self) -> str:
        return f"{self.origin} {self.directory}: {self.note}"


def _canonical(folder_name: str) -> str | None:
    """The dataset a folder's name stands for, if any (``Fashion_MNIST`` -> fashion-mnist)."""
    key = folder_name.lower().replace("_", "-").replace(" ", "-")
    if key in ("mnist", "mnist-data", "mnist-dataset"):
        return "mnist"
    if key.startswith("fashion"):
        return "fashion-mnist"
    return None


def _candidates(folder: Path, name: str) -> list[Path]:
    """Folders to try for ``name`` given a data folder ``folder`` (see module doc)."""
    out = [folder / name]
    means = _canonical(folder.name)
    if means is None or means == name:
        out.append(folder)
    else:
        out.append(folder.parent / name)
    return out


def _check_name(name: str) -> None:
    if name not in NAMES:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(NAMES)}")


def _first_existing(folder: Path, stem: str) -> Path | None:
    dotted = stem.replace("-idx", ".idx")  # train-images.idx3-ubyte, as some archives name it
    for candidate in (stem, stem + ".gz", dotted, dotted + ".gz"):
        path = folder / candidate
        if path.is_file():
            return path
    return None


def _labels_sha256(path: Path) -> str | None:
    """SHA-256 of an IDX label file's content (decompressed); None if unreadable."""
    import gzip

    try:
        with open(path, "rb") as f:
            data = f.read(1 << 21)
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return hashlib.sha256(data).hexdigest()
    except (OSError, EOFError, ValueError, zlib.error):
        return None


def look_in(folder: Path, name: str) -> tuple[DataFiles | None, str]:
    """What ``folder`` holds for dataset ``name``: ``(files or None, note)``."""
    if not folder.exists():
        return None, "no such directory"
    if not folder.is_dir():
        return None, "not a directory"
    idx = {split: [_first_existing(folder, s) for s in IDX_STEMS[split]] for split in IDX_STEMS}
    found = [p for paths in idx.values() for p in paths if p is not None]
    notes = []
    if len(found) == 4:
        other = [n for n in NAMES if n != name][0]
        other_labels = dl.FILES[other][1].sha256  # train labels
        labels = idx["train"][1]
        assert labels is not None
        if _labels_sha256(labels) == other_labels:
            notes.append(f"IDX files there are {other}, not {name}")
        else:
            files = DataFiles(folder, "idx", tuple(idx["train"]), tuple(idx["test"]))  # type: ignore[arg-type]
            return files, "IDX files"
    elif found:
        missing = [
            stem
            for split in IDX_STEMS
            for stem, path in zip(IDX_STEMS[split], idx[split], strict=True)
            if path is None
        ]
        notes.append(f"incomplete IDX set, missing {', '.join(m + '[.gz]' for m in missing)}")
    npz = folder / f"{name}.npz"
    also = f" ({'; '.join(notes)})" if notes else ""
    if npz.is_file():
        return DataFiles(folder, "npz", (npz,), (npz,)), f"{npz.name}{also}"
    train_csv, test_csv = folder / f"{name}_train.csv", folder / f"{name}_test.csv"
    if train_csv.is_file() and test_csv.is_file():
        return DataFiles(folder, "csv", (train_csv,), (test_csv,)), f"CSV files{also}"
    if train_csv.is_file() != test_csv.is_file():
        notes.append(f"only one of {train_csv.name}, {test_csv.name}")
    if not notes:
        notes.append(f"no {name} files")
    return None, "; ".join(notes)


def search(data_dir: str | os.PathLike[str] | None = None, name: str = "mnist") -> list[Place]:
    """Every folder searched for ``name``, in order, with what each holds."""
    _check_name(name)
    folders: list[tuple[Path, str]] = []
    if data_dir is not None and str(data_dir) != "":
        folders += [(p, "--data") for p in _candidates(Path(data_dir).expanduser(), name)]
    env = os.environ.get(DATA_ENV, "")
    if env:
        folders += [(p, f"${DATA_ENV}") for p in _candidates(Path(env).expanduser(), name)]
    folders.append((dl.cache_dir(name), "cache"))
    places: list[Place] = []
    seen: set[Path] = set()
    for folder, origin in folders:
        key = folder.resolve() if folder.exists() else folder.absolute()
        if key in seen:
            continue
        seen.add(key)
        found, note = look_in(folder, name)
        places.append(Place(folder, origin, found, note))
    return places


def find_data(
    data_dir: str | os.PathLike[str] | None = None, name: str = "mnist"
) -> DataFiles | None:
    """The first complete set of files for ``name`` (see the module doc), or None."""
    for place in search(data_dir, name):
        if place.found is not None:
            return place.found
    return None


def load_files(files: DataFiles, name: str = "mnist") -> Splits:
    """Read the files of ``files`` into train and test :class:`Dataset` s."""
    out = {}
    for split in ("train", "test"):
        paths = getattr(files, split)
        if files.format == "idx":
            images_path, labels_path = paths
            images = read_idx_images(images_path)
            labels = read_idx_labels(labels_path)
            if len(images) != len(labels):
                raise DataError(
                    f"{images_path} and {labels_path}: expected as many labels as images, "
                    f"found {len(images)} images and {len(labels)} labels"
                )
            source = f"{images_path}, {labels_path}"
        elif files.format == "npz":
            if split == "train":
                arrays = read_npz(paths[0])
            images, labels = arrays[split]
            source = f"{paths[0]} (x_{split}, y_{split})"
        elif files.format == "csv":
            images, labels = read_csv(paths[0])
            source = str(paths[0])
        else:
            raise DataError(f"{files.directory}: unknown format {files.format!r}")
        out[split] = Dataset(images, labels, f"{name}-{split}", source)
    return Splits(out["train"], out["test"])


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    name: str = "mnist",
    *,
    download: bool = True,
    progress: bool = True,
) -> Splits:
    """Load ``name`` ("mnist" or "fashion-mnist") as uint8 train and test sets.

    Looks in ``data_dir``, ``$OWNNET_DATA`` and the cache (see the module doc); when
    nothing is found and ``download`` is true, downloads into the cache (with a progress
    bar if ``progress``). Returns ``Splits(train, test)``: images ``(n, 28, 28)`` uint8,
    labels ``(n,)`` uint8 (60,000 and 10,000 for the real sets). Raises DataError when the
    files are bad or cannot be found or fetched; the message lists where it looked.
    """
    _check_name(name)
    places = search(data_dir, name)
    for place in places:
        if place.found is not None:
            return load_files(place.found, name)
    if not download:
        raise DataError(_not_found(name, places, None))
    try:
        dl.download(name, dl.cache_dir(name), progress=progress)
    except dl.DownloadError as exc:
        raise DataError(_not_found(name, places, exc)) from None
    found, note = look_in(dl.cache_dir(name), name)
    if found is None:  # pragma: no cover - download() just checked the files
        raise DataError(f"{dl.cache_dir(name)}: expected {name} after downloading, found {note}")
    return load_files(found, name)


def _not_found(name: str, places: list[Place], failure: dl.DownloadError | None) -> str:
    lines = [f"  {p.describe()}" for p in places]
    if not os.environ.get(DATA_ENV):
        lines.insert(len(lines) - 1, f"  ${DATA_ENV}: not set")
    looked = "\n".join(lines)
    idx = ", ".join(s + ".gz" for split in ("train", "test") for s in IDX_STEMS[split])
    if failure is None:
        head = f"no {name} data found (downloading is off)"
        tail = ""
    else:
        head = f"no {name} data found, and downloading it failed"
        tail = f"\n{failure}"
    return (
        f"{head}.\nlooked in:\n{looked}{tail}\n"
        f"if you have the files, put {idx} (or {name}.npz, or {name}_train.csv and "
        f"{name}_test.csv) in a folder DIR and pass --data DIR or set {DATA_ENV}=DIR."
    )
