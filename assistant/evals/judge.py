"""An optional LLM judge (correctness, groundedness), reported beside the deterministic metrics.

When the answerer under test is a language model (``openai:``, ``ollama:``,
``llamacpp:``), the same chat model grades each answer: *correctness* (does the
answer state the facts of the reference answer?) and *groundedness* (what share
of its sentences the retrieved passages support). Prompts are Japanese, with an
English variant for English questions. The model is called without streaming at
temperature 0, with the answerer's timeout and bounded retries; a reply without a
number in [0, 1] is counted as *unparsed*, a call that still fails after the
retries as *failed*; neither stops the run. The extractive answerer has no
language model, so there is no judge and the report shows only the deterministic
metrics.

With ``repeats`` > 1 each answer is judged that many times; per question the
judge row keeps every run, and `summarize_judge` reports the mean over questions
of the per-question mean, with the spread (mean per-question standard deviation,
min and max of the run-level means).
"""

from __future__ import annotations

import logging
import re
import statistics
import unicodedata
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import HumanMessage

from assistant.evals import metrics as m
from assistant.evals.dataset import EvalRecord
from assistant.settings import Settings
from assistant.text import detect_language

log = logging.getLogger(__name__)

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
CORRECTNESS_PROMPT_EN = (
    "You are a grader. Read the question, the reference answer and the answer, and score from 0 to 1 "
    "whether the answer states the same facts as the reference answer. Output only the number.\n"
    "Question: {question}\nReference answer: {reference}\nAnswer: {answer}\nScore:"
)
GROUNDEDNESS_PROMPT_EN = (
    "You are a grader. Decide for each sentence of the answer whether the passages below alone "
    "support it, and output the share of supported sentences as a number from 0 to 1. Output only "
    "the number.\nPassages:\n{passages}\nAnswer: {answer}\nScore:"
)
PROMPTS = {
    "ja": {"correctness": CORRECTNESS_PROMPT_JA, "groundedness": GROUNDEDNESS_PROMPT_JA},
    "en": {"correctness": CORRECTNESS_PROMPT_EN, "groundedness": GROUNDEDNESS_PROMPT_EN},
}
JUDGE_METRICS = ("correctness", "groundedness")

#: Answerers without a language model: nothing to judge with.
NO_LLM_PROVIDERS = {"extractive"}

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
#: "0〜1", "0-1", "0 to 1", "0から1": the scale echoed back, not a score.
_SCALE = re.compile(r"(?<![\d.])0(?:\.0+)?\s*(?:〜|~|-|–|—|to|から)\s*1(?:\.0+)?(?![\d.])")
_NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?|\.\d+)(?:\s*(%|/\s*(\d+(?:\.\d+)?)))?")


def parse_score(reply: str) -> float | None:
    """The first score in [0, 1] in a judge's reply (``0.8``, ``点数: ０．８``, ``4/5``, ``80%``), else None.

    Reasoning blocks (``<think>…</think>``) and the scale echoed back ("0〜1") are
    ignored; a first number outside [0, 1] makes the reply unparsed rather than guessed.
    """
    text = _SCALE.sub(" ", _THINK.sub(" ", unicodedata.normalize("NFKC", reply)))
    match = _NUMBER.search(text)
    if match is None:
        return None
    value = float(match.group(1))
    if match.group(2) == "%":
        value /= 100
    elif match.group(3) is not None:
        denominator = float(match.group(3))
        if denominator <= 0:
            return None
        value /= denominator
    return value if 0.0 <= value <= 1.0 else None


def judge_messages(metric: str, record: EvalRecord, answer: dict[str, Any]) -> list[HumanMessage] | None:
    """The prompt for one metric, or None when the metric does not apply to this answer.

    Correctness needs a reference answer (answerable questions); groundedness needs
    an answer that is not a refusal and the passages it was given.
    """
    language = "ja" if detect_language(record.question) == "ja" else "en"
    template = PROMPTS[language][metric]
    text = str(answer.get("answer", "")).strip()
    if not text or answer.get("error"):
        return None
    if metric == "correctness":
        if not record.answerable or not record.reference_answers:
            return None
        prompt = template.format(
            question=record.question,
            reference=" / ".join(record.reference_answers),
            answer=m.strip_citations(text),
        )
    else:
        citations = answer.get("citations") or []
        if answer.get("refused") or not citations:
            return None
        passages = "\n".join(
            f"[{c.get('number', i)}] {c.get('text', '')}" for i, c in enumerate(citations, 1)
        )
        prompt = template.format(passages=passages, answer=text)
    return [HumanMessage(prompt)]


