"""Ingesting: load, split, embed and store documents, incrementally and idempotently.

Chunk ids are content hashes, so re-ingesting is safe: an unchanged file is
skipped without embedding, a changed one has only its new chunks embedded and
its stale chunks removed, and ``prune`` removes files that no longer exist. An
interrupted ingest leaves a mixed state that the next run detects and repairs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from assistant.embedders import Embedder
from assistant.errors import IndexMismatchError, LoaderError
from assistant.lexical import default_tokenizer
from assistant.lexical_store import LexicalStore
from assistant.loading import Document, Skipped, file_hash, iter_files, load_bytes
from assistant.settings import Settings
from assistant.splitting import Chunk, SplitterConfig, contextual_text, header_format, split_document
from assistant.store import ChromaStore, FileRecord, StoredChunk

log = logging.getLogger(__name__)

#: Called as progress(chunks_done, chunks_total) while embedding.
Progress = Callable[[int, int], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": len(self.unchanged),
            "removed": self.removed,
            "skipped": [{"source": s.source, "reason": s.reason} for s in self.skipped],
            "chunks_embedded": self.chunks_embedded,
            "chunks_total": self.chunks_total,
            "seconds": round(self.seconds, 3),
        }


def build_manifest(embedder: Embedder, splitter: SplitterConfig, header: bool = True) -> dict[str, Any]:
    return {
        "embedder": embedder.name,
        "dimension": int(embedder.dimension),
        "chunk_size": splitter.chunk_size,
        "chunk_overlap": splitter.chunk_overlap,
        "splitter_version": splitter.as_dict()["version"],
        "header_format": header_format(header),
    }


def check_manifest(stored: dict[str, Any] | None, wanted: dict[str, Any]) -> None:
    """Raise `IndexMismatchError` if the index was built differently."""
    if not stored:
        return
    diffs = [f"{k}: index has {stored.get(k)!r}, settings say {v!r}"
             for k, v in wanted.items() if stored.get(k) != v]  # fmt: skip
    if diffs:
        raise IndexMismatchError(
            "The index was built with other settings (" + "; ".join(diffs) + ").",
            "Rebuild it with `assistant ingest --rebuild`, or change the settings back.",
        )


def source_key(path: Path) -> str:
    """Files are identified by their absolute path."""
    return path.resolve().as_posix()


def ingest(
    paths: Iterable[Path],
    store: ChromaStore,
    embedder: Embedder,
    settings: Settings,
    *,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index up to date with the files under ``paths``."""
    started = time.perf_counter()
    splitter = SplitterConfig(settings.chunk_size, settings.chunk_overlap)
    manifest = build_manifest(embedder, splitter, settings.contextual_header)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    report = IngestReport()
    with FileLock(str(settings.data_dir / "ingest.lock")):
        check_manifest(store.manifest(), manifest)
        seq = int((store.manifest() or {}).get("seq", 0)) + 1  # this run's number, see lexical_store
        records = store.files()
        plan: list[tuple[Document, list[Chunk], FileRecord | None]] = []
        seen: set[str] = set()
        for path, _root in iter_files(list(paths), settings.include, settings.exclude):
            key = source_key(path)
            seen.add(key)
            try:
                data = path.read_bytes()
            except OSError as exc:
                _skip(report, key, f"cannot be read ({exc.strerror or exc})")
                continue
            record = records.get(key)
            if record and record.file_hash == file_hash(data) and record.complete:
                report.unchanged.append(key)
                continue
            try:
                doc = load_bytes(data, key, path.suffix.lower())
            except LoaderError as exc:
                _skip(report, key, exc.message.removeprefix(f"{key}: "))
                continue
            plan.append((doc, split_document(doc, splitter), record))

        if plan or not store.manifest():
            store.write_manifest(manifest)
        report.chunks_embedded = _write(plan, store, embedder, settings, progress, report, seq)

        if prune:
            for key, record in records.items():
                if key not in seen and not Path(key).exists():
                    store.delete(record.ids)
                    report.removed.append(key)
        if report.changed:
            # A new version token tells readers to refresh; seq, to read chunks of runs after theirs.
            store.write_manifest({**manifest, "seq": seq})
        report.chunks_total = store.count() if store.manifest() else 0
        if store.manifest() and settings.lexical_persist:
            LexicalStore(store, settings).sync()  # saved beside the store for every reader
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _FileWork:
    """What one changed file needs written: new chunks to embed, kept ones, stale ids."""

    doc: Document
    is_update: bool
    fresh: list[tuple[str, StoredChunk]]  # (text to embed, chunk)
    kept: list[StoredChunk]
    stale: list[str]
    pending: int = 0


def _write(
    plan: list[tuple[Document, list[Chunk], FileRecord | None]],
    store: ChromaStore,
    embedder: Embedder,
    settings: Settings,
    progress: Progress | None,
    report: IngestReport,
    seq: int,
) -> int:
    """Embed the new chunks of all files in full batches (the embedder is fastest so), and
    finish each file once all its new chunks are stored; returns how many were embedded."""
    tokenizer = default_tokenizer()
    batch_size = settings.embed_batch_size
    works: list[_FileWork] = []
    for doc, chunks, record in plan:
        existing = set(record.ids) if record else set()
        texts = [contextual_text(c.text, c.title, c.heading_path, settings.contextual_header) for c in chunks]
        stored = [
            _stored(doc, c, len(chunks), tokenizer.tokenize(t), seq)
            for c, t in zip(chunks, texts, strict=True)
        ]
        fresh = [(t, s) for t, s in zip(texts, stored, strict=True) if s.id not in existing]
        kept = [s for s in stored if s.id in existing]
        stale = sorted(existing - {c.id for c in chunks})
        works.append(_FileWork(doc, record is not None, fresh, kept, stale, len(fresh)))

    def finish(work: _FileWork) -> None:
        # Only now are the file's old chunks touched: an interruption before this point
        # leaves a mixed state that the next ingest sees and repairs.
        if work.kept:
            store.update_metadata(work.kept)
        store.delete(work.stale)
        (report.updated if work.is_update else report.added).append(work.doc.source)

    for work in works:
        if not work.pending:
            finish(work)
    queue = [(work, text, chunk) for work in works for text, chunk in work.fresh]
    done = 0
    for start in range(0, len(queue), batch_size):
        batch = queue[start : start + batch_size]
        vectors = embedder.embed_documents([text for _, text, _ in batch])
        store.upsert([chunk for _, _, chunk in batch], vectors)
        done += len(batch)
        if progress:
            progress(done, len(queue))
        for work, _, _ in batch:
            work.pending -= 1
            if work.pending == 0:
                finish(work)
    return done


def _stored(doc: Document, chunk: Chunk, n_chunks: int, tokens: list[str], seq: int) -> StoredChunk:
    meta: dict[str, Any] = {
        "source": doc.source,
        "title": doc.title,
        "heading": chunk.heading,
        "ordinal": chunk.ordinal,
        "file_hash": doc.content_hash,
        "n_chunks": n_chunks,
        "tokens": " ".join(tokens),
        "seq": seq,  # the ingest run that wrote it (the lexical index reads runs after its own)
    }
    if doc.metadata.get("description"):
        meta["description"] = doc.metadata["description"][:500]
    return StoredChunk(chunk.id, chunk.text, meta)


def _skip(report: IngestReport, source: str, reason: str) -> None:
    log.warning("skipped %s: %s", source, reason)
    report.skipped.append(Skipped(source, reason))
