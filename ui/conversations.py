"""Conversations kept across reloads: SQLite in the data directory, one row per turn.

Each conversation belongs to an owner (the signed-in user's e-mail, or a random id
kept in a browser cookie); a person sees and resumes only their own. Answers are
stored with `Answer.to_dict` and read back with `Answer.from_dict`, so a resumed
conversation shows the same sources as when it was answered.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from assistant.types import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations (owner, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT,
    error TEXT,
    rating INTEGER,
    PRIMARY KEY (conversation, id)
);
"""
TITLE_CHARS = 60


@dataclass
class Conversation:
    id: str
    title: str
    updated: float


@dataclass
class StoredTurn:
    id: str
    question: str
    answer: Answer | None
    error: tuple[str, str] | None
    rating: int | None


class ConversationStore:
    """The conversations of every user of this data directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            with db:
                yield db
        finally:
            db.close()

    def create(self, owner: str, first_question: str) -> str:
        conversation = uuid.uuid4().hex[:16]
        title = " ".join(first_question.split())
        if len(title) > TITLE_CHARS:
            title = title[: TITLE_CHARS - 1] + "…"
        now = time.time()
        with self._db() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", (conversation, owner, title, now, now)
            )
        return conversation

    def of_owner(self, owner: str, limit: int = 50) -> list[Conversation]:
        with self._db() as db:
            rows = db.execute(
                "SELECT id, title, updated FROM conversations WHERE owner = ? ORDER BY updated DESC LIMIT ?",
                (owner, limit),
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def owns(self, owner: str, conversation: str) -> bool:
        with self._db() as db:
            row = db.execute(
                "SELECT 1 FROM conversations WHERE id = ? AND owner = ?", (conversation, owner)
            ).fetchone()
        return row is not None

    def title(self, conversation: str) -> str:
        with self._db() as db:
            row = db.execute("SELECT title FROM conversations WHERE id = ?", (conversation,)).fetchone()
        return str(row[0]) if row else ""

    def save_turn(
        self,
        conversation: str,
        turn_id: str,
        question: str,
        answer: Answer | None,
        error: tuple[str, str] | None,
        rating: int | None = None,
    ) -> None:
        data = json.dumps(answer.to_dict(), ensure_ascii=False) if answer is not None else None
        failure = json.dumps(list(error), ensure_ascii=False) if error else None
        with self._db() as db:
            seq = db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation = ?", (conversation,)
            ).fetchone()[0]
            db.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (conversation, id) DO UPDATE SET "
                "answer = excluded.answer, error = excluded.error, rating = excluded.rating",
                (conversation, turn_id, seq, question, data, failure, rating),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time(), conversation))

    def set_rating(self, conversation: str, turn_id: str, rating: int) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE turns SET rating = ? WHERE conversation = ? AND id = ?",
                (rating, conversation, turn_id),
            )

    def turns(self, conversation: str) -> list[StoredTurn]:
        with self._db() as db:
            rows = db.execute(
                "SELECT id, question, answer, error, rating FROM turns WHERE conversation = ? ORDER BY seq",
                (conversation,),
            ).fetchall()
        result = []
        for turn_id, question, answer, error, rating in rows:
            result.append(
                StoredTurn(
                    turn_id,
                    question,
                    Answer.from_dict(json.loads(answer)) if answer else None,
                    tuple(json.loads(error)) if error else None,
                    rating,
                )
            )
        return result

    def delete(self, owner: str, conversation: str) -> bool:
        with self._db() as db:
            cursor = db.execute("DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation, owner))
        return cursor.rowcount > 0
