"""The FastAPI app of ``ownnet serve``: the draw page, the watch page and the JSON API.

Pages (static files, no external requests: no CDN, no web fonts)::

    GET  /                  draw a digit, see the answer change as you draw
    GET  /watch             start a small training run and watch it learn
    GET  /docs              the API documentation, rendered from /openapi.json

API::

    POST /api/predict       an image (multipart field "file" or an image/* body) or JSON
                            pixels -> digit, probabilities, the prepared 28x28 input
    GET  /api/model         the loaded model's card
    GET  /api/backquery.png the loaded model's back-query pictures, digits 0..9
    GET  /api/train         the current training run's status
    POST /api/train         start a run (409 while one is running)
    POST /api/train/stop    stop it
    POST /api/train/save    save the finished run's model (server-chosen file) and load it
    GET  /api/train/events  the run's progress as server-sent events

The served model is only ever loaded from the path the command line gave or
saved under a name the server makes; nothing a client sends names a file.
Training and prediction run in worker threads, never on the event loop; predictions
of requests that arrive together share one network call (:mod:`ownnet.web.batcher`).
"""

from __future__ import annotations

import contextlib
import gc
import json
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.middleware.trustedhost import TrustedHostMiddleware
from threadpoolctl import threadpool_limits

from ownnet import __version__
from ownnet.web.batcher import Batcher
from ownnet.web.inputs import InputError, image_from_bytes, orjson, pixels_from_json
from ownnet.web.limits import MAX_BODY_BYTES, BodyLimit
from ownnet.web.served import ServedModel
from ownnet.web.training import PRESETS, Busy, RunSettings, Trainer

STATIC = Path(__file__).parent / "static"

#: Content-Security-Policy of the pages: nothing may be loaded from anywhere but here.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'none'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)

#: Worker threads that answer predict requests, each a batch of waiting requests at a time
#: (more threads only wait for the GIL and stretch the slowest answers).
PREDICT_THREADS = 2

#: Names of the files the save button writes, in the save folder.
SAVE_PATTERN = "ownnet-web-{preset}-{stamp}-run{run}.npz"

NO_MODEL = (
    "no model loaded: start the server with a model file (`ownnet serve MODEL`) or train one "
    "on the watch page (/watch) and save it"
)


# -- request and response models (for validation and the API docs) --------------------------------
class Prediction(BaseModel):
    """The network's answer for one image."""

    digit: int = Field(description="the most likely digit, 0..9")
    probabilities: list[float] = Field(
        description="10 confidences summing to 1, as `ownnet predict` gives them: a softmax "
        "network's probabilities, or the classic network's sigmoid outputs divided by their sum"
    )
    meaning: str = Field(description="what the probabilities are, in words")
    outputs: list[float] = Field(description="the network's 10 raw outputs")
    input: list[int] = Field(
        description="the 28x28 image the network received, 784 values 0..255 row by row "
        "(0 background, 255 ink)"
    )
    source: Literal["image", "pixels"] = Field(
        description="'image': an image file prepared like `ownnet predict` does; "
        "'pixels': JSON pixels used as they are"
    )
    model: str = Field(description="the name of the model that answered")


class ModelCard(BaseModel):
    name: str
    source: str
    kind: str
    sizes: list[int] | None
    description: str
    test_accuracy: float | None
    settings: dict[str, Any]
    seed: int | None
    dataset: str | None
    ownnet_version: str | None
    config: dict[str, Any]
    has_backquery: bool


