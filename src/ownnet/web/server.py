"""Run the app with uvicorn: in the foreground for ``ownnet serve``, or in a thread.

Both bind the listening socket first, so the port is known (port 0 picks a
free one) and an address in use is reported before the server starts.

A client gets :data:`REQUEST_TIMEOUT` seconds from its first byte (or from
connecting) to send a whole request, headers and body; a stalled or very slow
client is then disconnected (:func:`deadline_protocol`), so it cannot hold a
connection and its buffers for ever. Idle keep-alive connections close after
uvicorn's own 5 seconds.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Any

from ownnet.errors import OwnnetError

#: Seconds a client has to send one whole request (headers and body).
REQUEST_TIMEOUT = 20.0

#: Host names that mean this machine only.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OwnnetError(f"cannot listen on {host}:{port}: unknown host ({exc})") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise OwnnetError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def deadline_protocol(seconds: float) -> type:
    """uvicorn's HTTP protocol, closing a connection whose request is not all in within
    ``seconds`` of its first byte (or of the connection, before any byte)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class Deadline(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        _deadline: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None:  # the first bytes of a request
                self._arm()
            super().data_received(data)
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete and not cycle.more_body:
                self._disarm()  # the whole request is in: the app may take its time

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    return Deadline


def uvicorn_server(
    app: Any,
    *,
    log_level: str = "warning",
    access_log: bool = False,
    request_timeout: float = REQUEST_TIMEOUT,
) -> Any:
    """A :class:`uvicorn.Server` for ``app`` (quiet by default) that disconnects clients
    that take longer than ``request_timeout`` seconds to send a request."""
    import uvicorn

    config = uvicorn.Config(
        app,
        http=deadline_protocol(request_timeout),
        log_level=log_level,
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    return uvicorn.Server(config)


class BackgroundServer:
    """``with BackgroundServer(app) as server:`` serves ``app`` at ``server.url`` in a thread.

    Args:
        app: an ASGI app.
        host: where to listen (loopback by default).
        port: 0 picks a free port.
        request_timeout: seconds a client has to send one request.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.request_timeout = request_timeout
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> BackgroundServer:
        sock = bind(self.host, self.port)
        self.url = url_of(sock)
        self._server = uvicorn_server(self.app, request_timeout=self.request_timeout)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="ownnet-serve", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
