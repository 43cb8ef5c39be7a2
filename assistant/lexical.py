"""Lexical retrieval: BM25 over two fields, Sudachi words and character n-grams.

**Words.** Japanese text is cut into words by Sudachi (its dictionary ships as a
package) and each word is reduced to Sudachi's normalised form, so サーバー and
サーバ, or 引越し and 引っ越し, match. Latin words are lower-cased, lose their accents
(Gospić = Gospic) and, from four letters, are cut to their English Snowball stem
(worked = work). The plural of an acronym is the acronym (VMs = VM, CPUs = CPU: the
stemmer leaves words of three letters alone, so "How fast do VMs start?" never met the
table column "Favours a VM"). Particles, auxiliaries, symbols and whitespace are dropped.
English auxiliaries and pronouns are stopwords too (did, has, would, his, its …), "may" and
"us" not (May, US): "did" of "In what year did Tesla die?", rare in passages, weighed most
and chose "… Edison did receive …". Chosen on SQuAD's development half (0.811 → 0.820; without
has/have/had 0.816) with the seed, related (0.919 → 0.926) and corpus development splits.

**Character n-grams.** The same text (NFKC, lower-cased, without whitespace and
punctuation) cut into overlapping n-grams, so a word Sudachi splits differently
in the question and in the passage (compounds, katakana names, kanji variants)
still matches in part.

Both fields index the chunk's *contextual text* (its document title and heading
path before the body, see `assistant.splitting.contextual_text`), exactly what is
embedded.

**The index** (`LexicalIndex`) is segmented so that it never has to be rebuilt from
every chunk on a change: an immutable *base* (sorted vocabulary and term-major
CSR postings of raw term frequencies, saved as ``.npy`` files and memory-mapped
on load) plus a small *delta* of chunks added since (in memory; saved as JSON files,
each save appending one with what changed since the previous save), and a per-row
``alive`` mask for deletions. BM25 statistics (document frequency over live rows,
average length) are computed at query time from the postings, so adding,
replacing or deleting a chunk gives exactly the scores of a full rebuild. When
the delta outgrows a share of the base, `compact` folds it in. Public API:

- `LexicalIndex(fields)`, `.upsert(docs)`, `.delete(ids)`, `.search(query, k)`
  (per field), `.field_scores`, `.coverage(tokens, id)`, `.idf_of`, `len()`, `.ids_alive()`;
- `LexicalIndex.save(dir)` / `LexicalIndex.load(dir)` (used by
  `assistant.lexical_store.LexicalStore`, which persists the index beside the
  store and keeps it in step with the store by ingest sequence number);
- `IndexedDoc(id, source, fields)`: one chunk's terms per field;
- `default_tokenizer()`, `char_ngrams(text, n)`, `analyze(text, tokens, ngram)`.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from assistant.lexicon import Lexicon

_SKIP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
_LATIN = re.compile(r"^[0-9a-z][0-9a-z._+#-]*$")
_ACRONYM_PLURAL = re.compile(r"\b([A-Z][A-Z0-9]{1,5})(?:s|es)\b")
_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+#-]*")
_STOPWORDS = {
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "in", "is", "it", "of", "on", "or", "the", "to", "what", "which", "why", "with", "when",
    "who", "whom", "whose", "where", "this", "that", "these", "those", "was", "were", "will",
    "there", "their", "they", "you", "your", "i", "me", "my", "we", "our", "than", "into",
    # auxiliaries and pronouns ("In what year did he die?"), not "may" (May) nor "us" (US)
    "did", "has", "have", "had", "been", "being", "would", "could", "should", "might", "must",
    "shall", "he", "she", "him", "his", "her", "hers", "them", "its",
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
        # Terms are normalised forms (する → 為る, もの → 物): the stopwords must be too.
        tok = self._tokenizer()
        self._stopwords = frozenset(
            _STOPWORDS | {m.normalized_form() for w in _STOPWORDS if not w.isascii() for m in tok.tokenize(w)}
        )

    def _tokenizer(self) -> Any:
        # Sudachi tokenizers are not thread-safe; keep one per thread.
        tok = getattr(self._local, "tok", None)
        if tok is None:
            tok = self._local.tok = self._dictionary.create(self._mode)
        return tok

    def morphemes(self, text: str) -> Any:
        """Sudachi's morphemes of ``text`` (its first 4000 characters), for grammar checks."""
        return self._tokenizer().tokenize(text[:4000])

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text)
        terms: list[str] = []
        for start in range(0, len(text), 4000):  # Sudachi limits input size
            for morpheme in self._tokenizer().tokenize(text[start : start + 4000]):
                written = morpheme.surface().strip()
                surface = written.lower()
                if not surface or morpheme.part_of_speech()[0] in _SKIP_POS:
                    continue
                if surface.isascii():
                    # the plural of an acronym is the acronym: VMs = VM, CPUs = CPU
                    terms.extend(_latin_terms(_ACRONYM_PLURAL.sub(r"\1", written).lower()))
                    continue
                if (surface := fold_latin(surface)).isascii():
                    terms.extend(_latin_terms(surface))
                    continue
                term = morpheme.normalized_form().lower()
                if term not in self._stopwords:
                    terms.append(term)
        return terms


