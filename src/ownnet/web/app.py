"""The FastAPI app of ``ownnet serve``: the draw page, the watch page and the JSON API.

Pages (static files, no external requests: no CDN, no web fonts)::

    GET  /                  draw a digit: the answer, the 28x28 input, the inside view
    GET  /watch             start small training runs and watch them learn
    GET  /docs              the API documentation, rendered from /openapi.json

API (one router each, :mod:`ownnet.web.routes`)::

    models   GET /api/model, GET /api/models, POST /api/models/use, POST /api/models/save
    predict  POST /api/predict, POST /api/prepare
    inside   POST /api/inside, GET /api/pictures, GET /api/backquery.png, POST /api/dream
    teach    POST /api/teach, POST /api/teach/undo, POST /api/teach/reset
    train    GET|POST /api/train, POST /api/train/stop|speed|save, GET /api/train/events

The served model is only ever loaded from the path the command line gave or a
file of the server's model folder that the server listed itself; files are
written there under names checked to be plain file names. Requests that
change anything must be JSON and come from the server's own pages
(:mod:`ownnet.web.guard`). Predictions, the inside view and training run in
worker threads, never on the event loop; requests that arrive together share
one network call (:mod:`ownnet.web.batcher`).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware
from threadpoolctl import threadpool_limits

from ownnet import __version__
from ownnet.web import inside, prediction
from ownnet.web.batcher import Batcher
from ownnet.web.guard import SafetyNet, SameOrigin
from ownnet.web.limits import MAX_BODY_BYTES, BodyLimit
from ownnet.web.routes import inside as inside_routes
from ownnet.web.routes import models, pages, predict, teach, train
from ownnet.web.routes.pages import CSP, STATIC
from ownnet.web.served import ServedModel
from ownnet.web.state import WebState, folder_for

__all__ = ["CSP", "STATIC", "create_app"]

#: Worker threads that answer predict requests, each a batch of waiting requests at a time
#: (more threads only wait for the GIL and stretch the slowest answers; two let two cores
#: prepare uploaded images).
PREDICT_THREADS = 2
#: The same for the inside view, whose requests are pixels (nothing to prepare): one thread
#: makes bigger batches (measured with a CNN at 32 at once: p99 97 ms with one thread,
#: 130-150 ms with two, and less CPU per request).
INSIDE_THREADS = 1


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
        save_dir: the model folder: the model menu lists its ``.npz`` files, the save
            buttons write there (default: the model file's folder, else the current folder).
        allowed_hosts: accept only these ``Host`` headers (protects a loopback server
            from DNS rebinding); None accepts any.
        max_body_bytes: larger request bodies get 413.

    Raises:
        ModelFileError: ``model_path`` is not a readable model file with finite weights.
    """
    served = ServedModel.from_file(model_path) if model_path is not None else None
    state = WebState(served, folder_for(model_path, save_dir), data_dir, dataset)
    predictions = Batcher(prediction.decode, prediction.answer, threads=PREDICT_THREADS)
    inside_views = Batcher(inside.decode, inside.answer, threads=INSIDE_THREADS)

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
            await run_in_threadpool(predictions.close)
            await run_in_threadpool(inside_views.close)
            await run_in_threadpool(state.shutdown)
            limits.restore_original_limits()
            gc.unfreeze()

    app = FastAPI(
        title="ownnet",
        version=__version__,
        description="Draw a digit and see what a network made from scratch with NumPy "
        "answers, and what happens inside it; watch one learn. Pages: `/` (draw), `/watch` "
        "(watch it learn). Requests that change anything must be JSON from this server's "
        "own pages (or from a program that sends no Origin header).",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = state
    # the last added runs first: host check, safety net, same origin, body limit, app
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(SameOrigin)
    app.add_middleware(SafetyNet)
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router())
    app.include_router(models.router(state))
    app.include_router(predict.router(state, predictions))
    app.include_router(inside_routes.router(state, inside_views))
    app.include_router(teach.router(state))
    app.include_router(train.router(state))
    return app
