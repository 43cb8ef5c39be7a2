"""Git connector: the matching files of a repository, at its current commit.

``GitRepo("git+https://host/org/repo.git@branch", glob=["docs/**/*.md"])`` clones
the repository (shallow) into ``DATA_DIR/connectors/git/`` on first use and pulls
on every later ingest; a local repository path is read in place. Files are read
from the commit (``git ls-tree`` / ``git cat-file``), not the working tree, so
the citation link — ``url_pattern`` filled with the repository, the commit and
the path — shows exactly the text that was indexed. A document's id is stable
across commits (``git+<repo>#<path>``); its version is the blob id, so only files
whose content changed are re-embedded.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from assistant.connectors.base import Entry, Tracker, safe_slug, state_dir
from assistant.errors import LoaderError
from assistant.loading import SUPPORTED_SUFFIXES, Skipped
from assistant.settings import Settings

log = logging.getLogger(__name__)

_HOSTED = re.compile(r"^(?:https?://|git@)(github\.com|gitlab\.com|codeberg\.org)[/:](.+?)(?:\.git)?/?$")


def glob_match(path: str, pattern: str) -> bool:
    """``fnmatch`` where ``**/`` may also match nothing (``docs/**/*.md`` matches ``docs/a.md``)."""
    if fnmatch(path, pattern):
        return True
    return "**/" in pattern and fnmatch(path, pattern.replace("**/", "", 1))


class GitRepo:
    """A connector for a Git repository (remote ``git+…`` URL or local path)."""

    kind = "git"

    def __init__(self, spec: str, settings: Settings, *, glob: list[str] | None = None,
                 exclude: list[str] | None = None, branch: str | None = None,
                 url_pattern: str | None = None) -> None:  # fmt: skip
        self.spec = spec
        self.settings = settings
        remote = spec.removeprefix("git+")
        if "@" in remote.rsplit("/", 1)[-1]:
            remote, _, branch_in_spec = remote.rpartition("@")
            branch = branch or branch_in_spec
        self.branch = branch
        self.local = not spec.startswith("git+") and Path(spec).expanduser().is_dir()
        self.remote = str(Path(remote).expanduser().resolve()) if self.local else remote
        self.include = glob or ["**/*.md"]
        self.exclude = exclude or []
        self.url_pattern = url_pattern or settings.git_url_pattern or _default_pattern(self.remote)
        self.key = f"git:{self.remote}" + (f"@{branch}" if branch else "")
        self.problems: list[Skipped] = []
        self.commit: str | None = None
        self.checkout = (
            Path(self.remote) if self.local
            else state_dir(settings.data_dir) / "git" / safe_slug(self.key)
        )  # fmt: skip

    def owns(self, source: str, record: Any = None) -> bool:
        root = getattr(record, "root", None)
        if root is not None:
            return bool(root == self.key)
        return source.startswith(self._prefix())

    def _prefix(self) -> str:
        return f"git+{self.remote}" + (f"@{self.branch}" if self.branch else "") + "#"

    def entries(self) -> Iterator[Entry]:
        tracker = Tracker(self.settings.data_dir, self.key, self.kind, self.spec)
        self.commit = self._update()
        count = 0
        for blob, path in self._tree():
            if not any(glob_match(path, p) for p in self.include) or any(
                glob_match(path, p) for p in self.exclude
            ):
                continue
            suffix = Path(path).suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                self.problems.append(Skipped(path, f"unsupported file type {suffix or '(none)'}"))
                continue
            url = self.url_pattern and self.url_pattern.format(repo=self.remote.removesuffix(".git"), commit=self.commit,
                                          path=path, branch=self.branch or "HEAD")  # fmt: skip
            count += 1
            yield Entry(self._prefix() + path, suffix, self._reader(blob), None, url or None, blob)
        tracker.finish(count, self.problems, commit=self.commit)

    # --- git ---------------------------------------------------------------------------

    def _git(self, *args: str, cwd: Path | None = None) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=cwd or self.checkout, capture_output=True, check=True,
                timeout=self.settings.git_timeout, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except FileNotFoundError:
            raise LoaderError(
                "The `git` command is not installed.", "Install Git to ingest repositories."
            ) from None
        except subprocess.TimeoutExpired:
            raise LoaderError(f"{self.spec}: git {args[0]} took longer than {self.settings.git_timeout:g}s.",
                              "Check the network or raise ASSISTANT_GIT_TIMEOUT.") from None  # fmt: skip
        except subprocess.CalledProcessError as exc:
            detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise LoaderError(f"{self.spec}: git {args[0]} failed ({detail[-1] if detail else exc.returncode}).",
                              "Check the repository URL, the branch and your access to it.") from None  # fmt: skip
        return done.stdout.decode("utf-8", "surrogateescape")

    def _update(self) -> str:
        """Clone or pull (remote), or just read HEAD (local); returns the commit."""
        ref = self.branch or "HEAD"
        if not self.local:
            if not (self.checkout / ".git").exists():
                self.checkout.parent.mkdir(parents=True, exist_ok=True)
                args = ["clone", "--quiet", "--depth", "1", "--no-checkout"]
                args += ["--branch", self.branch] if self.branch else []
                self._git(*args, self.remote, str(self.checkout), cwd=self.checkout.parent)
            else:
                self._git("fetch", "--quiet", "--depth", "1", "origin", ref)
                self._git("update-ref", "refs/heads/assistant-indexed", "FETCH_HEAD")
                return self._git("rev-parse", "FETCH_HEAD").strip()
        return self._git("rev-parse", ref).strip()

    def _tree(self) -> Iterator[tuple[str, str]]:
        out = self._git("ls-tree", "-r", "-z", "--full-tree", self.commit or "HEAD")
        for line in out.split("\0"):
            if not line:
                continue
            meta, _, path = line.partition("\t")
            _mode, kind, blob = meta.split()
            if kind == "blob":
                yield blob, path

    def _reader(self, blob: str) -> Any:
        def read() -> bytes:
            return subprocess.run(
                ["git", "cat-file", "blob", blob], cwd=self.checkout, capture_output=True, check=True,
                timeout=self.settings.git_timeout,
            ).stdout  # fmt: skip

        return read


def _default_pattern(remote: str) -> str:
    """Web links for well-known hosts; a file URL for anything else (set ``url_pattern``)."""
    match = _HOSTED.match(remote)
    if match:
        host, repo = match.groups()
        sep = "/-/blob/" if host == "gitlab.com" else "/src/commit/" if host == "codeberg.org" else "/blob/"
        return f"https://{host}/{repo}{sep}{{commit}}/{{path}}"
    return "{repo}#{path}@{commit}" if "://" in remote else ""  # a local path: no link (set url_pattern)
