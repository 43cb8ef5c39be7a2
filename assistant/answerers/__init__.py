"""Answering backends behind one interface, chosen by a ``provider:model`` string.

An answerer turns a question and the numbered passages retrieved for it into
answer text that cites the passages as ``[n]``. It streams: it yields pieces of
text as they are produced. The pipeline validates the question, decides when the
evidence is too weak to answer at all, checks the citations and builds the
`Answer` that frontends show; an answerer never retrieves anything itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.embedders import Embedder, load_factory, parse_spec
from assistant.retrieval import RetrievedChunk
from assistant.settings import Settings

REFUSALS = {
    "ja": "提供された資料からは、この質問に答えられる情報が見つかりませんでした。",
    "en": "I don't know: the documents do not contain an answer to this question.",
}
CLOSEST = {
    "ja": "最も近い資料を下に示します。",
    "en": "The closest passages found are listed below.",
}

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def detect_language(text: str) -> str:
    """``ja`` if the text contains Japanese script, else ``en``."""
    return "ja" if _JAPANESE.search(text) else "en"


def refusal_text(language: str) -> str:
    return f"{REFUSALS.get(language, REFUSALS['en'])} {CLOSEST.get(language, CLOSEST['en'])}"


def is_refusal(text: str) -> bool:
    stripped = text.strip()
    return any(stripped.startswith(r[:12]) for r in REFUSALS.values())


@dataclass
class Turn:
    """One exchange of a conversation, as frontends keep it."""

    question: str
    answer: str


class Answerer(Protocol):
    name: str

    def stream(self, question: str, passages: Sequence[RetrievedChunk], language: str) -> Iterator[str]:
        """Yield the answer text in pieces; passages are numbered from 1 in order."""
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
