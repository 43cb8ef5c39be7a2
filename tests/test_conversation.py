"""Follow-up questions become standalone before retrieval, deterministically or by an LLM."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assistant.answerers import get_answerer
from assistant.answerers.llm import LLMAnswerer
from assistant.conversation import (
    ANSWER_CHARS,
    clean_rewrite,
    condense_question,
    needs_context,
    rewrite_messages,
)
from assistant.pipeline import Assistant
from assistant.settings import Settings
from assistant.types import Turn
from tests.chat_standin import Fault, StandIn, StandInServer, last_user_text, system_text

VM_SECURITY = [
    Turn("仮想マシンのセキュリティは高いですか？", "はい、非常に高いセキュリティレベルを確保できます [1]。")
]


# --- deterministic ------------------------------------------------------------------------------


def test_standalone_questions_pass_unchanged() -> None:
    assert condense_question("コンテナの起動速度はどのくらいですか？", VM_SECURITY) == (
        "コンテナの起動速度はどのくらいですか？"
    )
    assert condense_question("それはなぜ？", []) == "それはなぜ？"


def test_a_follow_up_carries_the_previous_question() -> None:
    expected = "仮想マシンのセキュリティは高いですか？ それはなぜ？"
    assert condense_question("それはなぜ？", VM_SECURITY) == expected
    history = [Turn("How fast do containers start?", "In seconds [1]."), Turn("And VMs?", "Minutes [2].")]
    # chains keep their subject: the previous follow-up is itself made standalone first
    assert condense_question("Why is that?", history) == (
        "How fast do containers start? And VMs? Why is that?"
    )


def test_a_rewriter_decides_when_given() -> None:
    calls: list[tuple[str, int]] = []

    def rewrite(question: str, history: Any) -> str:
        calls.append((question, len(history)))
        return "仮想マシンのセキュリティが高いのはなぜ？"

    rewritten = condense_question("それはなぜ？", VM_SECURITY, rewrite)
    assert rewritten == "仮想マシンのセキュリティが高いのはなぜ？"
    assert condense_question("それはなぜ？", [], rewrite) == "それはなぜ？"  # no history, no call
    assert calls == [("それはなぜ？", 1)]


def test_rewrite_prompt_and_cleaning() -> None:
    long_answer = "あ" * (ANSWER_CHARS + 50)
    system, user = rewrite_messages("それはなぜ？", [Turn("VMは安全？", long_answer)])
    assert "独立した質問" in system.text and "答えてはいけません" in system.text
    assert "ユーザー: VMは安全？" in user.text and "あ" * (ANSWER_CHARS + 1) not in user.text
    assert user.text.endswith("続きの質問: それはなぜ？\n\n独立した質問:")
    assert clean_rewrite("独立した質問: 「VMはなぜ安全？」\n説明: ...", "それはなぜ？") == "VMはなぜ安全？"
    assert clean_rewrite("Standalone question: Why are VMs secure?", "Why?") == "Why are VMs secure?"
    assert clean_rewrite("   ", "Why?") == ""
    assert clean_rewrite("x" * 500, "Why?") == ""
    # echoes of the prompt (as a small model may give) and answers in another language are refused
    assert clean_rewrite("<会話>\nユーザー: ...", "それはなぜ？") == ""
    assert clean_rewrite("<conversation>", "Why?") == ""
    assert clean_rewrite("Why are VMs secure?", "それはなぜ？") == ""


# --- on the seed document, with the real embedder -------------------------------------------------


def top_chunk_text(bot: Assistant, question: str) -> str:
    chunk = bot.retriever.search(question).chunks[0]
    return f"{chunk.heading}\n{chunk.text}"


def found_text(bot: Assistant, question: str) -> str:
    """The passages the answerer is given for ``question`` (top_k), with their headings."""
    return "\n".join(f"{c.heading}\n{c.text}" for c in bot.retriever.search(question).chunks)


@pytest.mark.slow
def test_deterministic_follow_up_retrieves_the_vm_security_passage(seed_bot: Assistant) -> None:
    assert "隔離されています" not in top_chunk_text(seed_bot, "それはなぜ？")  # alone it is lost
    answer = seed_bot.ask("それはなぜ？", VM_SECURITY)
    assert answer.standalone_question == "仮想マシンのセキュリティは高いですか？ それはなぜ？"
    assert not answer.refused and "完全に隔離されています" in answer.answer
    assert any("完全に隔離されています" in c.text for c in answer.cited)


@pytest.fixture
def rewriting_server() -> Iterator[StandIn]:
    with StandInServer() as state:

        def respond(body: dict[str, Any]) -> str:
            if "独立した質問" in system_text(body):
                return "独立した質問: 仮想マシンのセキュリティが高いのはなぜですか？"
            return "完全に隔離されているからです [1]。"

        state.responder = respond
        yield state


def llm_settings(bot: Assistant, server: StandIn) -> Settings:
    # TODO(settings): pass these to load_settings once Settings has the llm_* fields.
    return bot.settings.model_copy(update={
        "answerer": "openai:standin", "llm_base_url": server.base_url + "/v1", "llm_timeout": 2.0,
        "llm_max_retries": 1, "llm_retry_backoff": 0.05,
    })  # fmt: skip


def llm_for(bot: Assistant, server: StandIn) -> LLMAnswerer:
    settings = llm_settings(bot, server)
    made = get_answerer(settings.answerer, settings, bot.embedder)
    assert isinstance(made, LLMAnswerer)
    return made


@pytest.mark.slow
def test_llm_rewrite_retrieves_the_vm_security_passage(
    seed_bot: Assistant, rewriting_server: StandIn
) -> None:
    llm = llm_for(seed_bot, rewriting_server)
    standalone = condense_question("それはなぜ？", VM_SECURITY, llm.rewrite_question)
    assert standalone == "仮想マシンのセキュリティが高いのはなぜですか？"
    request = last_user_text(rewriting_server.chat_requests[-1].body)
    assert "ユーザー: 仮想マシンのセキュリティは高いですか？" in request
    assert "アシスタント: はい、非常に高いセキュリティレベル" in request
    found = found_text(seed_bot, standalone)
    assert "仮想マシン" in found and "完全に隔離されています" in found


@pytest.mark.slow
def test_llm_rewrite_falls_back_to_the_deterministic_method(
    seed_bot: Assistant, rewriting_server: StandIn
) -> None:
    rewriting_server.fail(Fault("500"), Fault("500"))
    llm = llm_for(seed_bot, rewriting_server)
    standalone = condense_question("それはなぜ？", VM_SECURITY, llm.rewrite_question)
    assert standalone == "仮想マシンのセキュリティは高いですか？ それはなぜ？"
    assert len(rewriting_server.chat_requests) == 2
    assert "完全に隔離されています" in found_text(seed_bot, standalone)


@pytest.mark.slow
def test_the_pipeline_retrieves_with_the_llm_rewrite(seed_bot: Assistant, rewriting_server: StandIn) -> None:
    bot = Assistant(llm_settings(seed_bot, rewriting_server), embedder=seed_bot.embedder)
    answer = bot.ask("それはなぜ？", VM_SECURITY)
    assert answer.standalone_question == "仮想マシンのセキュリティが高いのはなぜですか？"
    assert answer.answer == "完全に隔離されているからです [1]。"
    # Retrieval used the rewritten question: the security passage is among those given.
    assert any("完全に隔離されています" in c.text for c in answer.citations) and answer.cited


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("それはなぜ？", "それ"),
        ("これって速いの？", "これ"),
        ("Why is it so?", None),
        ("That one is faster?", "That"),
    ],
)
def test_a_follow_up_that_points_to_nothing_is_asked_back(question: str, word: str | None) -> None:
    assert needs_context(question, []) == word
    assert needs_context(question, [Turn("コンテナとは？", "…")]) is None


def test_words_that_only_look_like_pointers_are_not_asked_back() -> None:
    assert needs_context("それぞれの違いは？", []) is None  # それぞれ: "each"
    assert needs_context("それはなぜかというと、コンテナの起動が速い理由を詳しく知りたいからです", []) is None


def test_the_assistant_asks_what_the_first_question_refers_to(bot: Assistant) -> None:
    bot.ingest()
    answer = bot.ask("それはなぜ？")
    assert answer.clarify and answer.refused and not answer.citations
    assert "「それ」" in answer.answer and answer.language == "ja"
    follow = bot.ask("それはなぜ？", history=[Turn("コンテナの起動は速いですか？", "はい [1]")])
    assert not follow.clarify and "コンテナ" in follow.standalone_question
