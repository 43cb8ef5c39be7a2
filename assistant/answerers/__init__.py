"""Answering backends behind one interface, chosen by a ``provider:model`` string.

An answerer turns a question and the numbered passages retrieved for it into
answer text that cites the passages as ``[n]``. It streams: it yields pieces of
text as they are produced. The pipeline validates the question, decides when the
evidence is too weak to answer at all, checks the citations and builds the
`Answer` that frontends show; an answerer never retrieves anything itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from assistant.embedders import Embedder, load_factory, parse_spec
from assistant.settings import Settings
from assistant.types import Note, Passage


class Answerer(Protocol):
    name: str

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str | Note]:
        """Yield the answer text in pieces (and `Note`s); ``[n]`` cites ``passages[n - 1]``."""
        ...


PROVIDERS: dict[str, str] = {
    "extractive": "assistant.answerers.extractive:ExtractiveAnswerer",
    "openai": "assistant.answerers.openai_compat:OpenAIAnswerer",
    "ollama": "assistant.answerers.ollama:OllamaAnswerer",
    "llamacpp": "assistant.answerers.llamacpp:LlamaCppAnswerer",
}


def get_answerer(spec: str, settings: Settings, embedder: Embedder) -> Answerer:
    provider, model = parse_spec(spec, PROVIDERS, "answerer")
    factory = load_factory(PROVIDERS[provider])
    answerer: Answerer = factory(model, settings=settings, embedder=embedder)
    return answerer
