"""Never answer an event twice, and never answer a bot.

Slack delivers events at least once: it retries (with ``X-Slack-Retry-Num``) when
it did not see an acknowledgement in time, and may deliver the same event twice.
This global middleware runs after Bolt's signature check: it acknowledges and drops
events whose ``event_id`` was already received, and events sent by bots (the bot's
own messages are also dropped by Bolt's built-in ``IgnoringSelfEvents``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

from assistant.slack.state import SlackState

log = logging.getLogger(__name__)

#: Message subtypes that are people writing; everything else (edits, joins, bots) is ignored.
HUMAN_SUBTYPES = (None, "file_share", "thread_broadcast")


def is_from_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("bot_profile")) or event.get("subtype") == "bot_message"


def retry_number(request: BoltRequest) -> int:
    values = request.headers.get("x-slack-retry-num") or ["0"]
    try:
        return int(values[0])
    except ValueError:
        return 0


def make_dedupe_middleware(state: SlackState) -> Callable[..., BoltResponse | None]:
    def dedupe_events(
        request: BoltRequest, body: dict[str, Any], next: Callable[[], None]
    ) -> BoltResponse | None:
        if body.get("type") != "event_callback":
            next()
            return None
        event = body.get("event") or {}
        event_id = body.get("event_id") or body.get("envelope_id")
        retry = retry_number(request) or int(body.get("retry_attempt") or 0)
        if event_id and not state.claim_event(str(event_id)):
            log.info("dropping duplicate event %s (retry %d)", event_id, retry)
            return BoltResponse(status=200, body="")
        if is_from_bot(event):
            log.debug("ignoring an event from a bot: %s", event.get("bot_id"))
            return BoltResponse(status=200, body="")
        if retry:
            log.info("handling retry %d of event %s, which was not received before", retry, event_id)
        next()
        return None

    return dedupe_events
