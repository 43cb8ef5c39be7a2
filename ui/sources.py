"""How a source is shown: safe Markdown, where the document lives, how relevant it is.

Document text is rendered as Markdown (bold, lists, tables, links) but never as
HTML: ``<``, ``>`` and ``&`` are escaped, so markup in a document shows as text;
images are turned into links (no remote loads), and Streamlit's own directives
(``:red[…]``, ``:material/…:``, ``$…$``) are escaped.
"""

from __future__ import annotations

import re

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


def source_location(passage: Passage) -> tuple[str, str | None]:
    """What to show for a passage's document: (label, URL or None), as the core located it
    (`Passage.location`): never an absolute server path."""
    return str(passage.metadata.get("path") or passage.location), passage.url


def coverage_percent(passage: Passage) -> int:
    """The share of the question's words found in the passage, in percent (what people understand)."""
    return round(max(0.0, min(1.0, passage.term_coverage)) * 100)
