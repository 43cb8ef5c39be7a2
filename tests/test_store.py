"""The store contract, against the embedded store and a real `chroma run` server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.errors import IndexNotFoundError, StoreUnavailableError
from assistant.settings import Settings, load_settings
from assistant.store import ChromaStore, StoredChunk

from .conftest import free_port


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "embedded":
        return load_settings(data_dir=tmp_path, embedder="fake:8")
    host, port = request.getfixturevalue("chroma_server")
    return load_settings(data_dir=tmp_path, embedder="fake:8", chroma_host=host, chroma_port=port,
                         collection=f"t{tmp_path.name[-20:]}".replace("_", "-"))  # fmt: skip


def chunk(i: int, source: str = "/docs/a.md") -> StoredChunk:
    return StoredChunk(
        f"id{i}", f"text {i}", {"source": source, "file_hash": "h1", "n_chunks": 3, "tokens": ""}
    )


def vec(i: int) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    v[i] = 1.0
    return v


class TestStoreContract:
    def test_empty_store_has_no_index(self, store_settings: Settings) -> None:
        store = ChromaStore(store_settings)
        assert store.manifest() is None and store.files() == {}
        with pytest.raises(IndexNotFoundError, match="assistant ingest"):
            store.count()

    def test_upsert_query_get_delete(self, store_settings: Settings) -> None:
        store = ChromaStore(store_settings)
        store.write_manifest({"embedder": "fake:8", "dimension": 8})
        store.upsert([chunk(i) for i in range(3)], np.stack([vec(i) for i in range(3)]))
        store.upsert([chunk(1)], np.stack([vec(1)]))  # idempotent
        assert store.count() == 3
        hits = store.query(vec(2), 2)
        assert hits[0][0] == "id2" and hits[0][1] == pytest.approx(1.0, abs=1e-4)
        assert [c.text for c in store.get(["id0", "id2"])] == ["text 0", "text 2"]
        record = store.files()["/docs/a.md"]
        assert record.complete and sorted(record.ids) == ["id0", "id1", "id2"]
        store.delete(["id0"])
        assert store.count() == 2 and not store.files()["/docs/a.md"].complete

    def test_manifest_and_version_change_on_write(self, store_settings: Settings) -> None:
        store = ChromaStore(store_settings)
        store.write_manifest({"embedder": "fake:8", "dimension": 8})
        first = store.version()
        store.write_manifest({"embedder": "fake:8", "dimension": 8})
        assert store.manifest()["embedder"] == "fake:8"  # type: ignore[index]
        assert first and store.version() != first

    def test_drop_removes_everything(self, store_settings: Settings) -> None:
        store = ChromaStore(store_settings)
        store.write_manifest({"embedder": "fake:8", "dimension": 8})
        store.upsert([chunk(0)], np.stack([vec(0)]))
        store.drop()
        assert store.manifest() is None


def test_unreachable_server_names_the_address(tmp_path: Path) -> None:
    port = free_port()
    store = ChromaStore(load_settings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=port))
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{port}") as info:
        store.manifest()
    assert "chroma run" in info.value.hint


class TestGenerations:
    def test_a_staging_generation_is_invisible_until_published(self, store_settings: Settings) -> None:
        live = ChromaStore(store_settings)
        live.write_manifest({"embedder": "fake:8", "dimension": 8})
        live.upsert([chunk(0)], np.stack([vec(0)]))
        reader = ChromaStore(store_settings)
        assert reader.count() == 1
        staging = live.staging()
        staging.write_manifest({"embedder": "fake:8", "dimension": 8})
        staging.upsert([chunk(i, "/docs/b.md") for i in (1, 2)], np.stack([vec(1), vec(2)]))
        assert reader.count() == 1 and set(reader.files()) == {"/docs/a.md"}
        live.publish(staging)
        # The reader's collection was deleted under it: it follows the pointer.
        assert [c.id for c in reader.get(["id1", "id2"])] == ["id1", "id2"]
        assert reader.count() == 2 and set(reader.files()) == {"/docs/b.md"}
        assert live.cleanup() == []

    def test_an_index_from_before_generations_is_read_then_replaced(self, store_settings: Settings) -> None:
        import chromadb

        client = (
            chromadb.HttpClient(host=store_settings.chroma_host, port=store_settings.chroma_port)
            if store_settings.chroma_host
            else chromadb.PersistentClient(path=str(store_settings.chroma_dir))
        )
        legacy = client.create_collection(
            store_settings.collection,
            embedding_function=None,
            metadata={"embedder": "fake:8", "dimension": 8},
        )
        legacy.upsert(ids=["old"], embeddings=[vec(3).tolist()], documents=["old text"],
                      metadatas=[{"source": "/docs/old.md", "file_hash": "h", "n_chunks": 1}])  # fmt: skip
        store = ChromaStore(store_settings)
        assert store.manifest()["embedder"] == "fake:8" and store.count() == 1  # type: ignore[index]
        staging = store.staging()
        staging.write_manifest({"embedder": "fake:8", "dimension": 8})
        store.publish(staging)
        assert store.count() == 0
        assert store_settings.collection not in {c.name for c in client.list_collections()}


def test_read_only_use_creates_nothing(tmp_path: Path) -> None:
    store = ChromaStore(load_settings(data_dir=tmp_path / "data", embedder="fake:8"))
    assert store.manifest() is None and store.files() == {}
    with pytest.raises(IndexNotFoundError):
        store.query(vec(0), 3)
    assert not (tmp_path / "data").exists()
