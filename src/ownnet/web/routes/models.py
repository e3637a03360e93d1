"""The served model's card, and the model menu: the files of the server's model folder."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from ownnet.errors import OwnnetError
from ownnet.io import save_model
from ownnet.web import schemas
from ownnet.web.body import json_body
from ownnet.web.folder import FolderError
from ownnet.web.served import ServedModel
from ownnet.web.state import WebState


def router(state: WebState) -> APIRouter:
    r = APIRouter()

    @r.get(
        "/api/model",
        response_model=schemas.ModelCard,
        responses=schemas.errors(e404="no model loaded"),
        summary="The loaded model's card",
    )
    async def model_card() -> dict[str, Any]:
        """Kind, layers, test accuracy and training settings of the served model."""
        return state.current(404).card()

    @r.get("/api/models", summary="The model menu: the files of the server's model folder")
    async def models() -> dict[str, Any]:
        """`{"models": [{"name", "size", "modified"}], "served": name or null, "taught":
        steps taught since the file, "undo": steps that can be undone}`."""
        served = state.served
        return {
            "models": state.folder.list(),
            "served": served.name if served is not None else None,
            "taught": served.taught if served is not None else 0,
            "undo": len(state.history),
        }

    def use(name: str) -> ServedModel:
        try:
            path = state.folder.resolve(name)
            return state.use(ServedModel.from_file(path))
        except FolderError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        except OwnnetError as exc:  # not a model file, NaN weights, ...
            raise HTTPException(422, str(exc)) from None

    @r.post(
        "/api/models/use",
        responses=schemas.errors(e404="no such file in the folder", e422="not a model file"),
        openapi_extra=schemas.json_request(schemas.ModelName, "a name from GET /api/models"),
        summary="Serve another model of the folder",
    )
    async def use_model(request: Request) -> dict[str, Any]:
        """Read the model file of that name (only names GET /api/models lists) and serve it;
        teaching done on the current model is dropped (save it first)."""
        req = await json_body(request, schemas.ModelName)
        served = await state.run_slow(use, req.name)
        return {"model": served.card()}

    def save_as(name: str) -> dict[str, Any]:
        served = state.current()
        try:
            path = state.folder.new_path(name)
        except FolderError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        written_anew = ("kind", "config", "format", "format_version", "ownnet_version")
        info = {k: v for k, v in served.meta.items() if k not in written_anew}
        if served.taught:
            info["taught_on_draw_page"] = {"steps": served.taught, "from": served.name}
            info.pop("test_accuracy", None)  # of the file it came from, not of this one
        save_model(path, served.model, **info)
        state.use(ServedModel.from_file(path))
        return {"saved": path.name, "model": state.current().card()}

    @r.post(
        "/api/models/save",
        response_model=schemas.Saved,
        responses=schemas.errors(e409="that name exists", e422="not a plain .npz file name"),
        openapi_extra=schemas.json_request(schemas.ModelName, "the new file's name (.npz)"),
        summary="Save the served (taught) model as a new file of the folder",
    )
    async def save(request: Request) -> dict[str, Any]:
        """Write the served model, with what it was taught on the draw page, as a new file
        in the server's model folder (never over an existing one) and serve it from there."""
        req = await json_body(request, schemas.ModelName)
        return await state.run_slow(save_as, req.name)

    return r
