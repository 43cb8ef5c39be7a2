"""A local copy of ../shared/corpus/related as a web site and as a Git repository, for the
connector tests and the web-ingest benchmark.

`build_site` renders the Markdown files as HTML pages with site navigation, a header
and a footer (boilerplate the extractor must drop), writes a sitemap and a robots.txt,
and adds the awkward pages a crawler meets: a robots-disallowed one, a redirect loop,
a slow one, a huge one, Shift_JIS and EUC-JP pages, and a link to a missing page.
`SiteServer` serves it on 127.0.0.1 with ETag / Last-Modified validators (304s) and
counts the requests.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _shared() -> Path:
    """``../shared`` beside the repository, or beside the main checkout when this is a git worktree."""
    repo = Path(__file__).resolve().parent.parent
    candidates = [repo.parent / "shared"]
    git = repo / ".git"
    if git.is_file():  # a worktree: "gitdir: <main>/.git/worktrees/<name>"
        gitdir = Path(git.read_text(encoding="utf-8").split(":", 1)[1].strip())
        candidates.append(gitdir.parent.parent.parent.parent / "shared")
    return next((c for c in candidates if c.is_dir()), candidates[0])


RELATED = _shared() / "corpus" / "related"

SHIFT_JIS_TEXT = "シフトJISで書かれたページです。仮想化基盤の移行計画について説明します。"
EUC_JP_TEXT = "EUC-JPで書かれたページです。古い社内ポータルの文書を想定しています。"
NAV_TEXT = "サイトナビゲーション Navigation menu"
FOOTER_TEXT = "Copyright footer boilerplate"


def related_files(limit: int | None = None, prefix: str = "cncf-glossary/") -> list[tuple[str, str]]:
    """``(relative path, text)`` of shared related documents (from the manifest order)."""
    rows = [
        json.loads(line) for line in (RELATED / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    files = [r["file"] for r in rows if r["file"].startswith(prefix)]
    out = [(f, (RELATED / f).read_text(encoding="utf-8")) for f in files[:limit]]
    return out


def page_html(title: str, body_md: str, nav: list[str]) -> str:
    """A page like a docs portal's: header, navigation, the article, a footer."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", body_md):
        block = block.strip()
        if not block or block.startswith(("---", "{{")):
            continue
        match = re.match(r"^(#{1,6})\s+(.*)", block)
        if match:
            level = len(match.group(1))
            paragraphs.append(f"<h{level}>{html.escape(match.group(2))}</h{level}>")
        else:
            paragraphs.append(f"<p>{html.escape(block)}</p>")
    links = "".join(f'<li><a href="{href}">{html.escape(href)}</a></li>' for href in nav)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f'<body><header class="site-header">Docs portal</header>'
        f"<nav><p>{NAV_TEXT}</p><ul>{links}</ul></nav>"
        f"<main><article><h1>{html.escape(title)}</h1>{''.join(paragraphs)}</article></main>"
        f"<footer><p>{FOOTER_TEXT}</p></footer></body></html>"
    )


def build_site(root: Path, limit: int = 12) -> list[str]:
    """Write the site under ``root``; returns the paths of the ordinary pages."""
    docs = related_files(limit)
    names = []
    for rel, _ in docs:
        names.append("docs/" + rel.removesuffix(".md").replace("/", "-") + ".html")
    nav = ["/" + n for n in names] + ["/docs/missing.html", "/docs/private/secret.html", "/docs/loop-a.html"]
    for (rel, text), name in zip(docs, names, strict=True):
        title = re.search(r"^title:\s*(.+)$", text, re.M)
        body = re.sub(r"\A---.*?\n---\s*\n", "", text, flags=re.S)
        page = page_html(title.group(1).strip() if title else rel, body, nav)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(page, encoding="utf-8")
    (root / "docs/index.html").write_text(page_html("Index", "Start here.", nav), encoding="utf-8")
    private = root / "docs/private/secret.html"
    private.parent.mkdir(parents=True, exist_ok=True)
    private.write_text(page_html("Secret", "Do not index this page.", []), encoding="utf-8")
    sjis = page_html("Shift_JIS page", SHIFT_JIS_TEXT, []).replace('charset="utf-8"', 'charset="shift_jis"')
    (root / "docs/sjis.html").write_bytes(sjis.encode("shift_jis"))
    euc = page_html("EUC-JP page", EUC_JP_TEXT, []).replace('<meta charset="utf-8">', "")
    (root / "docs/eucjp.html").write_bytes(euc.encode("euc_jp"))
    urls = [*names, "docs/sjis.html", "docs/eucjp.html", "docs/index.html"]
    sitemap = "".join(f"<url><loc>{{base}}/{u}</loc></url>" for u in urls)
    (root / "sitemap.xml").write_text(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{sitemap}</urlset>',
        encoding="utf-8",
    )
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /docs/private/\nSitemap: {base}/sitemap.xml\n")
    return names


class SiteServer:
    """Serve ``root`` on 127.0.0.1; ``slow`` paths sleep, ``huge`` paths stream megabytes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.slow: dict[str, float] = {}
        self.huge: set[str] = set()
        self.charset_header: dict[str, str] = {"/docs/sjis.html": "shift_jis"}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?")[0]
        self.requests[path] += 1
        if path in self.slow:
            time.sleep(self.slow[path])
        if path == "/docs/loop-a.html":
            return self._redirect(req, "/docs/loop-b.html")
        if path == "/docs/loop-b.html":
            return self._redirect(req, "/docs/loop-a.html")
        if path in self.huge:
            req.send_response(200)
            req.send_header("Content-Type", "text/html; charset=utf-8")
            req.end_headers()
            for _ in range(64):
                req.wfile.write(b"<p>" + b"x" * 16380 + b"</p>")
            return None
        file = self.root / path.lstrip("/")
        if path.endswith("/"):
            file = file / "index.html"
        if not file.is_file():
            req.send_response(404)
            req.send_header("Content-Type", "text/html")
            req.end_headers()
            req.wfile.write(b"<h1>Not found</h1>")
            return None
        data = file.read_bytes().replace(b"{base}", self.base.encode())
        etag = '"' + hashlib.sha1(data).hexdigest() + '"'
        if req.headers.get("If-None-Match") == etag:
            self.not_modified[path] += 1
            req.send_response(304)
            req.send_header("ETag", etag)
            req.end_headers()
            return None
        kind = {".html": "text/html", ".xml": "application/xml", ".txt": "text/plain"}.get(
            file.suffix, "text/plain"
        )
        charset = self.charset_header.get(path)
        req.send_response(200)
        req.send_header("Content-Type", f"{kind}; charset={charset}" if charset else kind)
        req.send_header("Content-Length", str(len(data)))
        req.send_header("ETag", etag)
        req.send_header("Last-Modified", formatdate(file.stat().st_mtime, usegmt=True))
        req.end_headers()
        req.wfile.write(data)
        return None

    def _redirect(self, req: BaseHTTPRequestHandler, target: str) -> None:
        req.send_response(302)
        req.send_header("Location", target)
        req.end_headers()
