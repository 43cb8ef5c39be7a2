"""Thin clients: talk to a running `assistant serve` instead of loading the models here.

`RemoteAssistant` implements `assistant.door.AssistantLike` over HTTP, as the embedded
`Assistant` does in process; frontends get one or the other from
`assistant.door.open_assistant` (the CLI from `connect`, which may return the concrete
`Assistant` it needs for connectors). Importing this module loads neither torch nor
chromadb: only the ground floor and, when a client is made, httpx.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import errors
from assistant.door import Event, Progress
from assistant.errors import (
    AssistantError,
    ConfigError,
    InvalidQuestionError,
    LoaderError,
    ServiceUnavailableError,
)
from assistant.settings import Settings
from assistant.types import Answer, DocumentInfo, IndexInfo, IngestReport, Turn

if TYPE_CHECKING:
    import httpx

    from assistant.pipeline import Assistant

log = logging.getLogger(__name__)

__all__ = ["RemoteAssistant", "ServiceUnavailableError", "connect"]


def connect(settings: Settings) -> Assistant | RemoteAssistant:
    """The assistant the settings ask for: remote when a server URL is set, embedded otherwise."""
    if settings.server_url:
        return RemoteAssistant(settings)
    from assistant.pipeline import Assistant

    return Assistant(settings)


class RemoteAssistant:
    """The public face of `Assistant`, over HTTP."""

    def __init__(self, settings: Settings, url: str | None = None, *, options: dict[str, Any] | None = None,
                 http: httpx.Client | None = None) -> None:  # fmt: skip
        import httpx

        self.settings = settings
        self.url = (url or settings.server_url or "").rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(
                f"The server URL {self.url!r} is not an http(s) URL.",
                "Set ASSISTANT_SERVER_URL / --server to e.g. http://127.0.0.1:8080",
            )
        #: Per-request choices of a session (``top_k``, ``answerer``), see `with_options`.
        self.options = dict(options or {})
        self._admin: dict[str, str] = {}
        if settings.server_admin_api_key is not None:
            self._admin["Authorization"] = f"Bearer {settings.server_admin_api_key.get_secret_value()}"
        if http is None:
            headers = {"Accept": "application/json"}
            if settings.server_api_key is not None:
                headers["Authorization"] = f"Bearer {settings.server_api_key.get_secret_value()}"
            timeout = httpx.Timeout(settings.server_timeout, connect=min(5.0, settings.server_timeout))
            http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self._http = http

    def with_options(self, *, top_k: int, answerer: str) -> RemoteAssistant:
        """The same client asking with a session's own choices. A choice equal to this process's
        setting is not sent: the service then uses its own (its answerer may not be ours)."""
        options: dict[str, Any] = {}
        if top_k != self.settings.top_k:
            options["top_k"] = top_k
        if answerer != self.settings.answerer:
            options["answerer"] = answerer
        if options == self.options:
            return self
        return RemoteAssistant(self.settings, self.url, options=options, http=self._http)

    def close(self) -> None:
        self._http.close()

    # --- questions -------------------------------------------------------------------

    def validate(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise InvalidQuestionError(
                "The question is empty. / 質問が空です。", "Type a question, e.g. 「コンテナとは？」"
            )
        return question

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        data = self._request("POST", "/v1/ask", json=self._ask_body(question, history))
        return Answer.from_dict(data)

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[Event]:
        """Yield the events of the service's stream, as `Assistant.stream` would."""
        body = self._ask_body(question, history)
        try:
            with self._http.stream("POST", "/v1/ask/stream", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_of(response)
                for name, data in _sse(response.iter_lines()):
                    if name == "done":
                        return
                    if name == "error":
                        raise _error_from_body(data, 500)
                    event = _event(name, data)
                    if event is not None:
                        yield event
        except _transport_errors() as exc:
            raise self._unreachable(exc) from None

    # --- index -----------------------------------------------------------------------

    def info(self) -> IndexInfo:
        return IndexInfo(**self._request("GET", "/v1/info")["index"])

    def documents(self) -> list[DocumentInfo]:
        rows = self._request("GET", "/v1/documents", headers=self._admin)["data"]
        return [DocumentInfo(r["source"], r["chunks"], r.get("complete", True)) for r in rows]

    def index_version(self) -> str | None:
        version = self._request("GET", "/v1/info")["service"].get("index_version")
        return None if version is None else str(version)

    def ingest(
        self,
        paths: Sequence[Path] | None = None,
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Send the files under ``paths`` (on this machine) to the service, which embeds and stores them."""
        from assistant.loading import iter_files

        files = []
        for path, root in iter_files(list(paths or self.settings.corpus), self.settings.include,
                                     self.settings.exclude):  # fmt: skip
            name = path.name if path == root else f"{root.name}/{path.relative_to(root).as_posix()}"
            content = base64.b64encode(path.read_bytes()).decode("ascii")
            files.append({"name": name, "content": content, "encoding": "base64"})
        body = {"files": files, "prune": prune, "rebuild": rebuild}
        return IngestReport.from_dict(self._request("POST", "/v1/ingest", json=body, headers=self._admin))

    def rebuild(self, progress: Progress | None = None) -> IngestReport:
        """Ask the service to rebuild its index from its own corpus and the documents uploaded to it."""
        body = {"rebuild": True, "prune": True}
        return IngestReport.from_dict(self._request("POST", "/v1/ingest", json=body, headers=self._admin))

    def warm_up(self, timeout: float = 60.0) -> None:
        """Wait until the service has loaded its models."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._http.get("/readyz").status_code == 200:
                    return
            except _transport_errors() as exc:
                if time.monotonic() > deadline:
                    raise self._unreachable(exc) from None
            if time.monotonic() > deadline:
                raise ServiceUnavailableError(f"The service at {self.url} is not ready after {timeout:.0f} s.",
                                              "See its log; loading the models can take a while.")  # fmt: skip
            time.sleep(0.2)

    # --- plumbing --------------------------------------------------------------------

    def _ask_body(self, question: str, history: Sequence[Turn]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "question": question,
            "history": [{"question": t.question, "answer": t.answer} for t in history],
        }
        if self.options:
            body["options"] = self.options
        return body

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except _transport_errors() as exc:
            raise self._unreachable(exc) from None
        if response.status_code >= 400:
            raise _error_of(response)
        return response.json()

    def _unreachable(self, exc: Exception) -> ServiceUnavailableError:
        return ServiceUnavailableError(
            f"The assistant service at {self.url} cannot be reached ({type(exc).__name__}: {exc}).",
            "Start it with `assistant serve`, check ASSISTANT_SERVER_URL / --server, "
            "or unset it to work without the service.",
        )


def _transport_errors() -> tuple[type[Exception], ...]:
    import httpx

    return (httpx.TransportError,)


def _sse(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    name, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def _event(name: str, data: dict[str, Any]) -> Event | None:
    from assistant import types

    if name == "delta":
        return types.Delta(data["text"])
    if name == "answer":
        return Answer.from_dict(data)
    if name == "sources":
        return types.Sources([types.Passage.from_dict(p) for p in data["passages"]])
    if name == "status":
        return types.Status(data["stage"])
    log.debug("unknown event %r ignored", name)
    return None


def _error_of(response: httpx.Response) -> AssistantError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    return _error_from_body(body, response.status_code)


def _error_from_body(body: dict[str, Any], status: int) -> AssistantError:
    found = body.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    kind, message, hint = error.get("type", ""), error.get("message", ""), error.get("hint", "")
    message = message or f"The service answered with HTTP {status}."
    cls = getattr(errors, kind, None)
    if isinstance(cls, type) and issubclass(cls, AssistantError) and cls is not errors.MissingDependencyError:
        return cls(message, hint)
    if status in (401, 403):
        return ConfigError(message, hint or "Set ASSISTANT_SERVER_API_KEY to a key the service accepts.")
    if status == 413:
        return LoaderError(message, hint)
    if status == 503:  # e.g. /readyz: the service is still loading its models
        return ServiceUnavailableError(message, hint or "Try again in a moment.")
    return AssistantError(message, hint)
