"""The lexical index of one store: persisted beside it, loaded at start, caught up by sequence.

Every ingest run that changes something numbers its chunks (metadata ``seq``, one
number per run) and records the run's number in the manifest (``seq``) when it is
done, with the ids it wrote and deleted (the change log, `assistant.changes`). A
`LexicalStore` keeps the `assistant.lexical.LexicalIndex` of a store under
``<data_dir>/lexical/<collection>/`` together with the last run it has seen, and
catches up by reading only the chunks the runs since then wrote, by id (a cost
that does not grow with the index), or, when the log does not reach back that far,
the chunks ``where seq > last_seen``:

- a new or changed chunk is upserted (its id replaces an older row);
- the chunks of a file that appears among the new ones and are not themselves
  new are stale (a changed file is rewritten whole: its kept chunks get the new
  number too) and are deleted;
- the ids the log names as deleted are deleted; without the log, if the live count
  still differs from the store's (a file was pruned), the store's ids (ids only)
  are compared and the missing ones deleted.

Nothing is re-read or re-tokenised from all chunks except when the persisted
index is missing, unreadable, or was built for another collection or other build
settings (embedder, contextual header, n-gram size, format version) or the
store's sequence went backwards: then it is rebuilt from the store once. The
ingest process saves it after every run; readers (other processes, or other
machines sharing a Chroma server, each with its own data directory) load it at
start and catch up the same way, saving what they caught up on.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from filelock import FileLock

from assistant import changes
from assistant.lexical import (
    FORMAT_VERSION,
    NGRAMS,
    TOKENIZER_VERSION,
    WORDS,
    IndexedDoc,
    LexicalIndex,
    analyze,
)
from assistant.settings import Settings
from assistant.splitting import contextual_text
from assistant.store import ChromaStore, StoredChunk
from assistant.text import split_heading

log = logging.getLogger(__name__)


def indexed_doc(chunk: StoredChunk, ngram: int, header: bool) -> IndexedDoc:
    """A stored chunk as the lexical index sees it (its contextual text, cut per field)."""
    meta = chunk.metadata
    heading = str(meta.get("heading") or "")
    path = split_heading(heading)
    text = contextual_text(chunk.text, str(meta.get("title") or ""), path, header)
    stored = meta.get("tokens")
    current = meta.get("tokenizer") == TOKENIZER_VERSION  # else stored by an older tokenizer
    tokens = (stored.split(" ") if stored else []) if isinstance(stored, str) and current else None
    return IndexedDoc(chunk.id, str(meta.get("source", "")), analyze(text, tokens, ngram))


class LexicalStore:
    """One store's lexical index, persisted and incrementally updated; not thread-safe."""

    def __init__(self, store: ChromaStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", settings.collection)
        self.directory = settings.data_dir / "lexical" / name
        self.index = LexicalIndex(self.fields)
        self.seq = -1  # last ingest run the index has seen; -1: nothing loaded yet
        self.version: str | None = None  # the store's version token the index matches
        self.key: dict[str, Any] = {}
        #: How the last `sync` went: "loaded", "built", "caught up" or "current", and its seconds.
        self.last_sync: dict[str, Any] = {}
        self._caught_up = False
        self._read: tuple[int, str] = (0, "")  # chunks read by the last catch-up, and how
        self._target_version: str | None = None

    @property
    def fields(self) -> list[str]:
        return [WORDS, NGRAMS] if self.settings.lexical_ngram else [WORDS]

    def build_key(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """What the persisted index must match to be reused."""
        return {
            "format": FORMAT_VERSION,
            "collection": manifest.get("created_at"),
            "embedder": manifest.get("embedder"),
            "header_format": manifest.get("header_format"),
            "splitter_version": manifest.get("splitter_version"),
            "chunk_size": manifest.get("chunk_size"),
            "chunk_overlap": manifest.get("chunk_overlap"),
            "ngram": self.settings.lexical_ngram,
        }

    def sync(self) -> LexicalIndex:
        """Bring the index up to date with the store (loading or building it the first time)."""
        started = time.perf_counter()
        manifest, journal = self.store.manifest_and_changes()
        if manifest is None:
            self.index, self.seq, self.key = LexicalIndex(self.fields), -1, {}
            return self.index
        key = self.build_key(manifest)
        target = int(manifest.get("seq", 0))
        self._target_version = manifest.get("version")
        how = "current"
        if self.seq < 0 or key != self.key:
            how = "loaded" if self._load(key) else "built"
        self._read = (0, "")
        changed = how == "built" or target < self.seq or not self._catch_up(target, journal)
        if changed:
            how = "built"
            self._build(key, target)
        elif self._caught_up:
            how, changed = ("caught up" if how == "current" else how), True
        if self.index.needs_compaction():
            self.index.compact()
            changed = True
        if changed:
            self.save()
        self.last_sync = {"how": how, "seconds": time.perf_counter() - started, "chunks": len(self.index),
                          "read": self._read[0], "via": self._read[1]}  # fmt: skip
        log.info("lexical index %s: %d chunks in %.3fs", how, len(self.index), self.last_sync["seconds"])
        return self.index

    def _load(self, key: dict[str, Any]) -> bool:
        try:
            index, state = LexicalIndex.load(self.directory)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("the saved lexical index in %s cannot be read (%s); rebuilding it",
                            self.directory, exc)  # fmt: skip
            return False
        if state.get("key") != key or list(index.fields) != self.fields:
            log.info("the saved lexical index was built with other settings; rebuilding it")
            return False
        self.index, self.seq, self.key = index, int(state["seq"]), key
        self.version = state.get("version")
        return True

    def _build(self, key: dict[str, Any], target: int) -> None:
        header = key["header_format"] not in {None, "off"}
        index = LexicalIndex(self.fields)
        index.upsert(indexed_doc(c, self.settings.lexical_ngram, header) for c in self.store.all_chunks())
        index.compact()
        self.index, self.seq, self.key = index, target, key
        self.version = self._target_version

    def _catch_up(self, target: int, journal: object) -> bool:
        """Read what changed since ``self.seq``; False if only a rebuild can fix the index.

        The runs' change log (`assistant.changes`, in the manifest) names the ids written and
        deleted: only those chunks are read, by id. Without it (a reader too far behind, a
        store written before the log), the chunks ``where seq > last_seen`` are read, and the
        store's ids are compared when the counts differ."""
        self._caught_up = False
        if target == self.seq and self.version and self.version == self._target_version:
            return True  # nothing was written since
        header = self.key["header_format"] not in {None, "off"}
        fresh: list[StoredChunk] = []
        gone: set[str] = set()
        via = ""
        if target > self.seq:
            delta = changes.since(journal, self.seq, target)
            if delta is not None:
                written, gone = delta
                fresh = self.store.get(written)
                gone |= set(written) - {c.id for c in fresh}  # written, then deleted by a later run
                via = "log"
            else:
                fresh, via = self.store.chunks_since(self.seq), "seq"
        self._read = (len(fresh), via)
        docs = [indexed_doc(c, self.settings.lexical_ngram, header) for c in fresh]
        changed = bool(docs)
        new_ids = {d.id for d in docs}
        for source in {d.source for d in docs}:
            changed |= bool(self.index.delete(self.index.ids_of_source(source) - new_ids))
        changed |= bool(self.index.delete(gone))
        self.index.upsert(docs)
        if via != "log" and len(self.index) != self.store.count():
            present = self.store.ids()
            changed |= bool(self.index.delete(self.index.ids_alive() - present))
            if len(self.index) != len(present):
                log.info("the lexical index misses chunks of the store; rebuilding it")
                return False
        changed |= target != self.seq or self.version != self._target_version
        self.seq, self.version = target, self._target_version
        self._caught_up = changed
        return True

    def save(self) -> None:
        """Persist the index, unless a newer one (a later run) is already saved."""
        if not self.settings.lexical_persist:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with FileLock(str(self.directory / "write.lock"), timeout=30):
                state = LexicalIndex.saved_state(self.directory)
                if state and state.get("key") == self.key and int(state.get("seq", -1)) > self.seq:
                    return
                self.index.save(self.directory, {"key": self.key, "seq": self.seq, "version": self.version})
        except OSError as exc:  # a read-only data directory: keep working from memory
            log.warning("the lexical index cannot be saved in %s (%s)", self.directory, exc)