def fold_latin(text: str) -> str:
    """Latin letters without their accents ("Gospić" → "Gospic", "café" → "cafe"), so a
    question typed without them finds the text. Other scripts are left alone (decomposing
    kana would split off their voicing marks)."""
    return _ACCENTED.sub(_strip_marks, text)


def _strip_marks(match: re.Match[str]) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", match.group(0)) if not unicodedata.combining(ch)
    )


_ACCENTED = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff]+")


def _latin_terms(surface: str) -> list[str]:
    out = []
    for word in _LATIN_RUN.findall(surface):
        word = word.strip("._-").lower()
        if word and word not in _STOPWORDS and _LATIN.match(word):
            out.append(_stem(word))
    return out


def _stem(word: str) -> str:
    """English words by their Snowball (Porter 2) stem, so that "worked" finds "work" and
    "containers" "container"; short words, codes and versions are kept as written."""
    if len(word) <= 3 or not word.isalpha():
        return word
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:  # Snowball stemmers keep state while they work: one per thread
        import snowballstemmer

        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


_stemmers = threading.local()
stem = _stem
STOPWORDS = frozenset(_STOPWORDS)


#: Bump when tokenisation or the on-disk layout changes: persisted indexes are rebuilt.
FORMAT_VERSION = 5
#: Bump when the tokenizer's terms change: tokens stored at ingest by another version are
#: not used, the chunk's text is tokenized again.
TOKENIZER_VERSION = 4
WORDS = "words"
NGRAMS = "ngrams"
_NGRAM_SKIP = re.compile(r"[\s\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def default_tokenizer() -> JapaneseTokenizer:
    return JapaneseTokenizer()


@lru_cache(maxsize=200_000)
def synonym_groups(term: str) -> frozenset[int]:
    """The synonym groups SudachiDict gives a Japanese term (軽い・軽量, 停止・止める,
    可搬性・ポータビリティ share one); empty for Latin words and for terms of several words."""
    if term.isascii():
        return frozenset()
    morphemes = list(default_tokenizer().morphemes(term))
    if len(morphemes) != 1:
        return frozenset()
    return frozenset(morphemes[0].synonym_group_ids())


SYNONYM_WEIGHT = 0.5  # a word matched only through a synonym counts this much


CROSS_WEIGHT = 0.5  # a word matched only through its translation (`assistant.lexicon`)


def match(
    term: str,
    terms: set[str],
    groups: set[int],
    bridge: tuple[set[str], set[str]] | None = None,
    lexicon: Lexicon | None = None,
) -> float:
    """1 when ``term`` is among ``terms``, ``SYNONYM_WEIGHT`` when it is a synonym of one
    (``groups``: their synonym groups), ``CROSS_WEIGHT`` when it translates one
    (``bridge``: the English keys of their English and Japanese terms,
    `assistant.lexicon.bridge_keys`), else 0."""
    if term in terms:
        return 1.0
    if not synonym_groups(term).isdisjoint(groups):
        return SYNONYM_WEIGHT
    if bridge is None or lexicon is None:
        return 0.0
    latin, japanese = bridge
    if term.isascii():
        return CROSS_WEIGHT if term in japanese else 0.0
    keys = lexicon.keys(term)
    return CROSS_WEIGHT if not keys.isdisjoint(latin) else 0.0


def groups_of(terms: Iterable[str]) -> set[int]:
    """The synonym groups of some terms, together."""
    return {group for term in terms for group in synonym_groups(term)}


def char_ngrams(text: str, n: int) -> list[str]:
    """Overlapping character n-grams of each run of word characters (NFKC, lower-cased)."""
    out: list[str] = []
    for run in _NGRAM_SKIP.split(fold_latin(unicodedata.normalize("NFKC", text).lower())):
        if len(run) <= n:
            if run:
                out.append(run)
            continue
        out.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return out


def analyze(text: str, tokens: Sequence[str] | None, ngram: int) -> dict[str, list[str]]:
    """The terms of each field for one text; ``tokens`` are its words if this tokenizer
    version stored them at ingest."""
    fields = {WORDS: list(tokens) if tokens is not None else default_tokenizer().tokenize(text)}
    if ngram:
        fields[NGRAMS] = char_ngrams(text, ngram)
    return fields


@dataclass
class IndexedDoc:
    """One chunk as the lexical index sees it: its id, source and terms per field."""

    id: str
    source: str
    fields: dict[str, list[str]]


class _Field:
    """One field's postings: an immutable (memory-mappable) base plus an in-memory delta."""

    def __init__(self, vocab: np.ndarray, indptr: np.ndarray, rows: np.ndarray, tf: np.ndarray,
                 lengths: np.ndarray) -> None:  # fmt: skip
        self.vocab, self.indptr, self.rows, self.tf = vocab, indptr, rows, tf
        self.lengths = np.array(lengths, dtype=np.float64)  # every row, base then delta
        self.delta: dict[str, tuple[list[int], list[int]]] = {}

    @classmethod
    def empty(cls) -> _Field:
        return cls(np.array([], dtype="<U1"), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32),
                   np.zeros(0, dtype=np.float32), np.zeros(0))  # fmt: skip

    def add(self, row: int, terms: Sequence[str]) -> None:
        if row >= len(self.lengths):
            grown = np.zeros(max(row + 1, 2 * len(self.lengths), 16))
            grown[: len(self.lengths)] = self.lengths
            self.lengths = grown
        self.lengths[row] = len(terms)
        for term, count in Counter(terms).items():
            rows, tfs = self.delta.setdefault(term, ([], []))
            rows.append(row)
            tfs.append(count)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        parts_rows: list[np.ndarray] = []
        parts_tf: list[np.ndarray] = []
        if len(self.vocab):
            i = int(np.searchsorted(self.vocab, term))
            if i < len(self.vocab) and self.vocab[i] == term:
                lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
                parts_rows.append(np.asarray(self.rows[lo:hi], dtype=np.int64))
                parts_tf.append(np.asarray(self.tf[lo:hi], dtype=np.float64))
        extra = self.delta.get(term)
        if extra:
            parts_rows.append(np.asarray(extra[0], dtype=np.int64))
            parts_tf.append(np.asarray(extra[1], dtype=np.float64))
        if not parts_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        if len(parts_rows) == 1:
            return parts_rows[0], parts_tf[0]
        return np.concatenate(parts_rows), np.concatenate(parts_tf)


