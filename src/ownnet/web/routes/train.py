"""Watch it learn: start, follow, slow down, stop and save training runs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from ownnet.io import save_model
from ownnet.web import schemas
from ownnet.web.body import json_body
from ownnet.web.served import ServedModel
from ownnet.web.state import WebState
from ownnet.web.trainer import Busy
from ownnet.web.training import PRESETS, RunSettings, TrainingRun

#: Names of the files the save button writes, in the model folder.
SAVE_STEM = "ownnet-web-{preset}-{stamp}-run{run}"

JSON_OR_EMPTY = "a JSON body (`{}` is fine)"


def router(state: WebState) -> APIRouter:
    r = APIRouter()
    trainer = state.trainer

    def find(run_id: int | None) -> TrainingRun:
        run = trainer.get(run_id)
        if run is None:
            what = "no training run yet" if trainer.current is None else f"no run {run_id} kept"
            raise HTTPException(404, f"{what}: start one with POST /api/train")
        return run

    @r.get("/api/train", response_model=schemas.TrainOverview, summary="The training runs")
    async def train_status() -> dict[str, Any]:
        """The latest run's status (`idle` with `run: null` before the first) and every run
        kept (`runs`, oldest first)."""
        run = trainer.current
        latest = run.summary() if run is not None else schemas.IDLE
        return {**latest, "runs": [x.summary() for x in trainer.runs()]}

    @r.get("/api/train/presets", summary="The presets of the watch page")
    async def train_presets() -> dict[str, Any]:
        return PRESETS

    @r.post(
        "/api/train",
        status_code=202,
        response_model=schemas.TrainStatus,
        responses=schemas.errors(e409="two runs are going on", e415="not JSON"),
        openapi_extra=schemas.json_request(schemas.TrainRequest, "the run's settings"),
        summary="Start a training run",
    )
    async def train_start(request: Request) -> dict[str, Any]:
        """Start a small training run in the background (at most two at once, for
        comparing two settings). Progress comes from GET /api/train/events?run=N."""
        req = await json_body(request, schemas.TrainRequest)
        settings = RunSettings.from_preset(
            req.preset, hidden=req.hidden, lr=req.lr, samples=req.samples, epochs=req.epochs,
            every=req.every, seed=req.seed, speed=req.speed,
        )  # fmt: skip
        try:
            run = trainer.start(settings, req.beside)
        except Busy as exc:
            raise HTTPException(409, str(exc)) from None
        return run.summary()

    @r.post(
        "/api/train/stop",
        status_code=202,
        response_model=schemas.TrainStatus,
        responses=schemas.errors(e404="no such run", e409="it is not going on"),
        openapi_extra=schemas.json_request(schemas.RunRef, JSON_OR_EMPTY),
        summary="Stop a training run",
    )
    async def train_stop(request: Request) -> dict[str, Any]:
        """Ask the run (default: the latest) to stop after the current piece; its model can
        still be saved. Without `run`, every run going on stops."""
        req = await json_body(request, schemas.RunRef)
        runs = [find(req.run)] if req.run is not None else [x for x in trainer.runs() if x.running]
        stopped = [x for x in runs if x.stop()]
        if not stopped:
            raise HTTPException(409, "no training run is going on")
        return stopped[-1].summary()

    @r.post(
        "/api/train/speed",
        response_model=schemas.TrainStatus,
        responses=schemas.errors(e404="no such run", e409="it is not going on"),
        openapi_extra=schemas.json_request(schemas.SpeedRequest, "samples per second or null"),
        summary="Change how fast a run goes",
    )
    async def train_speed(request: Request) -> dict[str, Any]:
        """Samples per second from now on (null: as fast as it goes), for the run (default:
        every run going on)."""
        req = await json_body(request, schemas.SpeedRequest)
        runs = [find(req.run)] if req.run is not None else [x for x in trainer.runs() if x.running]
        runs = [x for x in runs if x.running]
        if not runs:
            raise HTTPException(409, "no training run is going on")
        for run in runs:
            run.set_speed(req.speed)
        return runs[-1].summary()

    def save_run(run: TrainingRun) -> dict[str, Any]:
        if run.saved is None:
            stem = SAVE_STEM.format(
                preset=run.settings.preset, stamp=time.strftime("%Y%m%d-%H%M%S"), run=run.id
            )
            path = save_model(state.folder.unique_path(stem), run.model, **run.info)
            run.saved = path.name
        saved = ServedModel.from_file(state.folder.path / run.saved, "trained here")
        return {"saved": run.saved, "model": saved.card()}

    @r.post(
        "/api/train/save",
        response_model=schemas.Saved,
        responses=schemas.errors(e404="no such run", e409="nothing finished to save"),
        openapi_extra=schemas.json_request(schemas.RunRef, JSON_OR_EMPTY),
        summary="Save a run's model in the model folder",
    )
    async def train_save(request: Request) -> dict[str, Any]:
        """Save the finished (or stopped) run's model (default: the latest run) in the
        server's model folder, under a name the server makes. The draw page keeps its model
        until you choose the new file in its model menu (POST /api/models/use)."""
        req = await json_body(request, schemas.RunRef)
        run = find(req.run)
        if run.running:
            raise HTTPException(409, f"run {run.id} is still {run.status}: stop it or wait")
        if run.model is None:
            raise HTTPException(409, f"run {run.id} ended with {run.status}: no model to save")
        return await state.run_slow(save_run, run)

    @r.get(
        "/api/train/events",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "events 'start', 'progress' (loss, accuracy, pictures) and 'end'",
            },
            404: {"model": schemas.Message},
        },
        summary="Progress of a training run (server-sent events)",
    )
    async def train_events(
        request: Request, run: int | None = None, after: int = 0
    ) -> StreamingResponse:
        """The run's events (default: the latest run) from the first (or after `after` /
        `Last-Event-ID`); the stream ends after the run's `end` event."""
        found = find(run)
        last = request.headers.get("last-event-id")
        if last is not None and last.strip().isdigit():
            after = int(last)

        async def stream() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            async for event in found.events.follow(after):
                yield event.sse() if event is not None else ": keep-alive\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return r
