"""Download MNIST or Fashion-MNIST from public mirrors, checked, into the cache.

Each file is tried on every mirror in order. A download streams into a temporary file
beside the target while its hashes are computed (of the gzip bytes and, decompressing on
the fly, of the content); it is renamed into place only when it checks out, so a bad
mirror or a dropped connection never leaves a partial or wrong file behind.

A file is accepted when the md5 of its gzip bytes is the published one, or when the
SHA-256 of its decompressed content is the genuine content's (a mirror that recompressed
the files, like Debian's Fashion-MNIST, is fine). The mirror list comes from the
``mirrors`` argument, else ``$OWNNET_MIRRORS`` (URLs separated by spaces or commas;
``{name}`` is replaced by the dataset name), else the defaults below.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import socket
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm  # text bars everywhere (tqdm.auto warns in notebooks without ipywidgets)

from ownnet import __version__
from ownnet.atomic import atomic_open
from ownnet.errors import DataError
from ownnet.inputfile import open_regular


@dataclass(frozen=True)
class RemoteFile:
    """One published file and the hashes a download must match."""

    filename: str
    gz_md5: str  # md5 of the published .gz
    md5: str  # md5 of the decompressed content
    sha256: str  # sha256 of the decompressed content
    gz_sha256: str | None = None  # sha256 of the published .gz, when known


#: Published files with their hashes. MNIST: md5s from ../shared/data/README.md (the
#: published files); SHA-256s computed from those files. Fashion-MNIST: gz md5s from
#: zalandoresearch/fashion-mnist; content md5s from the README, SHA-256s from the content.
FILES: dict[str, tuple[RemoteFile, ...]] = {
    "mnist": (
        RemoteFile(
            "train-images-idx3-ubyte.gz",
            gz_md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
            md5="6bbc9ace898e44ae57da46a324031adb",
            sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            gz_sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        RemoteFile(
            "train-labels-idx1-ubyte.gz",
            gz_md5="d53e105ee54ea40749a09fcbcd1e9432",
            md5="a25bea736e30d166cdddb491f175f624",
            sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            gz_sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            gz_md5="9fb629c4189551a2d022fa330f9573f3",
            md5="2646ac647ad5339dbf082846283269ea",
            sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            gz_sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            gz_md5="ec29112dd5afa0611ce80d1b7f02629c",
            md5="27ae3e4e09519cfbb04c329615203637",
            sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            gz_sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    ),
    "fashion-mnist": (
        RemoteFile(
            "train-images-idx3-ubyte.gz",
            gz_md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            md5="f4a8712d7a061bf5bd6d2ca38dc4d50a",
            sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        RemoteFile(
            "train-labels-idx1-ubyte.gz",
            gz_md5="25c81989df183df01b3e8a0aad5dffbe",
            md5="9018921c3c673c538a1fc5bad174d6f9",
            sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            gz_md5="bef4ecab320f06d8554ea6380940ec79",
            md5="8181f5470baa50b63fa0f6fddb340f0a",
            sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            gz_md5="bb300cfdad3c16e7a12a480ee83cd310",
            md5="15d484375f8d13e6eb1aabb0c3f46965",
            sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    ),
}

#: Mirrors tried in order (each is a folder URL holding the four .gz files).
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

MIRRORS_ENV = "OWNNET_MIRRORS"
CACHE_ENV = "OWNNET_CACHE"
TIMEOUT = 10.0  # seconds to connect, and between two reads
MAX_BYTES = 200 * 2**20  # refuse anything larger: no mirror may fill the disk
_CHUNK = 1 << 16


class DownloadError(DataError):
    """Every mirror failed for one file; ``attempts`` lists ``(url, error)`` for each try."""

    def __init__(self, message: str, attempts: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.attempts = attempts


def cache_root() -> Path:
    """``$OWNNET_CACHE``, else ``$XDG_CACHE_HOME/ownnet``, else ``~/.cache/ownnet``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "ownnet"


def cache_dir(name: str) -> Path:
    """Where downloads of dataset ``name`` go: ``cache_root() / name``."""
    return cache_root() / name


def mirror_list(name: str, mirrors: Sequence[str] | None = None) -> list[str]:
    """The mirror URLs to try for ``name``, in order, each ending in ``/``."""
    if mirrors is None and os.environ.get(MIRRORS_ENV, "").strip():
        mirrors = re.split(r"[\s,]+", os.environ[MIRRORS_ENV].strip())
    if mirrors is None:
        mirrors = MIRRORS[name]
    urls = [m.replace("{name}", name) for m in mirrors if m]
    return [u if u.endswith("/") else u + "/" for u in urls]


