"""Find and load MNIST (or Fashion-MNIST) as uint8 :class:`Dataset` splits.

Where to look, in order:

1. ``--data D`` (the ``data_dir`` argument), 2. ``$OWNNET_DATA``, 3. the cache
   ``~/.cache/ownnet/<name>`` (``$OWNNET_CACHE/<name>`` or ``$XDG_CACHE_HOME/ownnet/<name>``
   when set).

In a folder ``D`` given by 1. or 2., ``D/<name>`` is tried first, then ``D`` itself. A
folder named for the other dataset (``.../fashion-mnist`` when MNIST is asked for, or
``.../mnist`` for Fashion-MNIST) is never read as this one:

- given as ``--data``, it is an error that says so: the user pointed at a dataset and
  must not silently get the other one (``--data .../fashion-mnist`` wants
  ``--name fashion-mnist``);
- as ``$OWNNET_DATA``, a standing setting for every run, its sibling ``D/../<name>`` is
  tried instead: ``OWNNET_DATA=/data/mnist`` finds MNIST there and Fashion-MNIST in
  ``/data/fashion-mnist``.

Within a folder the first complete set wins: the four IDX files (each raw or ``.gz``),
then ``<name>.npz`` (Keras' ``mnist.npz``), then ``<name>_train.csv`` +
``<name>_test.csv`` (the book's ``mnist_train.csv``; or its small files
``mnist_train_100.csv`` + ``mnist_test_10.csv``, any counts, the full files first). If
nothing is found, the four .gz files are downloaded into the cache (see
:mod:`ownnet.data.download`).

As both datasets use the same file names, the labels tell them apart: labels that are,
checksum for checksum, the other dataset's published train or test labels are an error
that says which dataset they are (IDX label files are checked before anything is read,
npz and CSV once read). What was used is on the result: ``load_mnist(...).describe()``
gives ``"mnist: /data/mnist (idx)"``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from ownnet.data import download as dl
from ownnet.data.dataset import DataFiles, Dataset, Splits
from ownnet.data.formats import read_csv, read_idx_images, read_idx_labels, read_npz
from ownnet.data.identify import identify_file, identify_labels
from ownnet.errors import DataError

__all__ = [
    "NAMES",
    "DataFiles",
    "Dataset",
    "Place",
    "Splits",
    "find_data",
    "identify_labels",
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
class Place:
    """A folder that was searched: why (``origin``), what it holds (``found``) and a note.

    ``refused`` is set when the folder holds the other dataset (or, given as ``--data``,
    is named for it): the search must stop there with that error, not go on elsewhere.
    """

    directory: Path
    origin: str
    found: DataFiles | None
    note: str
    refused: str | None = None

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


def _check_name(name: str) -> None:
    if name not in NAMES:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(NAMES)}")


def _other(name: str) -> str:
    return next(n for n in NAMES if n != name)


def _first_existing(folder: Path, stem: str) -> Path | None:
    dotted = stem.replace("-idx", ".idx")  # train-images.idx3-ubyte, as some archives name it
    for candidate in (stem, stem + ".gz", dotted, dotted + ".gz"):
        path = folder / candidate
        if path.is_file():
            return path
    return None


def _csv_files(folder: Path, name: str) -> dict[str, Path | None]:
    """The CSV file of each split: ``<name>_<split>.csv``, else the book's
    ``<name>_<split>_<count>.csv`` with the largest count (each may be gzipped)."""
    pattern = re.compile(rf"{re.escape(name)}_(train|test)(?:_(\d{{1,9}}))?\.csv(?:\.gz)?")
    best: dict[str, tuple[int, Path]] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        entries = []
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and entry.is_file():
            rank = int(m.group(2)) if m.group(2) else 10**10  # the full file first
            if rank > best.get(m.group(1), (-1, None))[0]:
                best[m.group(1)] = (rank, Path(entry.path))
    return {split: best[split][1] if split in best else None for split in ("train", "test")}


def look_in(folder: Path, name: str) -> tuple[DataFiles | None, str]:
    """What ``folder`` holds for dataset ``name``: ``(files or None, note)``, by file names
    only (see :func:`search` for the checks on what the files are)."""
    if not folder.exists():
        return None, "no such directory"
    if not folder.is_dir():
        return None, "not a directory"
    idx = {split: [_first_existing(folder, s) for s in IDX_STEMS[split]] for split in IDX_STEMS}
    found = [p for paths in idx.values() for p in paths if p is not None]
    notes = []
    if len(found) == 4:
        files = DataFiles(folder, "idx", tuple(idx["train"]), tuple(idx["test"]), name)  # type: ignore[arg-type]
        return files, "IDX files"
    if found:
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
        return DataFiles(folder, "npz", (npz,), (npz,), name), f"{npz.name}{also}"
    csv = _csv_files(folder, name)
    train_csv, test_csv = csv["train"], csv["test"]
    if train_csv is not None and test_csv is not None:
        files = DataFiles(folder, "csv", (train_csv,), (test_csv,), name)
        return files, f"CSV files {train_csv.name}, {test_csv.name}{also}"
    if train_csv is not None or test_csv is not None:
        has = train_csv or test_csv
        assert has is not None
        notes.append(f"only {has.name}, no {name}_{'test' if has is train_csv else 'train'}.csv")
    if not notes:
        notes.append(f"no {name} files")
    return None, "; ".join(notes)


def search(data_dir: str | os.PathLike[str] | None = None, name: str = "mnist") -> list[Place]:
    """Every folder searched for ``name``, in order, with what each holds.

    The list stops at a place that refuses (see :class:`Place`); nothing after it is read.
    """
    _check_name(name)
    folders: list[tuple[Path, str]] = []
    if data_dir is not None and str(data_dir) != "":
        folder = Path(data_dir).expanduser()
        folders += [(folder / name, "--data"), (folder, "--data")]
    env = os.environ.get(DATA_ENV, "")
    if env:
        folder = Path(env).expanduser()
        means = _canonical(folder.name)
        sibling = folder.parent / name if means not in (None, name) else folder
        folders += [(folder / name, f"${DATA_ENV}"), (sibling, f"${DATA_ENV}")]
    folders.append((dl.cache_dir(name), "cache"))
    places: list[Place] = []
    seen: set[Path] = set()
    for folder, origin in folders:
        key = folder.resolve() if folder.exists() else folder.absolute()
        if key in seen:
            continue
        seen.add(key)
        found, note = look_in(folder, name)
        refusal = _refusal(folder, origin, name, found)
        if refusal is not None:
            places.append(Place(folder, origin, None, refusal[0], refusal[1]))
            break
        if found is not None:
            found = replace(found, found_by=origin)
        places.append(Place(folder, origin, found, note))
    return places


def _refusal(
    folder: Path, origin: str, name: str, found: DataFiles | None
) -> tuple[str, str] | None:
    """``(note, error)`` when the search must stop at ``folder`` with an error, else None:
    IDX label files that are the other dataset's, or a ``--data`` folder named for it."""
    other = _other(name)
    if origin == "--data" and folder.is_dir() and _canonical(folder.name) == other:
        return f"named for {other}, not {name}", (
            f"--data {folder}: expected a folder of {name}, found one named for {other}; "
            f"to use it pass --name {other}, or give --data the folder of {name} (or the "
            f"parent {folder.parent}, if it holds both)"
        )
    if found is not None and found.format == "idx":
        for labels in (found.train[1], found.test[1]):
            known = identify_file(labels)
            if known is not None and known[0] != name:
                return f"IDX files of {other}, not {name} (by checksum)", (
                    f"{labels}: expected {name}, found the published {other} {known[1]} "
                    f"labels; ask for {other} (--name {other}) or point at {name}'s files"
                )
    return None


