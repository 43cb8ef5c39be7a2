"""The Bolt listeners: decide quickly whether a request is for the bot, acknowledge it,
and hand the answer work to the answer queue.

Nothing here waits for an answer or for Slack: listeners run in Bolt's small listener
pool, which must stay free so that button clicks and slash commands are always
acknowledged within Slack's 3 seconds, however busy the answer workers are.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext

from assistant.feedback import Feedback, record_feedback
from assistant.slack import formatting
from assistant.slack.answering import AnswerService, Question
from assistant.slack.dedupe import HUMAN_SUBTYPES, is_from_bot
from assistant.slack.manners import is_acknowledgement, should_answer_follow_up
from assistant.slack.outbox import RESPONSE_URL, Call
from assistant.text import detect_language
from assistant.types import Answer

log = logging.getLogger(__name__)


class Listeners:
    def __init__(self, service: AnswerService) -> None:
        self.service = service
        self.state = service.state
        self.config = service.config
        self._side = ThreadPoolExecutor(2, thread_name_prefix="slack-feedback")

    # --- access ----------------------------------------------------------------------

    def refusal(self, team: str | None, channel: str, is_dm: bool) -> str | None:
        """The label of the polite refusal, or None when this person may ask here."""
        allowed_teams = set(self.config.allowed_teams) or {self.service.team_id}
        if team and team not in allowed_teams:
            return "external"
        if self.config.allowed_channels and not is_dm and channel not in self.config.allowed_channels:
            return "channel"
        return None

    def _refuse(self, key: str, channel: str, user: str, language: str, thread_ts: str | None) -> None:
        text = formatting.label(key, language)
        params = {"channel": channel, "user": user, "text": text, "thread_ts": thread_ts}
        self.service.send([Call("chat.postEphemeral", params, channel)], label=f"refusal in {channel}")

    # --- events ----------------------------------------------------------------------

    def on_mention(self, event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        self.take(event, body, context, mentioned=True)

    def on_message(self, event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if event.get("subtype") not in HUMAN_SUBTYPES or is_from_bot(event):
            return
        text, thread_ts = event.get("text", ""), event.get("thread_ts")
        if event.get("channel_type") == "im":
            if not is_acknowledgement(text):
                self.take(event, body, context, mentioned=False)
        elif f"<@{context.bot_user_id}>" in text:
            return  # the app_mention event of the same message answers it
        elif thread_ts:
            recent = self.state.asked_recently(
                event.get("channel", ""), thread_ts, event.get("user", ""), self.config.thread_window
            )
            if should_answer_follow_up(text, bot_user_id=context.bot_user_id, asked_here_recently=recent):
                self.take(event, body, context, mentioned=False)

    def take(
        self, event: dict[str, Any], body: dict[str, Any], context: BoltContext, *, mentioned: bool
    ) -> None:
        channel, ts, user = event["channel"], event["ts"], event.get("user", "")
        is_dm = event.get("channel_type") == "im" or channel.startswith("D")
        question = formatting.strip_mention(event.get("text", ""), context.bot_user_id)
        language = detect_language(question)
        # In a DM, a top-level message is answered top-level: the DM is the conversation.
        thread_ts = event.get("thread_ts") or (None if is_dm else ts)
        team = event.get("user_team") or event.get("team") or body.get("team_id")
        refusal = self.refusal(team, channel, is_dm)
        if refusal:
            log.info("refusing a question from %s (team %s) in %s: %s", user, team, channel, refusal)
            if mentioned or is_dm:
                self._refuse(refusal, channel, user, language, thread_ts)
            return
        if not self.state.claim_message(channel, ts):
            log.info("message %s in %s is already being answered", ts, channel)
            return
        if thread_ts:
            self.state.add_asker(channel, thread_ts, user)
        self.service.accept(Question(
            key=f"{channel}:{ts}", kind="message", channel=channel, ts=ts, thread_ts=thread_ts,
            user=user, text=question, language=language, dm=is_dm, received_at=time.time(),
        ))  # fmt: skip

    def on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab") == "home" and event.get("user"):
            self.service.publish_home(event["user"])

    # --- the /ask command ------------------------------------------------------------

    def on_ask(self, ack: Callable[..., Any], command: dict[str, Any]) -> None:
        question = " ".join((command.get("text") or "").split())
        language = detect_language(question)
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        is_dm = channel.startswith("D") or command.get("channel_name") == "directmessage"
        if not question:
            ack(response_type="ephemeral", text=formatting.label("empty_command", "ja"))
            return
        refusal = self.refusal(command.get("user_team_id") or command.get("team_id"), channel, is_dm)
        if refusal:
            ack(response_type="ephemeral", text=formatting.label(refusal, language))
            return
        ack(response_type="ephemeral", text=formatting.label("working", language))
        self.service.accept(Question(
            key=f"cmd:{command.get('trigger_id') or time.time()}", kind="command", channel=channel,
            ts="", thread_ts=None, user=user, text=question, language=language, dm=is_dm,
            received_at=time.time(), response_url=command.get("response_url"),
        ))  # fmt: skip

    # --- feedback --------------------------------------------------------------------

    def on_feedback(self, ack: Callable[[], Any], body: dict[str, Any]) -> None:
        ack()
        # Storing the rating writes files (fsync); do it off Bolt's listener threads so
        # that the next clicks are acknowledged without waiting for it.
        self._side.submit(self._rate, body)

    def _rate(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        rating = formatting.FEEDBACK_ACTIONS[action["action_id"]]
        user = (body.get("user") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "")
        answer_id = action.get("value", "")
        record = self.state.load_answer(answer_id)
        message = body.get("message") or {}
        language = record["answer"]["language"] if record else detect_language(message.get("text", ""))
        thread_ts = message.get("thread_ts")
        if record is None:
            note = formatting.label("gone", language)
        else:
            previous = self.state.rate(answer_id, user, rating)
            if previous != rating:
                record_feedback(self.service.feedback_path, Feedback.for_answer(
                    Answer.from_dict(record["answer"]), rating, frontend="slack",
                    extra={"channel": channel, "thread_ts": record.get("thread_ts"), "user": user,
                           "answer_id": answer_id, "replaces_rating": previous},
                ))  # fmt: skip
            note = formatting.label("rated_up" if rating > 0 else "rated_down", language)
        calls = [Call("chat.postEphemeral", {"channel": channel, "user": user, "text": note,
                                             "thread_ts": thread_ts}, channel)]  # fmt: skip
        container = body.get("container") or {}
        if record is not None and message.get("blocks") and not container.get("is_ephemeral"):
            blocks = formatting.with_feedback(
                message["blocks"], answer_id, language, self.state.rating_counts(answer_id)
            )
            update = {
                "channel": channel,
                "ts": message["ts"],
                "text": message.get("text", ""),
                "blocks": blocks,
            }
            calls.append(Call("chat.update", update, channel))
        elif record is not None and body.get("response_url") and container.get("is_ephemeral"):
            blocks = formatting.with_feedback(message.get("blocks") or [], answer_id, language, {rating: 1})
            replace = {"url": body["response_url"], "replace_original": True, "blocks": blocks,
                       "text": message.get("text", "")}  # fmt: skip
            calls.append(Call(RESPONSE_URL, replace))
        self.service.send(calls, label=f"feedback of {user}")


def register(app: App, listeners: Listeners) -> None:
    app.event("app_mention")(listeners.on_mention)
    app.event("message")(listeners.on_message)
    app.event("app_home_opened")(listeners.on_home_opened)
    app.command("/ask")(listeners.on_ask)
    app.action(re.compile("^assistant_feedback_(up|down)$"))(listeners.on_feedback)
