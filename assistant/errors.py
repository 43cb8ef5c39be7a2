"""One error hierarchy for the whole package.

Every error carries a message that says what happened and a hint that says what
to do. Frontends show both; the CLI maps each class to an exit code.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class of every error the assistant raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ConfigError(AssistantError):
    """A setting is missing or invalid."""

    exit_code = 2


class UnknownBackendError(ConfigError):
    """A `provider:model` string names no known backend."""


class MissingDependencyError(AssistantError):
    """An optional package that a chosen backend needs is not installed."""

    exit_code = 3

    def __init__(self, package: str, extra: str, what: str) -> None:
        super().__init__(
            f"{what} needs the package {package!r}, which is not installed.",
            f"Install it with: pip install 'assistant[{extra}]'  (or: pip install {package})",
        )


class InvalidQuestionError(AssistantError):
    """The question is empty, too long or otherwise unusable."""

    exit_code = 4


class IndexNotFoundError(AssistantError):
    """Nothing has been ingested yet."""

    exit_code = 5


class IndexMismatchError(AssistantError):
    """The index was built with other settings than the ones in use now."""

    exit_code = 6


class StoreUnavailableError(AssistantError):
    """The vector store (e.g. a Chroma server) cannot be reached."""

    exit_code = 7


class ServiceUnavailableError(StoreUnavailableError):
    """The assistant service (``ASSISTANT_SERVER_URL``) cannot be reached or is not ready."""


class LoaderError(AssistantError):
    """A document cannot be read. Ingest skips such files with a warning."""

    exit_code = 8


class ModelError(AssistantError):
    """A model backend failed (embedding or language model)."""

    exit_code = 9


class IngestBusyError(AssistantError):
    """Another ingest holds the index's lock (or lease) for longer than we may wait."""

    exit_code = 10
