"""Deciding whether the evidence is strong enough to answer at all.

Below the bar the assistant says it does not know and shows the closest passages
instead of inventing an answer. A passage is relevant when its similarity to the
question is high, or fairly high and it shares enough of the question's terms;
across languages words cannot be shared, so similarity alone decides, a bit
stricter. The similarities come from the embedder's calibration unless settings
override them.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.embedders import Embedder
from assistant.settings import Settings
from assistant.text import detect_language
from assistant.types import Passage


def is_relevant(passages: Sequence[Passage], language: str, settings: Settings, embedder: Embedder) -> bool:
    """Is any passage strong enough evidence to answer a question in ``language``?"""
    low = settings.min_relevance if settings.min_relevance is not None else embedder.min_relevance
    high = (
        settings.confident_relevance
        if settings.confident_relevance is not None
        else embedder.confident_relevance
    )
    cross_lingual = low + 0.3 * (high - low)
    for p in passages:
        dense = p.dense_score if p.dense_score is not None else 0.0
        if dense >= high or (dense >= low and p.term_coverage >= settings.min_term_coverage):
            return True
        if language != detect_language(p.text) and dense >= cross_lingual:
            return True
    return False
