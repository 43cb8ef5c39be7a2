"""Calls into chromadb: one client per path or server, and a deadline on every call.

chromadb's HTTP client waits forever for a server that accepts connections and never
answers, and an embedded client keeps vector indexes in memory that other processes'
writes do not update. This module keeps one client per embedded path or server address
for the whole process (`CLIENTS`), reopens it when asked (once no call is using it), and
runs calls in a daemon thread with a deadline (`with_deadline`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class _Registry:
    """One chromadb client per embedded path or server address, for the whole process.

    An embedded client keeps each collection's vector index in memory; to see vectors
    another process wrote, the client for that path is closed and opened again
    (``reopen``, once no call of this process is using it), which every store of the
    process then picks up.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._clients: dict[str, tuple[Any, int]] = {}  # key -> (client, generation)
        self._busy: dict[str, int] = {}  # calls in flight per key
        self._reopening: set[str] = set()

    def get(self, key: str, factory: Callable[[], Any]) -> tuple[Any, int]:
        # The factory runs outside the lock: a server that never answers must not block
        # the clients of every other path or server.
        with self._lock:
            if key in self._clients:
                return self._clients[key]
        client = factory()
        with self._lock:
            if key in self._clients:  # another thread was quicker: keep one client per key
                if self._clients[key][0] is not client:
                    client.close()
                return self._clients[key]
            self._clients[key] = (client, 0)
            return self._clients[key]

    def enter(self, key: str) -> None:
        with self._lock:
            self._lock.wait_for(lambda: key not in self._reopening, timeout=30)
            self._busy[key] = self._busy.get(key, 0) + 1

    def leave(self, key: str) -> None:
        with self._lock:
            self._busy[key] -= 1
            self._lock.notify_all()

    def reopen(self, key: str, seen: int, factory: Callable[[], Any], wait: float) -> None:
        with self._lock:
            client, generation = self._clients.get(key, (None, -1))
            if generation != seen or key in self._reopening:
                return  # another store of this process reopened it already
            self._reopening.add(key)
            try:
                # Calls in flight use the old client; a call that never returned is given up on.
                self._lock.wait_for(lambda: self._busy.get(key, 0) == 0, timeout=wait)
                if client is not None:
                    client.close()
                self._clients[key] = (factory(), generation + 1)
            finally:
                self._reopening.discard(key)
                self._lock.notify_all()


CLIENTS = _Registry()


def with_deadline(fn: Callable[[], T], seconds: float) -> T:
    """Run ``fn`` in a daemon thread and give up after ``seconds`` (`TimeoutError`).

    chromadb's HTTP client has no timeout of its own; a call that never returns is
    abandoned in its thread, which cannot keep the process from exiting.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread as it is
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="chroma-call", daemon=True).start()
    if not done.wait(seconds):
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
