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
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

from assistant import relevance
from assistant.answerers import Answerer, get_answerer
from assistant.answerers.citations import uncited_sentences
from assistant.conversation import condense_question, needs_context
from assistant.door import UPLOADS, Event
from assistant.embedders import Embedder, get_embedder
from assistant.errors import AssistantError, IndexNotFoundError, InvalidQuestionError
from assistant.ingest import IngestReport, Root, build_manifest, check_manifest, ingest
from assistant.retrieval import Retriever
from assistant.settings import Settings
from assistant.splitting import SplitterConfig
from assistant.store import ChromaStore
from assistant.text import CitationRenumberer, detect_language
from assistant.types import (
    CLARIFY,
    Answer,
    Delta,
    DocumentInfo,
    IndexInfo,
    Note,
    Passage,
    Sources,
    Status,
    Turn,
    is_refusal,
    number_passages,
    refusal_text,
)

log = logging.getLogger(__name__)


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

    def is_relevant(self, passages: Sequence[Passage], language: str, question: str = "") -> bool:
        """Is the evidence strong enough to answer? Below it, the assistant says it doesn't know."""
        index = self.retriever.lexical_index()
        return relevance.is_relevant(passages, language, self.settings, self.embedder, question, index)

    def warm_up(self) -> None:
        """Load the models, the lexical index and the tables' row views now, so the first
        question does not wait.

        An index that is missing or unreachable is not an error here: the first question
        reports it, with what to do.
        """
        _ = self.answerer
        try:
            if self.store.manifest() is not None:
                self.retriever.lexical_index()
                if self.settings.table_row_views:
                    self.retriever.warm_row_views()
        except AssistantError as exc:
            log.info("warm-up left the index for later: %s", exc.message)

    # --- ingest ----------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path | Root] | None = None,
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Any = None,
    ) -> IngestReport:
        return ingest(
            paths or self.settings.corpus,
            self.store,
            self.embedder,
            self.settings,
            prune=prune,
            rebuild=rebuild,
            progress=progress,
        )

    def rebuild(self, progress: Any = None) -> IngestReport:
        """Build a new index from everything this assistant serves: the corpus and the uploads
        (``<data dir>/uploads``); the old index answers until the new one is complete."""
        paths: list[Path | Root] = list(self.settings.corpus)
        uploads = self.settings.data_dir / UPLOADS
        if uploads.is_dir():
            paths.append(uploads)
        return self.ingest(paths, rebuild=True, prune=True, progress=progress)

    def with_options(self, *, top_k: int, answerer: str) -> Assistant:
        """This assistant with other ``top_k``/``answerer``; the embedder is shared (loaded once)."""
        if top_k == self.settings.top_k and answerer == self.settings.answerer:
            return self
        settings = self.settings.model_copy(update={"top_k": top_k, "answerer": answerer})
        return Assistant(settings, embedder=self.embedder)

    def info(self) -> IndexInfo:
        manifest = self.store.manifest()
        if manifest is None:
            raise IndexNotFoundError(
                f"There is no index yet in {self.store.address}.",
                "Build it with `assistant ingest` (it indexes ./corpus by default).",
            )
        documents = self.documents()
        return IndexInfo(
            self.store.address, len(documents), sum(d.chunks for d in documents),
            manifest, [d.source for d in documents],
        )  # fmt: skip

    def documents(self) -> list[DocumentInfo]:
        """The documents in the index, by source, with their chunk counts."""
        files = self.store.files()
        return [
            DocumentInfo(source, len(record.ids), record.complete) for source, record in sorted(files.items())
        ]

    def index_version(self) -> str | None:
        """A token that changes whenever the index changes; None when there is no index."""
        return self.store.version()

    # --- questions -------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        """Answer a question; ``history`` holds earlier turns of the conversation."""
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                return event
        raise AssertionError("stream() ended without an Answer")  # pragma: no cover

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[Event]:
        """Like `ask`, step by step: `Status` of each stage, the `Sources` as soon as
        retrieval is done, `Delta` pieces of text, and the `Answer` last.

        The final `Answer` is authoritative: its passages are renumbered 1..n in the
        order the answer cites them, and its text's ``[n]`` marks with them.
        """
        started = time.perf_counter()
        question = self.validate(question)
        self._check_index()
        language = detect_language(question)
        recent = history[-self.settings.history_turns :] if self.settings.history_turns else ()
        unclear = needs_context(question, recent)
        if unclear is not None:
            text = CLARIFY.get(language, CLARIFY["en"]).format(question=question, word=unclear)
            yield Delta(text)
            yield Answer(
                question=question, answer=text, refused=True, citations=[],
                timings={"total": time.perf_counter() - started}, language=language,
                standalone_question=question, answerer=self.answerer.name, clarify=True,
            )  # fmt: skip
            return
        yield Status("retrieving")
        standalone = condense_question(
            question, recent, rewrite=getattr(self.answerer, "rewrite_question", None)
        )
        retrieval = self.retriever.search(standalone)
        timings = dict(retrieval.timings)
        passages = retrieval.chunks
        for number, passage in enumerate(passages, start=1):
            passage.number = passage.rank = number
            self._locate(passage)
        yield Sources(list(passages))
        notes: list[str] = []
        renumber = CitationRenumberer(len(passages))
        if not self.is_relevant(passages, language, standalone):
            text = refusal_text(language)
            yield Delta(text)
            refused = True
        else:
            yield Status("answering")
            generating = time.perf_counter()
            pieces: list[str] = []
            for piece in self.answerer.stream(standalone, passages, language):
                if isinstance(piece, Note):
                    notes.append(piece.text)
                    continue
                shown = renumber.feed(piece)
                if shown:
                    pieces.append(shown)
                    yield Delta(shown)
            if rest := renumber.flush():
                pieces.append(rest)
                yield Delta(rest)
            timings["answer"] = time.perf_counter() - generating
            text = "".join(pieces)
            if renumber.dropped:
                notes.append(f"removed {renumber.dropped} citation(s) of passages that were not given")
            refused = not text.strip() or is_refusal(text)
            if not text.strip():
                text = refusal_text(language)
                yield Delta(text)
        uncited = [] if refused else uncited_sentences(text)
        if uncited:
            notes.append(f"{len(uncited)} sentence(s) of the answer cite no passage")
        numbered = number_passages(list(passages), {} if refused else renumber.mapping)
        timings["total"] = time.perf_counter() - started
        yield Answer(
            question=question,
            answer=text,
            refused=refused,
            citations=numbered,
            timings=timings,
            language=language,
            standalone_question=standalone,
            answerer=self.answerer.name,
            notes=notes,
            uncited=uncited,
        )

    def _locate(self, passage: Passage) -> None:
        """Record where a person finds the passage's document (see `Passage.location`)."""
        if not passage.url and re.match(r"https?://", passage.source):
            passage.metadata["url"] = passage.source
        if passage.url:
            return
        roots = [(Path(root), "") for root in self.settings.corpus]
        roots.append((self.settings.data_dir / UPLOADS, f"{UPLOADS}/"))
        path = Path(passage.source)
        for root, prefix in roots:
            base = root.parent if root.suffix else root  # a corpus entry may be a single file
            try:
                relative = path.resolve().relative_to(base.resolve()).as_posix()
            except (OSError, ValueError):
                continue
            passage.metadata["path"] = prefix + relative
            if self.settings.source_url_base and not prefix:
                passage.metadata["url"] = self.settings.source_url_base.rstrip("/") + "/" + quote(relative)
            return

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

    # --- evaluation support (owned by the eval suite, issue 10) ------------------------

    def corpus_fingerprint(self) -> dict[str, Any]:
        """What is indexed, independent of where the files live: sha256 over the indexed
        files' content hashes, documents, chunks and the splitter version."""
        import hashlib

        files = self.store.files()
        digest = hashlib.sha256()
        for file_hash in sorted(record.file_hash for record in files.values()):
            digest.update(file_hash.encode())
        manifest = self.store.manifest() or {}
        return {
            "sha256": digest.hexdigest(),
            "documents": len(files),
            "chunks": sum(len(r.ids) for r in files.values()),
            "splitter_version": manifest.get("splitter_version"),
        }

    def embed_texts(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed texts as documents with the configured embedder (answer-similarity metric)."""
        return [[float(x) for x in vector] for vector in self.embedder.embed_documents(list(texts))]

    def judge_model(self) -> Any | None:
        """The answerer's chat model, deterministic and not streamed, for grading answers;
        None when the answerer has none (extractive)."""
        make = getattr(self.answerer, "with_chat_options", None)
        return make(temperature=0.0, streaming=False) if callable(make) else None

    def answerer_name(self) -> str:
        return str(self.answerer.name)
