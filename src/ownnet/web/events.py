"""A log of server-sent events that a training thread writes and many browsers read.

The training thread calls :meth:`EventLog.publish` (thread-safe); each reader
iterates :meth:`EventLog.follow` on the server's event loop, gets every event
after the id it has seen (so a browser that reconnects with ``Last-Event-ID``
misses nothing still kept), then waits for new ones without blocking the loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

#: Events kept for readers that join late (the first, ``start``, is always kept).
MAX_EVENTS = 2000
#: Seconds between keep-alive comments on an idle stream.
KEEP_ALIVE = 15.0


@dataclass(frozen=True)
class Event:
    """One event: ``id`` counts from 1, ``type`` names it, ``data`` is its JSON text."""

    id: int
    type: str
    data: str

    def sse(self) -> str:
        """The event in the ``text/event-stream`` format."""
        return f"id: {self.id}\nevent: {self.type}\ndata: {self.data}\n\n"


class EventLog:
    """Events of one training run, in order; closed when the run ends."""

    def __init__(self, maxlen: int = MAX_EVENTS) -> None:
        self._events: deque[Event] = deque(maxlen=maxlen)
        self._first: Event | None = None
        self._next = 1
        self._closed = False
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def publish(self, type: str, data: dict[str, Any]) -> Event:
        """Append an event and wake every reader. Safe from any thread."""
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
        with self._lock:
            if self._closed:
                raise RuntimeError("the event log is closed")
            event = Event(self._next, type, text)
            self._next += 1
            self._events.append(event)
            if self._first is None:
                self._first = event
        self._wake()
        return event

    def close(self) -> None:
        """No more events: readers end after the last one."""
        with self._lock:
            self._closed = True
        self._wake()

    def since(self, after: int) -> tuple[list[Event], bool]:
        """Events with ``id > after`` still kept, and whether the log is closed."""
        with self._lock:
            events = [e for e in self._events if e.id > after]
            first = self._first
            if first is not None and first.id > after and (not events or events[0] is not first):
                events.insert(0, first)
            return events, self._closed

    def count(self) -> int:
        """Events published so far."""
        return self._next - 1

    def _wake(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, flag in waiters:
            try:
                loop.call_soon_threadsafe(flag.set)
            except RuntimeError:  # that reader's loop is gone
                pass

    async def follow(
        self, after: int = 0, keep_alive: float = KEEP_ALIVE
    ) -> AsyncIterator[Event | None]:
        """Yield events after ``after`` as they come; ``None`` after ``keep_alive`` idle seconds.

        Ends once the log is closed and every event was yielded.
        """
        flag = asyncio.Event()
        waiter = (asyncio.get_running_loop(), flag)
        with self._lock:
            self._waiters.add(waiter)
        try:
            while True:
                flag.clear()
                events, closed = self.since(after)
                for event in events:
                    yield event
                    after = event.id
                if events:
                    continue
                if closed:
                    return
                try:
                    await asyncio.wait_for(flag.wait(), keep_alive)
                except asyncio.TimeoutError:
                    yield None
        finally:
            with self._lock:
                self._waiters.discard(waiter)
