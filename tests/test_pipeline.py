"""Questions about the seed document, answered by the default offline pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import IndexNotFoundError, InvalidQuestionError, StoreUnavailableError
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from assistant.text import CitationRenumberer
from assistant.types import Answer, Delta, Turn

from .conftest import free_port

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "seed_questions.jsonl").open()]
ANSWERABLE = [c for c in CASES if not c.get("refuse")]
OFF_TOPIC = [c for c in CASES if c.get("refuse")]


def correct(answer: Answer, case: dict[str, object]) -> bool:
    expected = case["expect"]
    assert isinstance(expected, list)
    if answer.refused or not any(e in answer.answer for e in expected):
        return False
    # The cited passage holds what the answer says.
    return any(c.cited and any(e in c.text.replace("**", "") for e in expected) for c in answer.citations)


@pytest.mark.slow
def test_seed_questions_are_answered_with_citations(seed_bot: Assistant) -> None:
    results = {case["q"]: correct(seed_bot.ask(case["q"]), case) for case in ANSWERABLE}
    ja = [q for q in results if not q.isascii()]
    en = [q for q in results if q.isascii()]
    ja_ok = [q for q in ja if results[q]]
    en_ok = [q for q in en if results[q]]
    print(f"\nJapanese {len(ja_ok)}/{len(ja)}, English {len(en_ok)}/{len(en)}")
    print("wrong:", [q for q, ok in results.items() if not ok])
    assert len(ja_ok) >= 20 and len(ja_ok) == len(ja)
    assert len(en_ok) >= 5


@pytest.mark.slow
def test_off_topic_questions_get_i_dont_know(seed_bot: Assistant) -> None:
    for case in OFF_TOPIC:
        answer = seed_bot.ask(case["q"])
        assert answer.refused, (case["q"], answer.answer)
        assert ("分かりません" in answer.answer or "見つかりません" in answer.answer) == (
            answer.language == "ja"
        )
        assert answer.citations and not answer.cited  # the closest passages, none of them cited


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
