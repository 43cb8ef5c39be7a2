"""Retrieving: hybrid search, dense vectors in Chroma plus two BM25 fields, fused.

Dense search carries questions across languages (an English question finds a
Japanese passage); BM25 over Sudachi words nails exact terms and names; BM25 over
character n-grams catches words the two texts cut differently. All three see the
chunk's contextual text (title and heading path before the body). A weighted sum of
normalised scores (the default) or reciprocal rank fusion combines them.

The lexical index is persisted beside the store and caught up incrementally when
the store's version token changes (`assistant.lexical_store`), so every process
sees new documents without a restart and without re-indexing every chunk.

Tuned on the JSQuAD valid *dev half* (articles with an even first byte of
sha256(title); 2,953 questions) with ``benchmarks/jsquad_retrieval.py``: fusion
method (rrf k=10/30/60, score), word and n-gram weights (dense fixed at 1), n-gram
size 2/3, header on. Chosen: score fusion, dense 1.0, words 1.5, 3-grams 1.0.
Exact-cosine figures hit@1 / hit@5 / MRR@5 (before: rrf, words only, header on):
dev 0.876/0.966/0.916 → 0.921/0.973/0.943; test half (1,489, never tuned on)
0.888/0.976/0.926 → 0.929/0.977/0.950; full 0.880/0.969/0.919 → 0.924/0.975/0.945.

Min-max normalisation gives the best lexical hit its field's full weight however weakly
it matches the question; an English question over a Japanese document, sharing one Latin
word with the table chunk, was decided by that word. ``lexical_strength`` scales each
lexical field by how much of a full match (the sum of the question's idf) its best hit
reaches: full weight from 0.2 of it. Tuned on the seed development split (hit@1 of its
English questions 0.231 → 0.385, pass rate 0.862 → 0.892, Japanese unchanged) among 0.1,
0.2, 0.3, 0.5, 0.8; checked on the JSQuAD dev half (first 1,500 questions, through the
pipeline's Chroma: hit@1 0.904 → 0.905, hit@5 0.970 → 0.971).

An English question over Japanese documents shares no word with them: the words field is
also searched with the Japanese translations of its English words (`assistant.lexicon`:
JMdict entries glossed exactly as the word, the word's first meaning first, at most
``TRANSLATIONS_PER_WORD`` that the index holds; none for a word glossing more than
``assistant.lexicon.MAX_TRANSLATIONS`` entries). On the development splits: seed 0.877 →
0.890 (hit@1 0.755 → 0.796), related 0.853 → 0.882 (hit@1 0.885 → 0.923), corpus unchanged;
translating only the words the index lacks gave the same pass rates and a lower related
hit@1 (0.885).
The other way, a Japanese question's nouns are also searched for by the English stems of
their JMdict glosses (at most ``GLOSSES_PER_WORD`` that the index holds, the rarest first),
when an English passage stands among the question's ``GLOSS_PROBE`` nearest by the dense
search: 「rootで動くコンテナはホストの管理者所有のファイルにアクセスできますか？」 found the English
FAQ "Can containers running as root access admin-owned files on the host?" only through
them. Related development split (grown to 148) 0.905 → 0.912, hit@1 0.936 → 0.955; the
seed and corpus splits unchanged. Without the dense gate the JSQuAD development half (a
Japanese collection, whose English words are names) lost a question and hit@1 0.938 →
0.935; with it, it is unchanged.

A list whose hits all score alike (a single hit) gives each hit its field's full weight;
min-max normalisation used to give it none.

A table is one chunk, and its embedding blurs its rows: 「VMの起動にはどのくらい時間がかかりますか？」
did not find the comparison table whose row 「起動速度 | 高速（秒単位） | 低速（分単位）」 answers it. Each
candidate chunk holding a table (of the dense, words and n-gram searches) is also scored by
its best *row view*, the title and heading path above one row with its column headers
(`assistant.units`), embedded once and cached: its dense score is the higher of the two.
On the development splits: seed pass rate 0.938 unchanged, hit@1 0.797 → 0.898, hit@4
0.983 → 1.000; related 0.912 → 0.919; corpus 0.975 unchanged (its question on type-2
products is now answered from the table, which its label names too). The JSQuAD and SQuAD
collections hold no table, so their figures cannot move. The browser, Slack and the service
embed every row view at warm-up; a process without one (the CLI, evaluations) embeds a
table's rows the first time a question meets it (``table_row_views`` off skips it all).
Splitting tables into chunks of a few rows and embedding a linearised table as the chunk's
text were tried before and lost more than they gained.

A passage found by its words alone (beyond the ``candidates`` of the dense search) gets
its cosine similarity to the question from its stored vector, so that relevance judges
it by its similarity and not by a missing one.

A measure question that names its dimension (「…どのくらい時間がかかりますか」, 「どのくらいの大きさ」,
"how long does …": `assistant.questions.measure_dimension`) adds ``MEASURE_BOOST`` to the fused
score of each candidate holding a quantity of that dimension (数十秒〜数分, 分単位, 数GB; a year is
no length of time). Over the default corpus, 「VMの起動にはどのくらい時間がかかりますか？」 found
four passages that say VMs take time to boot and none that says how long; 「仮想マシンのイメージは
どのくらいの大きさですか？」 left the comparison table fifth. On the development splits: seed
0.938 → 0.948 (「コンテナのイメージはどれくらいの大きさですか？」 now quotes 数MB〜数百MB), related and
corpus unchanged; the JSQuAD and SQuAD development halves have seven such questions each, and their
answers were unchanged at 0.4, while 0.8 lost one of SQuAD's.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from assistant.embedders import Embedder, cosine, normalise
from assistant.lexical import NGRAMS, STOPWORDS, WORDS, LexicalIndex, char_ngrams, default_tokenizer
from assistant.lexical_store import LexicalStore
from assistant.lexicon import make_lexicon
from assistant.questions import holds_measure, measure_dimension
from assistant.settings import Settings
from assistant.store import ChromaStore, StoredChunk
from assistant.text import has_japanese, split_heading
from assistant.types import Passage
from assistant.units import passage_units

log = logging.getLogger(__name__)


@dataclass
class Retrieval:
    chunks: list[Passage]
    timings: dict[str, float]
    query_tokens: list[str]


class Retriever:
    """Hybrid retriever over one store; thread-safe."""

    def __init__(self, store: ChromaStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._tokenizer = default_tokenizer()
        self.lexical = LexicalStore(store, settings)
        self._lexical_version: str | None = None
        self._synced = False
        self._lock = threading.Lock()
        self._row_vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # row view -> vector (LRU)

    def lexical_index(self) -> LexicalIndex:
        """The lexical index, loaded or caught up if the store changed since the last call."""
        with self._lock:
            self.store.refresh_if_changed()
            version = self.store.version()
            if not self._synced or version != self._lexical_version:
                self.lexical.sync()
                self._lexical_version, self._synced = version, True
            return self.lexical.index

    def search(self, question: str, k: int | None = None) -> Retrieval:
        found = self._search(question, k)
        if not found.chunks and self.store.refresh_if_changed():
            # a generation that a rebuild deleted while it was read answers with nothing, not
            # with an error: search the live one again
            with self._lock:
                self._synced = False
            found = self._search(question, k)
        return found

    def _search(self, question: str, k: int | None = None) -> Retrieval:
        s = self.settings
        k = k or s.top_k
        timings: dict[str, float] = {}

        started = time.perf_counter()
        bm25 = self.lexical_index()
        timings["lexical_index"] = time.perf_counter() - started

        started = time.perf_counter()
        query_vector = self.embedder.embed_query(question)
        timings["embed_query"] = time.perf_counter() - started

        started = time.perf_counter()
        dense = self.store.query(query_vector, min(s.candidates, max(1, len(bm25))))
        timings["dense_search"] = time.perf_counter() - started

        started = time.perf_counter()
        tokens = self._tokenizer.tokenize(question)
        # English words are searched for by their Japanese translations too, and Japanese nouns
        # by their English glosses when English passages stand near the question (a Japanese
        # collection gains nothing from them but noise); a word the index lacks is replaced
        # by them when judging how much of a full match the best hit is.
        near = (
            [c.text for c in self.store.get([i for i, _ in dense[:GLOSS_PROBE]])]
            if has_japanese(question)
            else []
        )
        glossed = any(not has_japanese(text) for text in near)
        translated, replaced = self._translated(question, tokens, bm25, glossed)
        lexical = bm25.search(WORDS, tokens + translated, s.candidates)
        matchable = [t for t in tokens if t not in replaced] + translated
        ngrams: list[tuple[str, float]] = []
        grams = char_ngrams(question, s.lexical_ngram) if s.lexical_ngram else []
        if NGRAMS in bm25.fields and s.ngram_weight > 0:
            ngrams = bm25.search(NGRAMS, grams, s.candidates)
        timings["lexical_search"] = time.perf_counter() - started

        started = time.perf_counter()
        if s.table_row_views:
            dense = self._row_views(query_vector, dense, lexical, ngrams)
        lexical_weight, ngram_weight = s.lexical_weight, s.ngram_weight
        if s.lexical_strength > 0:
            # Min-max normalisation gives the best lexical hit full weight however weakly it
            # matches. A question whose words the documents mostly lack (an English question
            # over Japanese documents) is then decided by a stray name or two: scale each
            # lexical field by how much of a full match its best hit reaches.
            lexical_weight *= lexical_strength(lexical, bm25.full_match(matchable, WORDS), s.lexical_strength)
            if ngrams:
                ngram_weight *= lexical_strength(ngrams, bm25.full_match(grams, NGRAMS), s.lexical_strength)
        fused = fuse(dense, lexical, s.fusion, s.dense_weight, lexical_weight, s.rrf_k,
                     ngrams=ngrams, ngram_weight=ngram_weight)  # fmt: skip
        dimension = measure_dimension(question)
        if dimension and s.fusion == "score":
            # 「…どのくらい時間がかかりますか」: a passage holding a quantity of time (数十秒〜数分)
            # over one that only says it takes time (the boost is in score fusion's units)
            for candidate in self.store.get(list(fused)):
                if holds_measure(dimension, candidate.text):
                    fused[candidate.id]["score"] += MEASURE_BOOST
        top = sorted(fused.items(), key=lambda item: -item[1]["score"])[:k]
        stored = {c.id: c for c in self.store.get([chunk_id for chunk_id, _ in top])}
        # A chunk deleted by a concurrent ingest between the two calls is dropped.
        chunks = [_retrieved(stored[i], e) for i, e in top if i in stored]
        # A chunk found by its words alone (beyond the dense candidates) still gets its
        # similarity to the question: relevance weighs it, and none is not "unlike".
        unscored = {c.id: c for c in chunks if c.dense_score is None}
        for chunk_id, vector in self.store.vectors(list(unscored)).items():
            unscored[chunk_id].dense_score = cosine(vector, query_vector)
        for chunk in chunks:
            chunk.term_coverage = bm25.coverage(tokens, chunk.id)
        timings["fuse"] = time.perf_counter() - started
        return Retrieval(chunks, timings, tokens)

    def _row_views(
        self,
        query_vector: np.ndarray,
        dense: list[tuple[str, float]],
        lexical: list[tuple[str, float]],
        ngrams: list[tuple[str, float]],
    ) -> list[tuple[str, float]]:
        """The dense list with each table chunk scored also by its best row view.

        A row view is the chunk's title and heading path above one row of its table
        (`row_views`). Every candidate of the three searches that holds a table is looked
        at (only the first ten of each lost a question of the related and the corpus
        development splits); a chunk the dense search did not return gets its stored
        vector's similarity first. Row vectors are embedded once and kept
        (at most ``ROW_VIEWS_CACHED``; `warm_row_views` embeds them all ahead).
        """
        ids = list(dict.fromkeys(i for hits in (dense, lexical, ngrams) for i, _ in hits))
        scores = dict(dense)
        tables = [(c, views) for c in self.store.get(ids) if (views := row_views(c))]
        missing_dense = [c.id for c, _ in tables if c.id not in scores]
        stored = self.store.vectors(missing_dense) if missing_dense else {}
        for chunk, views in tables:
            best = max(cosine(v, query_vector) for v in self._row_view_vectors(views))
            if chunk.id not in scores and chunk.id in stored:
                scores[chunk.id] = cosine(stored[chunk.id], query_vector)
            scores[chunk.id] = max(scores.get(chunk.id, best), best)
        return sorted(scores.items(), key=lambda item: -item[1])

    def warm_row_views(self) -> int:
        """Embed the row views of the stored tables now (at most ``ROW_VIEWS_CACHED``), so that
        no question waits for them; the number of row views."""
        views = [v for chunk in self.store.all_chunks() for v in row_views(chunk)][:ROW_VIEWS_CACHED]
        for start in range(0, len(views), 64):
            self._row_view_vectors(views[start : start + 64])
        return len(views)

    def _row_view_vectors(self, texts: list[str]) -> list[np.ndarray]:
        """The vectors of some row views, embedded once and kept (least recently used go first)."""
        with self._lock:
            known = {t: self._row_vectors[t] for t in texts if t in self._row_vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, normalise(self.embedder.embed_documents(missing)), strict=True))
        with self._lock:
            for text in dict.fromkeys(texts):
                self._row_vectors[text] = known[text]
                self._row_vectors.move_to_end(text)
            while len(self._row_vectors) > ROW_VIEWS_CACHED:
                self._row_vectors.popitem(last=False)
        return [known[t] for t in texts]

    def _translated(
        self, question: str, tokens: list[str], bm25: LexicalIndex, glossed: bool = True
    ) -> tuple[list[str], set[str]]:
        """Words of the other language for the question's words (`assistant.lexicon`): for an
        English word, the terms of at most ``TRANSLATIONS_PER_WORD`` Japanese translations
        whose terms the index all holds; for a Japanese noun, at most ``GLOSSES_PER_WORD`` of
        the English stems of its glosses that the index holds. Also the question's terms so
        translated that the index lacks."""
        lexicon = make_lexicon(self.settings.lexicon)
        extra: list[str] = []
        replaced: set[str] = set()
        for word in dict.fromkeys(w.lower() for w in _ENGLISH_WORD.findall(question)):
            stems = self._tokenizer.tokenize(word)
            if word in STOPWORDS or word in _NOT_TRANSLATED or not stems:
                continue
            kept = 0
            for japanese in lexicon.translations(word) or lexicon.translations(word.removesuffix("s")):
                terms = self._tokenizer.tokenize(japanese)
                if not terms or len(terms) > 2 or not all(bm25.knows(t) for t in terms):
                    continue
                extra.extend(t for t in terms if t not in tokens and t not in extra)
                replaced.update(t for t in stems if not bm25.knows(t))
                kept += 1
                if kept >= TRANSLATIONS_PER_WORD:
                    break
        for term in dict.fromkeys(t for t in tokens if glossed and has_japanese(t)):
            # the rarest glosses first: the most specific of the word's senses
            known = sorted(
                (k for k in lexicon.keys(term) if bm25.knows(k)), key=lambda k: (-bm25.idf_of(k), k)
            )
            if known[:GLOSSES_PER_WORD]:
                extra.extend(k for k in known[:GLOSSES_PER_WORD] if k not in tokens and k not in extra)
                if not bm25.knows(term):
                    replaced.add(term)
        return extra, replaced


def row_views(chunk: StoredChunk) -> list[str]:
    """The texts embedded for the rows of a chunk's table: its title and heading path, then
    the row with its column headers (`assistant.units`); none for a chunk without a table."""
    if "|" not in chunk.text:
        return []
    heading = split_heading(str(chunk.metadata.get("heading") or ""))
    title = str(chunk.metadata.get("title") or "")
    rows = [u.text for u in passage_units(chunk.text, 1, heading, title) if u.kind == "row"]
    context = " > ".join(part for part in [title, *heading] if part)
    return [f"{context}\n{row}" for row in rows]


TRANSLATIONS_PER_WORD = 2
GLOSSES_PER_WORD = 3
GLOSS_PROBE = 10  # dense candidates looked at for an English passage
MEASURE_BOOST = 0.4  # a measure question: a passage holding a quantity of the dimension it asks in
ROW_VIEWS_CACHED = 20_000  # row-view vectors kept in memory (384 floats each: about 30 MB)
# English function words the index keeps as terms: their Japanese translations are noise.
_NOT_TRANSLATED = {
    "may", "also", "very", "more", "most", "many", "much", "some", "any", "other", "such", "only",
    "just", "not", "no", "all", "each",
}  # fmt: skip
_ENGLISH_WORD = re.compile(r"[A-Za-z][a-z]{2,}")


def lexical_strength(hits: list[tuple[str, float]], full: float, enough: float) -> float:
    """1.0 when the best hit reaches ``enough`` of a full match, proportionally less below."""
    if not hits or full <= 0:
        return 1.0
    return min(1.0, hits[0][1] / (enough * full))


def fuse(
    dense: list[tuple[str, float]],
    lexical: list[tuple[str, float]],
    method: str,
    dense_weight: float,
    lexical_weight: float,
    rrf_k: int,
    *,
    ngrams: list[tuple[str, float]] | None = None,
    ngram_weight: float = 0.0,
) -> dict[str, dict[str, float]]:
    """Combine the ranked lists (dense, lexical words, lexical n-grams) into one score per chunk.

    ``rrf``: reciprocal rank fusion, ``w / (rrf_k + rank)`` summed over the lists.
    ``score``: each list's scores min-max normalised to [0, 1], then a weighted sum;
    it keeps how far apart the candidates are, which ranks alone lose.
    """
    fused: dict[str, dict[str, float]] = {}
    lists = [("dense", dense, dense_weight), ("lexical", lexical, lexical_weight),
             ("ngram", ngrams or [], ngram_weight)]  # fmt: skip
    for name, hits, weight in lists:
        if not hits:
            continue
        top, bottom = hits[0][1], hits[-1][1]
        span = top - bottom  # 0 when all hits score alike (a single hit): each is the best
        for rank, (chunk_id, value) in enumerate(hits, start=1):
            entry = fused.setdefault(chunk_id, {"score": 0.0})
            if method == "rrf":
                entry["score"] += weight / (rrf_k + rank)
            else:
                entry["score"] += weight * ((value - bottom) / span if span else 1.0)
            entry[f"{name}_score"], entry[f"{name}_rank"] = value, rank
    return fused


def _retrieved(chunk: StoredChunk, entry: dict[str, float]) -> Passage:
    meta = chunk.metadata
    heading = str(meta.get("heading") or "")
    return Passage(
        id=chunk.id,
        text=chunk.text,
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        heading_path=split_heading(heading),
        score=entry["score"],
        dense_score=entry.get("dense_score"),
        lexical_score=entry.get("lexical_score"),
        dense_rank=int(entry["dense_rank"]) if "dense_rank" in entry else None,
        lexical_rank=int(entry["lexical_rank"]) if "lexical_rank" in entry else None,
        metadata={k: v for k, v in meta.items() if k not in {"tokens"}},
    )
