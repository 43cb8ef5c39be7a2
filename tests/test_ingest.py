"""Ingest is incremental, idempotent, survives interruptions and bad files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assistant.embedders.fake import FakeEmbedder
from assistant.errors import IndexMismatchError
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings

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

    small_batches = docs_settings.model_copy(update={"embed_batch_size": 2})
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
