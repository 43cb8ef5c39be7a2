"""Ingest is incremental, idempotent, survives interruptions and bad files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.embedders.fake import FakeEmbedder
from assistant.errors import IndexMismatchError, IngestBusyError, LoaderError
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from assistant.store import ChromaStore

from .conftest import ROOT


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the passages it embeds (and optionally failing)."""

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__("64")
        self.name = "fake:64"
        self.embedded = 0
        self.fail_after = fail_after

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if self.fail_after is not None and self.embedded + len(texts) > self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        self.embedded += len(texts)
        return super().embed_documents(texts)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_docs(root: Path, n: int = 3, start: int = 0) -> list[Path]:
    return [
        write(
            root / f"doc{i}.md",
            f"# 文書{i}\n\n## 節\n\n" + "".join(f"文書{i}の文{j}です。" for j in range(40)),
        )
        for i in range(start, start + n)
    ]


@pytest.fixture
def docs_settings(tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data", corpus=[tmp_path / "docs"], chunk_size=200, chunk_overlap=40
    )


def test_second_ingest_embeds_nothing(docs_settings: Settings, tmp_path: Path) -> None:
    make_docs(tmp_path / "docs")
    embedder = CountingEmbedder()
    bot = Assistant(docs_settings, embedder)
    first = bot.ingest()
    assert len(first.added) == 3 and first.chunks_embedded == embedder.embedded > 0
    total = first.chunks_total
    second = bot.ingest()
    assert len(second.unchanged) == 3 and second.chunks_embedded == 0
    assert embedder.embedded == first.chunks_embedded and second.chunks_total == total


def test_changed_file_is_replaced_and_deleted_file_pruned(docs_settings: Settings, tmp_path: Path) -> None:
    paths = make_docs(tmp_path / "docs")
    embedder = CountingEmbedder()
    bot = Assistant(docs_settings, embedder)
    bot.ingest()
    before = bot.store.count()
    write(paths[0], paths[0].read_text(encoding="utf-8").replace("文0です。", "文Xです。", 1))
    embedded = embedder.embedded
    report = bot.ingest()
    assert report.updated == [paths[0].resolve().as_posix()]
    # A same-length edit changes one chunk: only it is embedded, not the whole file.
    assert embedder.embedded - embedded == 1
    assert bot.store.count() == before
    texts = [c.text for c in bot.store.all_chunks()]
    assert any("文書0の文Xです。" in t for t in texts) and not any("文書0の文0です。" in t for t in texts)
    paths[1].unlink()
    assert bot.ingest().removed == []  # without --prune nothing is removed
    pruned = bot.ingest(prune=True)
    assert pruned.removed == [paths[1].resolve().as_posix()]
    assert all(c.metadata["source"] != pruned.removed[0] for c in bot.store.all_chunks())


