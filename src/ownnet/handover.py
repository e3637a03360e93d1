"""How often Python hands the interpreter lock from one thread to another.

Python runs one thread's bytecode at a time. A thread busy in a loop of small NumPy
calls keeps the interpreter lock nearly all the time; another thread that wants it
(to start or to finish a call, even one that then runs for a millisecond without the
lock) asks for it and gets it only at the next hand-over, every 5 ms by default
(``sys.getswitchinterval()``). When one thread walks through samples in Python and
another does the big matrix products beside it (:mod:`ownnet.blocks`), that wait is
longer than the products: the hand-over interval must be short while they run.

:func:`quick_handovers` sets it to :data:`SWITCH` for as long as any caller needs it
and then restores the interval it found. Only speed changes, never a number computed.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: seconds between hand-overs of the interpreter lock while :func:`quick_handovers` runs
SWITCH = 1e-4

_lock = threading.Lock()
_users = 0  # callers inside quick_handovers, in any thread
_restore = 0.005  # the interval found by the first of them


@contextmanager
def quick_handovers(on: bool = True) -> Iterator[None]:
    """Hand the interpreter lock over every :data:`SWITCH` seconds (or more often, if
    that is already the setting) inside the ``with`` block; does nothing unless ``on``.

    Callers may nest and overlap, in one thread or several: the interval found by the
    first is restored when the last leaves.
    """
    global _users, _restore
    if not on:
        yield
        return
    with _lock:
        if _users == 0:
            _restore = sys.getswitchinterval()
            if _restore > SWITCH:
                sys.setswitchinterval(SWITCH)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _restore > SWITCH:
                sys.setswitchinterval(_restore)
