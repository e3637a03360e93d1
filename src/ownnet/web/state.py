"""What the app holds: the served model and its undo history, the model folder, the trainer.

Changes to the served model (teach a drawing, undo, reset, use another file)
run one at a time in the app's single "slow work" thread
(:attr:`WebState.slow`), so they never race each other; requests read
:attr:`WebState.served` once and keep that :class:`ServedModel`.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from fastapi import HTTPException

from ownnet.data.mnist import load_mnist
from ownnet.web.folder import ModelFolder
from ownnet.web.served import ServedModel
from ownnet.web.trainer import Trainer

#: Teaching steps that can be undone.
MAX_UNDO = 20

NO_MODEL = (
    "no model loaded: start the server with a model file (`ownnet serve MODEL`) or train one "
    "on the watch page (/watch), save it and choose it in the model menu"
)

T = TypeVar("T")


class WebState:
    """The served model, its undo history, the model folder and the trainer.

    Args:
        served: the model to start with, or None.
        folder: the model folder (the page's model menu, the save buttons).
        data_dir, dataset: where training runs read MNIST.
    """

    def __init__(
        self, served: ServedModel | None, folder: ModelFolder, data_dir: str | None, dataset: str
    ) -> None:
        self.served = served
        self.folder = folder
        self.history: deque[ServedModel] = deque(maxlen=MAX_UNDO)
        self._data_dir = data_dir
        self._dataset = dataset
        self._splits: Any = None
        self._data_lock = threading.Lock()
        self.trainer = Trainer(self.load_data)
        #: one thread for slow or state-changing work: teaching, dreams, pictures, loading
        self.slow = ThreadPoolExecutor(1, thread_name_prefix="ownnet-slow")

    def load_data(self) -> Any:
        """MNIST splits for training runs, read once (in a training thread)."""
        with self._data_lock:
            if self._splits is None:
                self._splits = load_mnist(self._data_dir, self._dataset, progress=False)
            return self._splits

    def current(self, status: int = 409) -> ServedModel:
        """The served model; ``HTTPException(status)`` when there is none."""
        served = self.served
        if served is None:
            raise HTTPException(status, NO_MODEL)
        return served

    async def run_slow(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the slow-work thread, awaited."""
        return await asyncio.wrap_future(self.slow.submit(fn, *args))

    # -- changing the served model (in the slow-work thread) -----------------------------------
    def _serve(self, served: ServedModel) -> None:
        old, self.served = self.served, served
        if old is not None and old is not served:
            old.release()  # requests still running with it make new copies as they need

    def use(self, served: ServedModel) -> ServedModel:
        """Serve ``served`` from now on; the undo history starts again."""
        self._serve(served)
        self.history.clear()
        return served

    def taught(self, served: ServedModel) -> None:
        """Serve a taught copy of the served model, keeping the old one for undo."""
        if self.served is not None:
            self.history.append(self.served)
        self._serve(served)

    def undo(self) -> ServedModel:
        """Serve the model as it was before the last teaching step (409 if none)."""
        if not self.history:
            raise HTTPException(409, "nothing to undo: no teaching step since the model was loaded")
        self._serve(self.history.pop())
        return self.served

    def reset(self) -> ServedModel:
        """Read the served model's file again (teaching forgotten, no undo)."""
        served = self.current()
        if served.path is None:
            raise HTTPException(409, f"{served.name} was not read from a file: nothing to reset to")
        return self.use(ServedModel.from_file(served.path, served.source))

    def shutdown(self) -> None:
        self.trainer.shutdown()
        self.slow.shutdown(wait=True, cancel_futures=True)


def folder_for(model_path: str | Path | None, save_dir: str | Path | None) -> ModelFolder:
    """The model folder: ``save_dir``, else the model file's folder, else the current one."""
    pinned = Path(model_path).resolve() if model_path is not None else None
    if save_dir is not None:
        path = Path(save_dir)
    elif pinned is not None:
        path = pinned.parent
    else:
        path = Path.cwd()
    return ModelFolder(path, pinned)
