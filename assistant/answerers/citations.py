"""Checking the citations of a generated answer.

A language model may cite passages that it was not given, or write sentences
that cite nothing. The pipeline removes the first while it renumbers the marks
(`assistant.text.CitationRenumberer`) and reports the second (`uncited_sentences`).
"""

from __future__ import annotations

from assistant.text import CITATION, split_answer_sentences, strip_citations
from assistant.types import is_refusal


def uncited_sentences(text: str) -> list[str]:
    """Sentences of the answer that carry no ``[n]`` citation (a refusal needs none)."""
    if is_refusal(text):
        return []
    return [
        s for s in split_answer_sentences(text)
        if not CITATION.search(s) and len(strip_citations(s).strip(" 　-*・:：")) >= 4
    ]  # fmt: skip
