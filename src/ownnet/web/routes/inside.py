"""The inside view: every layer as you draw, saliency, class pictures, dreams."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ownnet.web import inside, schemas
from ownnet.web.batcher import Batcher
from ownnet.web.body import json_doc
from ownnet.web.inputs import InputError, pixels_from_doc
from ownnet.web.state import WebState

#: Gradient-ascent steps of a dream: default and most.
DREAM_STEPS, MAX_DREAM_STEPS = 40, 200

JSON = "application/json"
BYTES = "application/octet-stream"


def router(state: WebState, batcher: Batcher) -> APIRouter:
    r = APIRouter()

    @r.post(
        "/api/inside",
        response_model=schemas.Inside,
        responses=schemas.INPUT_ERRORS,
        openapi_extra=schemas.pixels_request(
            "The 28x28 picture (as `/api/predict` takes JSON pixels) and the digit the "
            "saliency map is for (null or left out: the top answer).",
            digit={"anyOf": [{"type": "integer", "minimum": 0, "maximum": 9}, {"type": "null"}]},
        ),
        summary="Every layer's output and which pixels pushed the answer",
    )
    async def inside_view(
        request: Request, encoding: Literal["json", "uint8"] = "json"
    ) -> Response:
        """For one 28x28 picture: each layer's output (input, conv and pool feature maps,
        hidden units, outputs), the saliency map (pixel x gradient of the class's net
        input) for the top answer or the digit asked for, and the probabilities.

        `?encoding=uint8` answers the same in bytes (application/octet-stream): a 4-byte
        little-endian length, a JSON header in which each layer and the saliency map have
        `low`, `high`, `offset` and `size` instead of `values`, then one byte per value,
        `low + (high - low) * byte / 255` (what the draw page uses)."""
        served = state.current()
        doc = await json_doc(request)  # JSON only (415 otherwise)
        kind = "inside" if encoding == "json" else "inside-uint8"
        try:
            result = await batcher.answer(served, kind, doc)
        except InputError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return Response(result, media_type=JSON if encoding == "json" else BYTES)

    @r.get(
        "/api/pictures",
        response_model=schemas.ClassPictures,
        responses=schemas.errors(e409="no model loaded"),
        summary="What the model thinks each digit looks like",
    )
    async def class_pictures() -> Response:
        """One picture per digit, and what the model reads in it: the back query of a
        sigmoid network (background set to 0), activation maximisation of each class's net
        input for other models. Worked out once per model (a second or two for a CNN)."""
        served = state.current()
        return Response(await state.run_slow(inside.class_pictures_json, served), media_type=JSON)

    @r.get(
        "/api/backquery.png",
        response_class=Response,
        responses={
            200: {"content": {"image/png": {}}, "description": "digits 0..9 left to right"},
            404: {"model": schemas.Message, "description": "no model, or no back-query"},
        },
        summary="The loaded model's back-query pictures (the book's grey ones)",
    )
    async def backquery_png() -> Response:
        """What each output, asked for alone, sends back through the network (the book's
        back-query), for digits 0..9 side by side. Only for sigmoid networks."""
        served = state.current(404)
        png = await run_in_threadpool(served.backquery_png)
        if png is None:
            raise HTTPException(
                404, f"the loaded model ({served.card()['description']}) has no back-query"
            )
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})

    @r.post(
        "/api/dream",
        responses=schemas.INPUT_ERRORS,
        openapi_extra=schemas.pixels_request(
            "The 28x28 picture to dream from, and the number of steps.",
            steps={"type": "integer", "minimum": 1, "maximum": MAX_DREAM_STEPS},
        ),
        summary="What does each layer look for? Its dream of your picture",
    )
    async def dream(request: Request) -> Response:
        """Each layer in turn changes the picture to amplify its own response (gradient
        ascent on the pixels for 0.5 * sum(a^2) of the layer's output a, as DeepDream does):
        `{"layers": [{"name", "kind", "image": [784 values 0..1], "start", "end"}]}`."""
        served = state.current()
        doc = await json_doc(request)
        try:
            image, extras = pixels_from_doc(doc, extra=("steps",))
        except InputError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        steps = extras.get("steps", DREAM_STEPS)
        if type(steps) is not int or not 1 <= steps <= MAX_DREAM_STEPS:  # (a bool is no int)
            raise HTTPException(422, f"'steps' must be 1..{MAX_DREAM_STEPS}, found {steps!r:.40}")
        result = await state.run_slow(inside.dream_json, served, image, steps)
        return Response(result, media_type=JSON)

    return r
