"""Questions about the seed document, answered by the default offline pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IndexNotFoundError, InvalidQuestionError, StoreUnavailableError
from assistant.evals import metrics
from assistant.evals.dataset import EvalRecord, load_dataset
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from assistant.text import CitationRenumberer
from assistant.types import Answer, Delta, Turn

from .conftest import free_port

# Measured 2026-11-30 on the test split (default settings, the seed document alone): Japanese
# 27/33, English 8/14, near-topic refused 6/15. Floors about one question below.
JA_FLOOR, EN_FLOOR, NEAR_TOPIC_FLOOR = 0.78, 0.4, 0.33

# The seed questions of the test split (never tuned on; see evals/README.md).
TEST_SPLIT = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "test" / "seed_qa.jsonl"
RECORDS = load_dataset(TEST_SPLIT)
ANSWERABLE = [r for r in RECORDS if not r.expect_refusal]
NEAR_TOPIC = [r for r in RECORDS if "type:near-topic" in r.tags]
OFF_TOPIC = [r for r in RECORDS if "type:off-topic" in r.tags]


def correct(answer: Answer, record: EvalRecord) -> bool:
    """The answer states the expected fact, and a passage it cites is from the reference section."""
    if answer.refused:
        return False
    refs, entity = record.reference_answers, record.reference_entity
    fact = metrics.contains_reference(answer.answer, refs, entity=entity) == 1.0 or (
        not entity and metrics.answer_f1(answer.answer, refs) >= 0.5
    )
    return fact and any(metrics.source_matches(s, p) for s in record.reference_sources for p in answer.cited)


@pytest.mark.slow
def test_seed_questions_are_answered_with_citations(seed_bot: Assistant) -> None:
    results = {r.id: correct(seed_bot.ask(r.question), r) for r in ANSWERABLE}
    ja = [r.id for r in ANSWERABLE if "lang:ja" in r.tags]
    en = [r.id for r in ANSWERABLE if "lang:en" in r.tags]
    ja_ok = [i for i in ja if results[i]]
    en_ok = [i for i in en if results[i]]
    print(f"\nJapanese {len(ja_ok)}/{len(ja)}, English {len(en_ok)}/{len(en)}")
    print("wrong:", [i for i, ok in results.items() if not ok])
    # Floors a little below what the default pipeline reaches (measured with `make eval-gate`'s
    # settings, recorded in evals/thresholds.toml); they rise as the answerer improves.
    assert len(ja_ok) >= JA_FLOOR * len(ja)
    assert len(en_ok) >= EN_FLOOR * len(en)


@pytest.mark.slow
def test_off_topic_questions_get_i_dont_know(seed_bot: Assistant) -> None:
    assert OFF_TOPIC
    for record in OFF_TOPIC:
        answer = seed_bot.ask(record.question)
        assert answer.refused, (record.id, answer.answer)
        assert ("分かりません" in answer.answer or "見つかりません" in answer.answer) == (
            answer.language == "ja"
        )
        assert answer.citations and not answer.cited  # the closest passages, none of them cited


@pytest.mark.slow
def test_near_topic_questions_are_mostly_refused(seed_bot: Assistant) -> None:
    refused = [r.id for r in NEAR_TOPIC if seed_bot.ask(r.question).refused]
    print(f"\nnear-topic refused {len(refused)}/{len(NEAR_TOPIC)}")
    assert len(refused) >= NEAR_TOPIC_FLOOR * len(NEAR_TOPIC)


@pytest.mark.slow
def test_stream_yields_text_then_the_answer_with_timings(seed_bot: Assistant) -> None:
    events = list(seed_bot.stream("コンテナのサイズはどのくらい？"))
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["Status", "Sources"] and kinds[-1] == "Answer", kinds
    assert kinds.index("Sources") < kinds.index("Delta"), "sources come before the answer text"
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert "".join(e.text for e in events if isinstance(e, Delta)) == answer.answer
    # The streamed text is the final text: marks are renumbered 1..n in the order cited.
    cited = [c.number for c in answer.citations if c.cited]
    assert cited == list(range(1, len(cited) + 1)) and cited
    assert {"embed_query", "dense_search", "lexical_search", "answer", "total"} <= set(answer.timings)
    assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))


@pytest.mark.slow
def test_follow_up_is_understood_in_context(seed_bot: Assistant) -> None:
    first = seed_bot.ask("仮想マシンのセキュリティについて教えて")
    follow = seed_bot.ask("それはなぜ？", history=[Turn(first.question, first.answer)])
    assert "セキュリティ" in follow.standalone_question
    assert not follow.refused and any("隔離" in c.text for c in follow.cited)


def test_citations_are_renumbered_in_the_order_cited_and_bad_ones_removed() -> None:
    renumber = CitationRenumberer(3)
    streamed = [renumber.feed(piece) for piece in ("A [3]. B [7", "]. C [", "1] D [3].")]
    assert "".join(streamed) + renumber.flush() == "A [1]. B . C [2] D [1]."
    assert renumber.mapping == {3: 1, 1: 2} and renumber.dropped == 1


def test_empty_and_huge_questions_are_refused_clearly(bot: Assistant) -> None:
    bot.ingest()
    before = bot.store.count()
    with pytest.raises(InvalidQuestionError, match="empty"):
        bot.ask("   ")
    with pytest.raises(InvalidQuestionError, match="limit is 1000") as info:
        bot.ask("あ" * 5000)
    assert "ASSISTANT_MAX_QUESTION_CHARS" in info.value.hint
    assert bot.store.count() == before  # nothing lost


def test_no_index_yet_says_how_to_build_it(bot: Assistant) -> None:
    with pytest.raises(IndexNotFoundError, match="no index yet") as info:
        bot.ask("コンテナとは？")
    assert "assistant ingest" in info.value.hint


def test_server_down_names_the_address(settings: Settings) -> None:
    port = free_port()
    bot = Assistant(settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": port}))
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{port}"):
        bot.ask("コンテナとは？")


@pytest.mark.server
def test_server_mode_answers_like_the_embedded_mode(chroma_server: tuple[str, int], tmp_path: Path) -> None:
    host, port = chroma_server
    common = {"embedder": "fake:256", "corpus": [Path(__file__).parent.parent / "corpus"]}
    remote = Assistant(load_settings(data_dir=tmp_path / "r", chroma_host=host, chroma_port=port,
                                     collection="pipeline-test", **common))  # fmt: skip
    local = Assistant(load_settings(data_dir=tmp_path / "l", **common))
    remote.ingest(rebuild=True)
    local.ingest()
    question = "LinuxホストでWindowsのコンテナを動かせますか？"
    a, b = remote.ask(question), local.ask(question)
    assert a.answer == b.answer and [c.id for c in a.citations] == [c.id for c in b.citations]
    assert remote.ingest().chunks_embedded == 0


def test_sentence_cache_eviction_never_loses_vectors_in_use(bot: Assistant) -> None:
    """A full cache evicts old sentences, not the ones the current answer needs."""
    from assistant.answerers.extractive import ExtractiveAnswerer

    bot.ingest()
    answerer = ExtractiveAnswerer(settings=bot.settings, embedder=bot.embedder, cache_size=3)
    for question in ("コンテナの起動速度は？", "VMのセキュリティは？", "コンテナの起動速度は？"):
        passages = bot.retriever.search(question).chunks
        assert "".join(answerer.stream(question, passages, "ja"))
