"""Generative answers from any LangChain chat model, grounded in the numbered passages.

The backends (`openai_compat`, `ollama`, `llamacpp`) only build a LangChain
``BaseChatModel`` and say which of their exceptions are worth a retry; this
module does the rest for all of them:

* the grounded prompt (Japanese or English, after the question): answer only
  from the passages, cite them as ``[n]``, say "I don't know" with the refusal
  sentence, and treat instructions inside the passages as text. Passages are
  numbered and enclosed in ``<passage number="n">`` ... ``</passage>``;
* streaming through ``BaseChatModel.stream``;
* faults: timeouts, connection errors, rate limits (``Retry-After`` honoured),
  server errors and malformed or empty responses are retried with exponential
  backoff a bounded number of times; then, or at once for errors a retry cannot
  fix (a wrong key, an unknown model), the extractive answer is given with a
  `Note` saying that the language model was unavailable.

``stream`` yields answer text and, besides it, `Note` objects that the pipeline
adds to ``Answer.notes``.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from assistant.conversation import clean_rewrite, condense_question, rewrite_messages
from assistant.embedders import Embedder
from assistant.errors import ConfigError
from assistant.prompts import load_prompt
from assistant.settings import Settings
from assistant.types import REFUSALS, Note, Passage, Turn

log = logging.getLogger(__name__)

#: HTTP statuses that a later attempt may not see again.
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
UNAVAILABLE = {
    "ja": "言語モデル（{name}）を利用できなかったため、抽出型の回答を表示しています。（{reason}）",
    "en": "The language model ({name}) was unavailable, so this is the extractive answer. ({reason})",
}
INTERRUPTED = {
    "ja": "言語モデルの回答が途中で途切れたため、続けて抽出型の回答を表示しています。（{reason}）",
    "en": "The language model stopped in the middle of its answer; the extractive answer follows. ({reason})",
}


class MalformedResponseError(Exception):
    """The model server answered, but not with usable text."""


@dataclass(frozen=True)
class LLMOptions:
    """The language-model settings a backend uses; their defaults live in `Settings`."""

    temperature: float
    max_tokens: int
    timeout: float
    max_retries: int
    retry_backoff: float
    system_prompt_file: Path | None
    base_url: str | None
    api_key: str | None
    rewrite: bool
    max_retry_delay: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMOptions:
        key = settings.llm_api_key
        return cls(
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            retry_backoff=settings.llm_retry_backoff,
            system_prompt_file=settings.system_prompt_file,
            base_url=settings.llm_base_url,
            api_key=key.get_secret_value() if key is not None else None,
            rewrite=settings.llm_rewrite,
        )


# --- the prompt --------------------------------------------------------------------------


def system_prompt(language: str, max_sentences: int, prompt_file: Path | None = None) -> str:
    if prompt_file is not None:
        try:
            template = prompt_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"Cannot read the system prompt file {prompt_file}: {exc.strerror}.",
                "Fix ASSISTANT_SYSTEM_PROMPT_FILE, or unset it to use the built-in prompt.",
            ) from None
    else:
        template = load_prompt("answer", language)
    refusal = REFUSALS.get(language, REFUSALS["en"])
    return template.replace("{refusal}", refusal).replace("{max_sentences}", str(max_sentences))


def format_passages(passages: Sequence[Passage]) -> str:
    """Number and delimit the passages; a passage cannot close its own tag."""
    blocks = []
    for number, passage in enumerate(passages, start=1):
        text = passage.text.replace("</passage", "&lt;/passage").replace("<passage", "&lt;passage")
        source = Path(passage.source).name
        heading = passage.heading.replace('"', "'")
        blocks.append(
            f'<passage number="{number}" source="{source}" heading="{heading}">\n{text}\n</passage>'
        )
    return "\n\n".join(blocks)


def build_messages(
    question: str,
    passages: Sequence[Passage],
    language: str,
    *,
    max_sentences: int = 3,
    prompt_file: Path | None = None,
) -> list[BaseMessage]:
    if language == "ja":
        user = (
            f"資料:\n\n{format_passages(passages)}\n\n"
            f"質問: {question}\n\n資料だけにもとづいて、番号 [n] を付けて日本語で答えてください。"
        )
    else:
        user = (
            f"Passages:\n\n{format_passages(passages)}\n\n"
            f"Question: {question}\n\nAnswer from the passages only, citing them as [n]."
        )
    return [
        SystemMessage(system_prompt(language, max_sentences, prompt_file)),
        HumanMessage(user),
    ]


# --- faults -------------------------------------------------------------------------------


def message_text(message: Any) -> str:
    """The text of a message or chunk, whatever shape its content has."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
        )
    raise MalformedResponseError(f"unexpected message content {type(content).__name__}")


