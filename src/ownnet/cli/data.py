"""``ownnet data``: where the MNIST files are (``info``) and fetching them (``download``)."""

from __future__ import annotations

import argparse
import hashlib
import os
from typing import Any

from ownnet.data.download import FILES, cache_dir, download, mirror_list, published_match
from ownnet.data.identify import identify_labels
from ownnet.data.mnist import load_files, search
from ownnet.errors import DataError
from ownnet.inputfile import open_regular

NAMES = ("mnist", "fashion-mnist")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data",
        help="show where the dataset is found, or download it",
        description=(
            "Find or fetch MNIST.\n\n"
            "Files are looked for in --data DIR, then $OWNNET_DATA, then the cache\n"
            "(~/.cache/ownnet/NAME). In a folder D both D/NAME and D itself are tried; each\n"
            "holds the four IDX files (.gz or raw), NAME.npz (Keras) or NAME_train.csv +\n"
            "NAME_test.csv (the book's CSV; or its small NAME_train_100.csv +\n"
            "NAME_test_10.csv). A --data folder named for the other dataset is an error.\n"
            "No data file may decode to more than 2 GiB: set OWNNET_MAX_BYTES to change that."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    info = actions.add_parser(
        "info", help="print where it looked, what it found and the counts per label"
    )
    info.add_argument("--data", metavar="DIR", help="folder with the dataset files")
    _add_name(info)
    info.set_defaults(func=run_info)

    get = actions.add_parser("download", help="download into the cache, checking every file")
    _add_name(get)
    get.add_argument(
        "--mirror",
        action="append",
        metavar="URL",
        help="folder URL to try instead of the built-in mirrors (repeat for several; "
        "default: $OWNNET_MIRRORS, else the built-in list)",
    )
    get.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="network timeout (10 s)"
    )
    get.add_argument("--quiet", action="store_true", help="no progress bars")
    get.set_defaults(func=run_download)

    p.set_defaults(func=lambda args: _usage(p))


def _add_name(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", choices=NAMES, default="mnist", help="which dataset (mnist)")


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def _sha256_of_file(path: Any) -> str:

    h = hashlib.sha256()
    with open_regular(path) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _published(path: Any, name: str, sha256: str) -> str:
    """Whether ``path`` (whose bytes have the digest ``sha256``) is one of the published
    files of ``name`` (IDX only)."""

    base = path.name.removesuffix(".gz").replace(".idx", "-idx")
    for remote in FILES[name]:
        if remote.filename.removesuffix(".gz") == base:
            if path.name.endswith(".gz"):
                match = published_match(path, remote)
            else:
                match = "content" if sha256 == remote.sha256 else None
            if match is None:
                return "NOT the published data"
            return "published file" if match == "file" else "published content, recompressed"
    return ""


def run_info(args: argparse.Namespace) -> int:

    places = search(args.data, args.name)
    print(f"{args.name}: looked in, in order")
    used = next((p for p in places if p.found is not None or p.refused), None)
    for place in places:
        mark = "->" if place is used else "  "
        if place.origin == "cache" and not os.environ.get("OWNNET_DATA"):
            print("    $OWNNET_DATA: not set")
        print(f" {mark} {place.describe()}")
    if used is not None and used.refused:
        raise DataError(used.refused)
    if used is None:
        print(
            f"nothing found. `ownnet data download --name {args.name}` fetches it into the "
            f"cache; or put the files in a folder and pass --data DIR or set OWNNET_DATA=DIR."
        )
        return 1
    files = used.found
    assert files is not None
    print(f"using {files.directory} ({files.format})")
    width = max(len(f.name) for f in files.files)
    for f in files.files:
        sha256 = _sha256_of_file(f)
        note = _published(f, args.name, sha256) if files.format == "idx" else ""
        print(
            f"    {f.name:<{width}}  {f.stat().st_size:>12,} bytes  "
            f"sha256 {sha256[:12]}  {note}".rstrip()
        )
    splits = load_files(files, args.name)
    print(_counts_table([splits.train, splits.test]))
    for d in splits:
        shape = "x".join(str(s) for s in d.images.shape[1:])
        print(f"{d.name}: {len(d)} images {shape} uint8, checksum {d.checksum()[:16]}")
    print(f"labels: {_labels_check(splits)}")
    return 0


def _labels_check(splits: Any) -> str:
    """Whether each split's labels are the published ones of a dataset, by checksum."""

    known = [identify_labels(d.labels) for d in splits]
    if all(k is not None for k in known):
        return ", ".join(
            f"{split} = the published {k[0]} {k[1]} labels"
            for split, k in zip(("train", "test"), known)
        )  # type: ignore[index]
    return (
        f"not the published labels of {' or '.join(NAMES)} "
        f"({len(splits.train)} and {len(splits.test)} samples: a subset, or other data)"
    )


def _counts_table(datasets: list[Any]) -> str:
    """Label counts, one row per dataset: label 0..9 and total."""
    width = max([len("label")] + [len(d.name) for d in datasets]) + 2
    rows = ["label".ljust(width) + "".join(f"{i:>7}" for i in range(10)) + "    total"]
    for d in datasets:
        counts = d.label_counts()
        cells = "".join(f"{int(c):>7}" for c in counts)
        rows.append(f"{d.name:<{width}}{cells}{int(counts.sum()):>9}")
    return "\n".join(rows)


def run_download(args: argparse.Namespace) -> int:

    folder = cache_dir(args.name)
    mirrors = mirror_list(args.name, args.mirror)
    print(f"{args.name} -> {folder}; mirrors, in order: {', '.join(mirrors)}")
    paths = download(
        args.name, folder, mirrors=mirrors, timeout=args.timeout, progress=not args.quiet
    )
    for path in paths:
        print(f"    {path.name}  {path.stat().st_size:,} bytes  checksum ok")
    print(f"{args.name} is in {folder}")
    return 0
