"""Eval metrics against hand-computed examples."""

from __future__ import annotations

import math

import pytest

from assistant.evals import metrics as m
from assistant.types import Passage


def P(
    source: str = "/x/corpus/a.md",
    heading: list[str] | None = None,
    text: str = "",
    cited: bool = False,
    chunk_id: str = "c",
) -> Passage:
    return Passage(chunk_id, text, source, "", heading or [], cited=cited)


def test_source_matching_by_suffix_heading_and_chunk_id() -> None:
    p = P(
        "/work/main/corpus/containers-vs-vms.ja.md",
        ["各技術の詳細", "2. コンテナ (Container)", "主な特徴"],
        chunk_id="abc123",
    )
    assert m.source_matches("corpus/containers-vs-vms.ja.md", p)
    assert m.source_matches("./corpus/containers-vs-vms.ja.md", p)
    assert m.source_matches("containers-vs-vms.ja.md", p)
    assert not m.source_matches("vms.ja.md", p)  # a suffix is a whole path component
    assert m.source_matches("corpus/containers-vs-vms.ja.md#2. コンテナ (Container)", p)
    assert m.source_matches("corpus/containers-vs-vms.ja.md#2. コンテナ (Container) > 主な特徴", p)
    assert m.source_matches("corpus/containers-vs-vms.ja.md#主な特徴", p)
    assert not m.source_matches("corpus/containers-vs-vms.ja.md#概要", p)
    assert m.source_matches("abc123", p)
    # passages as `Answer.to_dict()` writes them name the chunk `id`
    as_dict = {"id": "abc123", "source": "/c/a.md", "heading_path": [], "text": "", "cited": True}
    assert m.source_matches("abc123", Passage.from_dict(as_dict))


def test_a_reference_section_may_be_the_document_title() -> None:
    """The H1 is the title, not part of the heading path: the text under it, before the
    first subheading, has an empty path and is named "doc.md#Title"."""
    intro = Passage("i", "Tea is brewed from leaves.", "/c/tea.md", "Tea guide", [])
    later = Passage("l", "Steep for three minutes.", "/c/tea.md", "Tea guide", ["Brewing"])
    assert m.source_matches("tea.md#Tea guide", intro)
    assert m.source_matches("tea.md#Tea guide > Brewing", later)
    assert not m.source_matches("tea.md#Brewing", intro)
    assert not m.source_matches("tea.md#Other guide", intro)


def test_retrieval_metrics_hand_computed() -> None:
    # references a and b; ranks: 1 irrelevant, 2 -> a, 3 -> a again, 4 -> b
    passages = [P("/c/x.md"), P("/c/a.md"), P("/c/a.md"), P("/c/b.md")]
    rel = m.relevant_items(passages, ["a.md", "b.md"], [])
    assert rel == [set(), {0}, {0}, {1}]
    assert m.hit_at_k(rel, 1) == 0.0
    assert m.hit_at_k(rel, 2) == 1.0
    assert m.recall_at_k(rel, 3, 2) == 0.5
    assert m.recall_at_k(rel, 4, 2) == 1.0
    assert m.mrr_at_k(rel, 4) == 0.5
    assert m.mrr_at_k(rel, 1) == 0.0
    # binary relevance per passage: DCG = 1/log2(3) + 1/log2(4) + 1/log2(5); IDCG = the same three first
    expected = (1 / math.log2(3) + 1 / math.log2(4) + 1 / math.log2(5)) / (
        1 + 1 / math.log2(3) + 1 / math.log2(4)
    )
    assert m.ndcg_at_k(rel, 4, 2) == pytest.approx(expected)
    assert m.ndcg_at_k([{0}], 1, 1) == 1.0


def test_relevance_by_answer_containment_when_no_sources() -> None:
    passages = [P(text="VMは重量級です。"), P(text="コンテナの起動は 秒単位 です。")]
    assert m.relevant_items(passages, [], ["秒単位"]) == [set(), {0}]
    assert m.relevant_items(passages, [], []) is None
    assert m.n_items([], ["x"]) == 1


