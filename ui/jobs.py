"""Answers produced off the page's script thread, so that nothing on the page cancels them.

A Streamlit script run is stopped whenever the user does something (sends another
question, clicks a button). The answer is therefore produced by a worker thread
of the browser session: questions queue up and are answered one after the other,
each with the conversation so far as its history; the page only shows the
progress it finds (`Job`), and a rerun simply picks the display up again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.door import AssistantLike
from assistant.errors import AssistantError
from assistant.types import Answer, Delta, Passage, Sources, Status, Turn

log = logging.getLogger(__name__)

#: Called with the finished job (answer or error), on the worker thread.
OnDone = Callable[["Job"], None]


@dataclass
class Job:
    """One question on its way to an answer; written by the worker, read by the page."""

    question: str
    stage: str = "queued"  # queued → retrieving → answering → done
    sources: list[Passage] = field(default_factory=list)
    text: str = ""
    answer: Answer | None = None
    error: AssistantError | Exception | None = None
    submitted: float = field(default_factory=time.perf_counter)
    first_text: float | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def done(self) -> bool:
        return self.finished.is_set()


class Worker:
    """The answering thread of one browser session; jobs run in the order they were sent."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Job, AssistantLike, Callable[[], list[Turn]], OnDone]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(
        self, job: Job, bot: AssistantLike, history: Callable[[], list[Turn]], on_done: OnDone
    ) -> None:
        """Queue ``job``; ``history`` is read when the job starts, after the earlier answers are in."""
        self._queue.put((job, bot, history, on_done))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ui-answer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                job, bot, history, on_done = self._queue.get(timeout=1.0)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            run(job, bot, history())
            try:
                on_done(job)
            except Exception:  # the job's result is shown anyway; keeping it is best effort
                log.exception("saving the answer to %r failed", job.question)


def run(job: Job, bot: AssistantLike, history: list[Turn]) -> None:
    """Answer ``job`` with ``bot``, recording each event as it comes."""
    try:
        for event in bot.stream(job.question, history):
            if isinstance(event, Status):
                job.stage = event.stage
            elif isinstance(event, Sources):
                job.sources = list(event.passages)
            elif isinstance(event, Delta):
                if job.first_text is None:
                    job.first_text = time.perf_counter()
                job.text += event.text
            elif isinstance(event, Answer):
                job.answer = event
    except AssistantError as exc:
        job.error = exc
    except Exception as exc:  # shown as an unexpected error; the page never shows a traceback
        log.exception("answering %r failed", job.question)
        job.error = exc
    finally:
        job.stage = "done"
        job.finished.set()