def test_interrupted_ingest_is_repaired_without_duplicates(docs_settings: Settings, tmp_path: Path) -> None:
    make_docs(tmp_path / "docs")
    reference = Assistant(load_settings(data_dir=tmp_path / "ref", corpus=[tmp_path / "docs"],
                                        chunk_size=200, chunk_overlap=40), CountingEmbedder())  # fmt: skip
    reference.ingest()
    expected = sorted(c.id for c in reference.store.all_chunks())

    small_batches = docs_settings.model_copy(update={"embed_batch_size": 2, "chroma_write_batch_size": 2})
    with pytest.raises(KeyboardInterrupt):
        Assistant(small_batches, CountingEmbedder(fail_after=len(expected) // 2)).ingest()
    bot = Assistant(small_batches, CountingEmbedder())
    report = bot.ingest()
    assert report.chunks_embedded < len(expected)  # work done before the interruption is kept
    assert sorted(c.id for c in bot.store.all_chunks()) == expected


def test_bad_files_are_skipped_with_a_reason_and_the_rest_goes_on(
    docs_settings: Settings, tmp_path: Path
) -> None:
    make_docs(tmp_path / "docs", 1)
    (tmp_path / "docs" / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    write(tmp_path / "docs" / "empty.md", "<!-- only a comment -->\n")
    (tmp_path / "docs" / "sjis.txt").write_bytes("シフトJISの文書です。".encode("cp932"))
    report = Assistant(docs_settings, CountingEmbedder()).ingest()
    reasons = {Path(s.source).name: s.reason for s in report.skipped}
    assert set(reasons) == {"binary.txt", "empty.md"}
    assert "binary" in reasons["binary.txt"] and "no readable text" in reasons["empty.md"]
    assert len(report.added) == 2


def test_other_embedder_on_existing_index_says_how_to_rebuild(
    docs_settings: Settings, tmp_path: Path
) -> None:
    make_docs(tmp_path / "docs", 1)
    Assistant(docs_settings, CountingEmbedder()).ingest()
    other = Assistant(docs_settings.model_copy(update={"embedder": "fake:32"}))
    with pytest.raises(IndexMismatchError, match="fake:64") as info:
        other.ask("文書0について")
    assert "--rebuild" in info.value.hint
    with pytest.raises(IndexMismatchError):
        other.ingest()
    report = other.ingest(rebuild=True)
    assert report.added and other.info().manifest["embedder"] == "fake:32"


def test_other_chunking_is_a_mismatch_too(docs_settings: Settings, tmp_path: Path) -> None:
    make_docs(tmp_path / "docs", 1)
    Assistant(docs_settings, CountingEmbedder()).ingest()
    with pytest.raises(IndexMismatchError, match="chunk_size"):
        Assistant(docs_settings.model_copy(update={"chunk_size": 300}), CountingEmbedder()).ingest()


SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from assistant.pipeline import Assistant
    from assistant.settings import load_settings
    s = load_settings(data_dir=Path(sys.argv[1]), embedder="fake:64", chunk_size=200, chunk_overlap=40)
    report = Assistant(s).ingest([Path(sys.argv[2])])
    print(report.chunks_total)
    """
)


@pytest.mark.slow
def test_concurrent_ingests_and_a_long_running_reader(tmp_path: Path) -> None:
    """Two processes ingest at once; a reader opened earlier sees the result without restart."""
    make_docs(tmp_path / "a", 3)
    make_docs(tmp_path / "b", 2, start=3)
    data = tmp_path / "data"
    settings = load_settings(data_dir=data, embedder="fake:64", chunk_size=200, chunk_overlap=40)
    reader = Assistant(settings)
    write(tmp_path / "seed" / "seed.md", "# 種\n\n最初の文書です。")
    reader.ingest([tmp_path / "seed"])
    assert reader.ask("最初の文書").citations  # the reader has loaded its indexes

    env_path = str(ROOT)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(data), str(tmp_path / d)],
            cwd=env_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for d in ("a", "b")
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    ids = [c.id for c in reader.store.all_chunks()]
    assert len(ids) == len(set(ids))
    answer = reader.ask("文書4の文13です")
    assert any("文書4の文13" in c.text for c in answer.citations)  # vectors and BM25 both refreshed
    sources = {Path(c.metadata["source"]).name for c in reader.store.all_chunks()}
    assert sources == {"seed.md", *(f"doc{i}.md" for i in range(5))}


# --- issue 13: never lose the index ---------------------------------------------------


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for an index in tmp_path, embedded or on a real `chroma run` server."""
    base = {"data_dir": tmp_path / "data", "embedder": "fake:64", "chunk_size": 200, "chunk_overlap": 40}
    if request.param == "embedded":
        return load_settings(**base)
    host, port = request.getfixturevalue("chroma_server")
    name = f"t{tmp_path.name[-24:]}".replace("_", "-")
    return load_settings(**base, chroma_host=host, chroma_port=port, collection=name)


def test_rebuild_with_a_bad_path_leaves_the_old_index_answerable(any_store: Settings, tmp_path: Path) -> None:
    make_docs(tmp_path / "docs")
    bot = Assistant(any_store)
    bot.ingest([tmp_path / "docs"])
    before = sorted(c.id for c in bot.store.all_chunks())
    with pytest.raises(LoaderError, match="nothing was changed"):
        bot.ingest([tmp_path / "docs", tmp_path / "typo"], rebuild=True)
    reader = Assistant(any_store)  # a fresh process's view
    assert sorted(c.id for c in reader.store.all_chunks()) == before
    assert any("文書1の文13" in c.text for c in reader.ask("文書1の文13です").citations)


def test_rebuild_that_fails_midway_keeps_the_old_index(any_store: Settings, tmp_path: Path) -> None:
    make_docs(tmp_path / "docs")
    Assistant(any_store).ingest([tmp_path / "docs"])
    with pytest.raises(KeyboardInterrupt):
        Assistant(any_store, CountingEmbedder(fail_after=5)).ingest([tmp_path / "docs"], rebuild=True)
    reader = Assistant(any_store)
    assert len(reader.info().sources) == 3
    report = reader.ingest([tmp_path / "docs"], rebuild=True)
    assert len(report.added) == 3 and reader.store.count() == report.chunks_total
    # The unfinished generation was removed: only the live one and the pointer remain.
    import chromadb

    client = (
        chromadb.HttpClient(host=any_store.chroma_host, port=any_store.chroma_port)
        if any_store.chroma_host
        else chromadb.PersistentClient(path=str(any_store.chroma_dir))
    )
    names = [c.name for c in client.list_collections() if c.name.startswith(any_store.collection)]
    assert len(names) == 2 and f"{any_store.collection}-meta" in names


def test_each_bad_file_is_skipped_with_its_reason_while_the_others_are_indexed(
    docs_settings: Settings, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    make_docs(docs, 2)
    (docs / "fake-bom.txt").write_bytes(b"\xff\xfe" + b"\x00\xd8\x41\x00" * 50)
    (docs / "utf16-cut.txt").write_bytes(("切れたUTF-16の文書です。" * 5).encode("utf-16")[:-1])
    (docs / "one-bad-byte.md").write_bytes(
        "# 壊れた一字\n\n本文です。".encode() + b"\xff" + "続きです。".encode()
    )
    with open(os.fsencode(docs) + b"/" + "資料.md".encode("cp932"), "wb") as handle:
        handle.write("# 資料\n\nWindowsの圧縮ファイルから出てきた名前です。".encode())
    (docs / "huge.txt").write_bytes(b"a" * (2 * 2**20))
    report = Assistant(docs_settings.model_copy(update={"max_file_mb": 1.0}), CountingEmbedder()).ingest(
        [docs, tmp_path / "missing"]
    )
    reasons = {Path(s.source).name: s.reason for s in report.skipped}
    assert set(reasons) == {"fake-bom.txt", "huge.txt", "missing"}
    assert "binary" in reasons["fake-bom.txt"] and "limit of 1 MB" in reasons["huge.txt"]
    assert reasons["missing"] == "does not exist" and report.missing
    added = {Path(s).name for s in report.added}
    assert {"doc0.md", "doc1.md", "utf16-cut.txt", "one-bad-byte.md"} <= added
    assert any("\\x8e" in name for name in added)  # the CP932 name, escaped
    assert any("one-bad-byte.md" in w and "replaced" in w for w in report.warnings)
    assert any("utf16-cut.txt" in w and "truncated" in w for w in report.warnings)


def test_a_file_that_became_empty_or_undecodable_is_removed(docs_settings: Settings, tmp_path: Path) -> None:
    paths = make_docs(tmp_path / "docs")
    bot = Assistant(docs_settings, CountingEmbedder())
    bot.ingest()
    paths[0].write_text("<!-- emptied -->\n", encoding="utf-8")
    paths[1].write_bytes(b"\x00\x01" * 100)
    report = bot.ingest()
    assert sorted(report.removed) == sorted(p.resolve().as_posix() for p in paths[:2])
    assert not report.skipped and len(report.warnings) == 2
    assert {Path(c.metadata["source"]).name for c in bot.store.all_chunks()} == {"doc2.md"}


def test_max_chunks_limits_one_run_and_the_next_run_continues(
    docs_settings: Settings, tmp_path: Path
) -> None:
    make_docs(tmp_path / "docs", 4)
    embedder = CountingEmbedder()
    bot = Assistant(docs_settings.model_copy(update={"max_chunks": 10}), embedder)
    first = bot.ingest()
    assert 0 < first.chunks_embedded <= 10 and first.skipped
    assert all("--max-chunks" in s.reason for s in first.skipped)
    while bot.ingest().chunks_embedded:
        pass
    assert len(bot.info().sources) == 4


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not stop root")
def test_an_unreadable_subdirectory_is_warned_and_never_pruned(
    docs_settings: Settings, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    make_docs(docs, 1)
    make_docs(docs / "private", 1, start=1)
    bot = Assistant(docs_settings, CountingEmbedder())
    assert len(bot.ingest([docs]).added) == 2
    (docs / "private").chmod(0)
    try:
        report = bot.ingest([docs], prune=True)
    finally:
        (docs / "private").chmod(0o755)
    assert report.removed == [] and len(report.unchanged) == 1
    assert any("private" in w and "cannot be read" in w for w in report.warnings)


def test_prune_acts_only_on_the_roots_it_is_given(docs_settings: Settings, tmp_path: Path) -> None:
    make_docs(tmp_path / "a", 2)
    make_docs(tmp_path / "b", 2, start=2)
    bot = Assistant(docs_settings, CountingEmbedder())
    bot.ingest([tmp_path / "a"])
    bot.ingest([tmp_path / "b"])
    (tmp_path / "b" / "doc2.md").unlink()
    (tmp_path / "a" / "doc0.md").unlink()
    report = bot.ingest([tmp_path / "a"], prune=True)
    assert [Path(s).name for s in report.removed] == ["doc0.md"]  # b/doc2.md is not under a
    assert {Path(s).name for s in bot.info().sources} == {"doc1.md", "doc2.md", "doc3.md"}


@pytest.mark.server
def test_prune_on_machine_a_leaves_machine_b_documents(
    chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    host, port = chroma_server
    shared = {"embedder": "fake:64", "chunk_size": 200, "chunk_overlap": 40, "chroma_host": host,
              "chroma_port": port, "collection": f"shared-{tmp_path.name[-16:]}".replace("_", "-")}  # fmt: skip
    # Both machines keep their documents in a directory of the same name.
    machine_a = Assistant(load_settings(data_dir=tmp_path / "a" / "data", **shared), CountingEmbedder())
    machine_b = Assistant(load_settings(data_dir=tmp_path / "b" / "data", **shared), CountingEmbedder())
    make_docs(tmp_path / "a" / "docs", 2)
    make_docs(tmp_path / "b" / "docs", 2, start=2)
    machine_a.ingest([tmp_path / "a" / "docs"])
    machine_b.ingest([tmp_path / "b" / "docs"])
    (tmp_path / "a" / "docs" / "doc0.md").unlink()
    report = machine_a.ingest([tmp_path / "a" / "docs"], prune=True)
    assert [Path(s).name for s in report.removed] == ["doc0.md"]
    names = {Path(s).name for s in machine_b.info().sources}
    assert names == {"doc1.md", "doc2.md", "doc3.md"}


@pytest.mark.server
def test_the_lease_on_a_shared_server_keeps_a_second_writer_out(
    chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    host, port = chroma_server
    shared = {"embedder": "fake:64", "chroma_host": host, "chroma_port": port, "lock_timeout": 1.5,
              "collection": f"lease-{tmp_path.name[-16:]}".replace("_", "-")}  # fmt: skip
    first = ChromaStore(load_settings(data_dir=tmp_path / "a", **shared))
    second = ChromaStore(load_settings(data_dir=tmp_path / "b", **shared))
    with first.lock("machine-a") as renew:
        renew()
        with pytest.raises(IngestBusyError, match="machine-a"), second.lock("machine-b"):
            pass
    with second.lock("machine-b"):
        pass  # released: the next writer gets it at once
    expiring = ChromaStore(load_settings(data_dir=tmp_path / "c", **{**shared, "lease_seconds": 0.5}))
    with expiring.lock("crashed"):
        time.sleep(1.0)  # a holder that stopped renewing: its lease expires
        with second.lock("machine-b"):
            pass


RACER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from assistant.pipeline import Assistant
    from assistant.settings import load_settings
    s = load_settings(data_dir=Path(sys.argv[1]), embedder="fake:64", chunk_size=200, chunk_overlap=40,
                      embed_batch_size=4)
    report = Assistant(s).ingest([Path(p) for p in sys.argv[3:]], rebuild=sys.argv[2] == "rebuild")
    print(report.chunks_total)
    """
)


@pytest.mark.slow
def test_rebuild_racing_an_ingest_and_a_reader(tmp_path: Path) -> None:
    """A rebuild and an ingest run at once; a reader polling all along always sees the whole
    base corpus, complete, and never an error."""
    make_docs(tmp_path / "base", 12)
    make_docs(tmp_path / "extra", 3, start=20)
    data = tmp_path / "data"
    settings = load_settings(data_dir=data, embedder="fake:64", chunk_size=200, chunk_overlap=40)
    reader = Assistant(settings)
    reader.ingest([tmp_path / "base"])
    base = {c.metadata["source"] for c in reader.store.all_chunks()}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(data), mode, *(str(tmp_path / d) for d in dirs)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode, dirs in (("rebuild", ["base", "extra"]), ("ingest", ["extra"]))
    ]
    reads = 0
    while any(p.poll() is None for p in procs) or reads < 3:
        files = reader.store.files()
        assert base <= set(files) and all(files[s].complete for s in base), "a partial index was read"
        assert reader.ask("文書3の文13です").citations
        reads += 1
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert reads > 3
    ids = [c.id for c in reader.store.all_chunks()]
    assert len(ids) == len(set(ids))
    sources = {Path(c.metadata["source"]).name for c in reader.store.all_chunks()}
    assert sources == {f"doc{i}.md" for i in [*range(12), 20, 21, 22]}


def test_prune_of_a_directory_covers_files_first_ingested_one_by_one(
    docs_settings: Settings, tmp_path: Path
) -> None:
    paths = make_docs(tmp_path / "docs", 2)
    bot = Assistant(docs_settings, CountingEmbedder())
    bot.ingest([paths[0]])  # e.g. an upload in the browser
    bot.ingest([tmp_path / "docs"])
    paths[0].unlink()
    assert [Path(s).name for s in bot.ingest([tmp_path / "docs"], prune=True).removed] == ["doc0.md"]
