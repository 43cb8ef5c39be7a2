"""Storing: chunks, their vectors and the index's own description, in chromadb.

Embedded (`PersistentClient` under the data directory) by default, or a Chroma
server (`HttpClient`) when settings name a host. Chroma never embeds anything
itself: vectors always come from our embedder.

The collection's metadata is the index manifest: how the index was built
(embedder, dimension, splitter settings) and a version token that changes on
every write, so that other processes know to refresh what they cached.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from assistant.errors import IndexNotFoundError, StoreUnavailableError
from assistant.settings import Settings

log = logging.getLogger(__name__)

MANIFEST_KEYS = ("embedder", "dimension", "chunk_size", "chunk_overlap", "splitter_version")


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

    @property
    def complete(self) -> bool:
        return len(self.ids) == self.expected_chunks


class Store(Protocol):
    """The interface the pipeline needs from a vector store."""

    def manifest(self) -> dict[str, Any] | None: ...
    def write_manifest(self, manifest: dict[str, Any]) -> None: ...
    def version(self) -> str | None: ...
    def count(self) -> int: ...
    def files(self) -> dict[str, FileRecord]: ...
    def upsert(self, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None: ...
    def update_metadata(self, chunks: Sequence[StoredChunk]) -> None: ...
    def delete(self, ids: Sequence[str]) -> None: ...
    def get(self, ids: Sequence[str]) -> list[StoredChunk]: ...
    def all_chunks(self) -> list[StoredChunk]: ...
    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...


class ChromaStore:
    """A `Store` on a chromadb collection, embedded or on a server."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.RLock()
        self._client: Any = None
        self._collection: Any = None
        self._own_version: str | None = None
        self.address = (
            f"{'https' if settings.chroma_ssl else 'http'}://{settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else str(settings.chroma_dir)
        )

    # --- connection ------------------------------------------------------------------

    def _connect(self) -> Any:
        import chromadb

        s = self._settings
        try:
            if s.chroma_host:
                client = chromadb.HttpClient(host=s.chroma_host, port=s.chroma_port, ssl=s.chroma_ssl)
                client.heartbeat()
            else:
                s.chroma_dir.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(s.chroma_dir))
        except Exception as exc:  # chromadb raises many types for an unreachable server
            if s.chroma_host:
                raise StoreUnavailableError(
                    f"The Chroma server at {self.address} cannot be reached ({type(exc).__name__}).",
                    "Start it (e.g. `chroma run --host 127.0.0.1 --port "
                    f"{s.chroma_port}`) or unset ASSISTANT_CHROMA_HOST to use the embedded store.",
                ) from None
            raise StoreUnavailableError(
                f"The index in {self.address} cannot be opened: {exc}",
                "Check the permissions of the data directory, or rebuild it with "
                "`assistant ingest --rebuild`.",
            ) from None
        return client

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a chromadb call, turning connection failures into a clear error."""
        try:
            return fn(*args, **kwargs)
        except (ConnectionError, OSError) as exc:
            raise StoreUnavailableError(
                f"The Chroma server at {self.address} stopped answering ({exc}).",
                "Check that it is running and reachable, then try again.",
            ) from None
        except Exception as exc:
            if type(exc).__name__ in {
                "ConnectError",
                "ReadTimeout",
                "ConnectTimeout",
                "RemoteProtocolError",
            }:
                raise StoreUnavailableError(
                    f"The Chroma server at {self.address} stopped answering ({type(exc).__name__}).",
                    "Check that it is running and reachable, then try again.",
                ) from None
            raise

    def _get_collection(self, create: bool) -> Any:
        with self._lock:
            if self._collection is not None:
                return self._collection
            if self._client is None:
                self._client = self._connect()
            name = self._settings.collection
            if create:
                self._collection = self._call(
                    self._client.get_or_create_collection,
                    name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"created_at": time.time()},
                )
            else:
                names = {
                    c if isinstance(c, str) else c.name for c in self._call(self._client.list_collections)
                }
                if name not in names:
                    raise IndexNotFoundError(
                        f"There is no index yet in {self.address} (collection {name!r}).",
                        "Build it with `assistant ingest` (it indexes ./corpus by default).",
                    )
                self._collection = self._call(self._client.get_collection, name, embedding_function=None)
            return self._collection

    def refresh_if_changed(self) -> bool:
        """Reopen the collection when another process changed it; True if it did."""
        with self._lock:
            if self._client is None:
                return False
            try:
                fresh = self._call(
                    self._client.get_collection, self._settings.collection, embedding_function=None
                )
            except IndexNotFoundError:
                raise
            except Exception:
                self._collection = None
                return True
            current = (fresh.metadata or {}).get("version")
            if current == self._own_version:
                self._collection = fresh
                return False
            self._own_version = current
            if not self._settings.chroma_host:
                # An embedded client keeps its vector index in memory; reopen it to see
                # vectors that another process wrote.
                from chromadb.api.client import SharedSystemClient

                SharedSystemClient.clear_system_cache()
                self._client = self._connect()
                fresh = self._call(
                    self._client.get_collection, self._settings.collection, embedding_function=None
                )
            self._collection = fresh
            return True

    # --- manifest --------------------------------------------------------------------

    def manifest(self) -> dict[str, Any] | None:
        try:
            collection = self._get_collection(create=False)
        except IndexNotFoundError:
            return None
        meta = dict(collection.metadata or {})
        return meta if "embedder" in meta else None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        with self._lock:
            collection = self._get_collection(create=True)
            version = uuid.uuid4().hex
            meta = {
                **(collection.metadata or {}),
                **manifest,
                "version": version,
                "updated_at": time.time(),
            }
            self._call(collection.modify, metadata=meta)
            self._own_version = version
            self._collection = None  # re-read metadata next time

    def version(self) -> str | None:
        manifest = self.manifest()
        return manifest.get("version") if manifest else None

    # --- chunks ----------------------------------------------------------------------

    def count(self) -> int:
        return int(self._call(self._get_collection(create=False).count))

    def files(self) -> dict[str, FileRecord]:
        try:
            collection = self._get_collection(create=False)
        except IndexNotFoundError:
            return {}
        records: dict[str, FileRecord] = {}
        for ids, metas in self._paged(collection, include=["metadatas"]):
            for chunk_id, meta in zip(ids, metas, strict=True):
                source = str(meta.get("source"))
                record = records.get(source)
                if record is None:
                    record = records[source] = FileRecord(
                        str(meta.get("file_hash")), int(meta.get("n_chunks", 0)), []
                    )
                if record.file_hash != meta.get("file_hash"):
                    record.file_hash = "mixed"  # an interrupted update: redo this file
                record.ids.append(chunk_id)
        return records

    def _paged(
        self, collection: Any, include: list[str], page: int = 5000
    ) -> Iterable[tuple[list[str], list[Any]]]:
        offset = 0
        while True:
            batch = self._call(collection.get, include=include, limit=page, offset=offset)
            ids = batch["ids"]
            if not ids:
                return
            key = "metadatas" if include == ["metadatas"] else "documents"
            yield (
                ids,
                batch[key]
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
            collection = self._get_collection(create=True)
            step = max(1, min(1000, int(self._client.get_max_batch_size())))
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
            collection = self._get_collection(create=True)
            for start in range(0, len(chunks), 1000):
                part = chunks[start : start + 1000]
                self._call(
                    collection.update,
                    ids=[c.id for c in part],
                    metadatas=[c.metadata for c in part],
                )

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with self._lock:
            collection = self._get_collection(create=True)
            for start in range(0, len(ids), 1000):
                self._call(collection.delete, ids=list(ids[start : start + 1000]))

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        collection = self._get_collection(create=False)
        batch = self._call(collection.get, ids=list(ids), include=["documents", "metadatas"])
        found = {
            i: StoredChunk(i, d, dict(m))
            for i, d, m in zip(batch["ids"], batch["documents"], batch["metadatas"], strict=True)
        }
        return [found[i] for i in ids if i in found]

    def all_chunks(self) -> list[StoredChunk]:
        collection = self._get_collection(create=False)
        out: list[StoredChunk] = []
        for ids, rows in self._paged(collection, include=["documents", "metadatas"]):
            out.extend(StoredChunk(i, d, dict(m)) for i, (d, m) in zip(ids, rows, strict=True))
        return out

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
        collection = self._get_collection(create=False)
        with self._lock:
            result = self._call(
                collection.query,
                query_embeddings=[np.asarray(vector, dtype=np.float32)],
                n_results=max(1, k),
                include=["distances"],
            )
        return [
            (chunk_id, 1.0 - float(distance))
            for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def drop(self) -> None:
        """Delete the whole collection (used by ``ingest --rebuild``)."""
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            names = {c if isinstance(c, str) else c.name for c in self._call(self._client.list_collections)}
            if self._settings.collection in names:
                self._call(self._client.delete_collection, self._settings.collection)
            self._collection = None
            self._own_version = None
