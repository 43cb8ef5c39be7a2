"""Conversations: turning a follow-up question into one that stands on its own.

Retrieval sees only one question, so "それはなぜ？" after a question about VM
security must become a question about VM security again before it is searched.
Two ways: `condense_question` (deterministic, used by the extractive answerer)
and a language model's rewrite (`rewrite_messages`, `clean_rewrite`; an LLM
answerer offers it as ``rewrite_question``). The pipeline passes it in::

    condense_question(question, history, rewrite=getattr(answerer, "rewrite_question", None))
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.prompts import load_prompt
from assistant.text import detect_language
from assistant.types import Turn

log = logging.getLogger(__name__)

Rewrite = Callable[[str, Sequence[Turn]], str]

_FOLLOW_UP_JA = re.compile(
    r"^(それ|その|これ|この|あれ|あの|そっち|こっち|そちら|そこ|逆に|では|じゃあ|じゃ|でも|他に|ほかに|"
    r"なぜ|どうして|なんで|具体的に|例えば|たとえば|もっと|さらに|ほか|他の|一方|反対に)"
)
_FOLLOW_UP_EN = re.compile(
    r"^(and|but|what about|how about|why|so|then|also|what else)\b"
    r"|\b(it|its|that|those|they|them|this|these)\b",
    re.I,
)
#: Characters of history answers shown to the rewriting model, per turn.
ANSWER_CHARS = 400


def is_follow_up(question: str) -> bool:
    """Does the question lean on what was said before?"""
    # Very short questions ("VMの方は？", "and VMs?") only make sense with what came before.
    short = 8 if detect_language(question) == "ja" else 15
    return bool(_FOLLOW_UP_JA.search(question) or _FOLLOW_UP_EN.search(question) or len(question) <= short)


_POINTER_JA = re.compile(r"^(それ|これ|あれ|そっち|こっち|あっち|そちら|こちら|そこ)(?!ぞれ)")
_POINTER_EN = re.compile(r"^(?:and |but |so )?(it|that|this|they|them|those|these)\b", re.I)


def needs_context(question: str, history: Sequence[Turn]) -> str | None:
    """The word that points back to nothing, when a conversation starts with a follow-up.

    「それはなぜ？」 or "Why is it so?" as the first message cannot be searched: the
    assistant asks what the word refers to instead of answering something unrelated.
    Only short questions count; a longer one carries its own subject.
    """
    if history:
        return None
    match = _POINTER_JA.match(question)
    if match and len(question) <= 15:
        return match.group(1)
    match = _POINTER_EN.match(question)
    if match and len(question.split()) <= 6:
        return match.group(1)
    return None


def condense_question(question: str, history: Sequence[Turn], rewrite: Rewrite | None = None) -> str:
    """Make a follow-up question standalone.

    With ``rewrite`` (a language model's rewriter) that decides. Without it the method
    is deterministic: a short question or one that starts with a reference to what was
    said before ("それはなぜ？", "and the VM side?") is joined to the standalone form of
    the previous question (itself worked out the same way, so chains of follow-ups
    keep their subject).
    """
    if not history:
        return question
    if rewrite is not None:
        return rewrite(question, history)
    if not is_follow_up(question):
        return question
    previous = condense_question(history[-1].question, history[:-1])
    return f"{previous} {question}"


def rewrite_messages(question: str, history: Sequence[Turn]) -> list[BaseMessage]:
    """The prompt asking a chat model for the standalone form of ``question``."""
    language = detect_language(question)
    lines = []
    for turn in history:
        answer = turn.answer.strip()
        if len(answer) > ANSWER_CHARS:
            answer = answer[:ANSWER_CHARS] + "…"
        if language == "ja":
            lines += [f"ユーザー: {turn.question}", f"アシスタント: {answer}"]
        else:
            lines += [f"User: {turn.question}", f"Assistant: {answer}"]
    conversation = "\n".join(lines)
    if language == "ja":
        user = f"<会話>\n{conversation}\n</会話>\n\n続きの質問: {question}\n\n独立した質問:"
    else:
        user = (
            f"<conversation>\n{conversation}\n</conversation>\n\n"
            f"Follow-up question: {question}\n\nStandalone question:"
        )
    return [SystemMessage(load_prompt("rewrite", language)), HumanMessage(user)]


_LABEL = re.compile(
    r"^\s*(?:独立した質問|書き換えた質問|質問|standalone question|rewritten question|question)\s*[:：]\s*",
    re.I,
)


def clean_rewrite(text: str, question: str) -> str:
    """The rewritten question out of a model's reply, or ``""`` when it is unusable."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    candidate = _LABEL.sub("", lines[0]).strip().strip("\"'「」『』`").strip()
    limit = max(200, 4 * len(question))
    if (
        not candidate
        or len(candidate) > limit
        or candidate.startswith(("<", "|", "[", "#"))  # an echo of the prompt or of a passage
        or detect_language(candidate) != detect_language(question)
    ):
        log.info("ignoring an unusable rewrite %r", text[:80])
        return ""
    return candidate
