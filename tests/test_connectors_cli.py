"""`assistant ingest` with URLs and the sources file, and `assistant sources`, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.connectors import configured, from_table
from assistant.connectors.files import LocalFiles
from assistant.errors import ConfigError
from assistant.settings import load_settings
from tests.connector_site import RELATED, SiteServer, build_site


def write_sources(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_sources_file_selects_local_folders(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\ntext a\n", encoding="utf-8")
    (docs / "b.txt").write_text("text b\n", encoding="utf-8")
    path = write_sources(tmp_path, '[[source]]\nname = "docs"\npath = "docs"\ninclude = ["*.md"]\n')
    settings = load_settings(data_dir=tmp_path / "data", embedder="fake:256", sources_file=path)
    roots = configured(settings)
    assert roots is not None and isinstance(roots[0], LocalFiles)
    assert [e.key for e in roots[0].entries()] == [(docs / "a.md").resolve().as_posix()]
    # An explicit corpus setting wins over the sources file.
    assert configured(load_settings(data_dir=tmp_path / "d", sources_file=path, corpus=[docs])) is None


def test_bad_source_tables_are_clear_errors(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", embedder="fake:256")
    with pytest.raises(ConfigError, match="exactly one of path, url or git"):
        from_table({"name": "x"}, settings, tmp_path)
    with pytest.raises(ConfigError, match="unknown key"):
        from_table({"name": "x", "path": ".", "depht": 2}, settings, tmp_path)


def test_default_corpus_sources_file_lists_the_corpus_folder() -> None:
    path = Path(__file__).resolve().parent.parent / "corpus" / "sources.toml"
    settings = load_settings(sources_file=path, embedder="fake:256")
    roots = configured(settings)
    assert roots is not None and len(roots) == 1
    keys = [Path(e.key).name for e in roots[0].entries()]
    assert "containers-vs-vms.ja.md" in keys and "README.md" not in keys and len(keys) >= 20


@pytest.mark.skipif(not RELATED.is_dir(), reason="../shared/corpus/related is not available")
def test_cli_ingest_url_and_sources_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "site"
    build_site(root, limit=4)
    data = str(tmp_path / "data")
    with SiteServer(root) as server:
        code = main(
            ["--data-dir", data, "--embedder", "fake:256", "ingest", "--json", server.base + "/docs/"]
        )
        assert code == 0
        report = json.loads(capsys.readouterr().out)
        assert any(url.startswith(server.base + "/docs/") for url in report["added"])
        sources = write_sources(tmp_path, f'[[source]]\nname = "site"\nurl = "{server.base}/docs/"\n')
        assert main(["--data-dir", data, "--embedder", "fake:256", "--config", str(write_config(tmp_path, sources)),
                     "sources", "--json"]) == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["configured"] and rows[0]["key"] == f"web:{server.base}/docs/"
    assert rows[0]["documents"] == len(report["added"]) and rows[0]["last_fetch"]
    assert any("404" in error for error in rows[0]["errors"])


def write_config(tmp_path: Path, sources: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'sources_file = "{sources}"\n', encoding="utf-8")
    return config
