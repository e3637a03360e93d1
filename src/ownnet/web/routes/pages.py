"""The pages: draw (``/``), watch it learn (``/watch``), the API docs (``/docs``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

#: Content-Security-Policy of the pages: nothing may be loaded from anywhere but here.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'none'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def page(name: str) -> FileResponse:
    return FileResponse(
        STATIC / name,
        media_type="text/html",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
    )


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/")
    async def draw_page() -> FileResponse:
        return page("index.html")

    @r.get("/watch")
    async def watch_page() -> FileResponse:
        return page("watch.html")

    @r.get("/docs")
    async def docs_page() -> FileResponse:
        return page("docs.html")

    return r
