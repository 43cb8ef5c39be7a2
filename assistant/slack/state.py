"""What the bot must remember across requests and restarts, in one small SQLite file.

- event ids already received (Slack delivers events at least once and retries them),
- messages already taken up (a mention also arrives as a message event),
- who asked the bot in which thread, and when it last answered them (thread manners),
- questions acknowledged but not yet answered, so a restart can answer them,
- the answers, so a 👍/👎 click can be stored with its question and sources,
- the ratings, one per person and answer (a person may change theirs).

Question and answer texts are kept ``retention_days`` (default 30) and then
deleted; the feedback file keeps what evaluation needs of rated answers.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS messages (channel TEXT, ts TEXT, seen_at REAL NOT NULL, PRIMARY KEY (channel, ts));
CREATE TABLE IF NOT EXISTS askers (channel TEXT, thread_ts TEXT, user TEXT, answered_at REAL NOT NULL,
                                   PRIMARY KEY (channel, thread_ts, user));
CREATE TABLE IF NOT EXISTS questions (key TEXT PRIMARY KEY, status TEXT NOT NULL, received_at REAL NOT NULL,
                                      data TEXT);
CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, created_at REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ratings (answer_id TEXT, user TEXT, rating INTEGER NOT NULL,
                                    PRIMARY KEY (answer_id, user));
"""
PENDING, ANSWERED, FAILED, TOLD = "pending", "answered", "failed", "told-to-ask-again"


class SlackState:
    """Thread-safe; several bot processes may share the file (SQLite locks it)."""

    def __init__(self, path: Path, *, dedupe_seconds: float = 24 * 3600, retention_days: float = 30) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.dedupe_seconds = dedupe_seconds
        self.retention_seconds = retention_days * 86400
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: survives a crash of the bot, not of the OS
            self._db.executescript(_SCHEMA)
        self._last_prune = 0.0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with self._lock:
            return int(self._db.execute(sql, params).rowcount)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    # --- exactly once ----------------------------------------------------------------

    def claim_event(self, event_id: str) -> bool:
        """True the first time an event id is seen, False for duplicates and retries."""
        self.prune()
        return self._run("INSERT OR IGNORE INTO events VALUES (?, ?)", (event_id, time.time())) == 1

    def claim_message(self, channel: str, ts: str) -> bool:
        """True the first time a message is taken up for answering."""
        return self._run("INSERT OR IGNORE INTO messages VALUES (?, ?, ?)", (channel, ts, time.time())) == 1

    # --- thread manners --------------------------------------------------------------

    def add_asker(self, channel: str, thread_ts: str, user: str) -> None:
        self._run(
            "INSERT OR REPLACE INTO askers VALUES (?, ?, ?, ?)", (channel, thread_ts, user, time.time())
        )

    def asked_recently(self, channel: str, thread_ts: str, user: str, window_seconds: float) -> bool:
        rows = self._rows(
            "SELECT answered_at FROM askers WHERE channel = ? AND thread_ts = ? AND user = ?",
            (channel, thread_ts, user),
        )
        return bool(rows) and time.time() - float(rows[0][0]) <= window_seconds

    # --- questions in flight ---------------------------------------------------------

    def add_question(self, key: str, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False)
        self._run(
            "INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?)", (key, PENDING, time.time(), payload)
        )

    def set_status(self, key: str, status: str) -> None:
        """Mark a question; once it is no longer pending its text is not needed and is dropped."""
        self._run("UPDATE questions SET status = ?, data = NULL WHERE key = ?", (status, key))

    def status(self, key: str) -> str | None:
        rows = self._rows("SELECT status FROM questions WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def pending_questions(self) -> list[tuple[str, float, dict[str, Any]]]:
        """Questions acknowledged but not answered: (key, received_at, data), oldest first."""
        rows = self._rows(
            "SELECT key, received_at, data FROM questions WHERE status = ? ORDER BY received_at", (PENDING,)
        )
        return [(str(k), float(t), json.loads(d)) for k, t, d in rows]

    # --- answers and ratings ---------------------------------------------------------

    def save_answer(self, data: dict[str, Any]) -> str:
        answer_id = uuid.uuid4().hex
        payload = json.dumps(data, ensure_ascii=False)
        self._run("INSERT INTO answers VALUES (?, ?, ?)", (answer_id, time.time(), payload))
        return answer_id

    def load_answer(self, answer_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT data FROM answers WHERE id = ?", (answer_id,))
        return json.loads(rows[0][0]) if rows else None

    def rate(self, answer_id: str, user: str, rating: int) -> int | None:
        """Store a person's rating of an answer; returns their previous rating (None: first)."""
        with self._lock:
            row = self._db.execute(
                "SELECT rating FROM ratings WHERE answer_id = ? AND user = ?", (answer_id, user)
            ).fetchone()
            self._db.execute("INSERT OR REPLACE INTO ratings VALUES (?, ?, ?)", (answer_id, user, rating))
        return int(row[0]) if row else None

    def rating_counts(self, answer_id: str) -> dict[int, int]:
        rows = self._rows(
            "SELECT rating, COUNT(*) FROM ratings WHERE answer_id = ? GROUP BY rating", (answer_id,)
        )
        return {int(r): int(n) for r, n in rows}

    # --- retention -------------------------------------------------------------------

    def prune(self, *, force: bool = False) -> None:
        """Forget duplicates after a day, and question/answer texts after the retention period."""
        now = time.time()
        if not force and now - self._last_prune < 600:
            return
        self._last_prune = now
        cutoff, old = now - self.dedupe_seconds, now - self.retention_seconds
        with self._lock:
            self._db.execute("DELETE FROM events WHERE seen_at < ?", (cutoff,))
            self._db.execute("DELETE FROM messages WHERE seen_at < ?", (cutoff,))
            self._db.execute("DELETE FROM askers WHERE answered_at < ?", (cutoff,))
            self._db.execute("DELETE FROM questions WHERE received_at < ?", (old,))
            self._db.execute(
                "DELETE FROM ratings WHERE answer_id IN (SELECT id FROM answers WHERE created_at < ?)", (old,)
            )
            self._db.execute("DELETE FROM answers WHERE created_at < ?", (old,))

    def count(self, table: str) -> int:
        assert table in ("events", "messages", "askers", "questions", "answers", "ratings")
        return int(self._rows(f"SELECT COUNT(*) FROM {table}")[0][0])
