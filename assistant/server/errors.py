"""Errors as JSON: ``{"error": {"type", "message", "hint", "code"}}`` (OpenAI-style, plus the hint)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant import errors
from assistant.server.auth import HTTPProblem

log = logging.getLogger(__name__)

#: HTTP status per error class; the first match in the class's MRO wins.
STATUS: dict[type[errors.AssistantError], int] = {
    errors.InvalidQuestionError: 400,
    errors.LoaderError: 400,
    errors.UnknownBackendError: 400,
    errors.ConfigError: 400,
    errors.IndexNotFoundError: 409,
    errors.IndexMismatchError: 409,
    errors.MissingDependencyError: 501,
    errors.ModelError: 502,
    errors.StoreUnavailableError: 503,
}


def status_of(exc: errors.AssistantError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(kind: str, message: str, hint: str = "", code: int = 500) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "hint": hint, "code": code}}


def assistant_error_body(exc: errors.AssistantError) -> dict[str, Any]:
    return error_body(type(exc).__name__, exc.message, exc.hint, status_of(exc))


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.AssistantError)
    async def _assistant(request: Request, exc: errors.AssistantError) -> JSONResponse:
        return JSONResponse(assistant_error_body(exc), status_code=status_of(exc))

    @app.exception_handler(HTTPProblem)
    async def _problem(request: Request, exc: HTTPProblem) -> JSONResponse:
        kind = {401: "unauthorized", 403: "forbidden", 429: "rate_limited"}.get(exc.status, "error")
        body = error_body(kind, exc.message, exc.hint, exc.status)
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()
        )
        body = error_body(
            "invalid_request", f"The request is not valid: {problems}", "See the API at /docs.", 422
        )
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        hint = "See the API at /docs." if exc.status_code in (404, 405) else ""
        body = error_body("http_error", str(exc.detail), hint, exc.status_code)
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        body = error_body(
            "internal_error", f"Unexpected error: {type(exc).__name__}", "See the service's log.", 500
        )
        return JSONResponse(body, status_code=500)
