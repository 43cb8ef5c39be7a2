from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.embedders import Embedder, Vectors
from assistant.errors import IndexMismatchError
from assistant.lexical import WORDS, default_tokenizer
from assistant.pipeline import Assistant
from assistant.retrieval import Retriever, fuse, lexical_strength
from assistant.settings import load_settings
from assistant.splitting import header_format

from .conftest import CORPUS


def test_rrf_rewards_agreement_between_the_lists() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    lexical = [("b", 12.0), ("c", 3.0)]
    fused = fuse(dense, lexical, "rrf", 1.0, 1.0, 60)
    ranked = sorted(fused, key=lambda i: -fused[i]["score"])
    assert ranked == ["b", "c", "a"] and fused["a"]["score"] == pytest.approx(1 / 61)
    assert fused["c"]["lexical_rank"] == 2 and fused["c"]["dense_rank"] == 3


def test_score_fusion_keeps_the_margins() -> None:
    dense = [("a", 0.90), ("b", 0.89), ("c", 0.50)]
    lexical = [("c", 10.0), ("a", 9.5), ("b", 1.0)]
    fused = fuse(dense, lexical, "score", 1.0, 1.0, 60)
    assert fused["a"]["score"] == pytest.approx(1.0 + 8.5 / 9.0)
    assert max(fused, key=lambda i: fused[i]["score"]) == "a"
    only_lexical = fuse(dense, lexical, "score", 0.0, 1.0, 60)
    assert max(only_lexical, key=lambda i: only_lexical[i]["score"]) == "c"


def test_a_weak_lexical_match_does_not_get_full_weight(bot: Assistant) -> None:
    # An English question over a Japanese document shares one or two Latin words with
    # it; min-max normalisation alone gives its best lexical hit full weight.
    bot.ingest()
    question = "Which Windows containers cannot run on a Linux host?"
    tokens = default_tokenizer().tokenize(question)
    index = bot.retriever.lexical_index()
    hits = index.search(WORDS, tokens, 5)
    assert hits, "the question shares words with the document"
    full = index.full_match(tokens, WORDS)
    assert 0 < hits[0][1] < full
    assert lexical_strength(hits, full, 1.0) == pytest.approx(hits[0][1] / full)
    assert lexical_strength(hits, full, hits[0][1] / full) == 1.0  # reaching the bar: full weight
    assert lexical_strength([], full, 0.2) == 1.0


@pytest.mark.parametrize("fusion", ["rrf", "score"])
def test_both_fusions_find_the_passage_end_to_end(bot: Assistant, fusion: str) -> None:
    bot.ingest()
    bot.settings = bot.retriever.settings = bot.settings.model_copy(update={"fusion": fusion})
    found = bot.retriever.search("LinuxホストでWindowsのコンテナを直接動かせますか？").chunks
    assert "Windowsのコンテナを直接動かすことはできません" in found[0].text


