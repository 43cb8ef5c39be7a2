"""Where a passage's document is shown: decided once, in the core, for every frontend."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.pipeline import UPLOADS, Assistant
from assistant.settings import load_settings

from .conftest import SEED


def test_sources_are_relative_to_the_corpus_and_linked_under_the_base_url(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus" / "sub dir"
    corpus.mkdir(parents=True)
    shutil.copy(SEED, corpus / SEED.name)
    uploads = tmp_path / "data" / UPLOADS
    uploads.mkdir(parents=True)
    (uploads / "memo.md").write_text("# メモ\n\nゼータ計画の予算は42億円です。\n", encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path / "data", embedder="fake:256", corpus=[tmp_path / "corpus"],
        source_url_base="https://docs.example.com/kb/",
    )  # fmt: skip
    bot = Assistant(settings)
    bot.ingest([tmp_path / "corpus", uploads])
    answer = bot.ask("ゼータ計画の予算はいくらですか？")
    located = {p.metadata["path"]: p for p in answer.citations}
    seed = located[f"sub dir/{SEED.name}"]
    assert seed.url == f"https://docs.example.com/kb/sub%20dir/{SEED.name}" and seed.location == seed.url
    memo = located[f"{UPLOADS}/memo.md"]
    assert memo.url is None and memo.location == f"{UPLOADS}/memo.md"
    assert all(not p.location.startswith("/") for p in answer.citations)
