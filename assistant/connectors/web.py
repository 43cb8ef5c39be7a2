"""Web connector: a page or a site section, fetched politely and incrementally.

``WebSite(url)`` crawls breadth-first from ``url`` within the same host and path
prefix (a URL ending in ``/`` is a section; any other URL is a single page unless
a depth is given), seeded from the site's sitemap when there is one, up to a
depth and a page limit. It sends a clear User-Agent, obeys robots.txt (and its
crawl delay), and re-fetches incrementally: ETag / Last-Modified validators make
an unchanged page a cheap ``304``, whose last body is kept in the data directory.
Each page's main text is extracted (`assistant.connectors.html`) and its final
URL is the document's id and citation link.

Failures are per page and never fatal: a 404/410 or a robots-disallowed page is
gone (``--prune`` removes it); a timeout, a 5xx, a redirect loop or an oversized
page is reported and the page's indexed text is kept.
"""

from __future__ import annotations

import hashlib
import logging
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from assistant.connectors.base import Entry, Tracker, read_json, safe_slug, state_dir, write_json
from assistant.connectors.html import extract, sniff_charset
from assistant.loading import Skipped, decode_text
from assistant.settings import Settings

log = logging.getLogger(__name__)

_TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "text/markdown": ".md",
          "text/x-markdown": ".md", "text/plain": ".txt", "application/pdf": ".pdf"}  # fmt: skip
_SKIP_EXT = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".css", ".js", ".zip", ".gz",
             ".tar", ".mp4", ".mp3", ".woff", ".woff2", ".ttf", ".xml", ".json")  # fmt: skip
_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_HOPS = 10