def test_english_normalisation_exact_match_and_token_f1() -> None:
    assert m.normalize_squad("The  Denver Broncos!") == "denver broncos"
    assert m.exact_match("the Denver Broncos. [1]", ["Denver Broncos"]) == 1.0
    # pred tokens: denver broncos won; gold: denver broncos -> P=2/3, R=1, F1=0.8
    assert m.token_f1("The Denver Broncos won [2]", "Denver Broncos") == pytest.approx(0.8)
    assert m.answer_f1("Carolina Panthers", ["Denver Broncos", "Panthers"]) == pytest.approx(2 / 3)


def test_japanese_character_f1_and_normalisation() -> None:
    assert m.normalize_chars("高速（秒単位） [1]") == "高速秒単位"
    assert m.normalize_chars("ＡＢＣ　１２") == "abc12"  # NFKC, full-width folded, space removed
    # answer 秒単位です (5 chars) vs reference 秒単位 (3): common 3, P=3/5, R=1 -> F1 = 0.75
    assert m.char_f1("秒単位です。", "秒単位") == pytest.approx(0.75)
    assert m.answer_f1("秒単位です。", ["秒単位"]) == pytest.approx(0.75)
    assert m.exact_match("「秒単位」。", ["秒単位"]) == 1.0
    assert m.contains_reference("起動速度 — コンテナ: 高速（秒単位） [2]", ["高速（秒単位）"]) == 1.0
    assert m.contains_reference("低速（分単位）", ["秒単位"]) == 0.0


def test_contains_reference_finds_a_reference_of_marks_alone_as_written() -> None:
    # JSQuAD has answers such as 「○」 and "/": no token survives normalisation
    assert m.contains_reference("刺激のあるタイミングを○で示す。 [1]", ["○"]) == 1.0
    assert m.contains_reference("刺激のあるタイミングを×で示す。 [1]", ["○"]) == 0.0
    assert m.contains_reference("拡張可能な / を追加した [1]", ["/"]) == 1.0


def test_contains_reference_english_respects_word_boundaries() -> None:
    assert m.contains_reference("It runs on KVM. [1]", ["kvm"]) == 1.0
    assert m.contains_reference("The KVMs", ["kvm"]) == 0.0
    # Punctuation inside a word separates words too; the glued reading still counts.
    assert (
        m.contains_reference("He moved to New York City:57–60 where he worked. [1]", ["New York City"]) == 1.0
    )
    assert m.contains_reference("Fred Singer's project held a press event.", ["Fred Singer"]) == 1.0
    assert m.contains_reference("It is run by the US government.", ["U.S."]) == 1.0
    assert m.contains_reference("Fred Singers project", ["Fred Singer"]) == 0.0
    # An English reference inside a Japanese answer is compared by characters.
    assert m.contains_reference("コンテナ技術（例: Kata Containers）や [1]", ["Kata Containers"]) == 1.0


def test_sentences_and_faithfulness() -> None:
    passages = [
        P(text="コンテナは軽量です。起動は数秒です。", cited=True),
        P(text="仮想マシンはゲストOSを持ちます。", cited=True),
        P(text="無関係"),
    ]
    answer = "コンテナは軽量です。 [1] 仮想マシンはゲストOSを持ちます。 [2] 月は緑色のチーズでできています。"
    assert m.split_answer_sentences(answer) == [
        "コンテナは軽量です。 [1]",
        "仮想マシンはゲストOSを持ちます。 [2]",
        "月は緑色のチーズでできています。",
    ]
    # two of three sentences are found in the passages they cite; the last is in none.
    assert m.faithfulness(answer, passages) == pytest.approx(2 / 3)
    # a sentence citing the wrong passage is not supported by it
    assert m.faithfulness("コンテナは軽量です。 [2]", passages) == 0.0
    assert m.faithfulness("何か", [P(text="何か")]) is None  # nothing cited


def test_bigram_support() -> None:
    assert m.bigram_support("abcd", "xxabcdxx") == 1.0
    assert m.bigram_support("abcd", "ab cd") == pytest.approx(1.0)  # spaces are normalised away
    assert m.bigram_support("abcd", "abxx") == pytest.approx(1 / 3)


