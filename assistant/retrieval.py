"""Retrieving: hybrid search, dense vectors in Chroma plus BM25, fused by rank.

Dense search carries questions across languages (an English question finds a
Japanese passage); BM25 over Sudachi tokens nails exact terms and names.
Reciprocal rank fusion combines both. The BM25 index is rebuilt from the store
whenever the store's version token changes, so every process sees new documents
without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from assistant.embedders import Embedder
from assistant.lexical import BM25Index, default_tokenizer
from assistant.settings import Settings
from assistant.store import ChromaStore, StoredChunk
from assistant.text import split_heading
from assistant.types import Passage

log = logging.getLogger(__name__)


@dataclass
class Retrieval:
    chunks: list[Passage]
    timings: dict[str, float]
    query_tokens: list[str]


class Retriever:
    """Hybrid retriever over one store; thread-safe."""

    def __init__(self, store: ChromaStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._tokenizer = default_tokenizer()
        self._bm25: BM25Index | None = None
        self._bm25_version: str | None = None
        self._lock = threading.Lock()

    def lexical_index(self) -> BM25Index:
        """The BM25 index, rebuilt if the store changed since it was built."""
        with self._lock:
            self.store.refresh_if_changed()
            version = self.store.version()
            if self._bm25 is None or version != self._bm25_version:
                started = time.perf_counter()
                chunks = self.store.all_chunks()
                self._bm25 = BM25Index([c.id for c in chunks], [_tokens(c) for c in chunks])
                self._bm25_version = version
                log.info("BM25 index over %d chunks built in %.2fs", len(chunks),
                         time.perf_counter() - started)  # fmt: skip
            return self._bm25

    def search(self, question: str, k: int | None = None) -> Retrieval:
        s = self.settings
        k = k or s.top_k
        timings: dict[str, float] = {}

        started = time.perf_counter()
        bm25 = self.lexical_index()
        timings["lexical_index"] = time.perf_counter() - started

        started = time.perf_counter()
        query_vector = self.embedder.embed_query(question)
        timings["embed_query"] = time.perf_counter() - started

        started = time.perf_counter()
        dense = self.store.query(query_vector, min(s.candidates, max(1, len(bm25))))
        timings["dense_search"] = time.perf_counter() - started

        started = time.perf_counter()
        tokens = self._tokenizer.tokenize(question)
        lexical = bm25.search(tokens, s.candidates)
        timings["lexical_search"] = time.perf_counter() - started

        started = time.perf_counter()
        fused = fuse(dense, lexical, s.fusion, s.dense_weight, s.lexical_weight, s.rrf_k)
        top = sorted(fused.items(), key=lambda item: -item[1]["score"])[:k]
        stored = {c.id: c for c in self.store.get([chunk_id for chunk_id, _ in top])}
        # A chunk deleted by a concurrent ingest between the two calls is dropped.
        chunks = [_retrieved(stored[i], e) for i, e in top if i in stored]
        for chunk in chunks:
            chunk.term_coverage = bm25.coverage(tokens, chunk.id)
        timings["fuse"] = time.perf_counter() - started
        return Retrieval(chunks, timings, tokens)


def fuse(
    dense: list[tuple[str, float]],
    lexical: list[tuple[str, float]],
    method: str,
    dense_weight: float,
    lexical_weight: float,
    rrf_k: int,
) -> dict[str, dict[str, float]]:
    """Combine the two ranked lists into one score per chunk.

    ``rrf``: reciprocal rank fusion, ``w / (rrf_k + rank)`` summed over the lists.
    ``score``: each list's scores min-max normalised to [0, 1], then a weighted sum;
    it keeps how far apart the candidates are, which ranks alone lose.
    """
    fused: dict[str, dict[str, float]] = {}
    for name, hits, weight in (("dense", dense, dense_weight), ("lexical", lexical, lexical_weight)):
        if not hits:
            continue
        top, bottom = hits[0][1], hits[-1][1]
        span = (top - bottom) or 1.0
        for rank, (chunk_id, value) in enumerate(hits, start=1):
            entry = fused.setdefault(chunk_id, {"score": 0.0})
            if method == "rrf":
                entry["score"] += weight / (rrf_k + rank)
            else:
                entry["score"] += weight * (value - bottom) / span
            entry[f"{name}_score"], entry[f"{name}_rank"] = value, rank
    return fused


def _tokens(chunk: StoredChunk) -> list[str]:
    stored = chunk.metadata.get("tokens")
    if isinstance(stored, str):
        return stored.split(" ") if stored else []
    return default_tokenizer().tokenize(chunk.text)


def _retrieved(chunk: StoredChunk, entry: dict[str, float]) -> Passage:
    meta = chunk.metadata
    heading = str(meta.get("heading") or "")
    return Passage(
        id=chunk.id,
        text=chunk.text,
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        heading_path=split_heading(heading),
        score=entry["score"],
        dense_score=entry.get("dense_score"),
        lexical_score=entry.get("lexical_score"),
        dense_rank=int(entry["dense_rank"]) if "dense_rank" in entry else None,
        lexical_rank=int(entry["lexical_rank"]) if "lexical_rank" in entry else None,
        metadata={k: v for k, v in meta.items() if k not in {"tokens"}},
    )
