"""The OpenAI-compatible endpoints: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Open WebUI, LibreChat or any OpenAI SDK can use the assistant as a model. The
last user message is the question; earlier user/assistant pairs are the history
that condenses a follow-up into a standalone question. The answer cites
passages as ``[n]`` and ends with a sources footer; the same passages come as a
structured ``sources`` field of the response (of the last chunk when streaming).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.errors import AssistantError, InvalidQuestionError
from assistant.server.errors import assistant_error_body
from assistant.server.routes import open_stream, service
from assistant.server.schemas import ChatMessage, ChatRequest
from assistant.types import Answer, Delta, Turn

router = APIRouter()

FOOTER_LABEL = {"ja": "出典", "en": "Sources"}
_FOOTER = re.compile(r"\n\n---\n\*\*(?:" + "|".join(FOOTER_LABEL.values()) + r")\*\*\n.*\Z", re.DOTALL)


def text_of(message: ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "\n".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


def strip_footer(text: str) -> str:
    """An earlier answer as the client echoes it back, without the sources footer we added."""
    return _FOOTER.sub("", text)


def conversation(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the earlier turns; system messages are ignored."""
    talk = [(m.role, text_of(m)) for m in messages if m.role in ("user", "assistant")]
    if not talk or talk[-1][0] != "user":
        raise InvalidQuestionError(
            "The last message must be the user's question.",
            'End `messages` with {"role": "user", "content": "…"}.',
        )
    history: list[Turn] = []
    pending: str | None = None
    for role, text in talk[:-1]:
        if role == "user":
            pending = text
        elif pending is not None:
            history.append(Turn(pending, strip_footer(text)))
            pending = None
    return talk[-1][1], history


def source_records(answer: Answer) -> list[dict[str, Any]]:
    return [p.to_dict() for p in answer.sources()]


def footer(answer: Answer) -> str:
    passages = answer.sources()
    if not passages:
        return ""
    label = FOOTER_LABEL.get(answer.language, FOOTER_LABEL["en"])
    lines = []
    for p in passages:
        where = " > ".join(x for x in [p.title, *p.heading_path] if x)
        lines.append(f"[{p.number}] {where} — {p.url or p.source}")
    return f"\n\n---\n**{label}**\n" + "\n".join(lines)


def _envelope(kind: str, cid: str, model: str, created: int) -> dict[str, Any]:
    return {"id": cid, "object": kind, "created": created, "model": model}


@router.post("/v1/chat/completions", tags=["openai"], summary="OpenAI-compatible chat completion")
async def chat_completions(body: ChatRequest, request: Request) -> Any:
    svc = service(request)
    svc.authorize(request, "read")
    question, history = conversation(body.messages)
    cid, created, model = (
        f"chatcmpl-{uuid.uuid4().hex[:24]}",
        int(time.time()),
        svc.settings.server_model_name,
    )
    if not body.stream:

        def run() -> Any:
            with svc.slot():
                return svc.assistant.ask(question, history)

        answer = await run_in_threadpool(run)
        return {
            **_envelope("chat.completion", cid, model, created),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer.answer + footer(answer)},
                    "finish_reason": "stop",
                }
            ],
            "usage": None,
            "sources": source_records(answer),
            "refused": answer.refused,
            "standalone_question": answer.standalone_question,
        }
    events = await run_in_threadpool(open_stream, svc, question, history)
    return StreamingResponse(
        chunks(events, _envelope("chat.completion.chunk", cid, model, created)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def chunks(events: Iterator[Any], envelope: dict[str, Any]) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        for event in events:
            if isinstance(event, Delta):
                yield chunk({"content": event.text})
            elif isinstance(event, Answer):
                tail = footer(event)
                if tail:
                    yield chunk({"content": tail})
                yield chunk({}, "stop", sources=source_records(event), refused=event.refused)
    except AssistantError as exc:
        yield f"data: {json.dumps(assistant_error_body(exc), ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


@router.get("/v1/models", tags=["openai"], summary="OpenAI-compatible list of models (this assistant)")
async def models(request: Request) -> dict[str, Any]:
    svc = service(request)
    svc.authorize(request, "read")
    model = {"id": svc.settings.server_model_name, "object": "model", "created": int(svc.started),
             "owned_by": "assistant"}  # fmt: skip
    return {"object": "list", "data": [model]}
