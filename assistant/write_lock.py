"""The ingest lock: one writer at a time, across processes or machines.

The embedded store takes a file lock in the data directory. On a Chroma server the
lock is a *lease*: a record in the index's pointer collection with a holder and an
expiry, renewed while the holder works, so that a crashed holder's lease runs out by
itself. Chroma has no compare-and-swap: two writers that find the lease free both write
it, wait a moment and read it back, and only the one whose token is there goes on.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import IngestBusyError, StoreUnavailableError
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.store import ChromaStore

log = logging.getLogger(__name__)

SETTLE_SECONDS = 0.2  # pause between writing the lease and reading it back


@contextmanager
def write_lock(store: ChromaStore, holder: str) -> Iterator[Callable[[], None]]:
    """Hold the ingest lock; yields a function to call now and then: it renews the lease."""
    s = store.settings
    if not store.server:
        from filelock import FileLock, Timeout

        s.data_dir.mkdir(parents=True, exist_ok=True)
        file_lock = FileLock(str(s.data_dir / "ingest.lock"), timeout=s.lock_timeout)
        try:
            file_lock.acquire()
        except Timeout:
            raise _busy(store, "Another ingest on this machine") from None
        try:
            yield lambda: None
        finally:
            file_lock.release()
        return
    token = f"{holder}:{uuid.uuid4().hex[:8]}"
    _acquire(store, token)
    try:
        yield lambda: _renew(store, token)
    finally:
        _release(store, token)


def _busy(store: ChromaStore, who: str) -> IngestBusyError:
    return IngestBusyError(
        f"{who} has been writing to the index in {store.address} for longer than "
        f"{store.settings.lock_timeout:g} s.",
        "Wait for it to finish and try again (ASSISTANT_LOCK_TIMEOUT sets how long to wait).",
    )


def _acquire(store: ChromaStore, token: str) -> None:
    s = store.settings
    deadline = time.monotonic() + s.lock_timeout
    while True:
        pointer = store.pointer(create=True)
        holder = str(pointer.get("lease", ""))
        if not holder or float(pointer.get("lease_until", 0)) < time.time() or holder == token:
            store.set_pointer(lease=token, lease_until=time.time() + s.lease_seconds)
            time.sleep(SETTLE_SECONDS)
            if store.pointer().get("lease") == token:
                return
        if time.monotonic() > deadline:
            raise _busy(store, f"Another ingest ({holder.rsplit(':', 1)[0]})")
        time.sleep(0.5)


def _renew(store: ChromaStore, token: str) -> None:
    if store.pointer().get("lease") != token:
        raise IngestBusyError(
            f"The ingest lease on {store.address} expired and another ingest took it over.",
            "Run the ingest again; raise ASSISTANT_LEASE_SECONDS if single steps take that long.",
        )
    store.set_pointer(lease=token, lease_until=time.time() + store.settings.lease_seconds)


def _release(store: ChromaStore, token: str) -> None:
    try:
        if store.pointer().get("lease") == token:
            store.set_pointer(lease="", lease_until=0.0)
    except StoreUnavailableError:
        log.warning("could not release the ingest lease on %s; it expires by itself", store.address)


def owner_id(settings: Settings) -> str:
    """Who this machine's ingests are (``ingest_owner``, or an id kept in the data directory)."""
    if settings.ingest_owner:
        return settings.ingest_owner
    path = Path(settings.data_dir) / "owner-id"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        value = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        path.write_text(value + "\n", encoding="utf-8")
        return value
