"""Turning the events of `Assistant.stream()` into JSON and server-sent events."""

from __future__ import annotations

import dataclasses
import json
from typing import Any


def event_name(event: Any) -> str:
    """``Delta`` → ``delta``, ``Sources`` → ``sources``, ``Answer`` → ``answer``, ``Status`` → ``status``."""
    return type(event).__name__.lower()


def event_data(event: Any) -> dict[str, Any]:
    to_dict = getattr(event, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        return dataclasses.asdict(event)
    return {"value": str(event)}


def sse(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
