"""Deterministic eval metrics: pure functions, no model, no I/O.

Retrieval metrics take the ranked passages given to the answerer and a relevance
judgement per passage; answer metrics compare texts after normalisation (SQuAD
style for English, NFKC characters for Japanese). `evals/README.md` defines each.
"""

from __future__ import annotations

import math
import re
import string
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from assistant import text as textutil
from assistant.types import ANSWER_FRAME, Passage

_JAPANESE = textutil.JAPANESE
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CLAUSE = re.compile(r"[、；;|｜]")
# A Japanese character is a token; a run of other characters is a word. Japanese text has no
# spaces, so its punctuation (、。「」…) and brackets end a word too: 「VirtualBox、VMware」 is
# two words, 「3.8（2013年）」 is "3.8" then "2013".
_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]"
    r"|[^\s\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f()\[\]{}]+"
)
_ARTICLE_WORDS = frozenset({"a", "an", "the"})
# Where a composed answer line joins pieces from different places (heading — label: value / …).
_PIECE = re.compile(r"\s+[—–]\s+|[:：](?:\s+|$)|\s+/\s+|\s*[|｜]\s*")
# The answerer's own frame words, longest first: they quote nothing.
_FRAME_WORDS = sorted({w for labels in ANSWER_FRAME.values() for w in labels.values()}, key=len, reverse=True)


# --- relevance ------------------------------------------------------------------------


def _norm_heading(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("*", "").replace("`", "")
    return " ".join(text.lower().split())


def source_matches(reference: str, passage: Passage) -> bool:
    """Does ``reference`` (path suffix, ``path#Heading > Sub`` or chunk id) name this passage?"""
    if reference == passage.id:
        return True
    path, _, fragment = reference.partition("#")
    source = passage.source.replace("\\", "/")
    path = path.replace("\\", "/").removeprefix("./")
    if not (source == path or source.endswith("/" + path.lstrip("/"))):
        return False
    if not fragment:
        return True
    wanted = [_norm_heading(p) for p in fragment.split(">") if p.strip()]
    # A document's H1 is its title, kept beside the heading path (`assistant.splitting`):
    # "doc.md#Title" names the text under it, before the first subheading.
    have = [_norm_heading(h) for h in [passage.title, *passage.heading_path] if h]
    return any(have[i : i + len(wanted)] == wanted for i in range(len(have) - len(wanted) + 1))


def relevant_items(
    passages: Sequence[Passage], sources: Sequence[str], answers: Sequence[str]
) -> list[set[int]] | None:
    """For each passage, the indices of the reference items it satisfies.

    Items are the reference sources, or — with none given — the single item "a
    passage contains one of the reference answers". ``None`` when there is nothing
    to judge retrieval against.
    """
    if sources:
        return [{i for i, ref in enumerate(sources) if source_matches(ref, p)} for p in passages]
    if answers:
        wanted = [normalize_chars(a) for a in answers if normalize_chars(a)]
        return [{0} if any(w in normalize_chars(p.text) for w in wanted) else set() for p in passages]
    return None


def n_items(sources: Sequence[str], answers: Sequence[str]) -> int:
    return len(sources) if sources else (1 if answers else 0)


# --- retrieval ------------------------------------------------------------------------


def hit_at_k(relevance: Sequence[set[int]], k: int) -> float:
    """1 if any of the first k passages is relevant."""
    return 1.0 if any(relevance[:k]) else 0.0


def recall_at_k(relevance: Sequence[set[int]], k: int, total: int) -> float:
    """Share of the reference items found in the first k passages."""
    if total <= 0:
        return 0.0
    found: set[int] = set().union(*relevance[:k]) if relevance[:k] else set()
    return len(found) / total


def mrr_at_k(relevance: Sequence[set[int]], k: int) -> float:
    """1/rank of the first relevant passage within the first k, else 0."""
    for rank, items in enumerate(relevance[:k], start=1):
        if items:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(relevance: Sequence[set[int]], k: int, total: int) -> float:
    """Standard binary nDCG: each relevant passage in the first k gains 1/log2(rank+1);
    the ideal ranks min(k, relevant passages) relevant ones first, so the maximum is 1."""
    if total <= 0:
        return 0.0
    gains = [1.0 if items else 0.0 for items in relevance[:k]]
    dcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))
    relevant = sum(1 for items in relevance if items)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, relevant) + 1))
    return dcg / ideal if ideal else 0.0


# --- text normalisation ---------------------------------------------------------------


strip_citations = textutil.strip_citations
is_japanese = textutil.has_japanese


def normalize_squad(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def normalize_chars(text: str) -> str:
    """NFKC, lower case, without whitespace, punctuation or symbols (for Japanese)."""
    text = unicodedata.normalize("NFKC", strip_citations(text)).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in {"P", "S", "Z", "C"})


