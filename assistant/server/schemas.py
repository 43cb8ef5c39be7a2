"""Request bodies of the service (the responses reuse `Answer.to_dict()`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TurnIn(BaseModel):
    question: str
    answer: str


class AskOptions(BaseModel):
    """A client's own choices for this request (the browser app's session settings)."""

    top_k: int | None = Field(default=None, ge=1, le=50, description="Passages an answer is built from.")
    answerer: str | None = Field(
        default=None, description="The service's answerer (default) or `extractive`, the offline one."
    )


class AskRequest(BaseModel):
    question: str = Field(description="The question, in Japanese or English.", examples=["コンテナとは？"])
    history: list[TurnIn] = Field(default=[], description="Earlier turns of the conversation, oldest first.")
    options: AskOptions = Field(default_factory=AskOptions, description="Per-request choices.")


class UploadedFile(BaseModel):
    name: str = Field(description="Relative file name, e.g. notes/setup.md; its suffix picks the loader.")
    content: str = Field(description="The file's content: text, or base64 when encoding is base64.")
    encoding: Literal["utf-8", "base64"] = "utf-8"


class IngestRequest(BaseModel):
    files: list[UploadedFile] = Field(default=[], description="Documents sent with the request.")
    paths: list[str] = Field(default=[], description="Files or directories on the service's machine.")
    prune: bool = False
    rebuild: bool = False


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The subset of OpenAI's chat completion request that matters here; the rest is ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = "assistant"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
