"""JSON request bodies: only ``application/json``, parsed safely, checked field by field.

Every endpoint that changes state reads its body through :func:`json_body`:
a body of another type gets 415 (a page of another origin can only send
"simple" types without a preflight), JSON that does not parse or is nested
too deeply 400, and settings that break the rules of the pydantic model 422
with one line per bad field.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import HTTPException, Request
from pydantic import BaseModel, ValidationError

from ownnet.web.inputs import InputError, parse_json

M = TypeVar("M", bound=BaseModel)


def is_json(request: Request) -> bool:
    """Whether the request says its body is JSON."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


async def json_doc(request: Request) -> Any:
    """The request's JSON body (an empty body is ``{}``).

    Raises:
        HTTPException: 415 unless the body is ``application/json``; 400 if it does not parse.
    """
    if not is_json(request):
        ctype = request.headers.get("content-type") or "(none)"
        raise HTTPException(
            415,
            f"expected a JSON body (Content-Type: application/json), found {ctype[:80]!r}",
        )
    body = await request.body()
    if not body.strip():
        return {}
    try:
        return parse_json(body)
    except InputError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def validate(model: type[M], doc: Any) -> M:
    """``doc`` as a ``model``; 422 naming each bad field otherwise."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise HTTPException(422, describe_errors(exc)) from None
    except RecursionError:
        raise HTTPException(422, "request body is nested too deeply") from None


async def json_body(request: Request, model: type[M]) -> M:
    """The request's JSON body checked against ``model`` (see the module doc)."""
    return validate(model, await json_doc(request))


def describe_errors(exc: ValidationError) -> str:
    """One line per error: ``field: what was wrong (found ...)``."""
    lines = []
    for err in exc.errors()[:10]:
        where = ".".join(str(x) for x in err.get("loc", ())) or "body"
        found = err.get("input")
        shown = repr(found)[:60] if not isinstance(found, (dict, list)) else type(found).__name__
        lines.append(f"{where}: {err.get('msg', 'invalid')} (found {shown})")
    return "; ".join(lines)


async def predict_body(request: Request) -> tuple[str, bytes]:
    """``("pixels", JSON bytes)`` or ``("image", encoded image bytes)`` from a multipart
    field ``file``, an ``image/*`` body or a JSON body (415 for anything else)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if is_json(request):
        return "pixels", await request.body()
    if ctype == "multipart/form-data":
        return "image", await upload(request)
    if ctype.startswith("image/") or ctype == "application/octet-stream":
        return "image", await request.body()
    raise HTTPException(
        415,
        f"unsupported Content-Type {ctype[:80] or '(none)'!r}: send an image as a multipart "
        "field 'file' or as an image/* body, or JSON pixels as application/json",
    )


async def upload(request: Request) -> bytes:
    """The bytes of the multipart field ``file`` (its client file name is ignored)."""
    from starlette.datastructures import UploadFile
    from starlette.exceptions import HTTPException as StarletteHTTPException

    try:
        form = await request.form(max_files=1, max_fields=8)
    except StarletteHTTPException:  # Starlette's own 400 for a malformed form
        raise
    except Exception as exc:  # the multipart parser's own errors: a malformed form
        raise HTTPException(400, f"malformed multipart form: {exc}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        fields = sorted(form.keys())
        raise HTTPException(
            422,
            f"expected the image as a file in the multipart field 'file', found fields {fields}",
        )
    return await upload.read()