class Judge:
    """Grades answers with a chat model; built once per run by `make_judge`."""

    def __init__(self, answerer: Any, repeats: int = 1) -> None:
        # Same server, retries and timeouts as the answerer; deterministic and not streamed.
        self.llm = answerer.with_chat_options(temperature=0.0, streaming=False)
        self.model: str = answerer.name
        self.repeats = max(1, int(repeats))

    def ask(self, messages: list[HumanMessage]) -> tuple[float | None, str]:
        """One grading: (score, status) with status ``ok``, ``unparsed`` or ``failed``."""
        try:
            reply = self.llm.invoke(messages)
        except Exception as exc:  # a judge failure is counted, never fatal to the run
            log.warning("the LLM judge %s failed: %s", self.model, _describe(exc))
            return None, "failed"
        score = parse_score(reply)
        if score is None:
            log.info("the LLM judge %s gave no score in %r", self.model, reply[:120])
            return None, "unparsed"
        return score, "ok"

    def score(self, record: EvalRecord, answer: dict[str, Any]) -> dict[str, Any] | None:
        """Per metric: every run's score (None when unparsed or failed), and the counts."""
        row: dict[str, Any] = {}
        for metric in JUDGE_METRICS:
            messages = judge_messages(metric, record, answer)
            if messages is None:
                continue
            runs: list[float | None] = []
            counts = {"unparsed": 0, "failed": 0}
            for _ in range(self.repeats):
                value, status = self.ask(messages)
                runs.append(value)
                if status != "ok":
                    counts[status] += 1
            parsed = [v for v in runs if v is not None]
            row[metric] = {
                "runs": runs,
                "mean": statistics.fmean(parsed) if parsed else None,
                "std": statistics.pstdev(parsed) if parsed else None,
                **counts,
            }
        return row or None


def make_judge(settings: Settings, answerer: Any = None, repeats: int = 1) -> Judge | None:
    """The judge for a run, or None: no language model (extractive), or ``repeats`` < 1."""
    provider = settings.answerer.partition(":")[0].strip().lower()
    if repeats < 1 or provider in NO_LLM_PROVIDERS:
        return None
    if answerer is None:
        from assistant.answerers import get_answerer
        from assistant.embedders import get_embedder

        answerer = get_answerer(
            settings.answerer, settings, get_embedder(settings.embedder, settings.models_dir)
        )
    if not callable(getattr(answerer, "with_chat_options", None)):
        log.info("answerer %s has no chat model to judge with", getattr(answerer, "name", provider))
        return None
    return Judge(answerer, repeats)


def judge_answer(
    settings: Settings, record: EvalRecord, answer: dict[str, Any], *, judge: Judge | None = None
) -> dict[str, Any] | None:
    """Judge scores of one answer, or ``None`` when no LLM backend is configured (the default)."""
    judge = judge or make_judge(settings)
    return judge.score(record, answer) if judge is not None else None


def summarize_judge(rows: Sequence[dict[str, Any]], model: str | None, repeats: int) -> dict[str, Any]:
    """Per metric: mean of per-question means, mean per-question std, min/max of run-level means."""
    out: dict[str, Any] = {"model": model, "repeats": repeats, "metrics": {}}
    for metric in JUDGE_METRICS:
        cells = [row[metric] for row in rows if isinstance(row.get(metric), dict)]
        if not cells:
            continue
        means = [c["mean"] for c in cells if c.get("mean") is not None]
        stds = [c["std"] for c in cells if c.get("std") is not None]
        width = max(len(c.get("runs") or []) for c in cells)
        run_means = [
            statistics.fmean(vals)
            for r in range(width)
            if (vals := [c["runs"][r] for c in cells if r < len(c["runs"]) and c["runs"][r] is not None])
        ]
        out["metrics"][metric] = {
            "mean": statistics.fmean(means) if means else None,
            "std": statistics.fmean(stds) if stds else None,
            "run_min": min(run_means) if run_means else None,
            "run_max": max(run_means) if run_means else None,
            "questions": len(cells),
            "scored": len(means),
            "unparsed": sum(int(c.get("unparsed", 0)) for c in cells),
            "failed": sum(int(c.get("failed", 0)) for c in cells),
        }
    return out


def _describe(exc: BaseException) -> str:
    from assistant.answerers.llm import describe

    return describe(exc)
