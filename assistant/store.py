"""Storing: chunks, their vectors and the index's own description, in chromadb.

Embedded (`PersistentClient` under the data directory) by default, or a Chroma
server (`HttpClient`) when settings name a host. Chroma never embeds anything
itself: vectors always come from our embedder.

The index is one collection *generation* (``<collection>-<hex>``); a small pointer
collection (``<collection>-meta``) says which generation readers use. A rebuild fills
a new generation and switches the pointer only when it is complete, so readers
never see an empty or half-built index. A collection's metadata is its manifest:
how it was built (embedder, dimension, splitter settings) and a version token that
changes on every write, so that other processes know to refresh what they cached.

Every chromadb call runs with a deadline (``chroma_read_timeout``); a server that
accepts connections but never answers becomes a `StoreUnavailableError`.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import numpy as np
from chromadb.errors import ChromaError, InternalError, NotFoundError

from assistant import changes
from assistant.chroma_calls import CLIENTS, with_deadline
from assistant.errors import IndexNotFoundError, StoreUnavailableError
from assistant.settings import Settings

log = logging.getLogger(__name__)

MANIFEST_KEYS = ("embedder", "dimension", "chunk_size", "chunk_overlap", "splitter_version")
T = TypeVar("T")


@dataclass
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]


@dataclass
class FileRecord:
    """What the store holds for one source file."""

    file_hash: str
    expected_chunks: int
    ids: list[str]
    root: str | None = None  # key of the source root that owns the document
    owner: str | None = None

    @property
    def complete(self) -> bool:
        return len(self.ids) == self.expected_chunks


class _Gone(Exception):
    """The collection in use was deleted (a rebuild switched generations)."""


class ChromaStore:
    """Our store on chromadb collections, embedded or on a server."""

    def __init__(self, settings: Settings, *, generation: str | None = None) -> None:
        self._settings = settings
        self.settings = settings
        self._lock = threading.RLock()
        self._fixed = generation  # a staging store writes into one named generation
        self._collection: Any = None
        self._name: str | None = None
        self._own_version: str | None = None
        self._client_generation = -1
        self._journal = changes.Journal()  # what this object wrote since its last manifest write
        self.base = settings.collection
        self.meta_name = f"{settings.collection}-meta"
        self.server = bool(settings.chroma_host)
        self.address = (
            f"{'https' if settings.chroma_ssl else 'http'}://{settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else str(settings.chroma_dir)
        )

    # --- connection ------------------------------------------------------------------

    def _factory(self) -> Any:
        import chromadb

        s = self._settings
        if s.chroma_host:
            try:
                with socket.create_connection(
                    (s.chroma_host, s.chroma_port), timeout=s.chroma_connect_timeout
                ):
                    pass
            except OSError as exc:
                raise self._unreachable(exc) from None
            return chromadb.HttpClient(host=s.chroma_host, port=s.chroma_port, ssl=s.chroma_ssl)
        s.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(s.chroma_dir))

    def _unreachable(self, exc: BaseException) -> StoreUnavailableError:
        port = self._settings.chroma_port
        return StoreUnavailableError(
            f"The Chroma server at {self.address} cannot be reached ({type(exc).__name__}: {exc}).",
            f"Start it (e.g. `chroma run --host 127.0.0.1 --port {port}`) or unset "
            "ASSISTANT_CHROMA_HOST to use the embedded store.",
        )

    def _client(self, create: bool) -> Any:
        if not self.server and not create and not (self._settings.chroma_dir / "chroma.sqlite3").exists():
            # A read-only command never creates a database where there is none.
            raise IndexNotFoundError(
                f"There is no index yet in {self.address}.",
                "Build it with `assistant ingest` (it indexes ./corpus by default).",
            )
        key = self.address
        s = self._settings
        try:
            client, generation = self._run(
                lambda: CLIENTS.get(key, self._factory), s.chroma_connect_timeout + s.chroma_read_timeout
            )
        except StoreUnavailableError:
            raise
        except (OSError, ChromaError, RuntimeError, ValueError) as exc:
            raise StoreUnavailableError(
                f"The index in {self.address} cannot be opened: {exc}",
                "Check the permissions of the data directory, or rebuild it with `assistant ingest --rebuild`.",
            ) from None
        if generation != self._client_generation:
            self._collection = None
            self._client_generation = generation
        return client

    def _reopen_client(self) -> None:
        """Embedded: reopen the client so that vectors written by other processes are seen."""
        CLIENTS.reopen(
            self.address, self._client_generation, self._factory, self._settings.chroma_read_timeout
        )
        self._collection = None

    def _run(self, fn: Callable[[], T], seconds: float | None = None) -> T:
        """Run a chromadb call with a deadline, turning connection failures into clear errors."""
        seconds = seconds if seconds is not None else self._settings.chroma_read_timeout
        key = self.address
        CLIENTS.enter(key)

        def call() -> T:
            try:
                return fn()
            finally:
                CLIENTS.leave(key)

        try:
            return with_deadline(call, seconds)
        except TimeoutError:
            raise StoreUnavailableError(
                f"The Chroma store at {self.address} did not answer within {seconds:g} s.",
                "Check that the server is running and not overloaded (or that nothing else listens "
                "on that port); ASSISTANT_CHROMA_READ_TIMEOUT sets the limit.",
            ) from None
        except NotFoundError as exc:
            raise _Gone(str(exc)) from None
        except InternalError as exc:
            # The embedded client, asked for a collection a rebuild is deleting at that moment,
            # finds it without its segments ("Error getting collection: Missing field: [Missing
            # metadata segment]"): gone too, and the pointer leads to the new generation.
            if "segment" not in str(exc):
                raise
            raise _Gone(str(exc)) from None
        except (httpx.TransportError, ConnectionError) as exc:
            raise StoreUnavailableError(
                f"The Chroma server at {self.address} stopped answering ({type(exc).__name__}: {exc}).",
                "Check that it is running and reachable, then try again.",
            ) from None

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self._run(lambda: fn(*args, **kwargs))

    # --- which collection is live ----------------------------------------------------

    def _names(self, client: Any) -> set[str]:
        return {c if isinstance(c, str) else c.name for c in self._call(client.list_collections)}

    def _meta(self, client: Any, create: bool) -> Any:
        if create:
            return self._call(client.get_or_create_collection, self.meta_name, embedding_function=None)
        try:
            return self._call(client.get_collection, self.meta_name, embedding_function=None)
        except _Gone:
            return None

    def _pointer(self, client: Any, create: bool = False) -> dict[str, Any]:
        meta = self._meta(client, create)
        return dict(meta.metadata or {}) if meta is not None else {}

    def _live_name(self, client: Any) -> str | None:
        """The generation readers use, or the legacy single collection, or None."""
        current = self._pointer(client).get("current")
        if current:
            return str(current)
        return self.base if self.base in self._names(client) else None

    def _no_index(self) -> IndexNotFoundError:
        return IndexNotFoundError(
            f"There is no index yet in {self.address} (collection {self.base!r}).",
            "Build it with `assistant ingest` (it indexes ./corpus by default).",
        )

    def _get_collection(self, create: bool) -> Any:
        with self._lock:
            client = self._client(create)
            if self._collection is not None:
                return self._collection
            name = self._fixed or self._live_name(client)
            if name is None:
                if not create:
                    raise self._no_index()
                name = self._new_generation(client)
                self._set_pointer(client, current=name)
            try:
                self._collection = self._call(client.get_collection, name, embedding_function=None)
            except _Gone:
                if not create:
                    raise self._no_index() from None
                raise
            if self._name != name:
                self._own_version = (self._collection.metadata or {}).get("version")
            self._name = name
            return self._collection

    def _new_generation(self, client: Any) -> str:
        name = f"{self.base}-{uuid.uuid4().hex[:12]}"
        self._call(
            client.create_collection,
            name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"created_at": time.time()},
        )
        return name

    def _set_pointer(self, client: Any, **values: Any) -> None:
        meta = self._meta(client, create=True)
        merged = {**(meta.metadata or {}), **values}
        self._call(meta.modify, metadata=merged)

    def _retrying(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(collection)``; if a rebuild deleted the collection meanwhile, follow the
        pointer to the new generation once."""
        try:
            return fn(self._get_collection(create=False))
        except _Gone:
            with self._lock:
                self._collection = None
            try:
                return fn(self._get_collection(create=False))
            except _Gone:
                raise self._no_index() from None

    def refresh_if_changed(self) -> bool:
        """Follow the pointer and reopen what another process changed; True if anything did."""
        with self._lock:
            if self._fixed or self._name is None:
                return False  # nothing read yet: the first read opens the live index
            client = self._client(create=False)
            name = self._live_name(client)
            if name is None:
                self._collection = None
                raise self._no_index()
            try:
                fresh = self._call(client.get_collection, name, embedding_function=None)
            except _Gone:
                self._collection = None
                return True
            current = (fresh.metadata or {}).get("version")
            if name == self._name and current == self._own_version:
                self._collection = fresh
                return False
            self._own_version = current
            if not self.server and name == self._name:
                self._reopen_client()  # the in-memory vector index is stale
                return True
            self._collection, self._name = fresh, name
            return True

    # --- manifest --------------------------------------------------------------------

    def manifest(self) -> dict[str, Any] | None:
        return self.manifest_and_changes()[0]

    def manifest_and_changes(self) -> tuple[dict[str, Any] | None, object]:
        """The manifest and, from the same read, its change log (`assistant.changes`)."""
        try:
            with self._lock:
                collection = self._get_collection(create=False)
                meta = dict(collection.metadata or {})
        except IndexNotFoundError:
            return None, None
        log = meta.pop(changes.KEY, None)
        return (meta, log) if "embedder" in meta else (None, None)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        with self._lock:
            collection = self._get_collection(create=True)
            version = uuid.uuid4().hex
            fresh = self._call(self._client(True).get_collection, self._name, embedding_function=None)
            meta = {**(fresh.metadata or {}), **manifest, "version": version, "updated_at": time.time()}
            log = (fresh.metadata or {}).get(changes.KEY)
            meta[changes.KEY] = self._journal.flush(log, int(meta.get("seq", 0)))
            self._call(collection.modify, metadata=meta)
            self._journal.clear()
            self._own_version = version
            self._collection = None  # re-read metadata next time

    def version(self) -> str | None:
        manifest = self.manifest()
        return manifest.get("version") if manifest else None

    # --- chunks ----------------------------------------------------------------------

    def count(self) -> int:
        return int(self._retrying(lambda c: self._call(c.count)))

    def files(self, where: dict[str, Any] | None = None) -> dict[str, FileRecord]:
        """Records of the stored documents (all, or those matching a metadata filter).

        A generation a rebuild deletes while it is read may answer with nothing, not with
        an error: an empty read is taken only when the pointer still names what was read."""
        for _ in range(3):
            try:
                records = self._retrying(lambda c: self._records(c, where))
            except IndexNotFoundError:
                records = {}
            try:
                if records or not self.refresh_if_changed():
                    return records
            except IndexNotFoundError:
                return {}
        return records

    def records(self, sources: Sequence[str]) -> dict[str, FileRecord]:
        """Records of just these documents (read fresh, e.g. under the ingest lock)."""
        if not sources:
            return {}
        return self.files({"source": {"$in": list(sources)}})

    def _records(self, collection: Any, where: dict[str, Any] | None) -> dict[str, FileRecord]:
        records: dict[str, FileRecord] = {}
        for ids, metas in self._paged(collection, include=["metadatas"], where=where):
            for chunk_id, meta in zip(ids, metas, strict=True):
                source = str(meta.get("source"))
                record = records.get(source)
                if record is None:
                    record = records[source] = FileRecord(
                        str(meta.get("file_hash")), int(meta.get("n_chunks", 0)), [],
                        meta.get("root"), meta.get("owner"),
                    )  # fmt: skip
                if record.file_hash != meta.get("file_hash"):
                    record.file_hash = "mixed"  # an interrupted update: redo this file
                record.ids.append(chunk_id)
        return records

    def _paged(
        self, collection: Any, include: list[str], page: int = 5000, where: dict[str, Any] | None = None
    ) -> Iterable[tuple[list[str], list[Any]]]:
        offset = 0
        while True:
            batch = self._call(collection.get, include=include, limit=page, offset=offset, where=where)
            ids = batch["ids"]
            if not ids:
                return
            yield (
                ids,
                batch["metadatas"]
                if include == ["metadatas"]
                else list(zip(batch["documents"], batch["metadatas"], strict=True)),
            )
            if len(ids) < page:
                return
            offset += page

    def upsert(self, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        if not chunks:
            return
        with self._lock:
            self._journal.written(c.id for c in chunks)
            collection = self._get_collection(create=True)
            step = max(1, min(1000, int(self._call(self._client(True).get_max_batch_size))))
            for start in range(0, len(chunks), step):
                part = chunks[start : start + step]
                self._call(
                    collection.upsert,
                    ids=[c.id for c in part],
                    documents=[c.text for c in part],
                    metadatas=[c.metadata for c in part],
                    embeddings=np.asarray(vectors[start : start + step], dtype=np.float32),
                )

    def update_metadata(self, chunks: Sequence[StoredChunk]) -> None:
        """Rewrite the metadata of chunks already stored (their vectors stay)."""
        with self._lock:
            self._journal.written(c.id for c in chunks)
            collection = self._get_collection(create=True)
            for start in range(0, len(chunks), 1000):
                part = chunks[start : start + 1000]
                self._call(collection.update, ids=[c.id for c in part], metadatas=[c.metadata for c in part])

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with self._lock:
            self._journal.deleted(ids)
            collection = self._get_collection(create=True)
            for start in range(0, len(ids), 1000):
                self._call(collection.delete, ids=list(ids[start : start + 1000]))

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        batch = self._retrying(lambda c: self._call(c.get, ids=list(ids), include=["documents", "metadatas"]))
        found = {
            i: StoredChunk(i, d, dict(m))
            for i, d, m in zip(batch["ids"], batch["documents"], batch["metadatas"], strict=True)
        }
        return [found[i] for i in ids if i in found]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of some chunks (those that exist)."""
        if not ids:
            return {}
        batch = self._retrying(lambda c: self._call(c.get, ids=list(ids), include=["embeddings"]))
        return {
            i: np.asarray(v, dtype=np.float32) for i, v in zip(batch["ids"], batch["embeddings"], strict=True)
        }

    def all_chunks(self) -> list[StoredChunk]:
        def read(collection: Any) -> list[StoredChunk]:
            out: list[StoredChunk] = []
            for ids, rows in self._paged(collection, include=["documents", "metadatas"]):
                out.extend(StoredChunk(i, d, dict(m)) for i, (d, m) in zip(ids, rows, strict=True))
            return out

        return self._retrying(read)

    def chunks_since(self, seq: int, page: int = 5000) -> list[StoredChunk]:
        """Chunks written by ingest runs after ``seq`` (metadata ``seq``; for the lexical index)."""
        collection = self._get_collection(create=False)
        out: list[StoredChunk] = []
        while True:
            batch = self._call(collection.get, where={"seq": {"$gt": seq}},
                               include=["documents", "metadatas"], limit=page, offset=len(out))  # fmt: skip
            out.extend(StoredChunk(i, d, dict(m))
                       for i, d, m in zip(batch["ids"], batch["documents"], batch["metadatas"], strict=True))  # fmt: skip
            if len(batch["ids"]) < page:
                return out

    def ids(self, page: int = 20000) -> set[str]:
        """Every chunk id (no documents or metadata read)."""
        collection = self._get_collection(create=False)
        out: set[str] = set()
        while True:
            batch = self._call(collection.get, include=[], limit=page, offset=len(out))
            out.update(batch["ids"])
            if len(batch["ids"]) < page:
                return out

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        with self._lock:
            result = self._retrying(
                lambda c: self._call(
                    c.query,
                    query_embeddings=[np.asarray(vector, dtype=np.float32)],
                    n_results=max(1, k),
                    include=["distances"],
                )
            )
        return [
            (chunk_id, 1.0 - float(distance))
            for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    # --- rebuilds: a new generation, switched to when complete -----------------------

    def staging(self) -> ChromaStore:
        """A new, empty generation that readers do not see until `publish`."""
        with self._lock:
            name = self._new_generation(self._client(create=True))
        return ChromaStore(self._settings, generation=name)

    def publish(self, staging: ChromaStore) -> None:
        """Make ``staging`` the live index (one metadata write), then delete the old one."""
        with self._lock:
            client = self._client(create=True)
            old = self._live_name(client)
            self._set_pointer(client, current=staging._fixed)
            self._collection = None
            if old and old != staging._fixed:
                self._delete_collection(client, old)

    def discard(self) -> None:
        """Delete this staging generation (a rebuild that failed)."""
        if self._fixed:
            self._delete_collection(self._client(create=True), self._fixed)

    def cleanup(self) -> list[str]:
        """Delete generations that are not live (left by interrupted rebuilds); call under the lock."""
        with self._lock:
            client = self._client(create=True)
            live = self._live_name(client)
            prefix = f"{self.base}-"
            stale = [
                n for n in self._names(client)
                if n != live and n != self.meta_name and n.startswith(prefix) and len(n) == len(prefix) + 12
            ]  # fmt: skip
            if live and live != self.base and self.base in self._names(client):
                stale.append(self.base)  # the legacy collection, replaced by a generation
            for name in stale:
                self._delete_collection(client, name)
            return stale

    def _delete_collection(self, client: Any, name: str) -> None:
        with suppress(_Gone):
            self._call(client.delete_collection, name)

    def drop(self) -> None:
        """Delete every generation and the pointer (tests; rebuilds use `staging`/`publish`)."""
        with self._lock:
            client = self._client(create=True)
            prefix = f"{self.base}-"
            for name in self._names(client):
                if name == self.base or name.startswith(prefix):
                    self._delete_collection(client, name)
            self._collection = None
            self._own_version = None

    # --- the ingest lock -------------------------------------------------------------

    def lock(self, holder: str) -> AbstractContextManager[Callable[[], None]]:
        """Exclusive right to write (see `assistant.write_lock`); yields a renew function."""
        from assistant.write_lock import write_lock

        with self._lock:
            self._collection = None  # the lock holder follows the pointer afresh
        return write_lock(self, holder)

    def pointer(self, create: bool = False) -> dict[str, Any]:
        """The pointer record: which generation is live, and the lease on a server."""
        return self._pointer(self._client(create=True), create)

    def set_pointer(self, **values: Any) -> None:
        self._set_pointer(self._client(create=True), **values)
