"""The change log in a store's manifest: which chunk ids each ingest run wrote or deleted.

Readers that keep something derived from the chunks (the lexical index,
`assistant.lexical_store`) catch up on a change by reading only the chunks it names
(by id, which costs the same at any index size) instead of filtering every chunk's
metadata (``where seq > last_seen``, whose cost grows with the index), and they learn
of deletions without listing every id.

The log is one manifest value (a JSON string, so the manifest stays flat):
``{"from": s0, "runs": [[seq, [written ids], [deleted ids]], ...]}``. It is complete
for every run after ``s0``: it keeps the latest runs up to `MAX_IDS` ids in all, and
a run too large for it empties it (``from`` moves to that run). A reader whose last
seen run is older than ``from``, or a store written before the log existed, falls
back to the metadata filter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

#: The manifest key holding the log.
KEY = "changes"
#: At most this many ids in the log (about 50 bytes each, read with every manifest).
MAX_IDS = 2000


Run = tuple[int, list[str], list[str]]


class Journal:
    """Ids written and deleted through one store object since its last manifest write."""

    def __init__(self) -> None:
        self.state: dict[str, bool] = {}  # id -> written (True) or deleted (False); the last wins

    def written(self, ids: Iterable[str]) -> None:
        self.state.update(dict.fromkeys(ids, True))

    def deleted(self, ids: Iterable[str]) -> None:
        self.state.update(dict.fromkeys(ids, False))

    def clear(self) -> None:
        self.state = {}

    def flush(self, previous: object, seq: int) -> str:
        """The log ``previous`` (a manifest value, or None) with this journal as run ``seq``
        (`clear` the journal once that is written)."""
        start, runs = parse(previous) or (seq - 1, [])
        state = self.state
        if runs and runs[-1][0] == seq:  # the same run writing again: merge
            _, old_w, old_d = runs.pop()
            state = {**dict.fromkeys(old_w, True), **dict.fromkeys(old_d, False), **state}
        runs.append((seq, [i for i, w in state.items() if w], [i for i, w in state.items() if not w]))
        total = sum(len(w) + len(d) for _, w, d in runs)
        while runs and total > MAX_IDS:
            first = runs.pop(0)
            start, total = first[0], total - len(first[1]) - len(first[2])
        return json.dumps({"from": start, "runs": runs}, ensure_ascii=False, separators=(",", ":"))


def parse(value: object) -> tuple[int, list[Run]] | None:
    """The log's ``from`` and runs, or None if ``value`` is not a log."""
    if not isinstance(value, str):
        return None
    try:
        log = json.loads(value)
        return int(log["from"]), [(int(s), list(w), list(d)) for s, w, d in log["runs"]]
    except (ValueError, TypeError, KeyError):
        return None


def since(value: object, seq: int, target: int) -> tuple[list[str], set[str]] | None:
    """What runs ``seq + 1 .. target`` wrote (ids to read) and deleted, or None if the log
    does not cover them all (then the caller reads ``where seq > last_seen``)."""
    log = parse(value)
    if log is None:
        return None
    start, runs = log
    last = runs[-1][0] if runs else start
    if start > seq or last != target:  # too far behind, or written without the log
        return None
    state: dict[str, bool] = {}
    for run_seq, written, deleted in runs:
        if run_seq > seq:
            state.update(dict.fromkeys(written, True))
            state.update(dict.fromkeys(deleted, False))
    return [i for i, w in state.items() if w], {i for i, w in state.items() if not w}
