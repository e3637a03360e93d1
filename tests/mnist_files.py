"""Helpers for the data tests: tiny MNIST-style files written independently of ownnet
(``struct`` + ``gzip`` + plain text), the shared real data, and a loopback HTTP mirror."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import os
import re
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: $OWNNET_DATA as the test run started: tests that isolate themselves from it (deleting
#: it for the code under test) can still find the real files.
ENV_DATA = os.environ.get("OWNNET_DATA", "")


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """IDX bytes as the format defines them: 00 00 type ndim, big-endian uint32 dims, data."""
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    head = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    head += struct.pack(f">{array.ndim}I", *array.shape)
    return head + np.asarray(array).astype(big[type_code]).tobytes()


def gz(data: bytes, level: int = 6) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


def tiny_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 images ``(n, 28, 28)`` and labels ``(n,)`` cycling through 0..9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = ((np.arange(n) + seed) % 10).astype(np.uint8)
    return images, labels


def tiny_splits(n_train: int = 20, n_test: int = 10, seed: int = 0) -> dict:
    return {"train": tiny_arrays(n_train, seed), "test": tiny_arrays(n_test, seed + 1)}


def idx_files(splits: dict, compress: bool = True) -> dict[str, bytes]:
    """The four IDX files of ``splits`` as ``{filename: bytes}``."""
    out = {}
    for split, (images, labels) in splits.items():
        for stem, arr in zip(IDX_NAMES[split], (images, labels), strict=True):
            data = idx_bytes(arr)
            out[stem + (".gz" if compress else "")] = gz(data) if compress else data
    return out


def write_idx_dir(folder: Path, splits: dict, compress: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for filename, data in idx_files(splits, compress).items():
        (folder / filename).write_bytes(data)
    return folder


def csv_text(images: np.ndarray, labels: np.ndarray) -> str:
    lines = [
        ",".join([str(int(y))] + [str(int(p)) for p in x.ravel()])
        for x, y in zip(images, labels, strict=True)
    ]
    return "\n".join(lines) + "\n"


def write_csv_dir(folder: Path, splits: dict, name: str = "mnist") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split, (images, labels) in splits.items():
        (folder / f"{name}_{split}.csv").write_text(csv_text(images, labels))
    return folder


def write_npz(path: Path, splits: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (xt, yt), (xs, ys) = splits["train"], splits["test"]
    np.savez_compressed(path, x_train=xt, y_train=yt, x_test=xs, y_test=ys)
    return path


def remote_table(files: dict[str, bytes]) -> tuple:
    """A download checksum table (``RemoteFile`` s) for the gz files in ``files``."""
    from ownnet.data.download import RemoteFile

    order = ["train-images", "train-labels", "t10k-images", "t10k-labels"]
    table = []
    for prefix in order:
        filename = next(f for f in files if f.startswith(prefix))
        data = files[filename]
        content = gzip.decompress(data)
        table.append(
            RemoteFile(
                filename,
                gz_md5=hashlib.md5(data).hexdigest(),
                md5=hashlib.md5(content).hexdigest(),
                sha256=hashlib.sha256(content).hexdigest(),
            )
        )
    return tuple(table)


# ---------------------------------------------------------------- the shared real data


def real_dir(name: str = "mnist") -> Path | None:
    """The shared real dataset folder, if present ($OWNNET_DATA or ../shared/data)."""
    candidates = []
    for env in dict.fromkeys([os.environ.get("OWNNET_DATA", ""), ENV_DATA]):
        if env:
            base = Path(env)
            candidates += [base / name, base, base.parent / name]
    candidates.append(SHARED / name)
    for folder in candidates:
        if folder.name == name and (folder / "train-labels-idx1-ubyte.gz").is_file():
            return folder
    return None


def readme() -> str | None:
    """The shared data README (beside the real dataset folders), if present."""
    folders = [SHARED] + [d.parent for d in (real_dir("mnist"),) if d is not None]
    for path in (folder / "README.md" for folder in folders):
        if path.is_file():
            return path.read_text()
    return None


def require_real(name: str = "mnist") -> Path:
    """The real dataset folder; skips the test when it is absent (a user's clone without
    the shared data), saying how to point the tests at it."""
    import pytest

    folder = real_dir(name)
    if folder is None:
        pytest.skip(
            f"needs the real {name}: set OWNNET_DATA to a folder with its four IDX .gz "
            f"files (CI uses {SHARED / name})"
        )
    return folder


def require_readme() -> str:
    """The shared data README's text; skips the test when it is absent."""
    import pytest

    text = readme()
    if text is None:
        pytest.skip(f"needs the data README with the published counts and md5s: {SHARED}/README.md")
    return text


