"""Answer requests in worker threads, several requests per network call.

Each request's body is decoded (JSON pixels parsed, an image prepared), the
decoded requests waiting at that moment go through the network as one batch
(the predictions of ``(n, 28, 28)`` images, or the inside view of them), and
each answer is encoded to JSON, all in a worker thread; the event loop only
hands the body over and gets the bytes back, once per batch. Under load this
costs one thread hand-over per batch instead of one per request, which is where
most of the time of a small request went.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

#: Requests answered together at most.
MAX_BATCH = 64

Decode = Callable[[str, Any], Any]
Answer = Callable[[Any, list[tuple[str, Any]]], list[bytes]]


class Batcher:
    """Worker threads that answer ``(model, kind, payload)`` requests in batches.

    Args:
        decode: ``decode(kind, payload) -> request``; may raise (the request gets the
            exception).
        answer: ``answer(model, [(kind, request), ...]) -> [bytes, ...]``, one network
            call for all; if it raises, every request of the batch gets the exception.
        threads: worker threads (image preparation is the slow part; two let two
            cores prepare images).
    """

    def __init__(self, decode: Decode, answer: Answer, threads: int = 2) -> None:
        self._decode = decode
        self._answer_all = answer
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._n_threads = int(threads)
        self._threads: list[threading.Thread] = []
        self._started = False
        self._lock = threading.Lock()

    async def answer(self, model: Any, kind: str, payload: Any) -> bytes:
        """The encoded answer for one request (raises what decoding raised)."""
        if not self._started:
            self._start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((loop, future, model, kind, payload))
        return await future

    def close(self, timeout: float = 10.0) -> None:
        """Stop the workers after the requests already queued (they start again when needed)."""
        with self._lock:
            threads, self._threads, self._started = self._threads, [], False
            for _ in threads:
                self._queue.put(None)
            for t in threads:
                t.join(timeout)

    def _start(self) -> None:
        with self._lock:
            if not self._started:
                self._threads = [
                    threading.Thread(target=self._work, name=f"ownnet-predict-{i}", daemon=True)
                    for i in range(self._n_threads)
                ]
                for t in self._threads:
                    t.start()
                self._started = True

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # for this worker's next round
                    break
                batch.append(item)
            self._answer(batch)

    def _answer(self, batch: list[Any]) -> None:
        settled: dict[asyncio.AbstractEventLoop, list[tuple[Any, bool, Any]]] = {}
        ready: list[tuple[Any, Any, Any, str, Any]] = []
        for loop, future, model, kind, payload in batch:
            try:
                ready.append((loop, future, model, kind, self._decode(kind, payload)))
            except Exception as exc:
                settled.setdefault(loop, []).append((future, False, exc))
        # one network call per model (normally all requests have the same one)
        by_model: dict[int, list[Any]] = {}
        for entry in ready:
            by_model.setdefault(id(entry[2]), []).append(entry)
        for entries in by_model.values():
            model = entries[0][2]
            try:
                answers = self._answer_all(model, [(e[3], e[4]) for e in entries])
                results = [(e[1], True, a) for e, a in zip(entries, answers, strict=True)]
            except Exception as exc:
                results = [(e[1], False, exc) for e in entries]
            for e, result in zip(entries, results, strict=True):
                settled.setdefault(e[0], []).append(result)
        for loop, results in settled.items():
            try:
                loop.call_soon_threadsafe(_settle, results)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass


def _settle(results: list[tuple[Any, bool, Any]]) -> None:
    for future, ok, value in results:
        if future.done():  # the client went away
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
