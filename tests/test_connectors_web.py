"""Web connector against a local HTTP server serving a copy of ../shared/corpus/related."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.connectors import resolve
from assistant.connectors.base import load_states
from assistant.connectors.web import WebSite
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from tests.connector_site import (
    EUC_JP_TEXT,
    FOOTER_TEXT,
    NAV_TEXT,
    RELATED,
    SHIFT_JIS_TEXT,
    SiteServer,
    build_site,
)

pytestmark = pytest.mark.skipif(not RELATED.is_dir(), reason="../shared/corpus/related is not available")


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "site"
    return root, build_site(root)


def make(tmp_path: Path, **overrides: object) -> tuple[Settings, Assistant]:
    values: dict[str, object] = {"data_dir": tmp_path / "data", "embedder": "fake:256", "web_timeout": 2.0}
    values.update(overrides)
    settings = load_settings(**values)
    return settings, Assistant(settings)


def problems(report: Any) -> dict[str, str]:
    """What ingest reported about each page it could not index: skips and connector problems."""
    out = {s.source: s.reason for s in report.skipped}
    for warning in report.warnings:
        source, _, reason = warning.partition(": ")
        out.setdefault(source, reason)
    return out


def texts(bot: Assistant) -> dict[str, str]:
    out: dict[str, str] = {}
    for chunk in bot.store.all_chunks():
        out[chunk.metadata["source"]] = out.get(chunk.metadata["source"], "") + chunk.text
    return out


def test_first_ingest_indexes_the_section_with_urls_and_main_text(
    tmp_path: Path, site: tuple[Path, list[str]]
) -> None:
    root, pages = site
    with SiteServer(root) as server:
        settings, bot = make(tmp_path)
        report = bot.ingest([WebSite(server.base + "/docs/", settings)])
    indexed = texts(bot)
    for page in pages:
        assert server.base + "/" + page in indexed
    assert server.base + "/docs/sjis.html" in indexed and server.base + "/docs/eucjp.html" in indexed
    every = "".join(indexed.values())
    assert NAV_TEXT not in every and FOOTER_TEXT not in every  # boilerplate removed
    chunk = bot.store.all_chunks()[0]
    assert chunk.metadata["url"] == chunk.metadata["source"] and chunk.metadata["url"].startswith(server.base)
    reasons = problems(report)
    assert "404" in reasons[server.base + "/docs/missing.html"]
    assert "robots.txt" in reasons[server.base + "/docs/private/secret.html"]
    assert server.requests["/docs/private/secret.html"] == 0  # never fetched
    assert "redirect loop" in reasons[server.base + "/docs/loop-a.html"]
    state = load_states(settings.data_dir)["web:" + server.base + "/docs/"]
    assert state["documents"] == len(indexed) and state["errors"]


def test_non_utf8_pages_are_decoded(tmp_path: Path, site: tuple[Path, list[str]]) -> None:
    root, _ = site
    with SiteServer(root) as server:
        settings, bot = make(tmp_path)
        bot.ingest([WebSite(server.base + "/docs/sjis.html", settings)])
        bot.ingest([WebSite(server.base + "/docs/eucjp.html", settings)])
    indexed = texts(bot)
    assert SHIFT_JIS_TEXT in indexed[server.base + "/docs/sjis.html"]  # charset from the header
    assert EUC_JP_TEXT in indexed[server.base + "/docs/eucjp.html"]  # no declaration at all


def test_unchanged_reingest_embeds_nothing_and_uses_validators(
    tmp_path: Path, site: tuple[Path, list[str]]
) -> None:
    root, pages = site
    with SiteServer(root) as server:
        settings, bot = make(tmp_path)
        first = bot.ingest([WebSite(server.base + "/docs/", settings)])
        second = bot.ingest([WebSite(server.base + "/docs/", settings)], prune=True)
    assert first.chunks_embedded > 0
    assert second.chunks_embedded == 0 and not second.added and not second.updated and not second.removed
    assert server.not_modified["/" + pages[0]] == 1  # answered with 304, body reused


def test_changed_and_removed_pages(tmp_path: Path, site: tuple[Path, list[str]]) -> None:
    root, pages = site
    with SiteServer(root) as server:
        settings, bot = make(tmp_path)
        bot.ingest([WebSite(server.base + "/docs/", settings)])
        before = len(bot.store.all_chunks())
        changed = root / pages[1]
        changed.write_text(
            changed.read_text(encoding="utf-8").replace("</article>", "<p>追記: 新しい段落。</p></article>")
        )
        (root / pages[2]).unlink()
        report = bot.ingest([WebSite(server.base + "/docs/", settings)], prune=True)
    assert report.updated == [server.base + "/" + pages[1]]
    assert report.removed == [server.base + "/" + pages[2]]
    assert 0 < report.chunks_embedded < before
    assert "追記" in texts(bot)[server.base + "/" + pages[1]]


def test_slow_server_times_out_and_keeps_the_indexed_page(
    tmp_path: Path, site: tuple[Path, list[str]]
) -> None:
    root, pages = site
    with SiteServer(root) as server:
        settings, bot = make(tmp_path, web_timeout=0.5)
        bot.ingest([WebSite(server.base + "/docs/", settings)])
        server.slow["/" + pages[0]] = 1.5
        report = bot.ingest([WebSite(server.base + "/docs/", settings)], prune=True)
    url = server.base + "/" + pages[0]
    assert "timed out" in problems(report)[url]
    assert url not in report.removed and url in texts(bot)  # nothing lost


def test_huge_page_is_skipped(tmp_path: Path, site: tuple[Path, list[str]]) -> None:
    root, _ = site
    with SiteServer(root) as server:
        server.huge.add("/docs/huge.html")
        settings, bot = make(tmp_path, web_max_page_mb=0.5)
        report = bot.ingest([WebSite(server.base + "/docs/huge.html", settings)])
    assert problems(report)[server.base + "/docs/huge.html"].startswith("larger than")
    assert report.chunks_total == 0


def test_page_limit_and_single_page(tmp_path: Path, site: tuple[Path, list[str]]) -> None:
    root, pages = site
    with SiteServer(root) as server:
        settings, bot = make(tmp_path)
        single = bot.ingest([resolve(server.base + "/" + pages[0], settings)])  # not a section: one page
        assert single.added == [server.base + "/" + pages[0]]
        limited = bot.ingest([WebSite(server.base + "/docs/", settings, max_pages=3)], prune=True)
    assert len(limited.added) == 2  # 3 pages fetched, one of them indexed before
    assert any("page limit" in reason for reason in problems(limited).values())
    assert not limited.removed  # pages not reached because of the limit are not pruned


def test_robots_txt_user_agent_and_unreachable_robots(tmp_path: Path, site: tuple[Path, list[str]]) -> None:
    root, pages = site
    (root / "robots.txt").write_text("User-agent: assistant-ingest\nDisallow: /\n")
    with SiteServer(root) as server:
        settings, bot = make(tmp_path)
        report = bot.ingest([WebSite(server.base + "/docs/", settings)])
    assert report.chunks_total == 0 and server.requests["/" + pages[0]] == 0
    assert problems(report) and all("robots.txt" in reason for reason in problems(report).values())
