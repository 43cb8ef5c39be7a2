"""Git connector against local repositories built from ../shared/corpus/related."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from assistant.connectors import resolve
from assistant.connectors.base import load_states
from assistant.connectors.git import GitRepo, glob_match
from assistant.errors import LoaderError
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from tests.connector_site import RELATED, related_files

pytestmark = pytest.mark.skipif(not RELATED.is_dir(), reason="../shared/corpus/related is not available")


def git(repo: Path, *args: str) -> str:
    cmd = [
        "git",
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@example.invalid",
        "-c",
        "init.defaultBranch=main",
    ]
    return subprocess.run([*cmd, *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with docs/*.md from the shared documents and a file outside docs/."""
    path = tmp_path / "repo"
    (path / "docs").mkdir(parents=True)
    for rel, text in related_files(8, prefix="cncf-glossary/content/ja/"):
        (path / "docs" / Path(rel).name).write_text(text, encoding="utf-8")
    (path / "README.md").write_text("# Not documentation\n", encoding="utf-8")
    (path / "docs" / "diagram.png").write_bytes(b"\x89PNG\r\n")
    git(path, "init", "-q")
    git(path, "add", ".")
    git(path, "commit", "-qm", "docs")
    return path


def make(tmp_path: Path) -> tuple[Settings, Assistant]:
    settings = load_settings(data_dir=tmp_path / "data", embedder="fake:256")
    return settings, Assistant(settings)


def test_glob_match() -> None:
    assert glob_match("docs/a.md", "docs/**/*.md") and glob_match("docs/x/a.md", "docs/**/*.md")
    assert not glob_match("README.md", "docs/**/*.md")


def test_local_repository_with_glob_links_to_the_commit(tmp_path: Path, repo: Path) -> None:
    settings, bot = make(tmp_path)
    root = GitRepo(
        str(repo),
        settings,
        glob=["docs/**/*.md"],
        url_pattern="https://git.example.test/docs/blob/{commit}/{path}",
    )
    report = bot.ingest([root])
    commit = git(repo, "rev-parse", "HEAD")
    assert len(report.added) == 8 and not report.skipped
    assert all(source.startswith(f"git+{repo.resolve()}#docs/") for source in report.added)
    chunk = bot.store.all_chunks()[0]
    path = chunk.metadata["source"].split("#", 1)[1]
    assert chunk.metadata["url"] == f"https://git.example.test/docs/blob/{commit}/{path}"
    assert load_states(settings.data_dir)[root.key]["extra"]["commit"] == commit


def test_cli_spec_resolves_a_local_repository_only_with_a_glob(tmp_path: Path, repo: Path) -> None:
    settings, _ = make(tmp_path)
    assert isinstance(resolve(str(repo), settings, glob=["docs/*.md"]), GitRepo)
    assert resolve(str(repo), settings) == repo  # without --glob it is a plain folder


def test_clone_pull_change_and_remove(tmp_path: Path, repo: Path) -> None:
    settings, bot = make(tmp_path)
    spec = f"git+file://{repo}"

    def run(prune: bool = False):  # a fresh connector each time, as the CLI makes
        return bot.ingest([resolve(spec, settings, glob=["docs/*.md"])], prune=prune)

    first = run()
    assert len(first.added) == 8 and (settings.data_dir / "connectors" / "git").is_dir()
    again = run(prune=True)
    assert again.chunks_embedded == 0 and not again.removed and len(again.unchanged) == 8

    files = sorted((repo / "docs").glob("*.md"))
    files[0].write_text(
        files[0].read_text(encoding="utf-8") + "\n\n## 追記\n\n新しい節です。\n", encoding="utf-8"
    )
    files[1].unlink()
    git(repo, "commit", "-qam", "edit and remove")
    changed = run(prune=True)
    assert changed.updated == [f"{spec}#docs/{files[0].name}"]
    assert changed.removed == [f"{spec}#docs/{files[1].name}"]
    assert 0 < changed.chunks_embedded < first.chunks_embedded
    # Each link names the commit whose text was indexed: the edited file the new one, the
    # untouched files the first one (their content there is identical, so nothing is rewritten).
    new, old = git(repo, "rev-parse", "HEAD"), git(repo, "rev-parse", "HEAD~1")
    for chunk in bot.store.all_chunks():
        edited = chunk.metadata["source"].endswith(files[0].name)
        assert (new if edited else old) in chunk.metadata["url"]


def test_bad_repository_is_a_clear_error_and_nothing_is_lost(tmp_path: Path, repo: Path) -> None:
    settings, bot = make(tmp_path)
    bot.ingest([GitRepo(str(repo), settings, glob=["docs/*.md"])])
    before = bot.store.count()
    with pytest.raises(LoaderError, match="git clone failed"):
        bot.ingest([resolve(f"git+file://{tmp_path}/no-such-repo", settings, glob=["docs/*.md"])], prune=True)
    assert bot.store.count() == before