class TrainRequest(BaseModel):
    """Settings of a watch-it-learn run; omitted values take the preset's defaults."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal["classic", "mlp"] = Field(
        "classic",
        description="classic: the book's network, one sample at a time; mlp: a small "
        "relu/softmax MLP of the matrix engine with Adam",
    )
    hidden: int | None = Field(None, ge=1, le=1024, description="hidden units")
    lr: float | None = Field(None, gt=0, le=10, description="learning rate")
    samples: int | None = Field(
        None, ge=100, le=60000, description="training images used (the first N)"
    )
    epochs: int | None = Field(None, ge=1, le=20)
    every: int | None = Field(
        None,
        ge=1,
        le=100000,
        description="report every N batches (classic: a batch is 1024 samples)",
    )
    seed: int = Field(0, ge=0, le=2**32 - 1)


class TrainStatus(BaseModel):
    run: int | None = Field(description="the run's number, null before the first run")
    status: Literal["idle", "starting", "running", "stopping", "stopped", "done", "error"]
    settings: dict[str, Any]
    events: int
    error: str | None
    test_accuracy: float | None
    saved: str | None
    can_save: bool
    seconds: float


class Saved(BaseModel):
    saved: str = Field(description="the file name the model was saved as (in the server's folder)")
    model: ModelCard


class Message(BaseModel):
    detail: str


PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "description": "An image file (PNG, JPEG, BMP, GIF, ...) as a multipart upload or as "
        "the raw body, or JSON pixels. Bodies over 2 MB get 413.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "pixels": {
                            "description": "784 numbers, or 28 rows of 28, 0 background; "
                            "used as the network's input without preparing",
                            "type": "array",
                            "items": {"anyOf": [{"type": "number"}, {"type": "array"}]},
                        },
                        "scale": {
                            "description": "1 for values 0..1, 255 for 0..255 (default: 1 "
                            "when no value is above 1)",
                            "enum": [1, 255],
                        },
                    },
                    "required": ["pixels"],
                }
            },
        },
    }
}

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Message, "description": text}
    for code, text in {
        400: "malformed JSON or form",
        409: "no model loaded",
        413: "body over 2 MB",
        415: "unsupported Content-Type",
        422: "not an image, no ink, wrong length, NaN, values out of range",
    }.items()
}


IDLE = {
    "run": None,
    "status": "idle",
    "settings": {},
    "events": 0,
    "error": None,
    "test_accuracy": None,
    "saved": None,
    "can_save": False,
    "seconds": 0.0,
}


class WebState:
    """What the app holds: the served model, the trainer and where saving goes."""

    def __init__(
        self,
        served: ServedModel | None,
        save_dir: Path,
        data_dir: str | None,
        dataset: str,
    ) -> None:
        self.served = served
        self.save_dir = save_dir
        self._data_dir = data_dir
        self._dataset = dataset
        self._splits: Any = None
        self._data_lock = threading.Lock()
        self.save_lock = threading.Lock()
        self.trainer = Trainer(self.load_data)

    def load_data(self) -> Any:
        """MNIST splits for training runs, read once (in a training thread)."""
        with self._data_lock:
            if self._splits is None:
                from ownnet.data.mnist import load_mnist

                self._splits = load_mnist(self._data_dir, self._dataset, progress=False)
            return self._splits


def create_app(
    model_path: str | Path | None = None,
    *,
    data_dir: str | None = None,
    dataset: str = "mnist",
    save_dir: str | Path | None = None,
    allowed_hosts: list[str] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The app.

    Args:
        model_path: the model file to serve (any kind :func:`ownnet.io.load_model` reads),
            or None to start without one (train one on the watch page).
        data_dir: MNIST folder for training runs (else $OWNNET_DATA, else the cache).
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        save_dir: where the save button writes models (default: the model file's
            folder, else the current folder).
        allowed_hosts: accept only these ``Host`` headers (protects a loopback server
            from DNS rebinding); None accepts any.
        max_body_bytes: larger request bodies get 413.
    """
    served = ServedModel.from_file(model_path) if model_path is not None else None
    if save_dir is None:
        save_dir = Path(model_path).resolve().parent if model_path is not None else Path.cwd()
    state = WebState(served, Path(save_dir), data_dir, dataset)
    batcher = Batcher(_decode, _encode, threads=PREDICT_THREADS)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Small matrix products from several threads: BLAS threads would only fight
        # over the cores (a batch of answers took 5x longer with them).
        limits = threadpool_limits(limits=1, user_api="blas")
        # Everything imported and loaded so far lives as long as the server: keep it out
        # of the garbage collector's full passes, which otherwise stalled every request
        # in flight for about 100 ms now and then.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await run_in_threadpool(batcher.close)
            await run_in_threadpool(state.trainer.shutdown)
            limits.restore_original_limits()
            gc.unfreeze()

    app = FastAPI(
        title="ownnet",
        version=__version__,
        description="Draw a digit and see what a network made from scratch with NumPy "
        "answers; watch one learn. Pages: `/` (draw), `/watch` (watch it learn).",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = state
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def page(name: str) -> FileResponse:
        return FileResponse(
            STATIC / name,
            media_type="text/html",
            headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
        )

    @app.get("/", include_in_schema=False)
    async def draw_page() -> FileResponse:
        return page("index.html")

    @app.get("/watch", include_in_schema=False)
    async def watch_page() -> FileResponse:
        return page("watch.html")

    @app.get("/docs", include_in_schema=False)
    async def docs_page() -> FileResponse:
        return page("docs.html")

    # -- the model --------------------------------------------------------------------------------
    @app.get(
        "/api/model",
        response_model=ModelCard,
        responses={404: {"model": Message, "description": "no model loaded"}},
        summary="The loaded model's card",
    )
    async def model_card() -> dict[str, Any]:
        """Kind, layer sizes, test accuracy and training settings of the served model."""
        served = state.served
        if served is None:
            raise HTTPException(404, NO_MODEL)
        return served.card()

    @app.get(
        "/api/backquery.png",
        response_class=Response,
        responses={
            200: {"content": {"image/png": {}}, "description": "digits 0..9 left to right"},
            404: {"model": Message, "description": "no model, or a kind without a back-query"},
        },
        summary="The loaded model's back-query pictures",
    )
    async def backquery_png() -> Response:
        """What each output, asked for alone, sends back through the network (the book's
        back-query), for digits 0..9 side by side. Only for sigmoid networks."""
        served = state.served
        if served is None:
            raise HTTPException(404, NO_MODEL)
        png = await run_in_threadpool(served.backquery_png)
        if png is None:
            raise HTTPException(
                404, f"the loaded model ({served.card()['description']}) has no back-query"
            )
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})

    # -- predict -----------------------------------------------------------------------------------
    @app.post(
        "/api/predict",
        response_model=Prediction,
        responses=ERRORS,
        openapi_extra=PREDICT_BODY,
        summary="What digit is this?",
    )
    async def predict(request: Request) -> Response:
        """Send an image file (it is prepared as `ownnet predict` prepares one: greyscale,
        polarity, crop to the ink, 20x20 box, centre of mass at 14,14) or JSON pixels
        (the 28x28 network input itself). Answers the digit, ten probabilities and the
        28x28 input the network received."""
        served = state.served
        if served is None:
            raise HTTPException(409, NO_MODEL)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json" or ctype.endswith("+json"):
            kind, payload = "pixels", await request.body()
        elif ctype == "multipart/form-data":
            kind, payload = "image", await _upload(request)
        elif ctype.startswith("image/") or ctype == "application/octet-stream":
            kind, payload = "image", await request.body()
        else:
            raise HTTPException(
                415,
                f"unsupported Content-Type {ctype or '(none)'!r}: send an image as a multipart "
                "field 'file' or as an image/* body, or JSON pixels as application/json",
            )
        try:
            result = await batcher.answer(served, kind, payload)
        except InputError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return Response(result, media_type="application/json")

    # -- training ----------------------------------------------------------------------------------
    @app.get("/api/train", response_model=TrainStatus, summary="The current training run")
    async def train_status() -> dict[str, Any]:
        """The current (or last) run's status; `idle` with `run: null` before the first."""
        run = state.trainer.current
        if run is None:
            return IDLE
        return run.summary()

    @app.get("/api/train/presets", summary="The presets of the watch page")
    async def train_presets() -> dict[str, Any]:
        return PRESETS

    @app.post(
        "/api/train",
        status_code=202,
        response_model=TrainStatus,
        responses={409: {"model": Message, "description": "a run is already going on"}},
        summary="Start a training run",
    )
    async def train_start(settings: TrainRequest | None = None) -> dict[str, Any]:
        """Start a small training run in the background (one at a time). Progress comes
        from GET /api/train/events."""
        req = settings or TrainRequest()
        run_settings = RunSettings.from_preset(
            req.preset,
            hidden=req.hidden,
            lr=req.lr,
            samples=req.samples,
            epochs=req.epochs,
            every=req.every,
            seed=req.seed,
        )
        try:
            run = state.trainer.start(run_settings)
        except Busy as exc:
            raise HTTPException(409, str(exc)) from None
        return run.summary()

    @app.post(
        "/api/train/stop",
        status_code=202,
        response_model=TrainStatus,
        responses={409: {"model": Message, "description": "no run is going on"}},
        summary="Stop the training run",
    )
    async def train_stop() -> dict[str, Any]:
        """Ask the run to stop after the current batch; its model can still be saved."""
        run = state.trainer.current
        if run is None or not run.stop():
            raise HTTPException(409, "no training run is going on")
        return run.summary()

    @app.post(
        "/api/train/save",
        response_model=Saved,
        responses={409: {"model": Message, "description": "nothing finished to save"}},
        summary="Save the trained model and serve it",
    )
    async def train_save() -> dict[str, Any]:
        """Save the finished (or stopped) run's model in the server's save folder, under a
        name the server makes, and make it the loaded model."""
        run = state.trainer.current
        if run is None:
            raise HTTPException(409, "no training run to save: start one with POST /api/train")
        if run.running:
            raise HTTPException(409, f"run {run.id} is still {run.status}: stop it or wait")
        if run.model is None:
            raise HTTPException(409, f"run {run.id} ended with {run.status}: no model to save")
        served = await run_in_threadpool(_save_run, state, run)
        return {"saved": served.name, "model": served.card()}

    @app.get(
        "/api/train/events",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "events 'start', 'progress' (loss, accuracy, pictures) and 'end'",
            },
            404: {"model": Message},
        },
        summary="Progress of the training run (server-sent events)",
    )
    async def train_events(request: Request, after: int = 0) -> StreamingResponse:
        """The current run's events from the first (or after ``after`` / ``Last-Event-ID``);
        the stream ends after the run's ``end`` event."""
        run = state.trainer.current
        if run is None:
            raise HTTPException(404, "no training run yet: start one with POST /api/train")
        last = request.headers.get("last-event-id")
        if last is not None and last.strip().isdigit():
            after = int(last)

        async def stream() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            async for event in run.events.follow(after):
                yield event.sse() if event is not None else ": keep-alive\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return app


