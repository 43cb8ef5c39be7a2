"""Answer a question taken up from Slack, deliver the answer, and recover after a restart.

How a person sees it: a 👀 reaction on their message at once (best effort), then the
answer as a new message in the thread (or top-level in a DM), so the notification
shows the answer itself, then the 👀 goes away. Every accepted question is written to
the state store first; only a delivered answer (or a delivered apology) clears it,
so a restart finds what was acknowledged but not answered.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from assistant.door import AssistantLike
from assistant.errors import AssistantError, ServiceUnavailableError
from assistant.slack import formatting
from assistant.slack.dedupe import is_from_bot
from assistant.slack.home import home_view
from assistant.slack.outbox import RESPONSE_URL, Call, Delivery, Outbox
from assistant.slack.state import ANSWERED, FAILED, TOLD, SlackState
from assistant.slack.workers import AnswerQueue
from assistant.types import Answer, Turn

log = logging.getLogger(__name__)

WORKING_EMOJI = "eyes"


@dataclass
class BotConfig:
    thread_window: float = 30 * 60  # seconds
    delivery_deadline: float = 600.0
    recover_max_age: float = 3600.0
    allowed_teams: list[str] = field(default_factory=list)
    allowed_channels: list[str] = field(default_factory=list)
    ask_visibility: str = "ephemeral"  # or "in_channel"


@dataclass
class Question:
    key: str
    kind: str  # "message" or "command"
    channel: str
    ts: str
    thread_ts: str | None
    user: str
    text: str
    language: str
    dm: bool
    received_at: float
    response_url: str | None = None


class AnswerService:
    def __init__(
        self,
        assistant: AssistantLike,
        client: WebClient,
        state: SlackState,
        queue: AnswerQueue,
        outbox: Outbox,
        config: BotConfig,
        identity: dict[str, Any],
    ) -> None:
        self.assistant = assistant
        self.client = client
        self.state = state
        self.queue = queue
        self.outbox = outbox
        self.config = config
        self.identity = identity
        self.feedback_path = assistant.settings.feedback_path
        self._home: tuple[float, dict[str, Any]] | None = None
        self._home_lock = threading.Lock()

    @property
    def team_id(self) -> str:
        return str(self.identity.get("team_id") or "")

    def send(
        self, calls: list[Call], *, label: str = "", deadline: float | None = None, **callbacks: Any
    ) -> None:
        limit = self.config.delivery_deadline if deadline is None else deadline
        self.outbox.send(Delivery(calls, time.monotonic() + limit, label=label, **callbacks))

    # --- taking questions --------------------------------------------------------------

    def accept(self, question: Question) -> None:
        """Remember the question, show that it was seen, and queue the answer work."""
        self.state.add_question(question.key, asdict(question))
        if question.kind == "message":
            reaction = {"channel": question.channel, "timestamp": question.ts, "name": WORKING_EMOJI}
            self.send([Call("reactions.add", reaction, best_effort=True)], label="reaction")
        if not self.queue.submit(lambda: self.run(question)):
            log.warning("answer queue full; asking %s to try again later", question.user)
            self._tell(question, formatting.label("busy", question.language), FAILED)

    def run(self, question: Question) -> None:
        """The answer work: runs in an answer worker; waits for nothing but the answer."""
        if question.kind == "message" and question.thread_ts and question.thread_ts != question.ts:
            history = self._thread_history(question)
        elif question.kind == "message" and question.dm and not question.thread_ts:
            history = self._dm_history(question)
        else:
            history = []
        try:
            answer = self.assistant.ask(question.text, history)
        except ServiceUnavailableError:  # not the asker's fault: say so in their language, with the question
            log.warning("the assistant service is unreachable; %s is asked to try again", question.key)
            text = formatting.label("service_down", question.language).format(question=question.text[:300])
            self._tell(question, formatting.escape(text), FAILED)
            return
        except AssistantError as exc:
            self._tell(question, formatting.error_text(exc), ANSWERED)
            return
        except Exception:
            log.exception("answering %r failed", question.text)
            self._tell(question, formatting.label("failed", question.language), FAILED)
            return
        self.deliver(question, answer)

    # --- delivering --------------------------------------------------------------------

    def deliver(self, question: Question, answer: Answer) -> None:
        answer_id = self.state.save_answer(
            {"answer": answer.to_dict(), "channel": question.channel, "thread_ts": question.thread_ts,
             "ts": question.ts}
        )  # fmt: skip
        messages = formatting.answer_messages(answer, answer_id)
        calls = [self._message_call(question, message) for message in messages]

        def done(_: list[dict[str, Any] | None]) -> None:
            self.state.set_status(question.key, ANSWERED)
            if question.thread_ts and question.kind == "message":
                self.state.add_asker(question.channel, question.thread_ts, question.user)
            self._unreact(question)

        def failed(error: str) -> None:
            log.error("could not post the answer to %s: %s", question.key, error)
            self._tell(question, formatting.label("apology", question.language), FAILED, deadline=60)

        self.send(calls, label=f"answer to {question.key}", on_done=done, on_fail=failed)

    def _message_call(self, question: Question, message: dict[str, Any]) -> Call:
        if question.kind == "command" and question.response_url:
            params = {"url": question.response_url, "response_type": self.config.ask_visibility,
                      "replace_original": False, **message}  # fmt: skip
            return Call(RESPONSE_URL, params)
        params = {"channel": question.channel, **message}
        if question.thread_ts:
            params["thread_ts"] = question.thread_ts
        return Call("chat.postMessage", params, question.channel)

    def _unreact(self, question: Question) -> None:
        """Take the 👀 away (paced like any call; no 👀 there is fine)."""
        if question.kind == "message":
            params = {"channel": question.channel, "timestamp": question.ts, "name": WORKING_EMOJI}
            self.send([Call("reactions.remove", params, tolerate_errors=True)], label="reaction")

    def _tell(self, question: Question, text: str, status: str, deadline: float | None = None) -> None:
        """A short message instead of an answer (an error, busy, ask again)."""
        call = self._message_call(question, {"text": text})
        if question.kind == "command" and question.response_url:
            call.params["response_type"] = "ephemeral"

        def mark(_: Any = None) -> None:
            self.state.set_status(question.key, status)
            self._unreact(question)

        self.send([call], label=f"note to {question.key}", deadline=deadline, on_done=mark, on_fail=mark)

    # --- conversation context ----------------------------------------------------------

    def _read(self, method: str, **params: Any) -> list[dict[str, Any]]:
        """A read that waits at most a few seconds for the rate limit, else gives up."""
        wait = self.outbox.pacer.reserve(method, params.get("channel"))
        if wait > 3:
            log.warning("%s is rate limited; answering without the conversation", method)
            return []
        time.sleep(wait)
        try:
            reply = getattr(self.client, method.replace(".", "_"))(**params)
        except (SlackClientError, OSError) as exc:
            log.warning("could not read the conversation (%s), answering without it: %s", method, exc)
            return []
        return list(reply.get("messages") or [])

    def _turns(self, messages: list[dict[str, Any]], before: str) -> list[Turn]:
        """Earlier questions and the bot's answers to them, oldest first."""
        bot_user, bot_id = self.identity.get("user_id"), self.identity.get("bot_id")
        turns: list[Turn] = []
        question: str | None = None
        for message in sorted(messages, key=lambda m: float(m.get("ts", 0))):
            if float(message.get("ts", 0)) >= float(before):
                break
            ours = message.get("user") == bot_user or (bot_id is not None and message.get("bot_id") == bot_id)
            if ours and question is not None:
                turns.append(Turn(question, formatting.unescape(message.get("text", ""))))
                question = None
            elif not ours and not is_from_bot(message):
                question = formatting.strip_mention(message.get("text", ""), bot_user)
        return turns

    def _thread_history(self, question: Question) -> list[Turn]:
        assert question.thread_ts is not None
        messages = self._read(
            "conversations.replies", channel=question.channel, ts=question.thread_ts, limit=200
        )
        return self._turns(messages, question.ts)

    def _dm_history(self, question: Question) -> list[Turn]:
        oldest = f"{time.time() - self.config.thread_window:.6f}"
        messages = self._read("conversations.history", channel=question.channel, oldest=oldest, limit=30)
        return self._turns([m for m in messages if not m.get("thread_ts")], question.ts)

    # --- App Home, recovery ------------------------------------------------------------

    def index_status(self) -> dict[str, Any]:
        with self._home_lock:
            if self._home is None or time.monotonic() - self._home[0] > 60:
                try:
                    info = self.assistant.info()
                    status: dict[str, Any] = {"ok": info.chunks > 0, "documents": info.documents,
                                              "chunks": info.chunks}  # fmt: skip
                except AssistantError as exc:
                    status = {"ok": False, "error": exc.message}
                self._home = (time.monotonic(), status)
            return self._home[1]

    def publish_home(self, user: str) -> None:
        window = round(self.config.thread_window / 60)
        view = home_view(self.index_status(), self.identity.get("user_id"), window)
        self.send([Call("views.publish", {"user_id": user, "view": view})], label=f"home of {user}")

    def recover(self) -> int:
        """Answer the questions a previous run acknowledged but did not answer; tell the
        people whose questions are too old to answer now to ask again."""
        recovered = 0
        for key, received_at, data in self.state.pending_questions():
            question = Question(**data)
            recovered += 1
            if time.time() - received_at > self.config.recover_max_age:
                text = formatting.label("ask_again", question.language).format(question=question.text[:100])
                if question.kind == "command":  # its response_url has expired: tell them privately
                    call = Call("chat.postEphemeral", {"channel": question.channel, "user": question.user,
                                                       "text": text}, question.channel)  # fmt: skip
                    self.send([call], on_done=lambda _, k=key: self.state.set_status(k, TOLD),
                              on_fail=lambda _, k=key: self.state.set_status(k, FAILED))  # fmt: skip
                else:
                    self._tell(question, text, TOLD)
            elif not self.queue.submit(lambda q=question: self.run(q)):  # type: ignore[misc]
                self._tell(question, formatting.label("busy", question.language), FAILED)
        if recovered:
            log.warning("picked up %d question(s) left unanswered by the previous run", recovered)
        return recovered
