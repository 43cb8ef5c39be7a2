"""The connector interface: a source of documents that ingest can index.

A connector is a *root* (the word ingest uses): it has a ``key`` recorded on every
chunk it produces, yields `Entry` objects — one per document, each with a stable
id (``key``), a version, the URL citations link to, and a way to read its bytes —
and says which indexed documents it ``owns`` (so ``--prune`` removes only those it
no longer offers). Whatever could not be looked at goes to ``problems``: it is
reported, and never pruned.

Connector state (last fetch, documents, errors, HTTP validators) lives in
``DATA_DIR/connectors/``; `assistant sources` shows it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.ingest import Entry as IngestEntry
from assistant.ingest import Root
from assistant.loading import Skipped

log = logging.getLogger(__name__)

__all__ = ["Entry", "Root", "SourceState", "Tracker", "load_states", "record_state"]


@dataclass
class Entry(IngestEntry):
    """One document a connector offers: ingest's entry plus the document's version."""

    version: str | None = None  # ETag, blob id, content hash: changes when the document does


@dataclass
class SourceState:
    """What `assistant sources` shows about one source."""

    key: str
    kind: str
    spec: str
    last_fetch: float | None = None
    documents: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "spec": self.spec,
            "last_fetch": self.last_fetch,
            "documents": self.documents,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            **({"extra": self.extra} if self.extra else {}),
        }


def state_dir(data_dir: Path) -> Path:
    return data_dir / "connectors"


def safe_slug(text: str, limit: int = 80) -> str:
    """A file-name-safe, readable slug of a URL or path."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")
    return slug[:limit] or "source"


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable connector state %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a crash leaves the old state, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def record_state(data_dir: Path, state: SourceState) -> None:
    """Remember the outcome of one fetch of a source (shown by `assistant sources`)."""
    path = state_dir(data_dir) / "sources.json"
    states = read_json(path)
    states[state.key] = state.as_dict()
    write_json(path, states)


def load_states(data_dir: Path) -> dict[str, dict[str, Any]]:
    return read_json(state_dir(data_dir) / "sources.json")


class Tracker:
    """Counts what a connector yielded and records it when the iteration ends."""

    def __init__(self, data_dir: Path, key: str, kind: str, spec: str) -> None:
        self.data_dir = data_dir
        self.state = SourceState(key, kind, spec)
        self._started = time.time()

    def finish(self, documents: int, problems: list[Skipped], **extra: Any) -> None:
        self.state.last_fetch = self._started
        self.state.documents = documents
        self.state.errors = [f"{p.source}: {p.reason}" for p in problems]
        self.state.seconds = time.time() - self._started
        self.state.extra = extra
        record_state(self.data_dir, self.state)
