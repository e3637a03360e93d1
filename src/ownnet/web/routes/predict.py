"""``POST /api/predict`` (what digit is this?) and ``POST /api/prepare`` (the 28x28 input)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ownnet.web import schemas
from ownnet.web.batcher import Batcher
from ownnet.web.body import predict_body
from ownnet.web.inputs import InputError, prepared_from_bytes
from ownnet.web.state import WebState


def router(state: WebState, batcher: Batcher) -> APIRouter:
    r = APIRouter()

    @r.post(
        "/api/predict",
        response_model=schemas.Prediction,
        responses=schemas.INPUT_ERRORS,
        openapi_extra=schemas.PREDICT_BODY,
        summary="What digit is this?",
    )
    async def predict(request: Request) -> Response:
        """Send an image file (it is prepared as `ownnet predict` prepares one: greyscale,
        polarity, crop to the ink, 20x20 box, centre of mass at 14,14) or JSON pixels
        (the 28x28 network input itself). Answers the digit, ten probabilities and the
        28x28 input the network received."""
        served = state.current()
        kind, payload = await predict_body(request)
        try:
            result = await batcher.answer(served, kind, payload)
        except InputError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return Response(result, media_type="application/json")

    @r.post(
        "/api/prepare",
        responses=schemas.INPUT_ERRORS,
        openapi_extra=schemas.PREPARE_BODY,
        summary="A drawing or photo as the network's 28x28 input",
    )
    async def prepare(request: Request) -> dict[str, Any]:
        """The image prepared as `ownnet predict` prepares one: `{"pixels": [784 values
        0..1, row by row, 1 = ink], "box": [top, left, bottom, right], "size": [height,
        width]}`: the box is where the ink is in the image (bottom and right exclusive), in
        the pixels of the image as read (images over 1200 px are first reduced: `size`)."""
        kind, payload = await predict_body(request)
        if kind != "image":
            raise HTTPException(415, "expected an image (multipart field 'file' or image/*)")
        try:
            prepared = await run_in_threadpool(prepared_from_bytes, payload)
        except InputError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        pixels = (prepared.image.reshape(-1) / 255.0).round(6).tolist()
        size = [int(n) for n in prepared.grey.shape[:2]]
        return {"pixels": pixels, "box": [int(v) for v in prepared.box], "size": size}

    return r
