"""What the bot does with mentions, direct messages, thread follow-ups and feedback clicks.

Every listener runs after Bolt has acknowledged the request (``process_before_response``
is off), so answering may take as long as it needs. A question is answered in its
thread: a "考え中…" placeholder at once, updated about once a second while the answer
streams in, then replaced by the answer with its sources and 👍/👎 buttons.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from assistant.errors import AssistantError
from assistant.feedback import Feedback, record_feedback
from assistant.pipeline import Assistant
from assistant.slack import formatting
from assistant.slack.dedupe import HUMAN_SUBTYPES, is_from_bot
from assistant.slack.state import SlackState
from assistant.text import detect_language
from assistant.types import Answer, Delta, Turn

log = logging.getLogger(__name__)

#: Errors of Slack API calls that persist after the client's own retries.
SLACK_ERRORS = (SlackClientError, OSError)
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def strip_mention(text: str, bot_user_id: str | None) -> str:
    text = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text)
    return formatting.unescape(" ".join(text.split()))


class Responder:
    def __init__(
        self,
        assistant: Assistant,
        state: SlackState,
        feedback_path: Path,
        *,
        update_interval: float = 1.0,
    ) -> None:
        self.assistant = assistant
        self.state = state
        self.feedback_path = feedback_path
        self.update_interval = update_interval

    # --- triggers --------------------------------------------------------------------

    def on_mention(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        self.answer(client, context, event)

    def on_message(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if event.get("subtype") not in HUMAN_SUBTYPES or is_from_bot(event):
            return
        channel, thread_ts = event.get("channel", ""), event.get("thread_ts")
        if event.get("channel_type") == "im":
            self.answer(client, context, event)
        elif f"<@{context.bot_user_id}>" in event.get("text", ""):
            return  # the app_mention event of the same message answers it
        elif thread_ts and self.state.is_bot_thread(channel, thread_ts):
            self.answer(client, context, event)

    # --- answering -------------------------------------------------------------------

    def answer(self, client: WebClient, context: BoltContext, event: dict[str, Any]) -> None:
        channel, ts = event["channel"], event["ts"]
        if not self.state.claim_message(channel, ts):
            log.info("message %s in %s is already being answered", ts, channel)
            return
        thread_ts = event.get("thread_ts") or ts
        question = strip_mention(event.get("text", ""), context.bot_user_id)
        language = detect_language(question)
        history = self._history(client, context, channel, event) if event.get("thread_ts") else []
        placeholder: str | None = None
        try:
            sent = client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=formatting.label("thinking", language)
            )
            placeholder = sent["ts"]
        except SLACK_ERRORS as exc:
            log.warning("could not post the placeholder in %s: %s", channel, exc)
        try:
            answer = self._stream(client, channel, placeholder, question, history, language)
        except AssistantError as exc:
            self._post(
                client, channel, thread_ts, placeholder, [{"text": formatting.error_text(exc)}], language
            )
            return
        except Exception:
            log.exception("answering %r failed", question)
            failed = [{"text": formatting.label("failed", language)}]
            self._post(client, channel, thread_ts, placeholder, failed, language)
            return
        answer_id = self.state.save_answer(
            {"answer": answer.to_dict(), "channel": channel, "thread_ts": thread_ts, "ts": ts}
        )
        messages = formatting.answer_messages(answer, answer_id)
        if self._post(client, channel, thread_ts, placeholder, messages, language):
            self.state.add_thread(channel, thread_ts)

    def _stream(
        self,
        client: WebClient,
        channel: str,
        placeholder: str | None,
        question: str,
        history: list[Turn],
        language: str,
    ) -> Answer:
        text, last_update = "", time.monotonic()
        for event in self.assistant.stream(question, history):
            if isinstance(event, Answer):
                return event
            if not isinstance(event, Delta):
                continue  # stages and sources: the answer shows its sources at the end
            text += event.text
            if placeholder and time.monotonic() - last_update >= self.update_interval:
                last_update = time.monotonic()
                try:
                    progress = formatting.progress_text(text, language)
                    client.chat_update(channel=channel, ts=placeholder, text=progress)
                except SLACK_ERRORS as exc:
                    log.warning("could not show progress in %s: %s", channel, exc)
        raise AssertionError("stream() ended without an Answer")  # pragma: no cover

    def _post(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str,
        placeholder: str | None,
        messages: list[dict[str, Any]],
        language: str,
    ) -> bool:
        """Replace the placeholder with the first message, post the rest in the thread.
        On a failure that persists after the client's retries, post a short apology."""
        try:
            for i, message in enumerate(messages):
                if i == 0 and placeholder:
                    client.chat_update(channel=channel, ts=placeholder, **message)
                else:
                    client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
            return True
        except SLACK_ERRORS as exc:
            log.error("could not post the answer in %s: %s", channel, exc)
        try:
            apology = formatting.label("apology", language)
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=apology)
        except SLACK_ERRORS as exc:
            log.error("could not post the apology in %s either: %s", channel, exc)
        return False

    def _history(
        self, client: WebClient, context: BoltContext, channel: str, event: dict[str, Any]
    ) -> list[Turn]:
        """The thread's earlier questions and the bot's answers, oldest first."""
        try:
            reply = client.conversations_replies(channel=channel, ts=event["thread_ts"], limit=200)
        except SLACK_ERRORS as exc:
            log.warning("could not read the thread in %s, answering without context: %s", channel, exc)
            return []
        turns: list[Turn] = []
        question: str | None = None
        for message in reply.get("messages") or []:
            if float(message.get("ts", 0)) >= float(event["ts"]):
                break
            ours = message.get("user") == context.bot_user_id or (
                context.bot_id is not None and message.get("bot_id") == context.bot_id
            )
            if ours and question is not None:
                turns.append(Turn(question, formatting.unescape(message.get("text", ""))))
                question = None
            elif not ours and not is_from_bot(message):
                question = strip_mention(message.get("text", ""), context.bot_user_id)
        return turns

    # --- feedback --------------------------------------------------------------------

    def on_feedback(self, ack: Callable[[], Any], body: dict[str, Any], client: WebClient) -> None:
        ack()
        action = body["actions"][0]
        rating = formatting.FEEDBACK_ACTIONS[action["action_id"]]
        user = (body.get("user") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "")
        record = self.state.load_answer(action.get("value", ""))
        language = record["answer"]["language"] if record else "en"
        if record is None:
            note = formatting.label("gone", language)
        elif not self.state.claim_rating(action["value"], user, rating):
            note = formatting.label("already", language)
        else:
            answer = Answer.from_dict(record["answer"])
            record_feedback(self.feedback_path, Feedback.for_answer(
                answer, rating, frontend="slack",
                extra={"channel": channel, "thread_ts": record["thread_ts"], "user": user,
                       "answer_id": action["value"]},
            ))  # fmt: skip
            note = formatting.label("thanks", language)
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=note,
                                      thread_ts=(body.get("message") or {}).get("thread_ts"))  # fmt: skip
        except SLACK_ERRORS as exc:
            log.warning("could not thank %s for the feedback: %s", user, exc)


def register(app: App, responder: Responder) -> None:
    app.event("app_mention")(responder.on_mention)
    app.event("message")(responder.on_message)
    app.action(re.compile("^assistant_feedback_(up|down)$"))(responder.on_feedback)
