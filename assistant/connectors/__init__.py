"""Connectors: where documents come from — local folders, web sites, Git repositories.

Every connector implements the same small interface (`assistant.connectors.base`):
it yields documents with a stable id, a version and a URL, and says which indexed
documents it owns. Adding a source type (Confluence, Notion, Google Drive…) is one
module with one class, plus a line in `resolve` / `from_table`.

`resolve` turns what a user types after ``assistant ingest`` into a connector;
`configured` reads ``corpus/sources.toml`` (setting ``sources_file``), which lists
what ``assistant ingest`` without arguments indexes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ConfigError
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.connectors.base import Entry, Root

__all__ = ["Entry", "Root", "configured", "from_table", "resolve"]


def __getattr__(name: str) -> Any:
    """`Entry` and `Root` come from the ingest machinery (chromadb): imported when first used,
    so that reading the subcommands (``assistant --help``) stays light."""
    if name in ("Entry", "Root"):
        from assistant.connectors import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve(spec: str, settings: Settings, *, glob: Sequence[str] | None = None) -> Path | Root:
    """A connector for ``spec`` (a URL, ``git+URL``, or a path); plain paths stay paths."""
    if spec.startswith(("http://", "https://")):
        from assistant.connectors.web import WebSite

        return WebSite(spec, settings)
    path = Path(spec).expanduser()
    if spec.startswith("git+") or (glob and (path / ".git").exists()):
        from assistant.connectors.git import GitRepo

        return GitRepo(spec, settings, glob=list(glob) if glob else None)
    if glob:
        from assistant.connectors.files import LocalFiles

        return LocalFiles(path, settings, include=list(glob))
    return path


def from_table(table: dict[str, Any], settings: Settings, base: Path) -> Root:
    """One ``[[source]]`` table of ``sources.toml``; relative paths are relative to ``base``."""
    known = {"name", "path", "url", "git", "include", "exclude", "glob", "depth", "max_pages", "prefix",
             "branch", "url_pattern"}  # fmt: skip
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"sources file: unknown key(s) {', '.join(unknown)} in source {table.get('name', '?')!r}.",
            f"Known keys: {', '.join(sorted(known))}.",
        )
    kinds = [k for k in ("path", "url", "git") if k in table]
    if len(kinds) != 1:
        raise ConfigError(
            f"sources file: source {table.get('name', '?')!r} needs exactly one of path, url or git.",
            'Example: [[source]] name = "docs" path = "docs"',
        )
    if "url" in table:
        from assistant.connectors.web import WebSite

        return WebSite(str(table["url"]), settings, depth=table.get("depth"),
                       max_pages=table.get("max_pages"), prefix=table.get("prefix"))  # fmt: skip
    if "git" in table:
        from assistant.connectors.git import GitRepo

        spec = str(table["git"])
        if not spec.startswith("git+") and not Path(spec).is_absolute():
            spec = str((base / spec).resolve())
        return GitRepo(spec, settings, glob=table.get("glob") or table.get("include"),
                       exclude=table.get("exclude"), branch=table.get("branch"),
                       url_pattern=table.get("url_pattern"))  # fmt: skip
    from assistant.connectors.files import LocalFiles

    path = Path(str(table["path"])).expanduser()
    return LocalFiles(path if path.is_absolute() else base / path, settings,
                      include=table.get("include"), exclude=table.get("exclude"))  # fmt: skip


def read_sources_file(path: Path) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"The sources file {path} cannot be read ({exc.strerror or exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The sources file {path} is not valid TOML: {exc}.", "Fix the file and retry."
        ) from None
    tables = data.get("source", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"The sources file {path} must hold [[source]] tables.")
    return tables


def configured(settings: Settings) -> list[Path | Root] | None:
    """The sources of ``sources_file``, or ``None`` when it does not apply (no file, or
    the ``corpus`` setting was given explicitly)."""
    path = settings.sources_file
    if path is None or "corpus" in settings.model_fields_set or not path.is_file():
        return None
    return [from_table(t, settings, path.parent) for t in read_sources_file(path)]