async def _upload(request: Request) -> bytes:
    """The bytes of the multipart field ``file`` (its client file name is ignored)."""
    form = await request.form(max_files=1, max_fields=8)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        fields = sorted(form.keys())
        raise HTTPException(
            422,
            f"expected the image as a file in the multipart field 'file', found fields {fields}",
        )
    return await upload.read()


def _decode(kind: str, payload: bytes) -> np.ndarray:
    """A request body → the network's input, uint8 ``(28, 28)`` (in a worker thread)."""
    return pixels_from_json(payload) if kind == "pixels" else image_from_bytes(payload)


def _encode(served: ServedModel, kind: str, image: np.ndarray, outputs: np.ndarray) -> bytes:
    """The JSON answer for one image and its outputs ``(10,)`` (in a worker thread)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    probabilities = served.confidences(outputs)
    answer = {
        "digit": int(outputs.argmax()),
        "probabilities": np.round(probabilities, 6),
        "meaning": served.confidence_meaning,
        "outputs": outputs,
        "input": image.reshape(-1),
        "source": kind,
        "model": served.name,
    }
    if orjson is not None:
        return orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)
    for key in ("probabilities", "outputs", "input"):
        answer[key] = answer[key].tolist()
    return json.dumps(answer, separators=(",", ":")).encode()


def _save_run(state: WebState, run: Any) -> ServedModel:
    """Save ``run``'s model under a server-made name, load it back and serve it."""
    from ownnet.io import save_model

    with state.save_lock:
        if run.saved is not None and state.served is not None and state.served.name == run.saved:
            return state.served  # saved already (a second click)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = SAVE_PATTERN.format(preset=run.settings.preset, stamp=stamp, run=run.id)
        path = save_model(state.save_dir / name, run.model, **run.info)
        served = ServedModel.from_file(path)
        served.source = "trained here"
        run.saved = served.name
        state.served = served
        return served