def readme_label_counts(text: str) -> dict[str, list[int]]:
    """``{"train": [...10], "test": [...10]}`` from 'Train label counts 0..9: ...' lines."""
    out = {}
    for split in ("train", "test"):
        m = re.search(rf"{split} label counts 0\.\.9:\s*([\d ]+)", text, re.IGNORECASE)
        assert m, f"no {split} label counts in the data README"
        out[split] = [int(v) for v in m.group(1).split()]
    return out


def readme_md5_table(text: str) -> dict[str, tuple[str, str]]:
    """``{filename: (gz md5, uncompressed md5)}`` from the README's MNIST table."""
    rows = re.findall(
        r"\|\s*([\w.-]+\.gz)\s*\|\s*[\d,]+\s*\|\s*(\w{32})\s*\|\s*(\w{32})\s*\|", text
    )
    return {name: (a, b) for name, a, b in rows}


# ---------------------------------------------------------------- a loopback mirror


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` under /<mode>/<filename>.

    good: as is; corrupt: one byte flipped; drop: full Content-Length, then half the body
    and the connection closes; recompressed: content recompressed at another level;
    anything else: 404.
    """

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        parts = self.path.strip("/").split("/")
        files = self.server.files  # type: ignore[attr-defined]
        if len(parts) != 2 or parts[1] not in files:
            self.send_error(404)
            return
        mode, filename = parts
        body = files[filename]
        if mode == "corrupt":
            body = bytearray(body)
            body[len(body) // 2] ^= 0xFF
            body = bytes(body)
        elif mode == "recompressed":
            body = gz(gzip.decompress(body), level=1)
            body = body[:9] + b"\x03" + body[10:]  # another OS byte: surely other bytes
        elif mode not in ("good", "drop"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "drop":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def mirror_server(files: dict[str, bytes]) -> Iterator[tuple[str, list[str]]]:
    """Run a loopback HTTP mirror of ``files``; yields ``(base URL, request log)``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.files = files  # type: ignore[attr-defined]
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- hostile files


def npy_bytes(array: np.ndarray) -> bytes:
    """An array as a ``.npy`` file, as np.save writes it."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def npy_with_header(header: bytes, data: bytes = b"", version: int = 1) -> bytes:
    """A ``.npy`` file with any header text (a dict literal, or not) and data."""
    width = 2 if version == 1 else 4
    size = len(header).to_bytes(width, "little")
    return b"\x93NUMPY" + bytes([version, 0]) + size + header + data


def zip_bytes(members: dict[str, bytes], compress: bool = False) -> bytes:
    """A zip archive of ``members`` (without the zip64 extras np.savez adds)."""
    import io
    import zipfile

    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def npz_bytes(arrays: dict[str, np.ndarray], compress: bool = False) -> bytes:
    """An npz archive of ``arrays`` (``name.npy`` members)."""
    return zip_bytes({f"{k}.npy": npy_bytes(v) for k, v in arrays.items()}, compress)


#: field -> (offset in the local header, offset in the central directory entry, format)
ZIP_FIELDS = {
    "version": (4, 6, "<H"),
    "flags": (6, 8, "<H"),
    "method": (8, 10, "<H"),
    "csize": (18, 20, "<L"),
    "usize": (22, 24, "<L"),
}


def patch_zip(data: bytes, member: str, **fields: int) -> bytes:
    """``data`` (a zip without zip64 extras) with header fields of ``member`` changed in
    both its local header and its central directory entry: ``version`` (needed to
    extract), ``flags``, ``method``, ``csize``, ``usize``."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        n_name = struct.unpack_from("<H", out, pos + 28)[0]
        if out[pos + 46 : pos + 46 + n_name] == member.encode():
            local = struct.unpack_from("<L", out, pos + 42)[0]
            for key, value in fields.items():
                at_local, at_central, fmt = ZIP_FIELDS[key]
                struct.pack_into(fmt, out, local + at_local, value)
                struct.pack_into(fmt, out, pos + at_central, value)
            return bytes(out)
        pos = out.find(b"PK\x01\x02", pos + 46)
    raise KeyError(member)
