"""A bilingual word bridge: the English glosses of Japanese words, from JMdict.

An English question over Japanese documents shares no word with them, and a Japanese
question over English documents neither; dense similarity carries the passage, but
choosing the sentence that answers and deciding whether anything answers at all
need the words. JMdict (the Electronic Dictionary Research and Development Group's
Japanese–English dictionary, CC BY-SA 4.0) gives each Japanese word its English
glosses: 起動 → startup, booting up, activation, launch; 移植性 → portability. It
arrives as a package (``jamdict-data``: a SQLite database, read here directly), so
it works offline.

A term's *keys* are English stems, in the lexical index's own form
(`assistant.lexical.stem`): an English term is its own key; a Japanese term (Sudachi's
normalised form) has the stems of the words of its glosses. Two terms of different
scripts *bridge* when their keys meet. Only nouns of ``MIN_CHARS`` characters or more
are glossed (verbs, adjectives and single kanji have too many senses: 大きい is "big",
台 is "table"), only the first ``SENSES`` senses of at most ``ENTRIES`` dictionary
entries count, and glosses of more than ``MAX_GLOSS_WORDS`` content words are skipped
("to put on clothes": too loose to match). Two Japanese words are never matched through
a shared gloss (弱点・難点 share "weakness", but so do words of unrelated senses: five
development questions lost, two seed, one related, two of our corpus).

The other way, `JMdictLexicon.translations` gives the Japanese words glossed exactly as
an English word, which the retriever adds to an English question's lexical search.

Backends are chosen by name (``Settings.lexicon``): ``jmdict`` (the default) or
``none`` (no bridge). When the package is missing, ``jmdict`` warns once and bridges
nothing.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

SENSES = 3  # senses of an entry whose glosses count
ENTRIES = 3  # dictionary entries of one written form
MAX_GLOSS_WORDS = 2  # content words of a gloss, at most
MIN_CHARS = 2  # a word of one character (台: stand, table, platform …) is too ambiguous
MAX_TRANSLATIONS = 20  # an English word glossing more entries than this is too vague to translate
CACHE_LIMIT = 200_000  # words remembered per cache; past it the cache starts again

_T = TypeVar("_T")

_PARENS = re.compile(r"\([^)]*\)")
_WORD = re.compile(r"[a-z][a-z'-]*")
_GLOSS_STOPWORDS = {"one's", "someone", "something", "oneself", "etc", "esp", "up", "out", "off"}


class Lexicon(Protocol):
    """What the answerer and the retriever need: a term's English keys, an English word's
    Japanese translations."""

    name: str

    def keys(self, term: str) -> frozenset[str]: ...

    def translations(self, word: str) -> list[str]: ...


class NoLexicon:
    """No bridge: every term is only itself."""

    name = "none"

    def keys(self, term: str) -> frozenset[str]:
        return frozenset({term}) if term.isascii() else frozenset()

    def translations(self, word: str) -> list[str]:
        return []


class JMdictLexicon:
    """English glosses of Japanese words from the ``jamdict-data`` package's database."""

    name = "jmdict"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        self._cache: dict[str, frozenset[str]] = {}
        self._reverse: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._broken = False

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, check_same_thread=False)
            self._local.connection = connection
        return connection

    def _rows(self, sql: str, parameters: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """The rows of a query; none, with one warning, when the database cannot be read
        (a damaged install): questions are still answered, without the bridge."""
        if self._broken:
            return []
        try:
            return self._connection().execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            self._broken = True
            log.warning(
                "JMdict cannot be read at %s (%s): English and Japanese words are not bridged; "
                "reinstall it with: pip install --force-reinstall jamdict-data",
                self._path,
                error,
            )
            return []

    def keys(self, term: str) -> frozenset[str]:
        if term.isascii():
            return frozenset({term})
        return self._cached(self._cache, term, lambda: self._keys(term))

    def _keys(self, term: str) -> frozenset[str]:
        glossed = len(term) >= MIN_CHARS and _is_noun(term)
        return _stems(self.glosses(term)) if glossed else frozenset()

    def translations(self, word: str) -> list[str]:
        """Japanese words glossed exactly as the English ``word`` (or "to ``word``"): those
        of which it is the first meaning first (first sense, first gloss), then common
        ones; none when more than ``MAX_TRANSLATIONS`` entries share the gloss (a word of
        many senses: "start", "example")."""
        word = word.lower()
        return self._cached(self._reverse, word, lambda: self._translations(word))

    def _translations(self, word: str) -> list[str]:
        rows = self._rows(
            """SELECT s.idseq,
                 (SELECT text FROM Kanji k WHERE k.idseq = s.idseq ORDER BY k.ID LIMIT 1),
                 (SELECT text FROM Kana k WHERE k.idseq = s.idseq ORDER BY k.ID LIMIT 1),
                 s.ID = (SELECT MIN(ID) FROM Sense t WHERE t.idseq = s.idseq),
                 g.rowid = (SELECT MIN(rowid) FROM SenseGloss h WHERE h.sid = s.ID),
                 EXISTS(SELECT 1 FROM Kanji k JOIN KJP p ON p.kid = k.ID WHERE k.idseq = s.idseq)
                 OR EXISTS(SELECT 1 FROM Kana k JOIN KNP p ON p.kid = k.ID WHERE k.idseq = s.idseq)
               FROM SenseGloss g JOIN Sense s ON s.ID = g.sid
               WHERE g.text IN (?, ?) AND +g.lang = 'eng'""",
            (word, f"to {word}"),
        )
        if len(rows) > MAX_TRANSLATIONS:
            return []
        # The word as a first meaning first (its first sense, its first gloss), common words first.
        rows.sort(key=lambda row: (not row[3], not row[4], not row[5], row[0]))
        return list(dict.fromkeys(row[1] or row[2] for row in rows))

    def _cached(self, cache: dict[str, _T], key: str, compute: Callable[[], _T]) -> _T:
        """``cache[key]``, computed once (thread-safe; the cache starts again past ``CACHE_LIMIT``)."""
        with self._lock:
            if key in cache:
                return cache[key]
        value = compute()
        with self._lock:
            if len(cache) > CACHE_LIMIT:
                cache.clear()
            cache[key] = value
        return value

    def glosses(self, term: str) -> list[str]:
        """The English glosses of a Japanese word's first senses (its written form, or its
        reading when the word is all kana)."""
        table = "Kana" if _all_kana(term) else "Kanji"
        entries = self._rows(f"SELECT DISTINCT idseq FROM {table} WHERE text = ? LIMIT ?", (term, ENTRIES))
        out: list[str] = []
        for (idseq,) in entries:
            senses = self._rows("SELECT ID FROM Sense WHERE idseq = ? ORDER BY ID", (idseq,))
            for (sense,) in senses[:SENSES]:
                glosses = self._rows("SELECT text FROM SenseGloss WHERE sid = ? AND lang = 'eng'", (sense,))
                out.extend(text for (text,) in glosses)
        return out


def _is_noun(term: str) -> bool:
    """Is the term a noun? (adjectives and verbs have many senses: 大きい is "big", which
    a question about size shares with a row about overhead)"""
    from assistant.lexical import default_tokenizer

    morphemes = list(default_tokenizer().morphemes(term))
    return len(morphemes) == 1 and morphemes[0].part_of_speech()[0] == "名詞"


def _all_kana(term: str) -> bool:
    return all("\u3040" <= ch <= "\u30ff" for ch in term)


def _stems(glosses: Iterable[str]) -> frozenset[str]:
    from assistant.lexical import STOPWORDS, stem

    keys: set[str] = set()
    for gloss in glosses:
        words = [
            w for w in _WORD.findall(_PARENS.sub(" ", gloss.lower())) if w not in STOPWORDS | _GLOSS_STOPWORDS
        ]
        if 0 < len(words) <= MAX_GLOSS_WORDS:
            keys.update(stem(w) for w in words)
    return frozenset(keys)


def database_path() -> Path | None:
    """Where ``jamdict-data`` keeps JMdict, or None when the package is not installed."""
    spec = importlib.util.find_spec("jamdict_data")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "jamdict.db"
    return path if path.is_file() else None


@lru_cache(maxsize=4)
def make_lexicon(name: str = "jmdict") -> Lexicon:
    """The lexicon called ``name`` (``jmdict`` or ``none``)."""
    if name == "none":
        return NoLexicon()
    if name != "jmdict":
        raise ValueError(f"unknown lexicon {name!r}: choose 'jmdict' or 'none'")
    path = database_path()
    if path is None:
        log.warning(
            "JMdict is not installed (pip install jamdict-data): English and Japanese words are not "
            "bridged, answers across languages rely on dense similarity alone"
        )
        return NoLexicon()
    return JMdictLexicon(path)


def bridge_keys(terms: Iterable[str], lexicon: Lexicon) -> tuple[set[str], set[str]]:
    """The keys of some terms: of their English ones, and of their Japanese ones."""
    latin: set[str] = set()
    japanese: set[str] = set()
    for term in terms:
        if term.isascii():
            latin.add(term)
        else:
            japanese |= lexicon.keys(term)
    return latin, japanese