def status_code(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    if code is None:
        code = getattr(getattr(exc, "response", None), "status_code", None)
    return code if isinstance(code, int) else None


def retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        return max(0.0, float(headers.get("retry-after", "")))
    except (TypeError, ValueError):
        return None


def describe(exc: BaseException) -> str:
    code = status_code(exc)
    text = str(exc).splitlines()[0][:160] if str(exc) else ""
    prefix = f"HTTP {code}" if code else type(exc).__name__
    return f"{prefix}: {text}" if text and text != prefix else prefix


class LLMAnswerer:
    """An answerer that asks a chat model; shared by every LLM backend."""

    def __init__(
        self,
        chat: BaseChatModel,
        *,
        name: str,
        settings: Settings,
        embedder: Embedder,
        transient: tuple[type[BaseException], ...] = (),
        failures: tuple[type[BaseException], ...] = (),
        options: LLMOptions | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.chat = chat
        self.name = name
        self.options = options or LLMOptions.from_settings(settings)
        self._settings = settings
        self._embedder = embedder
        self._transient = (
            TimeoutError, ConnectionError, json.JSONDecodeError, MalformedResponseError, *transient
        )  # fmt: skip
        self._failures = failures
        self._caught: tuple[type[BaseException], ...] = (*self._transient, *failures)
        self._sleep = sleep
        self._fallback: Any = None

    # --- answering ------------------------------------------------------------------------

    def messages(self, question: str, passages: Sequence[Passage], language: str) -> list[BaseMessage]:
        return build_messages(
            question,
            passages,
            language,
            max_sentences=self._settings.max_answer_sentences,
            prompt_file=self.options.system_prompt_file,
        )

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str | Note]:
        messages = self.messages(question, passages, language)
        produced = False  # once text was shown, a failure is not retried (it would repeat it)
        try:
            # The lambda reads `produced` when a failure happens, not when it is made.
            for attempt in self._retrying(lambda: not produced):  # noqa: B023
                with attempt:
                    for chunk in self.chat.stream(messages):
                        text = message_text(chunk)
                        if text:
                            produced = True
                            yield text
                    if not produced:
                        raise MalformedResponseError("the model returned no text")
        except self._caught as exc:
            reason = describe(exc)
            if produced:
                log.warning("%s stopped mid-answer (%s); falling back", self.name, reason)
                yield Note(_message(INTERRUPTED, language, name=self.name, reason=reason))
                yield "\n\n"
            else:
                log.warning("%s failed (%s); giving the extractive answer", self.name, reason)
                attempts = self.options.max_retries + 1
                if attempts > 1 and self.is_transient(exc):
                    reason = f"{reason}; {attempts} attempts"
                yield Note(_message(UNAVAILABLE, language, name=self.name, reason=reason))
            yield from self._extractive(question, passages, language)

    def _retrying(self, allowed: Callable[[], bool] = lambda: True) -> Retrying:
        """Retries of transient failures (timeouts, connection errors, 429, 5xx, malformed
        replies) with backoff that honours ``Retry-After``; the last error is re-raised."""

        def transient(exc: BaseException) -> bool:
            return allowed() and isinstance(exc, self._caught) and self.is_transient(exc)

        def wait(state: RetryCallState) -> float:
            assert state.outcome is not None
            exc = state.outcome.exception()
            assert exc is not None
            delay = self.backoff(exc, state.attempt_number - 1)
            log.info("%s: %s; retrying in %.2fs (attempt %d of %d)", self.name, describe(exc),
                     delay, state.attempt_number + 1, self.options.max_retries + 1)  # fmt: skip
            return delay

        return Retrying(
            stop=stop_after_attempt(self.options.max_retries + 1),
            retry=retry_if_exception(transient),
            wait=wait,
            sleep=self._sleep,
            reraise=True,
        )

    def is_transient(self, exc: BaseException) -> bool:
        code = status_code(exc)
        if code is not None and code >= 400:
            return code in TRANSIENT_STATUS
        # A 200 with an unusable body (malformed JSON) is worth another try, too.
        return isinstance(exc, self._transient)

    def backoff(self, exc: BaseException, attempt: int) -> float:
        """Seconds to wait before the next attempt: ``Retry-After`` if given, else exponential."""
        wait = retry_after(exc)
        if wait is None:
            wait = self.options.retry_backoff * (2**attempt) * (0.75 + 0.5 * random.random())
        return min(wait, self.options.max_retry_delay)

    def invoke(self, messages: list[BaseMessage]) -> str:
        """One non-streamed reply, retried like `stream`; raises the last error when it gives up."""
        for attempt in self._retrying():
            with attempt:
                text = message_text(self.chat.invoke(messages))
                if not text.strip():
                    raise MalformedResponseError("the model returned no text")
                return text
        raise AssertionError("unreachable")  # pragma: no cover

    def with_chat_options(self, **fields: Any) -> LLMAnswerer:
        """A copy whose chat model has ``fields`` changed where the model has them (e.g.
        ``temperature=0, streaming=False``): same server, retries and timeouts. The eval judge uses it."""
        known = {key: value for key, value in fields.items() if key in type(self.chat).model_fields}
        clone = copy.copy(self)
        clone.chat = self.chat.model_copy(update=known)
        return clone

    def _extractive(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str]:
        if self._fallback is None:
            from assistant.answerers.extractive import ExtractiveAnswerer

            self._fallback = ExtractiveAnswerer(settings=self._settings, embedder=self._embedder)
        yield from self._fallback.stream(question, passages, language)

    # --- conversations ----------------------------------------------------------------------

    def rewrite_question(self, question: str, history: Sequence[Turn]) -> str:
        """A standalone form of a follow-up question, written by the model.

        Falls back to the deterministic `condense_question` when rewriting is switched
        off or the model fails or answers with something that is not a question.
        """
        if not history or not self.options.rewrite:
            return condense_question(question, history)
        try:
            text = self.invoke(rewrite_messages(question, history))
        except self._caught as exc:
            log.warning("%s could not rewrite the question (%s)", self.name, describe(exc))
            return condense_question(question, history)
        rewritten = clean_rewrite(text, question)
        return rewritten if rewritten else condense_question(question, history)


def _message(table: dict[str, str], language: str, **values: str) -> str:
    return table.get(language, table["en"]).format(**values)