class FetchError(Exception):
    def __init__(self, reason: str, *, gone: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.gone = reason, gone


@dataclass
class Page:
    url: str  # after redirects
    status: int
    body: bytes
    headers: httpx.Headers


class WebSite:
    """A connector for a web page or a site section (see the module docstring)."""

    kind = "web"

    def __init__(self, url: str, settings: Settings, *, depth: int | None = None,
                 max_pages: int | None = None, prefix: str | None = None) -> None:  # fmt: skip
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {url}")
        self.start = url
        self.settings = settings
        self.origin = f"{parts.scheme}://{parts.netloc}"
        section = url.endswith("/")
        path_prefix = prefix or (parts.path if section else parts.path.rsplit("/", 1)[0] + "/")
        self.base = self.origin + path_prefix
        self.depth = depth if depth is not None else (settings.web_max_depth if section else 0)
        self.max_pages = max_pages or settings.web_max_pages
        self.key = f"web:{self.base}" if section or depth else f"web:{url}"
        self.problems: list[Skipped] = []
        self._kept: set[str] = set()  # indexed pages that failed transiently: never pruned
        self._dir = state_dir(settings.data_dir) / "web" / safe_slug(self.key)
        self._validators: dict[str, Any] = {}
        self.timings = {"fetch": 0.0, "extract": 0.0}

    # --- the connector interface ---------------------------------------------------

    def owns(self, source: str, record: Any = None) -> bool:
        if source in self._kept:
            return False
        root = getattr(record, "root", None)
        if root is not None:
            return bool(root == self.key)
        return (
            source.startswith(self.base) if self.key.startswith("web:" + self.base) else source == self.start
        )

    def entries(self) -> Iterator[Entry]:
        tracker = Tracker(self.settings.data_dir, self.key, self.kind, self.start)
        self._validators = read_json(self._dir / "pages.json")
        fresh: dict[str, Any] = {}
        count = 0
        headers = {"User-Agent": self.settings.web_user_agent}
        timeout = httpx.Timeout(self.settings.web_timeout)
        with httpx.Client(headers=headers, timeout=timeout, follow_redirects=False) as client:
            robots = self._robots(client)
            delay = max(
                self.settings.web_delay, min(float(robots.crawl_delay(headers["User-Agent"]) or 0), 10.0)
            )
            queue: deque[tuple[str, int]] = deque([(self.start, 0)])
            queued = {self.start}
            for url in self._sitemap_urls(client, robots):
                if url not in queued:
                    queued.add(url)
                    queue.append((url, 1))
            while queue and count < self.max_pages:
                url, level = queue.popleft()
                if not robots.can_fetch(headers["User-Agent"], url):
                    self.problems.append(Skipped(url, "disallowed by robots.txt"))
                    continue
                if count and delay:
                    time.sleep(delay)
                try:
                    entry, links = self._fetch_entry(client, url, fresh)
                except FetchError as exc:
                    log.info("web: %s: %s", url, exc.reason)
                    self.problems.append(Skipped(url, exc.reason))
                    if not exc.gone:
                        self._kept.add(url)
                    continue
                if entry is None:
                    continue
                count += 1
                yield entry
                if level < self.depth:
                    for link in links:
                        if link not in queued and self._in_scope(link):
                            queued.add(link)
                            queue.append((link, level + 1))
            if queue:
                self.problems.append(Skipped(self.start, f"stopped at the page limit of {self.max_pages}"))
                self._kept.update(url for url, _ in queue)
        write_json(self._dir / "pages.json", {**self._validators, **fresh} if self._kept else fresh)
        tracker.finish(count, self.problems, fetch_seconds=round(self.timings["fetch"], 3),
                       extract_seconds=round(self.timings["extract"], 3))  # fmt: skip

    # --- fetching --------------------------------------------------------------------

    def _in_scope(self, url: str) -> bool:
        path = urlsplit(url).path.lower()
        return url.startswith(self.base) and not path.endswith(_SKIP_EXT)

    def _fetch_entry(
        self, client: httpx.Client, url: str, fresh: dict[str, Any]
    ) -> tuple[Entry | None, list[str]]:
        old = self._validators.get(url) or {}
        cached = self._dir / "bodies" / f"{old.get('sha256', '-')}{old.get('suffix', '')}"
        conditional = {}
        if old and cached.exists():
            if old.get("etag"):
                conditional["If-None-Match"] = old["etag"]
            if old.get("last_modified"):
                conditional["If-Modified-Since"] = old["last_modified"]
        started = time.perf_counter()
        try:
            page = self._get(client, url, conditional)
        finally:
            self.timings["fetch"] += time.perf_counter() - started
        if page.status == 304:
            fresh[url] = old
            data = cached.read_bytes()
            return self._entry(page.url, old["suffix"], data, old.get("version")), old.get("links", [])
        suffix = _TYPES.get(page.headers.get("content-type", "").split(";")[0].strip().lower())
        if suffix is None:
            return None, []  # not a document (an image, a feed...): not a problem either
        if page.url != url and not self._in_scope(page.url):
            raise FetchError(f"redirects outside {self.base} (to {page.url})")
        links: list[str] = []
        data = page.body
        if suffix == ".html":
            started = time.perf_counter()
            text = _decode(page)
            extracted = extract(text, page.url)
            data = extracted.html.encode("utf-8")
            links = [link for link in extracted.links if self._in_scope(link)]
            self.timings["extract"] += time.perf_counter() - started
        digest = hashlib.sha256(data).hexdigest()
        version = page.headers.get("etag") or digest[:16]
        body = self._dir / "bodies" / f"{digest}{suffix}"
        body.parent.mkdir(parents=True, exist_ok=True)
        if not body.exists():
            body.write_bytes(data)
        fresh[page.url] = fresh[url] = {
            "etag": page.headers.get("etag"), "last_modified": page.headers.get("last-modified"),
            "sha256": digest, "suffix": suffix, "version": version, "links": links[:2000],
        }  # fmt: skip
        return self._entry(page.url, suffix, data, version), links

    def _entry(self, url: str, suffix: str, data: bytes, version: str | None) -> Entry:
        return Entry(url, suffix, lambda: data, len(data), url, version)

    def _get(self, client: httpx.Client, url: str, headers: dict[str, str]) -> Page:
        """GET with redirects followed by hand (loops and hops counted), a size limit and a
        deadline for the whole response (a server trickling bytes cannot hold us)."""
        limit = int(self.settings.web_max_page_mb * 2**20)
        chain = [url]
        for _ in range(_MAX_HOPS + 1):
            deadline = time.monotonic() + self.settings.web_timeout * 3
            try:
                with client.stream("GET", url, headers=headers) as response:
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        target = urljoin(url, response.headers["location"])
                        if target in chain:
                            raise FetchError("redirect loop: " + " -> ".join([*chain, target]))
                        chain.append(target)
                        url = target
                        continue
                    if response.status_code in (404, 410):
                        raise FetchError(f"HTTP {response.status_code} (the page is gone)", gone=True)
                    if response.status_code == 304:
                        return Page(url, 304, b"", response.headers)
                    if response.status_code >= 400:
                        raise FetchError(f"HTTP {response.status_code}; will retry on the next ingest")
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > limit:
                        raise FetchError(_too_big(self.settings.web_max_page_mb))
                    body = bytearray()
                    for piece in response.iter_bytes():
                        body.extend(piece)
                        if len(body) > limit:
                            raise FetchError(_too_big(self.settings.web_max_page_mb))
                        if time.monotonic() > deadline:
                            raise FetchError(
                                f"too slow: no complete answer in {self.settings.web_timeout * 3:g}s"
                            )
                    return Page(url, response.status_code, bytes(body), response.headers)
            except httpx.TimeoutException:
                raise FetchError(
                    f"timed out after {self.settings.web_timeout:g}s (ASSISTANT_WEB_TIMEOUT)"
                ) from None
            except httpx.HTTPError as exc:
                raise FetchError(f"could not be fetched ({type(exc).__name__}: {exc})") from None
        raise FetchError(f"more than {_MAX_HOPS} redirects")

    def _robots(self, client: httpx.Client) -> RobotFileParser:
        robots = RobotFileParser(self.origin + "/robots.txt")
        try:
            page = self._get(client, self.origin + "/robots.txt", {})
        except FetchError as exc:
            if exc.gone:
                robots.parse([])  # no robots.txt: everything is allowed
            else:  # RFC 9309: an unreachable robots.txt means "crawl nothing" for now
                robots.parse(["User-agent: *", "Disallow: /"])
                self.problems.append(Skipped(self.origin + "/robots.txt", exc.reason))
            return robots
        robots.parse(decode_text(page.body, "robots.txt").splitlines() if page.status < 400 else [])
        return robots

    def _sitemap_urls(self, client: httpx.Client, robots: RobotFileParser) -> list[str]:
        if self.depth == 0:
            return []
        maps = list(robots.site_maps() or []) or [self.origin + "/sitemap.xml"]
        urls: list[str] = []
        for _ in range(2):  # a sitemap index, then its sitemaps
            nested: list[str] = []
            for sitemap in maps[:20]:
                try:
                    page = self._get(client, sitemap, {})
                    root = ET.fromstring(page.body)
                except (FetchError, ET.ParseError):
                    continue
                for loc in root.iter():
                    if loc.tag.endswith("loc") and loc.text:
                        link = loc.text.strip()
                        is_map = root.tag.endswith("sitemapindex")
                        (nested if is_map else urls).append(link)
            maps = nested
        return [url for url in urls if self._in_scope(url)]


def _decode(page: Page) -> str:
    charset = page.headers.get_content_charset() if hasattr(page.headers, "get_content_charset") else None
    content_type = page.headers.get("content-type", "")
    if "charset=" in content_type:
        charset = content_type.split("charset=")[-1].split(";")[0].strip().strip('"')
    charset = charset or sniff_charset(page.body)
    if charset:
        try:
            return page.body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(page.body, page.url)


def _too_big(mb: float) -> str:
    return f"larger than the limit of {mb:g} MB (ASSISTANT_WEB_MAX_PAGE_MB)"


def cached_body_dir(settings: Settings) -> Path:
    return state_dir(settings.data_dir) / "web"