def f1_tokens(text: str) -> list[str]:
    """Tokens of one text, whatever the other text's language: each Japanese character is
    a token, and so is each word of other scripts (SQuAD normalisation: lower case, no
    punctuation, no articles). Mixed text gets both kinds, in order."""
    text = unicodedata.normalize("NFKC", strip_citations(text)).lower()
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        piece = match.group(0)
        if _JAPANESE.fullmatch(piece):
            tokens.append(piece)
            continue
        word = "".join(ch for ch in piece if unicodedata.category(ch)[0] not in {"P", "S", "Z", "C"})
        if word and word not in _ARTICLE_WORDS:
            tokens.append(word)
    return tokens


def word_tokens(text: str) -> list[str]:
    """`f1_tokens` with punctuation and symbols inside a Latin word separating it
    ("City:57–60" → city, 57, 60; "Singer's" → singer, s)."""
    text = unicodedata.normalize("NFKC", strip_citations(text))
    text = "".join(
        " " if unicodedata.category(ch)[0] in {"P", "S"} and not _JAPANESE.fullmatch(ch) else ch
        for ch in text
    )
    return f1_tokens(text)


# --- answers --------------------------------------------------------------------------


def _best(answer: str, references: Iterable[str], fn: Any) -> float:
    scores = [fn(answer, r) for r in references]
    return max(scores) if scores else 0.0


def exact_match(answer: str, references: Sequence[str]) -> float:
    """1 if the answer's tokens equal a reference's tokens (see `f1_tokens`)."""
    return _best(answer, references, lambda a, r: float(f1_tokens(a) == f1_tokens(r)))


def token_f1(answer: str, reference: str) -> float:
    """SQuAD token F1 over `f1_tokens` (words for English, characters for Japanese)."""
    return _overlap_f1(f1_tokens(answer), f1_tokens(reference))


def char_f1(answer: str, reference: str) -> float:
    """Character F1 over normalised characters."""
    return _overlap_f1(list(normalize_chars(answer)), list(normalize_chars(reference)))


def _overlap_f1(pred: Sequence[str], gold: Sequence[str]) -> float:
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def answer_f1(answer: str, references: Sequence[str]) -> float:
    """Best token F1 over the references, each text tokenised by its own language."""
    return _best(answer, references, token_f1)


def _contains_tokens(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    return bool(n) and any(list(haystack[i : i + n]) == list(needle) for i in range(len(haystack) - n + 1))


def _names(text: str, entities: Sequence[str]) -> bool:
    have = normalize_chars(text)
    return any(normalize_chars(e) and normalize_chars(e) in have for e in entities)


_POLITE = frozenset({"ます", "です"})
_SUDACHI_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _sudachi() -> Any:
    # Sudachi itself, not `assistant.lexical`: the evals reach the package only through its
    # door (tests/test_architecture.py), and the lexical tokenizer drops the particles and
    # auxiliaries this comparison keeps.
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").create(SplitMode.C)


def plain_forms(text: str) -> list[str]:
    """Japanese text as its words' dictionary forms, without the polite auxiliaries (ます・です),
    punctuation and citation marks: 「…移動させることができます。」 reads as 「…移動させること
    ができる」. Tense and negation stay (「できません」 is not 「できる」)."""
    text = unicodedata.normalize("NFKC", strip_citations(text)).lower()
    forms: list[str] = []
    with _SUDACHI_LOCK:  # a Sudachi tokenizer is not thread-safe
        for start in range(0, len(text), 4000):
            for m in _sudachi().tokenize(text[start : start + 4000]):
                pos = m.part_of_speech()[0]
                if pos in {"補助記号", "空白"} or not m.surface().strip():
                    continue
                if pos == "助動詞" and m.dictionary_form() in _POLITE:
                    continue
                forms.append(m.dictionary_form())
    return forms


def contains_reference(
    answer: str, references: Sequence[str], entity: str | Sequence[str] | None = None
) -> float:
    """1 if a reference's tokens occur, in order, inside the answer's tokens.

    ``entity`` (comparison questions: the side asked for, one name or its aliases)
    requires the reference to sit in a clause of the answer that names that side,
    so an answer listing both columns does not pass for either; a reference that
    names the entity itself is scored as it stands.
    """
    entities = [entity] if isinstance(entity, str) else list(entity or [])

    def holds(a: str, r: str) -> bool:
        # SQuAD's normalisation glues a word to what its punctuation joins ("City:57–60",
        # "Singer's", "water—as"): the words apart count too, so "New York City" is stated.
        # A Japanese statement is the same in the polite style the documents write
        # (「…適しています」) as in the plain style of a reference (「…適している」).
        # A reference of marks alone (JSQuAD's 「○」, "/") has no tokens: it is found as written.
        if not f1_tokens(r):
            mark = unicodedata.normalize("NFKC", r).strip()
            return bool(mark) and mark in unicodedata.normalize("NFKC", strip_citations(a))
        return (
            _contains_tokens(f1_tokens(a), f1_tokens(r))
            or _contains_tokens(word_tokens(a), word_tokens(r))
            or (bool(_JAPANESE.search(r)) and _contains_tokens(plain_forms(a), plain_forms(r)))
        )

    def one(a: str, r: str) -> float:
        if not entities or _names(r, entities):
            return float(holds(a, r))
        return float(any(_names(c, entities) and holds(c, r) for c in answer_clauses(a)))

    return _best(answer, references, one)


def cosine(a: Any, b: Any) -> float:
    """Cosine similarity of two vectors (0 when one is all zeros)."""
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb / norm) if norm else 0.0


