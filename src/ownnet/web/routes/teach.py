"""Teach it back: "no, it's a 5 — learn it", undo, and reset to the file."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Request

from ownnet.errors import OwnnetError
from ownnet.web import schemas
from ownnet.web.body import json_body, json_doc
from ownnet.web.inputs import InputError, pixels_from_doc
from ownnet.web.inside import digit_field
from ownnet.web.served import check_finite
from ownnet.web.state import WebState
from ownnet.web.teach import teach_step, weight_change


def _answer(served: Any, image: np.ndarray) -> dict[str, Any]:
    out = served.outputs(image[None])[0]
    return {"digit": int(out.argmax()), "probabilities": served.confidences(out).round(6).tolist()}


def router(state: WebState) -> APIRouter:
    r = APIRouter()

    def learn(image: np.ndarray, digit: int) -> dict[str, Any]:
        served = state.current()
        before = _answer(served, image)
        model, rule = teach_step(served.model, image, digit, served.meta)
        try:
            check_finite(model, served.name)
        except OwnnetError as exc:
            raise HTTPException(422, f"not learnt: {exc}") from None
        taught = served.taught_copy(model, served.taught + 1)
        state.taught(taught)
        return {
            "digit": digit,
            "rule": rule,
            "before": before,
            "after": _answer(taught, image),
            "change": weight_change(served.model, model),
            "taught": taught.taught,
            "undo": len(state.history),
            "model": taught.name,
        }

    @r.post(
        "/api/teach",
        responses=schemas.INPUT_ERRORS,
        openapi_extra=schemas.pixels_request(
            "The 28x28 picture and the digit it really is.",
            digit={"type": "integer", "minimum": 0, "maximum": 9},
        ),
        summary="No, it's a 5: learn it (one training step on this picture)",
    )
    async def teach(request: Request) -> dict[str, Any]:
        """One training step on the picture with the right digit, by the model's own rule
        (the book's network: its `train()`; an engine network: one step of its optimiser).
        Answers the probabilities before and after and how far the weights moved. The change
        stays in memory: undo it, reset to the file, or save the model as a new file."""
        doc = await json_doc(request)
        try:
            image, extras = pixels_from_doc(doc, extra=("digit",))
            if "digit" not in extras:
                raise InputError(422, "missing field 'digit': which digit the picture is")
            digit = digit_field(extras["digit"])
        except InputError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        if digit is None:
            raise HTTPException(422, "'digit' must be a digit 0..9, found null")
        return await state.run_slow(learn, image, digit)

    @r.post(
        "/api/teach/undo",
        responses=schemas.errors(e409="nothing to undo", e415="not JSON"),
        summary="Undo the last teaching step",
    )
    async def undo(request: Request) -> dict[str, Any]:
        await json_body(request, schemas.Empty)  # an empty JSON body
        served = await state.run_slow(state.undo)
        return {"model": served.card(), "undo": len(state.history)}

    @r.post(
        "/api/teach/reset",
        responses=schemas.errors(e409="no model file", e415="not JSON", e422="unreadable"),
        summary="Forget the teaching: read the model file again",
    )
    async def reset(request: Request) -> dict[str, Any]:
        await json_body(request, schemas.Empty)

        def again() -> Any:
            try:
                return state.reset()
            except OwnnetError as exc:
                raise HTTPException(422, str(exc)) from None

        served = await state.run_slow(again)
        return {"model": served.card(), "undo": 0}

    return r
