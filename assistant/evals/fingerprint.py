"""The effective settings of a run and their fingerprint.

Every setting that can change an answer is recorded: all fields of `Settings`
except those that say where things live or how a frontend connects (paths, the
store's address, Slack, logging, secrets). A setting added later is therefore
recorded by default. The system prompt file is recorded by the sha256 of its
content, not its path. Two runs with the same fingerprint were answered by the
same pipeline; `evals/thresholds.toml` stores the fingerprint its floor was
measured with, and a test fails when the defaults' fingerprint differs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from assistant.settings import Settings

# Where things live or how frontends connect: they do not change an answer.
IGNORED = frozenset(
    {
        "data_dir",
        "corpus",
        "include",
        "exclude",
        "config",
        "models_dir",
        "collection",
        "embed_batch_size",
        "log_level",
        "source_url_base",  # how frontends link a source, not what is answered
        # What gets indexed is recorded apart, by the corpus fingerprint (content hashes,
        # documents, chunks); these only decide it or coordinate ingest runs.
        "max_file_mb",
        "max_chunks",
        "utf8_error_tolerance",
        "ingest_owner",
        "lease_seconds",
        "lock_timeout",
    }
)
IGNORED_PREFIXES = ("chroma_", "slack_", "server_", "ui_", "feedback_")

# Bumped whenever a metric's definition changes: runs scored differently are not mixed.
# 3: ranking metrics in retrieval order; 4: faithfulness piece by piece, frame lines skipped;
# 5: Japanese punctuation and brackets end a Latin word in answer tokens (f1, contains-reference);
# 6: contains-reference also reads words apart at the punctuation inside them ("Singer's");
# 7: a reference section may be the document's title (its H1: "doc.md#Title");
# 8: contains-reference reads a Japanese reference in the plain style as stated by the polite one;
# 9: a reference of marks alone (「○」, "/") is found as written
METRICS_VERSION = 9


def _value(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    return value


def _recorded(name: str) -> bool:
    return name not in IGNORED and not name.startswith(IGNORED_PREFIXES) and "api_key" not in name


def effective_settings(settings: Settings) -> dict[str, Any]:
    """The settings that can change answers, as JSON-ready values, sorted by name."""
    out = {
        name: _value(getattr(settings, name))
        for name in sorted(type(settings).model_fields)
        if _recorded(name)
    }
    prompt = out.get("system_prompt_file")
    if prompt:
        path = Path(prompt)
        out["system_prompt_file"] = (
            "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
            if path.is_file()
            else f"missing:{prompt}"
        )
    return out


def default_settings() -> dict[str, Any]:
    """`effective_settings` of the defaults (no flags, environment or config file)."""
    values = {
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
        if _recorded(name)
    }
    return effective_settings(Settings.model_construct(**values))


def fingerprint(effective: dict[str, Any]) -> str:
    """12 hex digits of sha256 over the effective settings."""
    text = json.dumps(effective, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def settings_fingerprint(settings: Settings) -> str:
    return fingerprint(effective_settings(settings))
