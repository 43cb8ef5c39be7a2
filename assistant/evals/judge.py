"""Hook for an optional LLM judge (correctness, groundedness), beside the deterministic metrics.

LLM-JUDGE HOOK: the extractive answerer has no language model, so judging is
skipped (``None``) and the report shows only deterministic metrics. When an LLM
answerer backend exists (issue 6), implement `judge_answer` with the Japanese
prompts below through that backend; the runner stores its dict under ``judge``
per question and `summarize` reports the mean of each numeric key beside, never
instead of, the other metrics. Repeated runs give the spread (see `compare`).
"""

from __future__ import annotations

from typing import Any

from assistant.evals.dataset import EvalRecord
from assistant.settings import Settings

CORRECTNESS_PROMPT_JA = (
    "あなたは採点者です。質問、模範解答、回答を読み、回答が模範解答と同じ事実を述べているかを"
    "0〜1の数値で採点してください。数値だけを出力してください。\n"
    "質問: {question}\n模範解答: {reference}\n回答: {answer}\n点数:"
)
GROUNDEDNESS_PROMPT_JA = (
    "あなたは採点者です。回答の各文が、下の資料だけから裏付けられるかを判定し、裏付けられる文の"
    "割合を0〜1の数値で出力してください。数値だけを出力してください。\n"
    "資料:\n{passages}\n回答: {answer}\n点数:"
)

#: Answerers without a language model: nothing to judge with.
NO_LLM_PROVIDERS = {"extractive"}


def judge_answer(settings: Settings, record: EvalRecord, answer: dict[str, Any]) -> dict[str, float] | None:
    """Scores of an LLM judge, or ``None`` when no LLM backend is configured (the default)."""
    provider = settings.answerer.partition(":")[0].strip().lower()
    if provider in NO_LLM_PROVIDERS:
        return None
    # Not implemented yet: needs the LLM backends of issue 6. Skipped, never blocking.
    return None
