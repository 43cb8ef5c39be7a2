"""The front door: the one interface the frontends talk to, embedded or through the service.

`AssistantLike` is everything the browser app and the Slack bot call. Two classes implement
it: `assistant.pipeline.Assistant` (the models and the index in this process) and
`assistant.client.RemoteAssistant` (a running ``assistant serve``, over HTTP).
`open_assistant(settings)` returns the one the settings ask for — the client when
``ASSISTANT_SERVER_URL`` is set — and imports it only then, so that a thin client never
imports torch, sentence-transformers or chromadb.

This module stays light on purpose: at import time it needs only the ground floor
(`settings`, `types`), which is why frontends may import it (tests/test_architecture.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from assistant.settings import Settings
from assistant.types import Answer, Delta, DocumentInfo, IndexInfo, IngestReport, Sources, Status, Turn

#: Where uploaded documents are kept, inside the data directory.
UPLOADS = "uploads"
#: What `AssistantLike.stream` yields: progress, the passages, text pieces, then the `Answer`.
Event = Status | Sources | Delta | Answer
#: Told ``(chunks_done, chunks_total)`` while an ingest embeds.
Progress = Callable[[int, int], None]


class AssistantLike(Protocol):
    """What a frontend may call on an assistant, wherever its models run."""

    settings: Settings

    def validate(self, question: str) -> str:
        """The question, stripped; `InvalidQuestionError` when it is unusable."""
        ...

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        """Answer a question; ``history`` holds earlier turns of the conversation."""
        ...

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[Event]:
        """`Status`, then `Sources`, then `Delta` pieces, then the final `Answer`."""
        ...

    def info(self) -> IndexInfo:
        """What the index holds; `IndexNotFoundError` when there is none yet."""
        ...

    def documents(self) -> list[DocumentInfo]:
        """The indexed documents with their chunk counts (an admin call through the service)."""
        ...

    def index_version(self) -> str | None:
        """A token that changes whenever the index changes; None when there is no index."""
        ...

    def ingest(
        self,
        paths: Sequence[Path] | None = None,
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Add or update the documents under ``paths`` (files on this machine)."""
        ...

    def rebuild(self, progress: Progress | None = None) -> IngestReport:
        """Build a new index from everything the assistant serves: its corpus and the uploads."""
        ...

    def with_options(self, *, top_k: int, answerer: str) -> AssistantLike:
        """The same assistant with a session's own choices (the models are shared)."""
        ...

    def warm_up(self) -> None:
        """Be ready for the first question (load the models, or wait for the service)."""
        ...


def open_assistant(settings: Settings) -> AssistantLike:
    """The assistant the settings ask for: a client of the service when ``server_url`` is set,
    the embedded `Assistant` otherwise. Nothing is loaded yet (see `AssistantLike.warm_up`)."""
    if settings.server_url:
        from assistant.client import RemoteAssistant

        return RemoteAssistant(settings)
    from assistant.pipeline import Assistant

    return Assistant(settings)