def test_the_contextual_header_is_what_is_embedded(bot: Assistant, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(
        "# 製品ガイド\n\n## 保守契約\n\n年に一度の点検が含まれる。\n", encoding="utf-8"
    )
    bot.ingest([docs])
    (chunk,) = bot.store.all_chunks()
    with_header = bot.embedder.embed_documents(["製品ガイド > 保守契約\n" + chunk.text])[0]
    without = bot.embedder.embed_documents([chunk.text])[0]
    assert bot.store.query(with_header, 1)[0][1] == pytest.approx(1.0, abs=1e-4)
    assert bot.store.query(without, 1)[0][1] < 0.99
    assert bot.store.manifest()["header_format"] == header_format(True)  # type: ignore[index]


def test_an_index_built_with_another_header_asks_for_a_rebuild(bot: Assistant, tmp_path: Path) -> None:
    bot.ingest()
    other = Assistant(bot.settings.model_copy(update={"contextual_header": False}))
    with pytest.raises(IndexMismatchError, match="header_format") as error:
        other.ingest()
    assert "--rebuild" in error.value.hint


def test_a_single_lexical_hit_gets_its_fields_full_weight() -> None:
    """Min-max normalisation of one hit (top == bottom) must not give it nothing."""
    fused = fuse([("a", 0.9), ("b", 0.5)], [("b", 3.2)], "score", 1.0, 1.5, 60)
    assert fused["b"]["score"] == 1.5 and fused["a"]["score"] == 1.0


def test_a_passage_found_by_its_words_alone_gets_its_similarity(bot: Assistant, tmp_path: Path) -> None:
    """A chunk beyond the dense candidates, found by BM25 alone, still carries its cosine
    similarity to the question: relevance must not read a missing score as 0."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(6):
        (docs / f"note{n}.md").write_text(
            f"# 茶会 {n}\n\n茶会が開かれたのは何月何日ですか？第{n}回の茶会の問い合わせ。\n", encoding="utf-8"
        )
    (docs / "minutes.md").write_text("# 議事録\n\n茶道連絡会議は2月8日に開かれた。\n", encoding="utf-8")
    bot.ingest([docs])
    bot.settings = bot.retriever.settings = bot.settings.model_copy(update={"candidates": 3, "top_k": 7})
    question = "茶道連絡会議が開かれたのは何月何日ですか？"
    found = bot.retriever.search(question).chunks
    assert sum(p.dense_rank is None for p in found) >= 1  # the case under test: beyond the dense list
    query = np.asarray(bot.embedder.embed_query(question))
    vectors = bot.store.vectors([p.id for p in found])
    for passage in found:
        stored = vectors[passage.id]
        cosine = float(stored @ query) / float(np.linalg.norm(stored) * np.linalg.norm(query))
        assert passage.dense_score == pytest.approx(cosine, abs=1e-5)


BIKES = """# 電動アシスト自転車の選び方

## 充電とバッテリーの手入れ

バッテリーは使い切る前に充電するのが長持ちのこつです。充電にかかる時間はバッテリーの容量と充電器によって変わります。

## 二つのモデルの仕様

| 項目 | シティモデル | ツーリングモデル |
|---|---|---|
| 重量 | 18kg | 25kg |
| 航続距離 | 40km | 120km |
| フル充電に要する時間 | 3時間 | 6時間 |
| 変速段数 | 3段 | 8段 |
| タイヤ幅 | 26インチ | 27.5インチ |
| 保証期間 | 1年 | 3年 |
| 車体の色 | 白・黒・赤 | 黒・緑 |
| 荷台 | 前かご付き | 後ろ荷台のみ |
| 適応身長 | 145cm以上 | 160cm以上 |
| アシスト方式 | 後輪 | 中央モーター |

## 乗り方の注意

坂道ではアシストを強めにすると楽に登れます。雨の日はブレーキの効きが落ちます。
"""


@pytest.mark.slow
def test_a_table_is_found_by_the_row_that_answers(tmp_path: Path) -> None:
    """A table chunk's embedding blurs its rows; with row views its dense score is that of
    its best row (title, headings and one row, embedded apart), which beats the whole chunk's."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bikes.md").write_text(BIKES, encoding="utf-8")
    bot = Assistant(load_settings(data_dir=tmp_path / "data", corpus=[docs]))
    bot.ingest()
    question = "ツーリングモデルの充電にはどのくらい時間がかかりますか？"
    scores = {}
    for views in (False, True):
        bot.settings = bot.retriever.settings = bot.settings.model_copy(update={"table_row_views": views})
        table = next(p for p in bot.retriever.search(question).chunks if "|" in p.text)
        scores[views] = table.dense_score
    query = np.asarray(bot.embedder.embed_query(question))
    stored = bot.store.vectors([table.id])[table.id]
    assert scores[False] == pytest.approx(
        float(stored @ query) / float(np.linalg.norm(stored) * np.linalg.norm(query)), abs=1e-5
    )
    assert scores[True] is not None and scores[False] is not None and scores[True] > scores[False] + 0.01
    answer = bot.ask(question)
    assert "6時間" in answer.answer and not answer.refused, answer.answer


class CountingEmbedder:
    """An embedder (our own interface) that counts the passages it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dimension = inner.name, inner.dimension
        self.min_relevance, self.confident_relevance = inner.min_relevance, inner.confident_relevance
        self.documents = 0

    def embed_documents(self, texts: list[str]) -> Vectors:
        self.documents += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


def test_row_views_are_embedded_once_and_ahead_by_the_warm_up(bot: Assistant, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bikes.md").write_text(BIKES, encoding="utf-8")
    bot.ingest([docs])
    counting = CountingEmbedder(bot.embedder)
    question = "ツーリングモデルの充電にはどのくらい時間がかかりますか？"
    cold = Retriever(bot.store, counting, bot.settings)
    cold.search(question)
    assert counting.documents == 10  # the ten rows of the one table, on the first question
    cold.search(question)
    assert counting.documents == 10  # cached
    warm = Retriever(bot.store, counting, bot.settings)
    assert warm.warm_row_views() == 10 and counting.documents == 20
    found = warm.search(question).chunks
    assert counting.documents == 20 and any("|" in p.text for p in found)
    off = Retriever(bot.store, counting, bot.settings.model_copy(update={"table_row_views": False}))
    off.search(question)
    assert counting.documents == 20


@pytest.mark.slow
def test_a_measure_question_over_the_default_corpus_is_answered_with_a_quantity(tmp_path: Path) -> None:
    """Over the whole default corpus (real embedder), the passages that say how long or how
    big are found and quoted, not only those that say that it takes time or is big."""
    bot = Assistant(load_settings(data_dir=tmp_path / "data", corpus=[CORPUS]))
    bot.ingest()
    boot = bot.ask("VMの起動にはどのくらい時間がかかりますか？")
    assert not boot.refused and any(q in boot.answer for q in ("数十秒〜数分", "分単位")), boot.answer
    size = bot.ask("仮想マシンのイメージはどのくらいの大きさですか？")
    assert not size.refused and "数GB" in size.answer, size.answer
