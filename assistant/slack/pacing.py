"""Pace Web API calls the way Slack limits them, before Slack has to say 429.

Slack limits each method per workspace by *tier* (Tier 1: 1+/min, Tier 2: 20+/min,
Tier 3: 50+/min, Tier 4: 100+/min, all with short bursts), and posting messages
to about one per second per channel. `Pacer` keeps one token bucket per method
and one per channel for the message methods; when Slack still answers 429, its
``Retry-After`` blocks the method (and the channel) until then. `Pacer.reserve`
never sleeps: it takes a token now or says how long to wait, so the caller can
schedule the call for later instead of holding a thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

#: Calls per minute of each tier (https://api.slack.com/apis/rate-limits).
TIERS = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}
#: The methods the bot calls and their tiers; unknown methods are paced as Tier 3.
METHOD_TIERS = {
    "apps.connections.open": 1,
    "auth.test": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "reactions.add": 3,
    "reactions.remove": 2,
    "views.publish": 4,
}
#: Methods with their own workspace-wide limit per minute (Slack: "special").
SPECIAL = {"chat.postMessage": 300.0}  # several hundred per minute; per channel see below
#: Methods that write into a channel: about one per second per channel, short bursts allowed.
CHANNEL_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
CHANNEL_RATE = 1.0  # per second
CHANNEL_BURST = 3.0


@dataclass
class Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    stamp: float
    blocked_until: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until a token is free (0 when one is free now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if now < self.blocked_until:
            return self.blocked_until - now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class Pacer:
    """Thread-safe token buckets per method and per (method family, channel)."""

    def __init__(self, *, speed: float = 1.0) -> None:
        self.speed = speed  # > 1 lets tests run Slack's limits faster
        self._clock = time.monotonic
        self._lock = threading.Lock()
        self._methods: dict[str, Bucket] = {}
        self._channels: dict[str, Bucket] = {}

    def _method(self, method: str, now: float) -> Bucket:
        bucket = self._methods.get(method)
        if bucket is None:
            per_minute = SPECIAL.get(method) or TIERS[METHOD_TIERS.get(method, 3)]
            per_minute *= self.speed
            burst = max(2.0, per_minute / 5)
            bucket = self._methods[method] = Bucket(per_minute / 60, burst, burst, now)
        return bucket

    def _channel(self, channel: str, now: float) -> Bucket:
        bucket = self._channels.get(channel)
        if bucket is None:
            rate = CHANNEL_RATE * self.speed
            bucket = self._channels[channel] = Bucket(rate, CHANNEL_BURST, CHANNEL_BURST, now)
        return bucket

    def _buckets(self, method: str, channel: str | None, now: float) -> list[Bucket]:
        buckets = [self._method(method, now)]
        if channel and method in CHANNEL_METHODS:
            buckets.append(self._channel(channel, now))
        return buckets

    def reserve(self, method: str, channel: str | None = None) -> float:
        """Take a token for one call now and return 0, or return the seconds to wait
        (nothing is taken then; ask again after that time)."""
        with self._lock:
            now = self._clock()
            buckets = self._buckets(method, channel, now)
            wait = max(b.wait(now) for b in buckets)
            if wait <= 0:
                for bucket in buckets:
                    bucket.tokens -= 1
            return wait

    def block(self, method: str, channel: str | None, seconds: float) -> None:
        """Slack said 429 with ``Retry-After: seconds``: nothing of this method (and,
        for the message methods, nothing in this channel) until then."""
        with self._lock:
            now = self._clock()
            for bucket in self._buckets(method, channel, now):
                bucket.blocked_until = max(bucket.blocked_until, now + seconds)
                bucket.tokens = 0.0
