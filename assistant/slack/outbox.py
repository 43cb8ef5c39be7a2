"""Deliver Web API calls under Slack's rate limits without holding a thread while waiting.

A `Delivery` is a short sequence of calls (post the answer, then remove the 👀
reaction, ...), made in order. The outbox keeps waiting deliveries in a heap
ordered by when they may run next; one scheduler thread hands due calls to a
few sender threads, which make one HTTP call each and return at once. A 429
blocks the method (and channel) for ``Retry-After`` seconds and reschedules
the call; 5xx answers and connection errors are retried with backoff; all of it
until the delivery's deadline, not a fixed number of tries. Best-effort calls
(reactions) are skipped rather than waited for.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from assistant.slack.pacing import Pacer

log = logging.getLogger(__name__)

#: Slack error codes worth retrying (besides HTTP 429 and 5xx).
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
RESPONSE_URL = "response_url"  # a pseudo-method: POST to an interaction's response_url
MAX_BACKOFF = 30.0


@dataclass
class Call:
    method: str  # "chat.postMessage", ... or RESPONSE_URL
    params: dict[str, Any]
    channel: str | None = None
    best_effort: bool = False  # skip instead of waiting or retrying
    tolerate_errors: bool = False  # wait and retry as usual, but a failure does not fail the delivery


@dataclass
class Delivery:
    calls: list[Call]
    deadline: float  # time.monotonic() after which the delivery gives up
    on_done: Callable[[list[dict[str, Any] | None]], None] | None = None
    on_fail: Callable[[str], None] | None = None
    label: str = ""
    results: list[dict[str, Any] | None] = field(default_factory=list)
    attempts: int = 0

    @property
    def current(self) -> Call:
        return self.calls[len(self.results)]


def retry_after(headers: dict[str, Any]) -> float:
    """Seconds from a ``Retry-After`` header (1 when missing or not a number)."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value[0] if isinstance(value, list) else value))
            except (TypeError, ValueError):
                break
    return 1.0


class Outbox:
    def __init__(self, client: WebClient, pacer: Pacer | None = None, *, senders: int = 4) -> None:
        self.client = client
        self.pacer = pacer or Pacer()
        self._heap: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._active = 0  # deliveries in the heap or being sent
        self._closed = False
        self._senders = ThreadPoolExecutor(senders, thread_name_prefix="slack-send")
        self._thread = threading.Thread(target=self._schedule, name="slack-outbox", daemon=True)
        self._thread.start()

    # --- public --------------------------------------------------------------------

    def send(self, delivery: Delivery) -> None:
        with self._cond:
            self._active += 1
            self._push(time.monotonic(), delivery)

    def pending(self) -> int:
        with self._cond:
            return self._active

    def drain(self, timeout: float) -> bool:
        """Wait until every delivery is done (True) or ``timeout`` passed (False)."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._active:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._senders.shutdown(wait=False, cancel_futures=True)

    # --- scheduling ----------------------------------------------------------------

    def _push(self, due: float, delivery: Delivery) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), delivery))
        self._cond.notify_all()

    def _finish(self, delivery: Delivery, error: str | None) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()
        callback = delivery.on_fail if error else delivery.on_done
        try:
            if error and delivery.on_fail:
                delivery.on_fail(error)
            elif not error and delivery.on_done:
                delivery.on_done(delivery.results)
        except Exception:
            log.exception("the callback %s of delivery %s failed", callback, delivery.label)

    def _schedule(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._closed:
                    return
                _, _, delivery = heapq.heappop(self._heap)
            self._step(delivery)

    def _step(self, delivery: Delivery) -> None:
        """Decide about the delivery's current call: done, skip, wait, or send now."""
        if len(delivery.results) == len(delivery.calls):
            self._finish(delivery, None)
            return
        call = delivery.current
        wait = 0.0 if call.method == RESPONSE_URL else self.pacer.reserve(call.method, call.channel)
        now = time.monotonic()
        if wait > 0 and (call.best_effort or (call.tolerate_errors and now + wait > delivery.deadline)):
            log.debug("skipping %s in %s: rate limit", call.method, call.channel)
            delivery.results.append(None)
            with self._cond:
                self._push(now, delivery)
        elif wait > 0:
            if now + wait > delivery.deadline:
                self._finish(delivery, f"{call.method}: rate limited past the deadline")
            else:
                with self._cond:
                    self._push(now + wait, delivery)
        else:
            try:
                self._senders.submit(self._send, delivery)
            except RuntimeError:  # closed
                self._finish(delivery, "the bot is shutting down")

    def _send(self, delivery: Delivery) -> None:
        call = delivery.current
        retry_in: float | None = None
        try:
            result = self._call(call)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
            if status == 429 or error == "ratelimited":
                retry_in = retry_after(exc.response.headers)
                if call.method != RESPONSE_URL:
                    self.pacer.block(call.method, call.channel, retry_in)
            elif status >= 500 or error in RETRYABLE_ERRORS:
                retry_in = self._backoff(delivery)
            outcome = f"{call.method}: {status} {error}"
        except (SlackClientError, OSError) as exc:  # connection errors, timeouts
            retry_in = self._backoff(delivery)
            outcome = f"{call.method}: {type(exc).__name__}: {exc}"
        else:
            delivery.results.append(result)
            delivery.attempts = 0
            with self._cond:
                self._push(time.monotonic(), delivery)
            return
        now = time.monotonic()
        if call.best_effort or (
            call.tolerate_errors and (retry_in is None or now + retry_in > delivery.deadline)
        ):
            log.debug("best-effort %s failed: %s", call.method, outcome)
            delivery.results.append(None)
            with self._cond:
                self._push(now, delivery)
        elif retry_in is None or now + retry_in > delivery.deadline:
            log.warning("giving up on %s: %s", delivery.label or call.method, outcome)
            self._finish(delivery, outcome)
        else:
            log.info("%s; retrying in %.1f s", outcome, retry_in)
            with self._cond:
                self._push(now + retry_in, delivery)

    def _backoff(self, delivery: Delivery) -> float:
        delivery.attempts += 1
        return float(min(MAX_BACKOFF, 0.5 * 2 ** (delivery.attempts - 1)))

    def _call(self, call: Call) -> dict[str, Any]:
        if call.method == RESPONSE_URL:
            params = dict(call.params)
            response = WebhookClient(params.pop("url"), timeout=30).send_dict(params)
            if response.status_code >= 500 or response.status_code == 429:
                raise OSError(f"response_url answered {response.status_code}")
            return {"ok": response.status_code == 200, "status": response.status_code}
        method = getattr(self.client, call.method.replace(".", "_"))
        return dict(method(**call.params).data)
