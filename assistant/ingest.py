"""Ingesting: load, split, embed and store documents, incrementally and idempotently.

Documents come from *roots*: a directory or file given on the command line (or a
connector such as a web site or a git repository). A root has a key, and yields
entries with a stable key, a display URL and a way to read their bytes. Every
chunk records the root and the owner (this machine's data directory, or
``ingest_owner``) it came from, so ``prune`` removes only documents under the
roots it was given, never another machine's documents on a shared server.

Chunk ids are content hashes, so re-ingesting is safe: an unchanged file is
skipped without embedding, a changed one has only its new chunks embedded and
its stale chunks removed. Each file is loaded on its own: whatever goes wrong
with one becomes a reported skip. The ingest lock is taken per group of files,
so another ingest never waits for one huge file. A rebuild fills a new
generation of the index under the lock and switches to it only when complete.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.embedders import Embedder
from assistant.errors import AssistantError, IndexMismatchError, LoaderError
from assistant.lexical import TOKENIZER_VERSION, default_tokenizer
from assistant.lexical_store import LexicalStore
from assistant.loading import Document, load_bytes, safe_name, scan_dir
from assistant.settings import Settings
from assistant.splitting import Chunk, SplitterConfig, contextual_text, header_format, split_document
from assistant.store import ChromaStore, FileRecord, StoredChunk
from assistant.types import IngestReport, Skipped
from assistant.write_lock import owner_id

log = logging.getLogger(__name__)

#: Called as progress(chunks_done, chunks_total) while embedding.
Progress = Callable[[int, int], None]


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
             for k, v in wanted.items() if k != "seq" and stored.get(k) != v]  # fmt: skip
    if diffs:
        raise IndexMismatchError(
            "The index was built with other settings (" + "; ".join(diffs) + ").",
            "Rebuild it with `assistant ingest --rebuild`, or change the settings back.",
        )


def source_key(path: Path) -> str:
    """Files are identified by their absolute path (undecodable bytes escaped)."""
    return safe_name(path.resolve().as_posix())


# --- roots: where documents come from ------------------------------------------------


@dataclass
class Entry:
    """One document a root offers."""

    key: str  # stable id of the document, unique in the store; also its `source`
    suffix: str  # selects the loader (".md", ".html", ...)
    read: Callable[[], bytes]
    size: int | None = None  # known before reading, for the size limit
    url: str | None = None  # what users are shown, when it is not the key


class Root(Protocol):
    """A place documents come from (a directory, a web site, a repository)."""

    key: str  # recorded on every chunk; --prune acts only on the roots it is given
    problems: list[Skipped]  # what could not be looked at (reported, never pruned)

    def entries(self) -> Iterator[Entry]: ...

    def owns(self, source: str, record: FileRecord) -> bool:
        """May ``source`` be pruned by this root when it no longer offers it?"""
        ...


class FileRoot:
    """A directory (or one file) on this machine."""

    def __init__(self, path: Path, owner: str, include: list[str], exclude: list[str]) -> None:
        self.path = path.resolve()
        self._owner_prefix = f"file:{owner}:"
        self.key = f"{self._owner_prefix}{safe_name(self.path.as_posix())}"
        self.problems: list[Skipped] = []
        self._include, self._exclude = include, exclude
        self._unscanned: list[str] = []

    def entries(self) -> Iterator[Entry]:
        if self.path.is_file():
            files = [self.path]
        else:
            scan = scan_dir(self.path, self._include, self._exclude)
            self.problems.extend(scan.problems)
            self._unscanned = [source_key(p) + "/" for p in scan.unscanned]
            files = [p for p, _ in scan.files]
        for path in files:
            yield Entry(source_key(path), path.suffix.lower(), path.read_bytes, _size(path))

    def owns(self, source: str, record: FileRecord) -> bool:
        if any(source.startswith(prefix) for prefix in self._unscanned):
            return False
        if record.root is not None and not record.root.startswith(self._owner_prefix):
            return False  # another machine's, or a connector's
        # Ours (or from before roots were recorded): this root owns what lies under it,
        # also when it was ingested through another path (a single file, a subdirectory).
        under = safe_name(self.path.as_posix())
        return source == under or source.startswith(under.rstrip("/") + "/")


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def file_roots(paths: Iterable[Path | Root], settings: Settings, owner: str) -> tuple[list[Root], list[str]]:
    """Roots for the given paths (roots pass through), and the paths that do not exist."""
    roots: list[Root] = []
    missing: list[str] = []
    for path in paths:
        if not isinstance(path, Path):
            roots.append(path)
        elif os.path.lexists(path) and (path.is_file() or path.is_dir()):
            roots.append(FileRoot(path, owner, settings.include, settings.exclude))
        else:
            missing.append(safe_name(path))
    return roots, missing


# --- the ingest -------------------------------------------------------------------------


@dataclass
class _Item:
    """A changed document, loaded and split, waiting to be embedded and written."""

    doc: Document
    chunks: list[Chunk]
    record: FileRecord | None
    root: str


class _Run:
    """One ingest: its settings, target store and report."""

    def __init__(self, store: ChromaStore, embedder: Embedder, settings: Settings, owner: str) -> None:
        self.store, self.embedder, self.settings, self.owner = store, embedder, settings, owner
        self.splitter = SplitterConfig(settings.chunk_size, settings.chunk_overlap)
        self.manifest = build_manifest(embedder, self.splitter, settings.contextual_header)
        self.report = IngestReport()
        self.run_id = uuid.uuid4().hex[:12]
        self.seen: set[str] = set()

    def skip(self, source: str, reason: str) -> None:
        log.info("skipped %s: %s", source, reason)  # the frontend shows the report
        self.report.skipped.append(Skipped(source, reason))

    def plan(
        self, roots: Sequence[Root], records: dict[str, FileRecord], max_chunks: int | None
    ) -> tuple[list[_Item], list[str]]:
        """Load and split every changed document; returns the work and the sources to remove."""
        items: list[_Item] = []
        vanished: list[str] = []  # indexed documents that became empty or unreadable
        limit = int(self.settings.max_file_mb * 2**20)
        planned = 0
        for root in roots:
            for entry in root.entries():
                key = entry.key
                self.seen.add(key)
                record = records.get(key)
                try:
                    if entry.size is not None and entry.size > limit:
                        raise LoaderError(f"larger than the limit of {self.settings.max_file_mb:g} MB "
                                          "(ASSISTANT_MAX_FILE_MB)")  # fmt: skip
                    data = entry.read()
                    from assistant.loading import file_hash

                    if record and record.file_hash == file_hash(data) and record.complete:
                        self.report.unchanged.append(key)
                        continue
                    doc = load_bytes(
                        data, key, entry.suffix,
                        utf8_tolerance=self.settings.utf8_error_tolerance, max_bytes=limit,
                    )  # fmt: skip
                    if entry.url:  # a connector's citation link (a web page, a file at a commit)
                        doc.metadata["url"] = entry.url
                    chunks = split_document(doc, self.splitter)
                except Exception as exc:  # one document never stops the others
                    reason = _reason(exc, key)
                    if record is not None:
                        log.info("removing %s: %s", key, reason)
                        self.report.warnings.append(f"{key}: {reason}; its old passages are removed")
                        vanished.append(key)
                    else:
                        self.skip(key, reason)
                    continue
                for warning in doc.warnings:
                    self.report.warnings.append(f"{key}: {warning}")
                fresh = len({c.id for c in chunks} - set(record.ids if record else ()))
                if max_chunks is not None and planned + fresh > max_chunks:
                    self.skip(key, f"not embedded in this run: the --max-chunks limit of {max_chunks} "
                              "is reached; run ingest again to continue")  # fmt: skip
                    continue
                planned += fresh
                items.append(_Item(doc, chunks, record, root.key))
            for problem in root.problems:
                self.report.warnings.append(f"{problem.source}: {problem.reason}")
        return items, vanished

    def write(
        self,
        target: ChromaStore,
        items: list[_Item],
        progress: Progress | None,
        renew: Callable[[], None] | None,
    ) -> None:
        """Embed and store the items in groups; each group under the lock unless ``renew`` is
        given (the caller holds the lock and ``renew`` keeps it)."""
        total = sum(len({c.id for c in i.chunks} - set(i.record.ids if i.record else ())) for i in items)
        done = 0
        for group in _groups(
            items, max(self.settings.embed_batch_size * 8, self.settings.chroma_write_batch_size)
        ):
            if renew is not None:
                renew()
                done += self._write_group(target, group, progress, done, total)
            else:
                with self.store.lock(self.owner):
                    self.store.cleanup()
                    done += self._write_group(target, group, progress, done, total)
                    target.write_manifest(self.manifest)  # a new version: readers refresh
        self.report.chunks_embedded = done

    def _write_group(
        self, target: ChromaStore, group: list[_Item], progress: Progress | None, done: int, total: int
    ) -> int:
        """Write one group (the caller holds the lock): re-read the documents' records first,
        since another ingest may have written them since they were planned."""
        manifest = target.manifest()
        check_manifest(manifest, self.manifest)
        # Each group gets the next ingest sequence number, written to the manifest once the
        # group is stored, with the ids it wrote and deleted (its change log): readers catch up
        # on what the runs after the last one they saw changed (lexical_store.py).
        self.manifest["seq"] = int((manifest or {}).get("seq", 0)) + 1
        if manifest:
            fresh = target.records([i.doc.source for i in group])
            for item in group:
                item.record = fresh.get(item.doc.source)
        else:  # a new index: described before anything is stored in it, as run 0
            target.write_manifest({**self.manifest, "seq": self.manifest["seq"] - 1})

        def step(n: int) -> None:
            if progress:
                progress(done + n, total)

        return _write(
            group,
            target,
            self.embedder,
            self.settings.embed_batch_size,
            self._stored,
            self.report,
            step,
            header=self.settings.contextual_header,
            chroma_write_batch_size=self.settings.chroma_write_batch_size,
        )

    def _stored(
        self, doc: Document, chunk: Chunk, n_chunks: int, tokens: list[str], root: str
    ) -> StoredChunk:
        meta: dict[str, Any] = {
            "source": doc.source,
            "title": doc.title,
            "heading": chunk.heading,
            "ordinal": chunk.ordinal,
            "file_hash": doc.content_hash,
            "n_chunks": n_chunks,
            "tokens": " ".join(tokens),
            "tokenizer": TOKENIZER_VERSION,
            "seq": int(self.manifest.get("seq", 0)),
            "root": root,
            "owner": self.owner,
            "ingest": self.run_id,
        }
        if doc.metadata.get("description"):
            meta["description"] = doc.metadata["description"][:500]
        if doc.metadata.get("url"):
            meta["url"] = str(doc.metadata["url"])
        return StoredChunk(chunk.id, chunk.text, meta)

    def remove(self, target: ChromaStore, sources: Iterable[str]) -> None:
        sources = list(sources)
        if not sources:
            return
        for source, record in target.records(sources).items():
            target.delete(record.ids)
            self.report.removed.append(source)

    def prune(self, target: ChromaStore, roots: Sequence[Root]) -> None:
        """Remove documents that the given roots own but no longer offer."""
        for source, record in target.files().items():
            if source not in self.seen and any(root.owns(source, record) for root in roots):
                target.delete(record.ids)
                self.report.removed.append(source)


def ingest(
    paths: Iterable[Path | Root],
    store: ChromaStore,
    embedder: Embedder,
    settings: Settings,
    *,
    prune: bool = False,
    rebuild: bool = False,
    max_chunks: int | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index up to date with the documents under ``paths`` (directories, files
    or `Root`s). With ``rebuild``, build a new index from them and switch to it at the end;
    the old one answers questions until then and is kept if anything fails."""
    started = time.perf_counter()
    owner = owner_id(settings)
    roots, missing = file_roots(paths, settings, owner)
    if missing and rebuild:
        raise LoaderError(
            f"{', '.join(missing)}: does not exist; nothing was changed.",
            "Check the paths; a rebuild indexes exactly the paths given.",
        )
    max_chunks = max_chunks if max_chunks is not None else settings.max_chunks
    run = _Run(store, embedder, settings, owner)
    for path in missing:
        run.report.missing.append(path)
        run.skip(path, "does not exist")
    if rebuild:
        items, _ = run.plan(roots, {}, max_chunks)
        with store.lock(owner) as renew:
            store.cleanup()
            staging = store.staging()
            try:
                staging.write_manifest(run.manifest)
                run.write(staging, items, progress, renew)
                staging.write_manifest(run.manifest)
                renew()
                store.publish(staging)
            except BaseException:
                _discard(staging)
                raise
            run.report.chunks_total = store.count()
    else:
        check_manifest(store.manifest(), run.manifest)
        items, vanished = run.plan(roots, store.files(), max_chunks)
        run.write(store, items, progress, None)
        if vanished or prune:
            with store.lock(owner):
                run.remove(store, vanished)
                if prune:
                    run.prune(store, roots)
                if run.report.removed:  # a run of its own: readers learn of the deletions
                    run.manifest["seq"] = int((store.manifest() or {}).get("seq", 0)) + 1
                    store.write_manifest(run.manifest)
        run.report.chunks_total = store.count() if store.manifest() else 0
    if settings.lexical_persist and store.manifest():
        LexicalStore(store, settings).sync()  # saved beside the store for every reader
    run.report.seconds = time.perf_counter() - started
    return run.report


