"""Main-text extraction from HTML pages: keep the content, drop navigation and boilerplate.

Structure-based (no language model, no word lists), so Japanese and English pages
are treated alike: links are collected from the whole page first (navigation is
how a crawler finds pages), then site chrome — ``nav``/``header``/``footer``/
``aside`` elements, ARIA landmarks for them, and elements whose class or id names
a menu, sidebar, breadcrumb, table of contents or cookie banner — is removed, and
the page's ``main``/``article`` element (or the body) is kept. The result is a
small UTF-8 HTML document that the ordinary HTML loader turns into Markdown.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from bs4 import BeautifulSoup, Tag

_CHROME_TAGS = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside",
                "form", "iframe", "svg", "button", "dialog"]  # fmt: skip
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"}
_CHROME_NAMES = re.compile(
    r"(^|[-_\s])(nav|navbar|navigation|menu|sidebar|side-bar|breadcrumbs?|toc|"
    r"table-of-contents|cookie|cookies|banner|skip-link|pagination|footer|header)([-_\s]|$)",
    re.I,
)
_CHARSET_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass
class Extracted:
    html: str  # a minimal UTF-8 HTML document with the title and the main content
    title: str | None
    links: list[str]  # absolute URLs, fragments removed, in page order


def sniff_charset(data: bytes) -> str | None:
    """The charset a page declares in a ``<meta>`` tag of its first bytes."""
    match = _CHARSET_META.search(data[:4096])
    return match.group(1).decode("ascii", "replace").lower() if match else None


def extract(page: str, base_url: str) -> Extracted:
    soup = BeautifulSoup(page, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        base_url = urljoin(base_url, str(base["href"]))
    links: list[str] = []
    for anchor in soup.find_all("a", href=True):
        href = str(anchor["href"]).strip()
        if href and not href.startswith(("mailto:", "javascript:", "tel:", "data:")):
            links.append(urldefrag(urljoin(base_url, href))[0])
    for tag in soup(_CHROME_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or not isinstance(tag, Tag) or tag.name in ("html", "body", "main", "article"):
            continue
        attrs = tag.attrs or {}
        role = str(attrs.get("role", "")).lower()
        names = " ".join([*(attrs.get("class") or []), str(attrs.get("id", ""))])
        if role in _CHROME_ROLES or (names.strip() and _CHROME_NAMES.search(names)):
            tag.decompose()
    landmark = soup.find(lambda t: str(t.get("role", "")).lower() == "main")
    main = soup.find("main") or landmark or soup.find("article") or soup.body or soup
    body = main.decode_contents() if isinstance(main, Tag) else str(main)
    head = f"<title>{html_lib.escape(title)}</title>" if title else ""
    document = f'<!doctype html><html><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'
    return Extracted(document, title, links)
