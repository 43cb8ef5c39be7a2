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
from assistant.loading import Document, Skipped, file_hash, iter_files, load_bytes
from assistant.settings import Settings
from assistant.splitting import Chunk, SplitterConfig, split_document
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


def build_manifest(embedder: Embedder, splitter: SplitterConfig) -> dict[str, Any]:
    return {
        "embedder": embedder.name,
        "dimension": int(embedder.dimension),
        "chunk_size": splitter.chunk_size,
        "chunk_overlap": splitter.chunk_overlap,
        "splitter_version": splitter.as_dict()["version"],
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
    paths: Iterable[Any],
    store: ChromaStore,
    embedder: Embedder,
    settings: Settings,
    *,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index up to date with the files under ``paths`` and the documents of the
    connectors (`assistant.connectors` roots) among them."""
    started = time.perf_counter()
    splitter = SplitterConfig(settings.chunk_size, settings.chunk_overlap)
    manifest = build_manifest(embedder, splitter)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    report = IngestReport()
    with FileLock(str(settings.data_dir / "ingest.lock")):
        check_manifest(store.manifest(), manifest)
        records = store.files()
        plan: list[tuple[Document, list[Chunk], FileRecord | None]] = []
        seen: set[str] = set()
        given = list(paths)
        roots = [p for p in given if not isinstance(p, Path)]
        for path, _root in iter_files(
            [p for p in given if isinstance(p, Path)], settings.include, settings.exclude
        ):
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
        for root in roots:  # connectors: web sites, repositories, ...
            _plan_root(root, records, seen, plan, splitter, report)

        if plan or not store.manifest():
            store.write_manifest(manifest)
        report.chunks_embedded = _write(plan, store, embedder, settings.embed_batch_size, progress, report)

        if prune:
            for key, record in records.items():
                if key in seen:
                    continue
                owned = [r for r in roots if r.owns(key, record)]
                if owned or (not _is_connector_key(key) and not Path(key).exists()):
                    store.delete(record.ids)
                    report.removed.append(key)
        if report.changed:
            store.write_manifest(manifest)  # a new version token tells readers to refresh
        report.chunks_total = store.count() if store.manifest() else 0
    report.seconds = time.perf_counter() - started
    return report


def _plan_root(
    root: Any,
    records: dict[str, FileRecord],
    seen: set[str],
    plan: list[tuple[Document, list[Chunk], FileRecord | None]],
    splitter: SplitterConfig,
    report: IngestReport,
) -> None:
    """Plan the changed documents of one connector (`assistant.connectors.base.Root`)."""
    for entry in root.entries():
        seen.add(entry.key)
        record = records.get(entry.key)
        try:
            data = entry.read()
        except OSError as exc:
            _skip(report, entry.key, f"cannot be read ({exc.strerror or exc})")
            continue
        if record and record.file_hash == file_hash(data) and record.complete:
            report.unchanged.append(entry.key)
            continue
        try:
            doc = load_bytes(data, entry.key, entry.suffix)
        except LoaderError as exc:
            _skip(report, entry.key, exc.message.removeprefix(f"{entry.key}: "))
            continue
        if entry.url:
            doc.metadata["url"] = entry.url
        doc.metadata["root"] = root.key
        plan.append((doc, split_document(doc, splitter), record))
    for problem in root.problems:
        _skip(report, problem.source, problem.reason)


def _is_connector_key(key: str) -> bool:
    return "://" in key or key.startswith("git+")


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
    batch_size: int,
    progress: Progress | None,
    report: IngestReport,
) -> int:
    """Embed the new chunks of all files in full batches (the embedder is fastest so), and
    finish each file once all its new chunks are stored; returns how many were embedded."""
    tokenizer = default_tokenizer()
    works: list[_FileWork] = []
    for doc, chunks, record in plan:
        existing = set(record.ids) if record else set()
        stored = [_stored(doc, c, len(chunks), tokenizer.tokenize(c.embedding_text)) for c in chunks]
        fresh = [(c.embedding_text, s) for c, s in zip(chunks, stored, strict=True) if c.id not in existing]
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


def _stored(doc: Document, chunk: Chunk, n_chunks: int, tokens: list[str]) -> StoredChunk:
    meta: dict[str, Any] = {
        "source": doc.source,
        "title": doc.title,
        "heading": chunk.heading,
        "ordinal": chunk.ordinal,
        "file_hash": doc.content_hash,
        "n_chunks": n_chunks,
        "tokens": " ".join(tokens),
    }
    if doc.metadata.get("description"):
        meta["description"] = doc.metadata["description"][:500]
    for name in ("url", "root"):  # set by connectors: the citation link, the source it came from
        if doc.metadata.get(name):
            meta[name] = str(doc.metadata[name])
    return StoredChunk(chunk.id, chunk.text, meta)


def _skip(report: IngestReport, source: str, reason: str) -> None:
    log.warning("skipped %s: %s", source, reason)
    report.skipped.append(Skipped(source, reason))