def _groups(items: list[_Item], size: int) -> Iterator[list[_Item]]:
    """Consecutive items with about ``size`` chunks together (a big file is a group alone)."""
    group: list[_Item] = []
    chunks = 0
    for item in items:
        if group and chunks + len(item.chunks) > size:
            yield group
            group, chunks = [], 0
        group.append(item)
        chunks += len(item.chunks)
    if group:
        yield group


def _discard(staging: ChromaStore) -> None:
    try:
        staging.discard()
    except AssistantError as exc:  # the next ingest removes it under the lock
        log.warning("could not remove the unfinished index: %s", exc)


def _reason(exc: BaseException, source: str) -> str:
    if isinstance(exc, AssistantError):
        return exc.message.removeprefix(f"{source}: ").rstrip(".")
    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror or exc})"
    return f"could not be loaded ({type(exc).__name__}: {exc})"


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
    items: list[_Item],
    store: ChromaStore,
    embedder: Embedder,
    batch_size: int,
    stored: Callable[[Document, Chunk, int, list[str], str], StoredChunk],
    report: IngestReport,
    progress: Callable[[int], None],
    header: bool = True,
    chroma_write_batch_size: int = 512,
) -> int:
    """Embed the new chunks of the items in full batches (the embedder is fastest so), and
    finish each file once all its new chunks are stored; returns how many were embedded."""
    tokenizer = default_tokenizer()
    works: list[_FileWork] = []
    for item in items:
        doc, chunks, record = item.doc, item.chunks, item.record
        existing = set(record.ids) if record else set()
        texts = [contextual_text(c.text, c.title, c.heading_path, header) for c in chunks]
        rows = [
            stored(doc, c, len(chunks), tokenizer.tokenize(t), item.root)
            for c, t in zip(chunks, texts, strict=True)
        ]
        fresh = [(t, s) for t, s in zip(texts, rows, strict=True) if s.id not in existing]
        kept = [s for s in rows if s.id in existing]
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
    # Vectors are written in larger batches than they are embedded: every Chroma call has a
    # fixed cost (about 1 s under load, whatever its size), many times that of one chunk.
    held: list[tuple[_FileWork, str, StoredChunk]] = []
    held_vectors: list[np.ndarray] = []

    def flush() -> None:
        store.upsert([chunk for _, _, chunk in held], np.concatenate(held_vectors))
        for work, _, _ in held:
            work.pending -= 1
            if work.pending == 0:
                finish(work)
        held.clear()
        held_vectors.clear()

    for start in range(0, len(queue), batch_size):
        batch = queue[start : start + batch_size]
        held_vectors.append(np.asarray(embedder.embed_documents([text for _, text, _ in batch])))
        held.extend(batch)
        done += len(batch)
        if len(held) >= chroma_write_batch_size:
            flush()
        progress(done)
    if held:
        flush()
    return done
