"""A bounded queue of answer work with its own worker threads.

Bolt's listener threads only acknowledge requests and put work here, so a burst of
questions (or a slow language model) can never delay the acknowledgement of a
button click or a slash command. When the queue is full, `submit` says so and the
caller tells the person to try again later instead of queueing without bound.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Job = Callable[[], Any]


class AnswerQueue:
    def __init__(self, workers: int = 4, size: int = 200) -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=size)
        self._stopping = threading.Event()
        self._busy = 0
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"slack-answer-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> bool:
        """Queue a job; False when the queue is full or the bot is stopping."""
        if self._stopping.is_set():
            return False
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            return False
        return True

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    @property
    def busy(self) -> int:
        with self._lock:
            return self._busy

    def stop(self, grace: float) -> int:
        """Take no new work, let running jobs finish within ``grace`` seconds, drop the
        queued ones (their questions stay marked in the state store); returns how
        many jobs were dropped or still running."""
        self._stopping.set()
        dropped = 0
        while True:
            try:
                if self._queue.get_nowait() is not None:
                    dropped += 1
            except queue.Empty:
                break
        for _ in self._threads:
            self._queue.put(None)
        end = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        running = sum(thread.is_alive() for thread in self._threads)
        return dropped + running

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                self._busy += 1
            try:
                job()
            except Exception:
                log.exception("an answer job failed")
            finally:
                with self._lock:
                    self._busy -= 1
