"""The offline default answerer: it quotes the sentences that answer the question.

Every sentence of the retrieved passages is a candidate (a table row becomes a
sentence that names its columns). Each is scored by how many of the question's
terms it covers, weighted by rarity, and by its embedding similarity to the
question; the best one to three sentences are returned with ``[n]`` citations.
Nothing is invented: every word of the answer is in a passage.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.embedders import Embedder
from assistant.lexical import default_tokenizer
from assistant.settings import Settings
from assistant.text import split_sentences, strip_markup
from assistant.types import Note, Passage

_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
CACHE_SIZE = 5000  # sentence vectors kept between questions
_SEPARATOR_ROW = re.compile(r"^\|?\s*:?-{2,}")


@dataclass
class Candidate:
    text: str
    passage: int  # 1-based number of the passage it comes from
    position: int
    score: float = 0.0


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(
        self, model: str = "", *, settings: Settings, embedder: Embedder, cache_size: int = CACHE_SIZE
    ) -> None:
        self._cache_size = cache_size
        self._settings = settings
        self._embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str | Note]:
        chosen = self.select(question, passages)
        for i, candidate in enumerate(chosen):
            sep = "" if i == 0 else " "
            yield f"{sep}{candidate.text} [{candidate.passage}]"

    def select(self, question: str, passages: Sequence[Passage]) -> list[Candidate]:
        candidates = [
            Candidate(text, number, position)
            for number, passage in enumerate(passages, start=1)
            for position, text in enumerate(passage_sentences(passage.text))
        ]
        if not candidates:
            return []
        tokenizer = default_tokenizer()
        query_terms = set(tokenizer.tokenize(question))
        sentence_terms = [set(tokenizer.tokenize(c.text)) for c in candidates]
        # Rarer terms (within the retrieved passages) weigh more.
        n = len(candidates)
        weight = {t: math.log(1 + n / (1 + sum(t in terms for terms in sentence_terms))) for t in query_terms}
        total = sum(weight.values()) or 1.0
        similarities = self._similarities(question, [c.text for c in candidates])
        for candidate, terms, similarity in zip(candidates, sentence_terms, similarities, strict=True):
            coverage = sum(weight[t] for t in query_terms & terms) / total
            prior = 0.02 * (len(passages) - candidate.passage)
            brevity = 0.02 if len(candidate.text) < 12 else 0.0
            candidate.score = 0.55 * float(similarity) + 0.45 * coverage + prior - brevity
        ranked = sorted(candidates, key=lambda c: -c.score)
        best = ranked[0]
        chosen = [best]
        for candidate in ranked[1:]:
            if len(chosen) >= self._settings.max_answer_sentences:
                break
            if candidate.score >= best.score - 0.06 and candidate.text not in {c.text for c in chosen}:
                chosen.append(candidate)
        return chosen

    def _similarities(self, question: str, texts: list[str]) -> np.ndarray:
        """Cosine similarity of each sentence to the question; sentence vectors are cached (LRU)."""
        query = self._embedder.embed_query(question)
        found: dict[str, np.ndarray] = {}
        with self._cache_lock:
            for text in dict.fromkeys(texts):
                if text in self._cache:
                    self._cache.move_to_end(text)
                    found[text] = self._cache[text]
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self._embedder.embed_documents(missing)
            found.update(zip(missing, vectors, strict=True))
            with self._cache_lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        matrix = np.stack([found[t] for t in texts])
        return matrix @ query


def passage_sentences(text: str) -> list[str]:
    """Readable sentences of a passage; table rows are spelled out with their headers."""
    out: list[str] = []
    header: list[str] | None = None
    for block in _merge_list_headers(text.split("\n")):
        line = block.strip()
        if line.startswith("|"):
            cells = [strip_markup(c) for c in line.strip("|").split("|")]
            if _SEPARATOR_ROW.match(line):
                continue
            if header is None:
                header = cells
                continue
            out.append(_table_sentence(header, cells))
            continue
        header = None
        line = strip_markup(_BULLET.sub("", line))
        if line.startswith(("#", "（", "(", "*(")) or len(line) < 4:
            continue  # headings and captions are not answers
        out.extend(s for s in split_sentences(line) if len(s) >= 4)
    return out


def _merge_list_headers(lines: list[str]) -> list[str]:
    """A list item ending in a colon and its nested items become one line."""
    out: list[str] = []
    lead_indent: int | None = None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if lead_indent is not None and line.strip() and indent > lead_indent and _BULLET.match(line):
            item = _BULLET.sub("", line).strip()
            out[-1] = f"{out[-1]} {item}" if out[-1].endswith(("。", ".")) else f"{out[-1]}{item}"
            continue
        lead_indent = None
        if _BULLET.match(line) and line.rstrip().endswith((":", "：", ":**")):
            lead_indent = indent
            line = line.rstrip() + " "
        out.append(line)
    return out


def _table_sentence(header: list[str], cells: list[str]) -> str:
    if not cells:
        return ""
    label, values = cells[0], cells[1:]
    parts = [f"{h}: {v}" if h else v for h, v in zip(header[1:], values, strict=False)]
    return f"{label} — " + " / ".join(parts)
