"""How a source is shown: safe Markdown, where the document lives, how relevant it is.

Document text is rendered as Markdown (bold, lists, tables, links) but never as
HTML: ``<``, ``>`` and ``&`` are escaped, so markup in a document shows as text;
images are turned into links (no remote loads), and Streamlit's own directives
(``:red[…]``, ``:material/…:``, ``$…$``) are escaped.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from assistant.settings import Settings
from assistant.types import Passage

_INLINE_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^\"'])")
_HTML = re.compile(r"[<>&]")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_IMAGE = re.compile(r"!\[")


def escape_markdown(value: str) -> str:
    """Show ``value`` literally: every Markdown/HTML character escaped, line breaks kept."""
    lines = [_INLINE_SPECIAL.sub(r"\\\1", line.strip()) for line in value.splitlines()]
    return "  \n".join(lines)


def escape_inline(piece: str) -> str:
    """`escape_markdown` for a piece of text whose surrounding spaces matter."""
    return _INLINE_SPECIAL.sub(r"\\\1", piece).replace("\n", "  \n")


def safe_markdown(text: str) -> str:
    """Markdown of a document, rendered as Markdown but never as HTML or Streamlit directives."""
    lines = []
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            lines.append(line)
            continue
        if in_code:  # code blocks show their content literally already
            lines.append(line)
            continue
        line = _HTML.sub(lambda m: "\\" + m.group(0), line)
        line = line.replace("$", "\\$").replace(":", "\\:")
        line = _IMAGE.sub("\\!\\[", line)
        heading = _HEADING.match(line)
        if heading:  # a heading inside a passage: bold, not a page-sized title
            line = f"**{heading.group(2)}**"
        lines.append(line)
    if in_code:
        lines.append("```")
    return "\n".join(lines)


def relative_source(source: str, settings: Settings) -> str | None:
    """The document's path relative to the corpus (or the upload folder); None when outside both."""
    path = Path(source)
    roots = [(Path(c), True) for c in settings.corpus] + [(settings.data_dir / "uploads", False)]
    for root, is_corpus in roots:
        try:
            base = root.resolve()
            if base.is_file():
                base = base.parent
            relative = path.resolve().relative_to(base)
        except (OSError, ValueError):
            continue
        posix = PurePosixPath(*relative.parts).as_posix()
        return posix if is_corpus else f"uploads/{posix}"
    return None


def source_location(passage: Passage, settings: Settings) -> tuple[str, str | None]:
    """What to show for a passage's document: (label, URL or None). Never an absolute server path."""
    if passage.url:
        return passage.url, passage.url
    if re.match(r"https?://", passage.source):
        return passage.source, passage.source
    relative = relative_source(passage.source, settings)
    if relative is None:
        return Path(passage.source).name, None
    if settings.source_url_base and not relative.startswith("uploads/"):
        return relative, settings.source_url_base.rstrip("/") + "/" + quote(relative)
    return relative, None


def coverage_percent(passage: Passage) -> int:
    """The share of the question's words found in the passage, in percent (what people understand)."""
    return round(max(0.0, min(1.0, passage.term_coverage)) * 100)