def split_answer_sentences(answer: str) -> list[str]:
    """Sentences of an answer with their own citation marks (`assistant.text`): a sentence
    ends at a line end, at sentence-final punctuation or after a run of citation marks,
    since a table-row answer ("起動速度: 高速（秒単位） [1] …") has no full stop."""
    return [s for s in textutil.split_answer_sentences(answer) if normalize_chars(s)]


def answer_clauses(answer: str) -> list[str]:
    """Answer sentences cut further at 、 ; and table cell bars: the unit a comparison
    value is attributed to a side in."""
    return [c for s in split_answer_sentences(answer) for c in _CLAUSE.split(s) if normalize_chars(c)]


def bigram_support(sentence: str, passage: str) -> float:
    """Share of the sentence's character bigrams (normalised) that occur in the passage."""
    s, p = normalize_chars(sentence), normalize_chars(passage)
    if len(s) < 2:
        return 1.0 if s and s in p else 0.0
    grams = [s[i : i + 2] for i in range(len(s) - 1)]
    have = {p[i : i + 2] for i in range(len(p) - 1)}
    return sum(g in have for g in grams) / len(grams)


def answer_pieces(sentence: str) -> list[str]:
    """The quoted pieces of an answer sentence: without citation marks and the answerer's
    frame words, cut where a composed line joins a heading, a label and a value."""
    text = strip_citations(sentence)
    for word in _FRAME_WORDS:
        text = text.replace(word, " ")
    return [p.strip() for p in _PIECE.split(text) if len(normalize_chars(p)) >= 2]


def faithfulness(answer: str, passages: Sequence[Passage], threshold: float = 0.8) -> float | None:
    """Share of answer sentences supported by a passage they cite (or, uncited, by any cited one).

    A sentence is supported when each of its quoted pieces (`answer_pieces`) has at least
    ``threshold`` of its character bigrams in one such passage (its text, title or
    heading path). A line of frame words only ("The documents say [1]:") is not counted.
    ``None`` when the answer has no sentence to check or cites nothing.
    """
    cited = [p for p in passages if p.cited]
    if not cited:
        return None
    checked = supported = 0
    for sentence in split_answer_sentences(answer):
        pieces = answer_pieces(sentence)
        if not pieces:
            continue
        numbers = set(textutil.citation_numbers(sentence))
        pool = [passages[n - 1] for n in numbers if 1 <= n <= len(passages)] or cited
        contexts = [" ".join([p.title, *p.heading_path, p.text]) for p in pool]
        checked += 1
        if all(any(bigram_support(piece, c) >= threshold for c in contexts) for piece in pieces):
            supported += 1
    return supported / checked if checked else None


def citation_precision(relevance: Sequence[set[int]], passages: Sequence[Passage]) -> float | None:
    """Share of the cited passages that are relevant; ``None`` when nothing is cited."""
    cited = [bool(items) for items, p in zip(relevance, passages, strict=False) if p.cited]
    return sum(cited) / len(cited) if cited else None


# --- refusals and latency ---------------------------------------------------------------


def refusal_scores(expected: Sequence[bool], refused: Sequence[bool]) -> dict[str, float | None]:
    """Precision and recall of refusing, and the false-refusal rate on answerable questions."""
    tp = sum(e and r for e, r in zip(expected, refused, strict=True))
    fp = sum((not e) and r for e, r in zip(expected, refused, strict=True))
    positives = sum(expected)
    answerable = len(expected) - positives
    return {
        "refusal_precision": tp / (tp + fp) if tp + fp else None,
        "refusal_recall": tp / positives if positives else None,
        "false_refusal_rate": fp / answerable if answerable else None,
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), numpy's default; 0 for no values.
    The one percentile of the project."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else 0.0


def latency(timings: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """p50/p95/mean seconds per stage over all answers."""
    stages: dict[str, list[float]] = {}
    for t in timings:
        for stage, seconds in t.items():
            stages.setdefault(stage, []).append(float(seconds))
    return {
        stage: {"p50": percentile(v, 50), "p95": percentile(v, 95), "mean": sum(v) / len(v)}
        for stage, v in stages.items()
    }


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
