"""The public face of the core: `Assistant` ingests documents and answers questions.

Frontends (CLI, Streamlit, Slack, evals) use only this module. One call returns
everything a frontend needs: the answer, the exact passages it was built from
(the citations), their scores and the time each stage took.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from assistant import relevance
from assistant.answerers import (
    Answerer,
    Turn,
    detect_language,
    get_answerer,
    is_refusal,
    refusal_text,
)
from assistant.answerers.citations import uncited_sentences
from assistant.answerers.llm import Note
from assistant.conversation import condense_question
from assistant.embedders import Embedder, get_embedder
from assistant.errors import IndexNotFoundError, InvalidQuestionError
from assistant.ingest import IngestReport, build_manifest, check_manifest, ingest
from assistant.retrieval import RetrievedChunk, Retriever
from assistant.settings import Settings
from assistant.splitting import SplitterConfig
from assistant.store import ChromaStore

log = logging.getLogger(__name__)

_CITATION = re.compile(r"\[(\d+)\]")


@dataclass
class Citation:
    """A numbered passage given to the answerer; ``[number]`` in the answer points here."""

    number: int
    chunk_id: str
    source: str
    title: str
    heading_path: list[str]
    text: str
    score: float
    dense_score: float | None
    lexical_score: float | None
    term_coverage: float
    cited: bool

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    timings: dict[str, float]
    language: str
    standalone_question: str
    answerer: str
    notes: list[str] = field(default_factory=list)
    uncited: list[str] = field(default_factory=list)  # answer sentences that cite no passage

    @property
    def cited(self) -> list[Citation]:
        return [c for c in self.citations if c.cited]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
        return data


@dataclass
class Delta:
    """A piece of answer text while it is being produced."""

    text: str


@dataclass
class IndexInfo:
    address: str
    documents: int
    chunks: int
    manifest: dict[str, Any]
    sources: list[str]


class Assistant:
    """The core: ingest documents, answer questions about them."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self.store = ChromaStore(settings)

    @classmethod
    def from_settings(cls, settings: Settings) -> Assistant:
        return cls(settings)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedder, self.settings.models_dir)
        return self._embedder

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.embedder, self.settings)

    @cached_property
    def answerer(self) -> Answerer:
        return get_answerer(self.settings.answerer, self.settings, self.embedder)

    def is_relevant(self, passages: Sequence[RetrievedChunk], language: str, question: str = "") -> bool:
        """Is there evidence to answer? Below it, the assistant says it doesn't know (`assistant.relevance`)."""
        s = self.settings
        low = s.min_relevance if s.min_relevance is not None else self.embedder.min_relevance
        high = (
            s.confident_relevance if s.confident_relevance is not None else self.embedder.confident_relevance
        )
        index = self.retriever.lexical_index()
        return relevance.is_relevant(
            question, passages, language, low=low, high=high, min_coverage=s.min_term_coverage, index=index
        )

    # --- ingest ----------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path] | None = None,
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Any = None,
    ) -> IngestReport:
        if rebuild:
            self.store.drop()
        return ingest(
            paths or self.settings.corpus,
            self.store,
            self.embedder,
            self.settings,
            prune=prune,
            progress=progress,
        )

    def info(self) -> IndexInfo:
        manifest = self.store.manifest()
        if manifest is None:
            raise IndexNotFoundError(
                f"There is no index yet in {self.store.address}.",
                "Build it with `assistant ingest` (it indexes ./corpus by default).",
            )
        files = self.store.files()
        return IndexInfo(
            self.store.address, len(files), sum(len(r.ids) for r in files.values()),
            manifest, sorted(files),
        )  # fmt: skip

    # --- questions -------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        """Answer a question; ``history`` holds earlier turns of the conversation."""
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                return event
        raise AssertionError("stream() ended without an Answer")  # pragma: no cover

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[Delta | Answer]:
        """Like `ask`, but yields `Delta` pieces of text first and the `Answer` last."""
        started = time.perf_counter()
        question = self.validate(question)
        self._check_index()
        language = detect_language(question)
        recent = history[-self.settings.history_turns :] if self.settings.history_turns else ()
        standalone = condense_question(
            question, recent, rewrite=getattr(self.answerer, "rewrite_question", None)
        )
        retrieval = self.retriever.search(standalone)
        timings = dict(retrieval.timings)
        passages = retrieval.chunks
        notes: list[str] = []
        if not self.is_relevant(passages, language, standalone):
            text = refusal_text(language)
            yield Delta(text)
            refused = True
        else:
            generating = time.perf_counter()
            pieces: list[str] = []
            for piece in self.answerer.stream(standalone, passages, language):
                if isinstance(piece, Note):
                    notes.append(piece.text)
                    continue
                pieces.append(piece)
                yield Delta(piece)
            timings["answer"] = time.perf_counter() - generating
            text, dropped = check_citations("".join(pieces), len(passages))
            if dropped:
                notes.append(f"removed {dropped} citation(s) of passages that were not given")
            refused = not text.strip() or is_refusal(text)
            if not text.strip():
                text = refusal_text(language)
                yield Delta(text)
        uncited = [] if refused else uncited_sentences(text)
        if uncited:
            notes.append(f"{len(uncited)} sentence(s) of the answer cite no passage")
        timings["total"] = time.perf_counter() - started
        cited = {int(n) for n in _CITATION.findall(text)}
        yield Answer(
            question=question,
            answer=text,
            refused=refused,
            citations=[_citation(i, p, i in cited and not refused) for i, p in enumerate(passages, start=1)],
            timings=timings,
            language=language,
            standalone_question=standalone,
            answerer=self.answerer.name,
            notes=notes,
            uncited=uncited,
        )

    def validate(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise InvalidQuestionError(
                "The question is empty. / 質問が空です。",
                "Type a question, e.g. 「コンテナとは？」",
            )
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise InvalidQuestionError(
                f"The question is {len(question)} characters long; the limit is {limit}. "
                f"/ 質問が長すぎます（{len(question)}文字、上限{limit}文字）。",
                "Shorten it to the essential question, or raise ASSISTANT_MAX_QUESTION_CHARS.",
            )
        return question

    def _check_index(self) -> None:
        manifest = self.store.manifest()
        if manifest is None:
            raise IndexNotFoundError(
                f"There is no index yet in {self.store.address}.",
                "Build it with `assistant ingest` (it indexes ./corpus by default).",
            )
        splitter = SplitterConfig(self.settings.chunk_size, self.settings.chunk_overlap)
        wanted = build_manifest(self.embedder, splitter)
        check_manifest(manifest, {k: wanted[k] for k in ("embedder", "dimension")})


def check_citations(text: str, n_passages: int) -> tuple[str, int]:
    """Remove citations of passages that were not given; return the text and how many."""
    dropped = 0

    def keep(match: re.Match[str]) -> str:
        nonlocal dropped
        if 1 <= int(match.group(1)) <= n_passages:
            return match.group(0)
        dropped += 1
        return ""

    return _CITATION.sub(keep, text), dropped


def _citation(number: int, passage: RetrievedChunk, cited: bool) -> Citation:
    return Citation(
        number=number,
        chunk_id=passage.id,
        source=passage.source,
        title=passage.title,
        heading_path=passage.heading_path,
        text=passage.text,
        score=passage.score,
        dense_score=passage.dense_score,
        lexical_score=passage.lexical_score,
        term_coverage=passage.term_coverage,
        cited=cited,
    )