class LexicalIndex:
    """BM25 (Okapi) over named fields, updated in place; not thread-safe by itself."""

    def __init__(self, fields: Iterable[str] = (WORDS,), k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.fields = {name: _Field.empty() for name in fields}
        self.ids: list[str] = []  # every row ever added since the base, dead ones included
        self.sources: list[str] = []
        self.alive = np.zeros(0, dtype=bool)
        self._rows: dict[str, int] = {}
        self._base_rows = 0
        self._base_token = ""  # the saved base these rows come from, if any
        self._pending: dict[int, dict[str, list[str]]] = {}  # delta rows' terms, for saving
        self._deltas: list[str] = []  # the delta files saved so far on top of the base
        self._new_rows: list[int] = []  # rows added since the last save
        self._deleted: list[str] = []  # ids deleted since the last save
        self._by_source: dict[str, set[str]] = {}

    # --- updates ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._rows

    @property
    def delta_size(self) -> int:
        return len(self.ids) - self._base_rows

    def ids_alive(self) -> set[str]:
        return set(self._rows)

    def ids_of_source(self, source: str) -> set[str]:
        return set(self._by_source.get(source, ()))

    def upsert(self, docs: Iterable[IndexedDoc]) -> int:
        """Add chunks; a chunk whose id is already indexed is replaced. Returns how many."""
        count = 0
        for doc in docs:
            self.delete([doc.id])
            row = len(self.ids)
            self.ids.append(doc.id)
            self.sources.append(doc.source)
            self._rows[doc.id] = row
            self._by_source.setdefault(doc.source, set()).add(doc.id)
            if row >= len(self.alive):
                grown = np.zeros(max(row + 1, 2 * len(self.alive), 16), dtype=bool)
                grown[: len(self.alive)] = self.alive
                self.alive = grown
            self.alive[row] = True
            for name, field in self.fields.items():
                field.add(row, doc.fields.get(name, []))
            self._pending[row] = doc.fields
            self._new_rows.append(row)
            count += 1
        return count

    def delete(self, ids: Iterable[str]) -> int:
        count = 0
        for chunk_id in ids:
            row = self._rows.pop(chunk_id, None)
            if row is not None:
                self.alive[row] = False
                self._deleted.append(chunk_id)
                self._by_source.get(self.sources[row], set()).discard(chunk_id)
                count += 1
        return count

    def needs_compaction(self, share: float = 0.25, floor: int = 2000) -> bool:
        dead = len(self.ids) - len(self._rows)
        return self.delta_size + dead > max(floor, share * self._base_rows)

    def compact(self) -> None:
        """Fold the delta and the deletions into a new base (cost: the whole index)."""
        keep = np.flatnonzero(self.alive[: len(self.ids)])
        new_row = np.full(len(self.ids), -1, dtype=np.int64)
        new_row[keep] = np.arange(len(keep))
        for name, field in self.fields.items():
            base_vocab = np.asarray(field.vocab)
            delta_terms = list(field.delta)
            vocab, inverse = np.unique(
                np.concatenate([base_vocab, np.array(delta_terms, dtype=base_vocab.dtype if not delta_terms
                                                      else None)]).astype(str),
                return_inverse=True,
            )  # fmt: skip
            base_cols = np.repeat(inverse[: len(base_vocab)], np.diff(np.asarray(field.indptr)))
            postings = list(field.delta.values())
            delta_cols = np.repeat(inverse[len(base_vocab) :], [len(rows) for rows, _ in postings])
            cols = np.concatenate([base_cols, delta_cols]).astype(np.int64)
            rows = new_row[np.concatenate([np.asarray(field.rows, dtype=np.int64),
                                           np.fromiter(chain.from_iterable(r for r, _ in postings), np.int64)])]  # fmt: skip
            tf = np.concatenate([np.asarray(field.tf, dtype=np.float32),
                                 np.fromiter(chain.from_iterable(t for _, t in postings), np.float32)])  # fmt: skip
            live = rows >= 0
            matrix = sparse.csr_matrix(
                (tf[live], (cols[live], rows[live])), shape=(len(vocab), len(keep)), dtype=np.float32
            )
            matrix.sort_indices()
            used = np.diff(matrix.indptr) > 0  # terms only dead rows had are dropped
            if not used.all():
                matrix, vocab = matrix[used], vocab[used]
            lengths = field.lengths[keep] if len(keep) else np.zeros(0)
            self.fields[name] = _Field(vocab, matrix.indptr.astype(np.int64),
                                       matrix.indices.astype(np.int32), matrix.data, lengths)  # fmt: skip
        self.ids = [self.ids[i] for i in keep]
        self.sources = [self.sources[i] for i in keep]
        self.alive = np.ones(len(keep), dtype=bool)
        self._rows = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        self._base_rows = len(self.ids)
        self._base_token = ""
        self._pending, self._deltas, self._new_rows, self._deleted = {}, [], [], []

    # --- queries ---------------------------------------------------------------------

    def field_scores(self, field: str, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every row (dead rows score 0) for one field."""
        data = self.fields[field]
        scores = np.zeros(len(self.ids))
        n = len(self._rows)
        if not n:
            return scores
        alive = self.alive[: len(self.ids)]
        avg = float(data.lengths[: len(self.ids)][alive].sum()) / n or 1.0
        k1, b = self.k1, self.b
        for term, count in Counter(terms).items():
            rows, tf = data.postings(term)
            if not len(rows):
                continue
            live = alive[rows]
            rows, tf = rows[live], tf[live]
            df = len(rows)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            norm = k1 * (1 - b + b * data.lengths[rows] / avg)
            scores[rows] += count * idf * tf * (k1 + 1) / (tf + norm)
        return scores

    def search(self, field: str, terms: Sequence[str], k: int) -> list[tuple[str, float]]:
        if not self._rows or k <= 0:
            return []
        scores = self.field_scores(field, terms)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def coverage(self, query_tokens: Sequence[str], doc_id: str, field: str = WORDS) -> float:
        """Share of the question's terms (weighted by idf) that occur in one document."""
        terms = set(query_tokens)
        row = self._rows.get(doc_id)
        if not terms or row is None:
            return 0.0
        total = matched = 0.0
        for term in terms:
            rows, _ = self.fields[field].postings(term)
            idf = self._idf(rows)
            total += idf
            if row in rows:
                matched += idf
        return matched / total if total else 0.0

    def knows(self, term: str, field: str = WORDS) -> bool:
        """Does any live chunk contain ``term``?"""
        rows = self.fields[field].postings(term)[0]
        return bool(len(rows)) and bool(self.alive[rows].any())

    def full_match(self, terms: Sequence[str], field: str = WORDS) -> float:
        """About the score of a chunk of average length holding each term once: the sum of
        the terms' idf (a term no chunk holds counts with the largest idf)."""
        return sum(count * self._idf(self.fields[field].postings(term)[0])
                   for term, count in Counter(terms).items())  # fmt: skip

    def idf_of(self, term: str, field: str = WORDS) -> float:
        return self._idf(self.fields[field].postings(term)[0])

    def _idf(self, rows: np.ndarray) -> float:
        n = len(self._rows)
        df = int(self.alive[rows].sum()) if len(rows) else 0
        if not df:
            return math.log(1 + n + 0.5)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    # --- persistence -----------------------------------------------------------------

    def save(self, directory: Path, meta: dict[str, Any]) -> None:
        """Write the index under ``directory``: the base as ``.npy`` files (rewritten only
        after a compaction) and the delta as small JSON files, each with what changed since
        the previous save (so that a save costs the change, not the delta so far); when the
        directory holds another writer's state, or there are many files, one file with the
        whole delta. ``state.json`` names them all and is replaced last, so a reader never
        sees a half-written index."""
        directory.mkdir(parents=True, exist_ok=True)
        state_path = directory / "state.json"
        base = self._base_token
        if not base or not (directory / base).is_dir():
            base = f"base-{os.urandom(6).hex()}"
            self._write_base(directory / base)
            self._deltas = []
        saved = self.saved_state(directory) or {}
        append = bool(self._deltas) and saved.get("base") == base and saved.get("deltas") == self._deltas
        append = append and len(self._deltas) < 32
        delta = f"delta-{os.urandom(6).hex()}.json"
        if append:  # what changed since the last save: ids deleted, then rows added
            rows = [r for r in self._new_rows if self.alive[r]]
            _write_json(directory / delta, {"deleted": self._deleted, "docs": self._docs(rows)})
            deltas = [*self._deltas, delta]
        else:
            dead = [int(r) for r in np.flatnonzero(~self.alive[: self._base_rows])]
            rows = [r for r in range(self._base_rows, len(self.ids)) if self.alive[r]]
            _write_json(directory / delta, {"dead": dead, "docs": self._docs(rows)})
            deltas = [delta]
        state = {**meta, "format": FORMAT_VERSION, "fields": list(self.fields), "base": base,
                 "deltas": deltas}  # fmt: skip
        _write_json(state_path, state)
        self._deltas, self._new_rows, self._deleted = deltas, [], []
        for path in directory.iterdir():  # files of earlier states
            if path.name not in {base, *deltas, "state.json", "write.lock"} and path.name.startswith(
                ("base-", "delta-", ".tmp-")
            ):
                _remove(path)

    def _docs(self, rows: Iterable[int]) -> list[list[Any]]:
        return [
            [
                self.ids[row],
                self.sources[row],
                {n: " ".join(self._pending[row].get(n, [])) for n in self.fields},
            ]
            for row in rows
        ]

    def _write_base(self, path: Path) -> None:
        tmp = path.with_name(f".tmp-{path.name}")
        tmp.mkdir(parents=True)
        base = range(self._base_rows)
        (tmp / "ids.txt").write_text("\n".join(self.ids[r] for r in base), encoding="utf-8")
        (tmp / "sources.txt").write_text("\n".join(self.sources[r] for r in base), encoding="utf-8")
        for name, f in self.fields.items():
            for part, array in (("vocab", f.vocab), ("indptr", f.indptr), ("rows", f.rows), ("tf", f.tf),
                                ("lengths", f.lengths[: self._base_rows])):  # fmt: skip
                np.save(tmp / f"{name}.{part}.npy", np.asarray(array), allow_pickle=False)
        tmp.rename(path)
        self._base_token = path.name

    @staticmethod
    def saved_state(directory: Path) -> dict[str, Any] | None:
        try:
            return _read_json(directory / "state.json")
        except (OSError, ValueError):
            return None

    @classmethod
    def load(cls, directory: Path) -> tuple[LexicalIndex, dict[str, Any]]:
        """The index saved under ``directory`` and its ``state.json``; raises `OSError` or
        `ValueError` if there is none or it cannot be read."""
        state = _read_json(directory / "state.json")
        if state is None:
            raise FileNotFoundError(directory / "state.json")
        if state.get("format") != FORMAT_VERSION:
            raise ValueError("no lexical index of this format")
        base = directory / state["base"]
        index = cls(state["fields"])
        ids = _read_lines(base / "ids.txt")
        index.ids, index.sources = ids, _read_lines(base / "sources.txt")
        for name in index.fields:
            parts = {p: np.load(base / f"{name}.{p}.npy", mmap_mode="r", allow_pickle=False)
                     for p in ("vocab", "indptr", "rows", "tf", "lengths")}  # fmt: skip
            index.fields[name] = _Field(**parts)
        if len(ids) != len(index.sources) or any(len(f.lengths) != len(ids) for f in index.fields.values()):
            raise ValueError("lexical index files disagree")
        index._base_rows = len(ids)
        index._base_token = state["base"]
        index.alive = np.ones(len(ids), dtype=bool)
        index._rows = {chunk_id: i for i, chunk_id in enumerate(ids)}
        for chunk_id, source in zip(ids, index.sources, strict=True):
            index._by_source.setdefault(source, set()).add(chunk_id)
        deltas = state["deltas"] if "deltas" in state else [state["delta"]]
        for name in deltas:
            delta = _read_json(directory / name)
            if delta is None:
                raise ValueError("lexical index delta missing")
            index.delete([ids[r] for r in delta.get("dead", [])])
            index.delete(delta.get("deleted", []))
            index.upsert(IndexedDoc(i, s, {n: t.split(" ") if t else [] for n, t in f.items()})
                         for i, s, f in delta["docs"])  # fmt: skip
        index._deltas, index._new_rows, index._deleted = list(deltas), [], []
        return index, state


def _read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return text.split("\n") if text else []


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".tmp-{os.urandom(4).hex()}-{path.name}")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _remove(path: Path) -> None:
    if path.is_dir():
        for child in path.iterdir():
            child.unlink(missing_ok=True)
        path.rmdir()
    else:
        path.unlink(missing_ok=True)
