"""Load test of ``ownnet serve``: many predict (or inside-view) requests at once.

Starts ``ownnet serve MODEL`` on a free loopback port (or uses ``--url``), sends
``--requests`` ``POST /api/predict`` requests (``--endpoint inside``: ``POST
/api/inside``, every layer's output and the saliency map of one drawing) from
``--concurrency`` keep-alive connections at once, and prints one JSON line:
requests per second, latency percentiles (p50, p90, p99, max, in ms), the size
of the answers and the number of errors (any answer but a 200 with a digit, any
timeout or broken connection). The whole run is bounded by ``--timeout`` seconds.
Goals for the p99 at 32 at once: 50 ms for predictions, 100 ms for the inside view.

Bodies (``--body``): ``json`` sends 28x28 pixels of real test digits (the API's
array input); ``png`` uploads a 280x280 PNG drawing, as the draw page does, which
the server prepares like ``ownnet predict`` (crop, scale, centre). Without
``--model`` an untrained 784-200-10 classic network is served: the time to
answer does not depend on what the weights are.

    python benchmarks/serve_load.py                    # 2,000 requests, 32 at once, json
    python benchmarks/serve_load.py --body png --model ownnet-model.npz
    python benchmarks/serve_load.py --endpoint inside --model cnn.npz

The client is a small asyncio HTTP/1.1 client (no library), so that the
client's own cost on a shared machine stays small.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import platform
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

#: p99 latency goals (ms) per endpoint
GOAL_P99_MS = {"predict": 50.0, "inside": 100.0}
PATHS = {"predict": "/api/predict", "inside": "/api/inside"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_bodies(n: int, data: str | None) -> list[bytes]:
    """``n`` JSON bodies: real test digits when MNIST is found, else random blobs."""
    try:
        from ownnet.data.mnist import load_mnist

        images = load_mnist(data, progress=False, download=False).test.images[:n]
    except Exception:
        rng = np.random.default_rng(0)
        images = np.zeros((n, 28, 28), np.uint8)
        images[:, 4:24, 11:17] = rng.integers(0, 256, (n, 20, 6))
    return [json.dumps({"pixels": img.tolist()}).encode() for img in images]


def png_bodies(n: int) -> tuple[list[bytes], str]:
    """``n`` multipart bodies, each a 280x280 PNG of a pen stroke like the draw page sends."""
    from PIL import Image, ImageDraw

    boundary = "ownnetbenchmarkboundary"
    rng = np.random.default_rng(0)
    bodies = []
    for _ in range(n):
        im = Image.new("L", (280, 280), 255)
        draw = ImageDraw.Draw(im)
        pts = [(int(x), int(y)) for x, y in rng.integers(50, 230, (4, 2))]
        draw.line(pts, fill=0, width=20, joint="curve")
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="drawing.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        bodies.append(head + buf.getvalue() + f"\r\n--{boundary}--\r\n".encode())
    return bodies, f"multipart/form-data; boundary={boundary}"


def answer_digit(payload: bytes) -> int | None:
    """The ``"digit"`` of an answer, found without parsing all of it (an inside-view answer
    in JSON is some 200 kB; parsing it would cost the client more than the server). An
    answer in bytes has it in its JSON header."""
    if payload[:1] != b"{":
        (n,) = struct.unpack("<I", payload[:4])
        return json.loads(payload[4 : 4 + n])["digit"]
    at = payload.rfind(b'"digit":')
    if at < 0:
        return None
    digits = payload[at + 8 : at + 12].split(b",")[0].split(b"}")[0]
    return int(digits) if digits.strip().isdigit() else None


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, ctype: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def connections(url: str, n: int) -> list[Connection]:
    """``n`` keep-alive connections to ``url`` (opened on first use)."""
    parts = urlsplit(url)
    return [Connection(parts.hostname or "127.0.0.1", parts.port or 80) for _ in range(n)]


async def load(
    conns: list[Connection],
    bodies: list[bytes],
    ctype: str,
    n: int,
    timeout: float,
    path: str = "/api/predict",
) -> dict:
    """Send ``n`` requests, one at a time on each of ``conns`` (so ``len(conns)`` at once)."""
    latencies: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []
    counter = iter(range(n))

    async def worker(conn: Connection) -> None:
        for i in counter:
            body = bodies[i % len(bodies)]
            t0 = time.perf_counter()
            try:
                status, payload = await asyncio.wait_for(conn.post(path, body, ctype), timeout)
                ok = status == 200 and answer_digit(payload) in range(10)
                sizes.append(len(payload))
                if not ok:
                    errors.append(f"HTTP {status}: {payload[:200]!r}")
            except Exception as exc:  # noqa: BLE001 - every failure is an error of the run
                errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                continue
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in conns))
    seconds = time.perf_counter() - start
    ms = np.array(latencies) * 1000.0
    pct = (lambda q: round(float(np.percentile(ms, q)), 2)) if len(ms) else (lambda q: None)
    return {
        "requests": n,
        "ok": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(seconds, 3),
        "req_per_s": round(n / seconds, 1),
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": round(float(ms.max()), 2) if len(ms) else None,
        "answer_kb": round(float(np.mean(sizes)) / 1024, 1) if sizes else None,
    }


#: ``ownnet serve`` in a new process (its own module only, so no other command's imports
#: are timed or needed).
SERVE = (
    "import argparse, sys; from ownnet.cli import serve; p = argparse.ArgumentParser(); "
    "serve.register(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (Linux), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_loop(coro: object) -> dict:
    """Run the client on uvloop when installed (less of the shared CPU for the client)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def start_server(model: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-c", SERVE, "serve", str(model), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server did not start: {proc.stderr.read().decode()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/model", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the server did not answer within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, help="model file (default: untrained 784-200-10)")
    parser.add_argument("--url", help="use a server already running here instead of starting one")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--body", choices=["json", "png"], default="json")
    parser.add_argument(
        "--endpoint", choices=sorted(PATHS), default="predict", help="predict or inside"
    )
    parser.add_argument(
        "--encoding",
        choices=["uint8", "json"],
        default="uint8",
        help="inside: the answer in bytes, as the draw page asks for it (default), or JSON",
    )
    parser.add_argument("--warmup", type=int, default=100, help="requests sent first, not counted")
    parser.add_argument("--timeout", type=float, default=120.0, help="bound on the whole run (s)")
    parser.add_argument("--data", help="MNIST folder for the json bodies (default: $OWNNET_DATA)")
    args = parser.parse_args()

    if args.endpoint == "inside" and args.body != "json":
        parser.error("--endpoint inside takes JSON pixels (--body json)")
    if args.body == "json":
        bodies, ctype = json_bodies(500, args.data), "application/json"
    else:
        bodies, ctype = png_bodies(100)
    path = PATHS[args.endpoint]
    if args.endpoint == "inside":
        path += f"?encoding={args.encoding}"
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None and args.url is None:
            from ownnet.classic import Network
            from ownnet.io import save_model

            model = save_model(Path(tmp) / "untrained.npz", Network(784, 200, 10, seed=0))
        try:
            if args.url is None:
                port = free_port()
                proc = start_server(model, port)
                url = f"http://127.0.0.1:{port}"
            else:
                url = args.url
            per_request = 10.0

            async def run() -> dict:
                # the warm-up also opens the keep-alive connections the timed run uses
                conns = connections(url, args.concurrency)
                await load(conns, bodies, ctype, max(args.warmup, len(conns)), per_request, path)
                gc.collect()
                gc.freeze()  # the client's own garbage collection out of the timings
                cpu0 = cpu_seconds(proc.pid) if proc is not None else None
                mine0 = cpu_seconds(os.getpid())
                try:
                    result = await load(conns, bodies, ctype, args.requests, per_request, path)
                    cpu1 = cpu_seconds(proc.pid) if proc is not None else None
                    mine1 = cpu_seconds(os.getpid())
                    if mine0 is not None and mine1 is not None:
                        result["client_cpu_ms_per_request"] = round(
                            (mine1 - mine0) * 1000 / args.requests, 3
                        )
                    if cpu0 is not None and cpu1 is not None:
                        result["server_cpu_ms_per_request"] = round(
                            (cpu1 - cpu0) * 1000 / args.requests, 3
                        )
                    return result
                finally:
                    for conn in conns:
                        conn.close()

            try:
                result = run_loop(asyncio.wait_for(run(), args.timeout))
            except asyncio.TimeoutError:
                result = {"requests": args.requests, "errors": None, "timed_out": args.timeout}
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    p99 = result.get("p99_ms")
    goal = GOAL_P99_MS[args.endpoint]
    line = {
        "benchmark": "serve_load",
        "endpoint": args.endpoint,
        **({"encoding": args.encoding} if args.endpoint == "inside" else {}),
        "body": args.body,
        "concurrency": args.concurrency,
        "model": str(args.model) if args.model else "untrained classic 784-200-10",
        **result,
        "goal_p99_ms": goal,
        "goal_met": bool(p99 is not None and p99 < goal and result.get("errors") == 0),
        "load_average": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(line))
    return 0 if result.get("errors") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
