"""Two ASGI middlewares that stand between the network and the app.

:class:`SameOrigin` refuses requests that could change something (``POST``
and the like) when a browser says they come from another site. Any web page
the user visits can make the browser send a "simple" request (a form, or
``fetch`` with ``mode: "no-cors"``) to ``http://127.0.0.1:8000``; the browser
marks it with ``Origin`` and ``Sec-Fetch-Site``, and it is refused here before
anything runs. The endpoints that change state also accept only
``application/json`` bodies (:mod:`ownnet.web.body`), which a page of another
origin cannot send without a CORS preflight that this server never grants.
Requests without those headers (``curl``, scripts) are not browsers' and pass.

:class:`SafetyNet` turns an error that escaped a handler into a JSON answer
that says so (status 500), instead of a dropped connection that takes the
other requests of a keep-alive connection with it. It is a net, not the
design: every input a client can send has its own 4xx answer.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Methods that may change state.
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: ``Sec-Fetch-Site`` values of a request the user's own page (or the user) made.
OWN_SITES = frozenset({b"same-origin", b"none"})

log = logging.getLogger("ownnet.web")


async def send_json(send: Send, status: int, detail: str, close: bool = False) -> None:
    """Answer ``{"detail": detail}`` with ``status``."""
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SameOrigin:
    """Refuse ``POST``/``PUT``/``PATCH``/``DELETE`` from another origin with 403."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE:
            problem = foreign(scope)
            if problem is not None:
                await send_json(send, 403, problem)
                return
        await self.app(scope, receive, send)


def foreign(scope: Scope) -> str | None:
    """Why this request comes from another site, or None if nothing says it does."""
    headers = dict(scope.get("headers", []))
    site = headers.get(b"sec-fetch-site")
    if site is not None and site not in OWN_SITES:
        return (
            f"refused: a request from another site (Sec-Fetch-Site: {site.decode('latin-1')}); "
            "only this server's own pages may change anything"
        )
    origin = headers.get(b"origin")
    if origin is not None:
        host = headers.get(b"host", b"").decode("latin-1")
        own = f"{scope.get('scheme', 'http')}://{host}"
        if origin.decode("latin-1") != own:
            return (
                f"refused: a request from the page at {origin.decode('latin-1')[:200]!r}; "
                f"only this server's own pages ({own}) may change anything"
            )
    return None


class SafetyNet:
    """Answer an unexpected error with a JSON 500 that says what happened (and log it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            where = f"{scope.get('method')} {scope.get('path')}"
            log.error("ownnet serve: unexpected %s in %s: %s", type(exc).__name__, where, exc)
            if started:
                raise
            detail = f"unexpected error in {where}: {type(exc).__name__}: {exc} (a bug in ownnet)"
            await send_json(send, 500, detail)