def _choose(places: list[Place]) -> DataFiles | None:
    """The files of the first place that has them; DataError if a place refuses first."""
    for place in places:
        if place.refused:
            raise DataError(place.refused)
        if place.found is not None:
            return place.found
    return None


def find_data(
    data_dir: str | os.PathLike[str] | None = None, name: str = "mnist"
) -> DataFiles | None:
    """The first complete set of files for ``name`` (see the module doc), or None.

    Raises DataError when a folder on the way holds (or, as ``--data``, is named for) the
    other dataset.
    """
    return _choose(search(data_dir, name))


def load_files(files: DataFiles, name: str | None = None) -> Splits:
    """Read the files of ``files`` into train and test :class:`Dataset` s.

    Raises DataError for bad files, an empty train or test set, and labels that are the
    published labels of the other dataset.
    """
    name = name or files.name
    files = replace(files, name=name)
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
        if len(labels) == 0:
            raise DataError(f"{source}: expected at least one {split} sample, found none")
        known = identify_labels(labels)
        if known is not None and known[0] != name:
            raise DataError(
                f"{source}: expected {name}, found the published {known[0]} {known[1]} "
                f"labels; ask for {known[0]} (--name {known[0]}) or point at {name}'s files"
            )
        out[split] = Dataset(images, labels, f"{name}-{split}", source, files)
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
    labels ``(n,)`` uint8 (60,000 and 10,000 for the real sets); ``.describe()`` says
    which dataset, folder and format were used. Raises DataError when the files are bad,
    are the other dataset, or cannot be found or fetched; the message lists where it
    looked.
    """
    _check_name(name)
    places = search(data_dir, name)
    files = _choose(places)
    if files is not None:
        return load_files(files, name)
    if not download:
        raise DataError(_not_found(name, places, None))
    try:
        dl.download(name, dl.cache_dir(name), progress=progress)
    except dl.DownloadError as exc:
        raise DataError(_not_found(name, places, exc)) from None
    found, note = look_in(dl.cache_dir(name), name)
    if found is None:  # pragma: no cover - download() just checked the files
        raise DataError(f"{dl.cache_dir(name)}: expected {name} after downloading, found {note}")
    return load_files(replace(found, found_by="download"), name)


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
        f"{name}_test.csv, or the book's {name}_train_100.csv and {name}_test_10.csv) in a "
        f"folder DIR and pass --data DIR or set {DATA_ENV}=DIR."
    )