def test_citation_precision() -> None:
    passages = [P("/c/a.md", cited=True), P("/c/x.md", cited=True), P("/c/a.md")]
    rel = m.relevant_items(passages, ["a.md"], [])
    assert rel is not None
    assert m.citation_precision(rel, passages) == 0.5
    assert m.citation_precision(rel, [P()]) is None


def test_refusal_scores() -> None:
    expected = [True, True, False, False, False]
    refused = [True, False, True, False, False]
    scores = m.refusal_scores(expected, refused)
    assert scores == {
        "refusal_precision": 0.5,
        "refusal_recall": 0.5,
        "false_refusal_rate": pytest.approx(1 / 3),
    }
    assert m.refusal_scores([False], [False])["refusal_precision"] is None


def test_latency_percentiles() -> None:
    assert m.percentile([1, 2, 3, 4], 50) == 2.5
    assert m.percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    stats = m.latency([{"total": 1.0, "embed_query": 0.1}, {"total": 3.0}])
    assert stats["total"] == {"p50": 2.0, "p95": pytest.approx(2.9), "mean": 2.0}
    assert stats["embed_query"]["p50"] == 0.1
    assert m.mean([None, 1.0, 0.0]) == 0.5
    assert m.mean([None]) is None


# --- regressions found in review (each failed before its fix) ---------------------------


def test_f1_tokenises_each_text_by_its_own_language() -> None:
    # A wrong Japanese table-row answer shares Latin letters with an English reference
    # only by accident; letters of English words are not tokens.
    wrong = "仮想マシン: 低速（分単位） [1]"
    assert m.answer_f1(wrong, ["Containers start faster, in seconds."]) == 0.0
    # Mixed text: Japanese characters and English words side by side.
    assert m.f1_tokens("代表例はDocker, Podmanです") == [
        "代",
        "表",
        "例",
        "は",
        "docker",
        "podman",
        "で",
        "す",
    ]
    # pred: 例 kata containers; gold: kata containers -> P=2/3, R=1, F1=0.8
    assert m.answer_f1("（例: Kata Containers）", ["Kata Containers"]) == pytest.approx(0.8)
    assert m.exact_match("Kata Containers [1]", ["kata containers"]) == 1.0


def test_japanese_punctuation_and_brackets_end_a_latin_word() -> None:
    # Japanese text has no spaces: 「、」 and brackets are where a Latin word ends.
    line = "代表製品 — タイプ2（ホスト型）: VirtualBox、VMware Workstation [2]"
    assert "virtualbox" in m.f1_tokens(line)
    assert m.contains_reference(line, ["VirtualBox"]) == 1.0
    assert m.contains_reference("導入されたカーネル: 3.8（2013年） [1]", ["3.8"]) == 1.0
    assert m.contains_reference("導入されたカーネル: 3.18（2014年） [1]", ["3.8"]) == 0.0
    assert m.f1_tokens("1,000 /etc/subuid") == ["1000", "etcsubuid"]  # within a word: unchanged


def test_faithfulness_splits_sentences_on_citation_marks_and_line_ends() -> None:
    passages = [
        P(text="| **起動速度** | 高速（秒単位） | 低速（分単位） |", cited=True),
        P(text="仮想マシンは分単位で起動します。", cited=True),
    ]
    answer = "起動速度: 高速（秒単位） [1] 仮想マシンは分単位で起動します。 [2]"
    assert m.split_answer_sentences(answer) == [
        "起動速度: 高速（秒単位） [1]",
        "仮想マシンは分単位で起動します。 [2]",
    ]
    assert m.faithfulness(answer, passages) == 1.0
    lines = "起動速度: 高速（秒単位）\n仮想マシンは分単位で起動します [2]"
    assert m.split_answer_sentences(lines) == [
        "起動速度: 高速（秒単位）",
        "仮想マシンは分単位で起動します [2]",
    ]
    assert m.faithfulness(lines, passages) == 1.0


