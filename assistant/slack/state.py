"""What the bot must remember across requests and restarts, in one small SQLite file.

- event ids already received (Slack delivers events at least once and retries them),
- messages already answered (a mention also arrives as a message event),
- threads the bot answered in (follow-ups there need no re-mention),
- the answers themselves, so a 👍/👎 click can be stored with its question and sources.
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
CREATE TABLE IF NOT EXISTS threads (channel TEXT, thread_ts TEXT, answered_at REAL NOT NULL,
                                    PRIMARY KEY (channel, thread_ts));
CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, created_at REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ratings (answer_id TEXT, user TEXT, rating INTEGER NOT NULL,
                                    PRIMARY KEY (answer_id, user));
"""


class SlackState:
    """Thread-safe; several bot processes may share the file (SQLite locks it)."""

    def __init__(self, path: Path, *, dedupe_seconds: float = 24 * 3600) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.dedupe_seconds = dedupe_seconds
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        self._last_prune = 0.0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _insert(self, sql: str, params: tuple[Any, ...]) -> bool:
        with self._lock:
            return self._db.execute(sql, params).rowcount == 1

    def claim_event(self, event_id: str) -> bool:
        """True the first time an event id is seen, False for duplicates and retries."""
        self._prune()
        return self._insert("INSERT OR IGNORE INTO events VALUES (?, ?)", (event_id, time.time()))

    def claim_message(self, channel: str, ts: str) -> bool:
        """True the first time a message is taken up for answering."""
        return self._insert("INSERT OR IGNORE INTO messages VALUES (?, ?, ?)", (channel, ts, time.time()))

    def add_thread(self, channel: str, thread_ts: str) -> None:
        self._insert("INSERT OR IGNORE INTO threads VALUES (?, ?, ?)", (channel, thread_ts, time.time()))

    def is_bot_thread(self, channel: str, thread_ts: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM threads WHERE channel = ? AND thread_ts = ?", (channel, thread_ts)
            ).fetchone()
        return row is not None

    def save_answer(self, data: dict[str, Any]) -> str:
        answer_id = uuid.uuid4().hex
        payload = json.dumps(data, ensure_ascii=False)
        self._insert("INSERT INTO answers VALUES (?, ?, ?)", (answer_id, time.time(), payload))
        return answer_id

    def load_answer(self, answer_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def claim_rating(self, answer_id: str, user: str, rating: int) -> bool:
        """True for a user's first rating of an answer; later clicks are not stored again."""
        return self._insert("INSERT OR IGNORE INTO ratings VALUES (?, ?, ?)", (answer_id, user, rating))

    def _prune(self) -> None:
        now = time.time()
        if now - self._last_prune < 600:
            return
        self._last_prune = now
        cutoff = now - self.dedupe_seconds
        with self._lock:
            self._db.execute("DELETE FROM events WHERE seen_at < ?", (cutoff,))
            self._db.execute("DELETE FROM messages WHERE seen_at < ?", (cutoff,))
