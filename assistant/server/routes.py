"""The assistant's own API: ask, stream, info, documents, ingest, health."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.door import UPLOADS
from assistant.errors import AssistantError, LoaderError
from assistant.pipeline import Assistant
from assistant.server.errors import assistant_error_body
from assistant.server.events import event_data, event_name, sse
from assistant.server.schemas import AskRequest, IngestRequest, UploadedFile
from assistant.server.state import Service
from assistant.types import Turn

router = APIRouter()


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def history_of(body: AskRequest) -> list[Turn]:
    return [Turn(t.question, t.answer) for t in body.history]


@router.post("/v1/ask", tags=["questions"], summary="Answer a question (the JSON of `assistant ask --json`)")
async def ask(body: AskRequest, request: Request) -> dict[str, Any]:
    svc = service(request)
    svc.authorize(request, "read")

    bot = svc.assistant_for(body.options.top_k, body.options.answerer)

    def run() -> dict[str, Any]:
        with svc.slot():
            return dict(bot.ask(body.question, history_of(body)).to_dict())

    return await run_in_threadpool(run)


def open_stream(
    svc: Service, question: str, history: list[Turn], bot: Assistant | None = None
) -> Iterator[Any]:
    """Start `Assistant.stream` and take its first event here, so that bad questions or a missing
    index are answered with an HTTP error status rather than inside a 200 stream."""
    svc.acquire_slot()
    try:
        events = (bot or svc.assistant).stream(question, history)
        first = next(events)
    except BaseException:
        svc.release_slot()
        raise

    def rest() -> Iterator[Any]:
        try:
            yield first
            yield from events
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
            svc.release_slot()

    return rest()


def sse_lines(events: Iterator[Any]) -> Iterator[str]:
    try:
        for event in events:
            yield sse(event_name(event), event_data(event))
    except AssistantError as exc:
        yield sse("error", assistant_error_body(exc))
    yield sse("done", {})


@router.post(
    "/v1/ask/stream",
    tags=["questions"],
    summary="Answer a question as server-sent events",
    description="Events: `status` and `sources` (when the pipeline reports them), `delta` pieces of the "
    "answer text as produced, then `answer` with the final record (as /v1/ask), then `done`. "
    "An error after the stream started arrives as an `error` event.",
    response_class=StreamingResponse,
)
async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
    svc = service(request)
    svc.authorize(request, "read")
    bot = svc.assistant_for(body.options.top_k, body.options.answerer)
    events = await run_in_threadpool(open_stream, svc, body.question, history_of(body), bot)
    return StreamingResponse(
        sse_lines(events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/v1/info", tags=["index"], summary="What the index holds and how the service is set up")
async def info(request: Request) -> dict[str, Any]:
    svc = service(request)
    svc.authorize(request, "read")
    index = await run_in_threadpool(svc.assistant.info)
    return {"index": dict(vars(index)), "service": svc.info()}


@router.get("/v1/documents", tags=["index"], summary="The indexed documents (admin)")
async def documents(request: Request) -> dict[str, Any]:
    svc = service(request)
    svc.authorize(request, "admin")
    documents = await run_in_threadpool(svc.assistant.documents)
    return {"object": "list", "data": [vars(d) for d in documents]}


@router.post("/v1/ingest", tags=["index"], summary="Add or update documents (admin)")
async def ingest(body: IngestRequest, request: Request) -> dict[str, Any]:
    svc = service(request)
    svc.authorize(request, "admin")
    paths = [Path(p) for p in body.paths]
    upload_dir = svc.settings.server_upload_dir or svc.settings.data_dir / UPLOADS
    paths += [save_upload(upload_dir, f) for f in body.files]
    if not paths and not body.rebuild:
        raise LoaderError("Nothing to ingest: the request names no files and no paths.",
                          "Send files (name + content) or paths on the service's machine.")  # fmt: skip
    if not paths:  # a rebuild of everything the service serves: its corpus and what was uploaded to it
        paths = list(svc.settings.corpus) + ([upload_dir] if upload_dir.is_dir() else [])

    def run() -> dict[str, Any]:
        report = svc.assistant.ingest(paths, prune=body.prune, rebuild=body.rebuild)
        return {**report.as_dict(), "unchanged_sources": report.unchanged}

    return await run_in_threadpool(run)


def save_upload(root: Path, upload: UploadedFile) -> Path:
    name = PurePosixPath(upload.name.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or not name.parts:
        raise LoaderError(f"The file name {upload.name!r} is not a relative path.",
                          "Send names like notes/setup.md, without '..'.")  # fmt: skip
    if upload.encoding == "base64":
        try:
            data = base64.b64decode(upload.content, validate=True)
        except (binascii.Error, ValueError):
            raise LoaderError(f"{upload.name}: the content is not valid base64.",
                              "Encode the file's bytes with base64, or send text with encoding utf-8.") from None  # fmt: skip
    else:
        data = upload.content.encode("utf-8")
    target = root.joinpath(*name.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


@router.get("/healthz", tags=["health"], summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["health"], summary="The models are loaded and questions can be answered")
async def readyz(request: Request) -> JSONResponse:
    svc = service(request)
    if not svc.ready.is_set():
        return JSONResponse({"status": "starting"}, status_code=503)
    if svc.warm_error:
        return JSONResponse({"status": "error", "message": svc.warm_error}, status_code=503)
    return JSONResponse({"status": "ready"})
