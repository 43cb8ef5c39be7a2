"""Local-files connector: a directory (or one file) on this machine.

Document ids are absolute paths — the same keys a plain ``assistant ingest DIR``
gives — so moving a folder into ``sources.toml`` re-embeds nothing. The version
is the file's modification time and size. No URL is recorded: where a local file is
shown (its path relative to the corpus, or a ``source_url_base`` link) is the core's rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.connectors.base import Entry, Tracker
from assistant.connectors.git import glob_match
from assistant.loading import Skipped
from assistant.settings import Settings


class LocalFiles:
    """A connector for files under a directory, selected by include/exclude globs."""

    kind = "files"

    def __init__(self, path: Path, settings: Settings, *, include: list[str] | None = None,
                 exclude: list[str] | None = None) -> None:  # fmt: skip
        self.path = path.expanduser().resolve()
        self.settings = settings
        self.include = include or settings.include
        self.exclude = exclude if exclude is not None else settings.exclude
        self.key = f"files:{self.path.as_posix()}"
        self.problems: list[Skipped] = []

    def owns(self, source: str, record: Any = None) -> bool:
        root = getattr(record, "root", None)
        if root is not None:
            return bool(root == self.key)
        under = self.path.as_posix()
        return (source == under or source.startswith(under.rstrip("/") + "/")) and not Path(source).exists()

    def entries(self) -> Iterator[Entry]:
        tracker = Tracker(self.settings.data_dir, self.key, self.kind, self.path.as_posix())
        count = 0
        if not self.path.exists():
            self.problems.append(Skipped(self.path.as_posix(), "does not exist"))
        files = [self.path] if self.path.is_file() else sorted(p for p in self.path.rglob("*") if p.is_file())
        for file in files:
            rel = file.relative_to(self.path).as_posix() if file != self.path else file.name
            if file != self.path and (
                not any(glob_match(rel, p) for p in self.include)
                or any(glob_match(rel, p) for p in self.exclude)
            ):
                continue
            try:
                stat = file.stat()
            except OSError as exc:
                self.problems.append(Skipped(file.as_posix(), f"cannot be read ({exc.strerror or exc})"))
                continue
            count += 1
            key = file.resolve().as_posix()
            yield Entry(
                key, file.suffix.lower(), file.read_bytes, stat.st_size, None,
                        f"{stat.st_mtime_ns}-{stat.st_size}")  # fmt: skip
        tracker.finish(count, self.problems)
