"""Lexical retrieval: BM25 over Japanese-aware tokens.

Japanese text is cut into words by Sudachi (its dictionary ships as a package)
and each word is reduced to Sudachi's normalised form, so サーバー and サーバ,
or 引越し and 引っ越し, match. Latin words are lower-cased. Particles,
auxiliaries, symbols and whitespace are dropped.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse

_SKIP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
_LATIN = re.compile(r"^[0-9a-z][0-9a-z._+#-]*$")
_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+#-]*")
_STOPWORDS = {
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "in", "is", "it", "of", "on", "or", "the", "to", "what", "which", "why", "with", "when",
    "who", "whom", "whose", "where", "this", "that", "these", "those", "was", "were", "will",
    "there", "their", "they", "you", "your", "i", "me", "my", "we", "our", "than", "into",
    "する", "ある", "いる", "なる", "れる", "られる", "こと", "もの", "よう", "ため", "何",
    "どう", "どの", "どれ", "どちら", "ない", "です", "ます",
}  # fmt: skip


class JapaneseTokenizer:
    """Sudachi-based word tokenizer returning normalised, filtered terms."""

    def __init__(self) -> None:
        from sudachipy import Dictionary, SplitMode

        self._dictionary = Dictionary(dict="core")
        self._mode = SplitMode.B
        self._local = threading.local()

    def _tokenizer(self) -> Any:
        # Sudachi tokenizers are not thread-safe; keep one per thread.
        tok = getattr(self._local, "tok", None)
        if tok is None:
            tok = self._local.tok = self._dictionary.create(self._mode)
        return tok

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text)
        terms: list[str] = []
        for start in range(0, len(text), 4000):  # Sudachi limits input size
            for morpheme in self._tokenizer().tokenize(text[start : start + 4000]):
                surface = morpheme.surface().strip().lower()
                if not surface or morpheme.part_of_speech()[0] in _SKIP_POS:
                    continue
                if surface.isascii():
                    terms.extend(_latin_terms(surface))
                    continue
                term = morpheme.normalized_form().lower()
                if term not in _STOPWORDS:
                    terms.append(term)
        return terms


def _latin_terms(surface: str) -> list[str]:
    out = []
    for word in _LATIN_RUN.findall(surface):
        word = word.strip("._-").lower()
        if word and word not in _STOPWORDS and _LATIN.match(word):
            out.append(_stem(word))
    return out


def _stem(word: str) -> str:
    """A light English stemmer: plurals only, so that "containers" matches "container"."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def default_tokenizer() -> JapaneseTokenizer:
    return JapaneseTokenizer()


class BM25Index:
    """A BM25 (Okapi) index over pre-tokenised documents, as a sparse matrix."""

    def __init__(self, ids: Sequence[str], tokens: Sequence[Sequence[str]], k1: float = 1.2,
                 b: float = 0.75) -> None:  # fmt: skip
        self.ids = list(ids)
        self._rows = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        lengths = np.array([len(t) for t in tokens], dtype=np.float32)
        avg = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        df: Counter[int] = Counter()
        for row, doc in enumerate(tokens):
            counts = Counter(doc)
            norm = k1 * (1 - b + b * lengths[row] / avg)
            for term, tf in counts.items():
                col = vocabulary.setdefault(term, len(vocabulary))
                df[col] += 1
                rows.append(row)
                cols.append(col)
                values.append(tf * (k1 + 1) / (tf + norm))
        n = len(self.ids)
        self.vocabulary = vocabulary
        idf = np.zeros(len(vocabulary), dtype=np.float32)
        for col, freq in df.items():
            idf[col] = math.log(1 + (n - freq + 0.5) / (freq + 0.5))
        self.idf = idf
        matrix = sparse.csr_matrix((values, (rows, cols)), shape=(n, len(vocabulary)), dtype=np.float32)
        self._matrix_t = matrix.T.tocsr()  # term -> documents, for fast lookups

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for term, count in Counter(query_tokens).items():
            col = self.vocabulary.get(term)
            if col is None:
                continue
            row = self._matrix_t.getrow(col)
            scores[row.indices] += self.idf[col] * row.data * count
        return scores

    def search(self, query_tokens: Sequence[str], k: int) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        scores = self.scores(query_tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def coverage(self, query_tokens: Sequence[str], doc_id: str) -> float:
        """Share of the question's terms (weighted by idf) that occur in one document."""
        terms = set(query_tokens)
        if not terms:
            return 0.0
        row = self._rows.get(doc_id)
        if row is None:
            return 0.0
        total = matched = 0.0
        for term in terms:
            idf = self.idf_of(term)
            total += idf
            col = self.vocabulary.get(term)
            if col is not None:
                column = self._matrix_t.getrow(col)
                if row in column.indices:
                    matched += idf
        return matched / total if total else 0.0

    def idf_of(self, term: str) -> float:
        col = self.vocabulary.get(term)
        return float(self.idf[col]) if col is not None else math.log(1 + len(self.ids) + 0.5)