def test_ndcg_is_standard_and_reaches_one() -> None:
    # One passage that satisfies both reference items, at rank 1: a perfect ranking.
    assert m.ndcg_at_k([{0, 1}, set(), set(), set()], 4, 2) == pytest.approx(1.0)
    # Binary relevance per passage; the ideal puts the relevant passages first.
    rel = [set(), {0}, {0}, set()]
    expected = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert m.ndcg_at_k(rel, 4, 1) == pytest.approx(expected)
    assert m.ndcg_at_k([set(), set()], 2, 1) == 0.0


def test_contains_reference_reads_the_polite_style_as_the_plain_one() -> None:
    """The documents write 「…できます」; a reference written 「…できる」 states the same fact.
    Tense and negation still count."""
    answer = "稼働しているVMを、別のマシンに移動させることができます。 [1]"
    assert m.contains_reference(answer, ["別のマシンに移動させることができる"]) == 1.0
    assert (
        m.contains_reference("古いOSのアプリを動かすのに適しています。[2]", ["動かすのに適している"]) == 1.0
    )
    assert m.contains_reference("移動させることはできません。", ["移動させることができる"]) == 0.0
    assert m.contains_reference("移動できません。", ["移動できない"]) == 0.0
    assert m.contains_reference("茶会は港へ移りました。", ["港へ移った"]) == 1.0
    assert m.contains_reference("茶会は港へ移ります。", ["港へ移った"]) == 0.0


def test_contains_reference_scores_the_side_asked_for() -> None:
    both = "オーバーヘッド: コンテナは小さい、仮想マシンは大きい [1]"
    assert m.contains_reference(both, ["小さい"], entity=["コンテナ", "container"]) == 1.0
    assert m.contains_reference(both, ["大きい"], entity=["コンテナ", "container"]) == 0.0
    assert m.contains_reference(both, ["大きい"], entity="仮想マシン") == 1.0
    # a row listing both columns does not say which value belongs to which side
    row = "| オーバーヘッド | 小さい | 大きい | [1]"
    assert m.contains_reference(row, ["大きい"], entity="コンテナ") == 0.0
    # a reference that names its entity is scored as it stands
    assert (
        m.contains_reference("コンテナ（秒単位）です [1]", ["コンテナ（秒単位）"], entity="コンテナ") == 1.0
    )
    assert m.contains_reference("Containers are small.", ["small"], entity="container") == 1.0


def test_one_percentile_and_numpy_cosine() -> None:
    import numpy as np

    values = [0.3, 1.0, 7.5, 2.2, 9.9, 4.0]
    for q in (0, 10, 50, 90, 95, 100):
        assert m.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert m.cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(1 / math.sqrt(2))
    assert m.cosine(np.zeros(3), np.ones(3)) == 0.0


def test_faithfulness_reads_composed_lines_piece_by_piece_and_skips_the_frame() -> None:
    """A composed line joins a heading, a table's labels and a cell; the answerer's own frame
    ("The documents say [1]:") quotes nothing. Each quoted piece must be in the cited passage,
    and a frame line is no claim at all."""
    table = (
        "| 項目 | 甲方式 | 乙方式 |\n| --- | --- | --- |\n"
        "| **切替時間** | 短い（数秒） | 長い（数分） |\n| **代表例** | 製品A, 製品B | 製品C |"
    )
    passages = [
        Passage("t", table, "/x/corpus/a.md", "比較の記事", ["概要"], cited=True),
        Passage("s", "乙方式は専用の装置を必要とする。", "/x/corpus/a.md", "", ["乙方式"], cited=True),
    ]
    answer = (
        "乙方式 — The documents say [1]:\n"
        "切替時間 — 乙方式: 長い（数分） [1]\n"
        "乙方式: 乙方式は専用の装置を必要とする。 [2]"
    )
    assert m.faithfulness(answer, passages) == 1.0
    # A piece that is in no cited passage still counts against the line it is in.
    invented = "切替時間 — 乙方式: 長い（数分） [1]\n消費電力 — 乙方式: 非常に大きい（数キロワット） [1]"
    assert m.faithfulness(invented, passages) == pytest.approx(1 / 2)
    # A frame line alone says nothing to check.
    assert m.faithfulness("The documents say [1]:", passages) is None