class _Hashes:
    """md5 and sha256 of a gzip stream's bytes, and sha256 of its content (decompressed on
    the fly)."""

    def __init__(self) -> None:
        self.gz_md5 = hashlib.md5(usedforsecurity=False)
        self.gz_sha256 = hashlib.sha256()
        self.sha256 = hashlib.sha256()
        self._inflate = zlib.decompressobj(wbits=31)
        self.problem: str | None = None

    def update(self, chunk: bytes) -> None:
        self.gz_md5.update(chunk)
        self.gz_sha256.update(chunk)
        if self.problem:
            return
        try:
            data = chunk
            while True:  # at most _CHUNK bytes out at a time, whatever the ratio
                out = self._inflate.decompress(data, _CHUNK)
                self.sha256.update(out)
                if self._inflate.eof:
                    data = self._inflate.unused_data
                    if not data:
                        break
                    self._inflate = zlib.decompressobj(wbits=31)  # next gzip member
                else:
                    data = self._inflate.unconsumed_tail
                    if not data and not out:
                        break
        except zlib.error as exc:
            self.problem = f"not valid gzip data ({exc})"

    def match(self, remote: RemoteFile) -> str | None:
        """``"file"`` (the published gzip bytes), ``"content"`` (same content), or None."""
        if remote.gz_sha256 is not None:
            if self.gz_sha256.hexdigest() == remote.gz_sha256:
                return "file"
        elif self.gz_md5.hexdigest() == remote.gz_md5:
            return "file"
        if not self.problem and not self._inflate.eof:
            self.problem = "gzip stream cut short"
        if not self.problem and self.sha256.hexdigest() == remote.sha256:
            return "content"
        return None

    def verdict(self, remote: RemoteFile) -> str | None:
        """None when the bytes are the published file or its content; else the reason."""
        if self.match(remote) is not None:
            return None
        found = self.problem or f"content sha256 {self.sha256.hexdigest()[:16]}..."
        return (
            f"checksum mismatch: expected gz md5 {remote.gz_md5} or content sha256 "
            f"{remote.sha256[:16]}..., found gz md5 {self.gz_md5.hexdigest()}, {found}"
        )


def _hash_file(path: str | os.PathLike[str]) -> _Hashes:
    hashes = _Hashes()
    with open_regular(path, DataError, "file") as f:
        while chunk := f.read(1 << 20):
            hashes.update(chunk)
    return hashes


def verify_file(path: str | os.PathLike[str], remote: RemoteFile) -> str | None:
    """Check a local .gz file against ``remote``: None when good, else what is wrong."""
    try:
        return _hash_file(path).verdict(remote)
    except DataError as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read: {exc}"


def published_match(path: str | os.PathLike[str], remote: RemoteFile) -> str | None:
    """``"file"`` if ``path`` (a .gz) is the published file, ``"content"`` if it holds the
    published content compressed differently, else None."""
    try:
        return _hash_file(path).match(remote)
    except (OSError, DataError):
        return None


class _Rejected(Exception):
    """One mirror failed for one file; the message says why."""

    def __init__(self, reason: str, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.unreachable = unreachable


def _describe(exc: BaseException, timeout: float) -> tuple[str, bool]:
    """A one-line reason for a failed request, and whether the host is unreachable."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}", False
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"timed out after {timeout:g} s", True
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return f"timed out after {timeout:g} s", True
        text = getattr(reason, "strerror", None) or str(reason)
        return f"cannot connect: {text}", True
    if isinstance(exc, http.client.IncompleteRead):
        return f"connection closed after {len(exc.partial):,} bytes", False
    if isinstance(exc, http.client.HTTPException):
        return f"bad response: {type(exc).__name__} {exc}".strip(), False
    return f"{type(exc).__name__}: {exc}", False


def _fetch(url: str, dest: Path, remote: RemoteFile, timeout: float, progress: bool) -> None:
    """Download ``url`` to ``dest`` if it matches ``remote``; raise _Rejected otherwise."""

    request = urllib.request.Request(url, headers={"User-Agent": f"ownnet/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > MAX_BYTES:
                raise _Rejected(f"refused: {total:,} bytes is more than {MAX_BYTES:,}")
            hashes = _Hashes()
            got = 0
            with (
                atomic_open(dest) as out,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=remote.filename,
                    disable=not progress,
                    leave=False,
                ) as bar,
            ):
                while chunk := resp.read(_CHUNK):
                    got += len(chunk)
                    if got > MAX_BYTES:
                        raise _Rejected(f"refused: more than {MAX_BYTES:,} bytes")
                    out.write(chunk)
                    hashes.update(chunk)
                    bar.update(len(chunk))
                if total is not None and got != total:
                    raise _Rejected(f"connection closed after {got:,} of {total:,} bytes")
                problem = hashes.verdict(remote)
                if problem:
                    raise _Rejected(problem)
    except _Rejected:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        reason, unreachable = _describe(exc, timeout)
        raise _Rejected(reason, unreachable) from None


def download(
    name: str,
    dest: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    timeout: float = TIMEOUT,
    progress: bool = True,
) -> list[Path]:
    """Make sure ``dest`` (default ``cache_dir(name)``) holds the four checked .gz files.

    Files already there that check out are kept; others are fetched, each from the first
    mirror that delivers a good copy. Returns the four paths. Raises DownloadError (with
    every ``(url, error)`` tried) when a file cannot be had from any mirror, and DataError
    when ``dest`` cannot be written.
    """
    if name not in FILES:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(FILES)}")
    folder = Path(dest) if dest is not None else cache_dir(name)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{folder}: cannot create the download folder: {exc}") from None
    try:
        return _download_into(folder, name, mirror_list(name, mirrors), timeout, progress)
    except BaseException:
        if created:  # leave no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _download_into(
    folder: Path, name: str, urls: list[str], timeout: float, progress: bool
) -> list[Path]:
    unreachable: dict[str, str] = {}  # mirror -> why, skipped for the remaining files
    attempts: list[tuple[str, str]] = []
    paths = []
    for remote in FILES[name]:
        target = folder / remote.filename
        paths.append(target)
        if target.exists() and verify_file(target, remote) is None:
            continue
        for base in urls:
            url = base + remote.filename
            if base in unreachable:
                continue
            try:
                _fetch(url, target, remote, timeout, progress)
                break
            except _Rejected as exc:
                attempts.append((url, str(exc)))
                if exc.unreachable:
                    unreachable[base] = str(exc)
        else:
            tried = "\n".join(f"  {url}: {why}" for url, why in attempts) or "  (no mirrors)"
            raise DownloadError(
                f"could not download {remote.filename} from any mirror into {folder}:\n{tried}",
                attempts,
            )
    return paths
