"""Checking the citations of a generated answer.

A language model may cite passages that it was not given, or write sentences
that cite nothing. The pipeline removes the first (``check_citations`` in
`assistant.pipeline`) and reports the second with `uncited_sentences`.
"""

from __future__ import annotations

import re

from assistant.answerers import is_refusal

CITATION = re.compile(r"\[(\d+)\]")
# A sentence ends at a terminator; citations written right after it belong to it.
_SENTENCE = re.compile(r".+?(?:[。！？!?]|\.(?=\s|$|\[)|$)(?:\s*\[\d+\])*(?:(?<=\])[。.])?", re.S)


def split_answer_sentences(text: str) -> list[str]:
    """Sentences of an answer, each with the ``[n]`` marks that follow it."""
    sentences = []
    for line in text.splitlines():
        for match in _SENTENCE.finditer(line):
            sentence = match.group(0).strip()
            if sentence and not CITATION.fullmatch(sentence):
                sentences.append(sentence)
    return sentences


def uncited_sentences(text: str) -> list[str]:
    """Sentences of the answer that carry no ``[n]`` citation (a refusal needs none)."""
    if is_refusal(text):
        return []
    return [
        s for s in split_answer_sentences(text)
        if not CITATION.search(s) and len(CITATION.sub("", s).strip(" 　-*・:：")) >= 4
    ]  # fmt: skip


def cited_numbers(text: str) -> set[int]:
    return {int(n) for n in CITATION.findall(text)}
