"""Loading: files on disk become `Document`s with clean, readable text.

Markdown, plain text, HTML and PDF are understood. Text files may be UTF-8 (with
or without a BOM), Shift_JIS/CP932, EUC-JP or anything charset-normalizer can
identify. Markdown front matter becomes metadata; Hugo shortcodes, mkdocs
admonitions, GitHub alerts and HTML comments are cleaned away so that only
readable text is embedded. A file that cannot be read is reported as skipped,
never fatal for the rest of an ingest.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import LoaderError
from assistant.types import (
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    PDF_SUFFIXES,
    SUPPORTED_SUFFIXES,
    Skipped,
)

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024  # a hard ceiling for direct callers; ingest applies max_file_mb


@dataclass
class Document:
    """A loaded document: Markdown-flavoured text plus metadata."""

    source: str
    text: str
    title: str
    content_hash: str
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. bytes replaced while decoding


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_name(path: Path | str | bytes) -> str:
    """A file name that can always be shown and stored: undecodable bytes become ``\\xNN``.

    Names that are not valid in the file system's encoding (e.g. CP932 names unpacked from
    a Japanese Windows zip on a UTF-8 system) arrive as surrogate escapes; they would break
    any later encoding to UTF-8.
    """
    name = os.fsdecode(os.fspath(path))
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass
class Scan:
    """What walking the given directories found: files, and what could not be looked at."""

    files: list[tuple[Path, Path]] = field(default_factory=list)  # (file, root)
    problems: list[Skipped] = field(default_factory=list)  # unreadable directories
    unscanned: list[Path] = field(default_factory=list)  # their paths, never pruned


def scan_dir(root: Path, include: list[str], exclude: list[str]) -> Scan:
    """Every file under ``root`` that the globs select, sorted; unreadable directories are
    reported (with their safe names), not silently skipped."""
    scan = Scan()

    def failed(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        scan.unscanned.append(where)
        reason = f"directory cannot be read ({exc.strerror or exc}); files under it were left as they are"
        scan.problems.append(Skipped(safe_name(where), reason))

    for directory, dirs, names in os.walk(root, onerror=failed):
        dirs.sort()
        for name in sorted(names):
            candidate = Path(directory) / name
            rel = candidate.relative_to(root).as_posix()
            if not any(_glob_match(rel, pattern) for pattern in include):
                continue
            if any(_glob_match(rel, pattern) for pattern in exclude):
                continue
            scan.files.append((candidate, root))
    scan.files.sort()
    return scan


def iter_files(paths: Iterable[Path], include: list[str], exclude: list[str]) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every file under ``paths`` that the globs select.

    A path given directly as a file is always yielded (its type is checked on load).
    """
    for path in paths:
        if path.is_file():
            yield path, path.parent
        elif path.is_dir():
            yield from scan_dir(path, include, exclude).files
        else:
            raise LoaderError(
                f"{safe_name(path)} does not exist.", "Check the path; give files or directories to ingest."
            )


def _glob_match(rel: str, pattern: str) -> bool:
    # "**/*.md" must also match "a.md" at the top level.
    return fnmatch(rel, pattern) or (pattern.startswith("**/") and fnmatch(rel, pattern[3:]))


def load_file(path: Path, source: str | None = None) -> Document:
    """Load one file. Raises `LoaderError` with a reason when it cannot be read."""
    source = source or path.as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(f"{source}: cannot be read ({exc.strerror or exc}).") from None
    return load_bytes(data, source, suffix=path.suffix.lower())


def load_bytes(
    data: bytes, source: str, suffix: str, *, utf8_tolerance: float = 0.01, max_bytes: int = MAX_FILE_BYTES
) -> Document:
    """Load a document from raw bytes; ``suffix`` (e.g. ``.md``) selects the format."""
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoaderError(
            f"{source}: unsupported file type {suffix or '(none)'}.",
            f"Supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}.",
        )
    if len(data) > max_bytes:
        raise LoaderError(f"{source}: larger than the limit of {max_bytes / 2**20:g} MB, skipped.")
    digest = file_hash(data)
    metadata: dict[str, Any] = {}
    warnings: list[str] = []
    if suffix in PDF_SUFFIXES:
        text = _pdf_text(data, source)
    else:
        raw = decode_text(data, source, utf8_tolerance=utf8_tolerance, warnings=warnings)
        if suffix in MARKDOWN_SUFFIXES:
            metadata, body = split_front_matter(raw)
            text = clean_markdown(body)
        elif suffix in HTML_SUFFIXES:
            text, html_title = html_to_markdown(raw)
            if html_title:
                metadata["title"] = html_title
        else:
            text = raw
    text = _normalise_newlines(text).strip()
    if not text and metadata.get("description"):
        text = str(metadata["description"])  # e.g. a section index page: its summary is its text
    if not text:
        raise LoaderError(f"{source}: contains no readable text.")
    title = str(metadata.get("title") or _first_heading(text) or Path(source).stem)
    return Document(source, text, title, digest, metadata, warnings)


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_text(
    data: bytes, source: str, *, utf8_tolerance: float = 0.01, warnings: list[str] | None = None
) -> str:
    """Decode bytes in any of the encodings Japanese text commonly uses.

    A byte-order mark decides only when the bytes really decode in its encoding. UTF-8
    with a few invalid bytes (at most ``utf8_tolerance`` of them) is decoded with
    replacement characters and a warning appended to ``warnings``.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            unit = 4 if encoding == "utf-32" else 2 if encoding == "utf-16" else 1
            whole = data[: len(data) - len(data) % unit]
            try:
                text = whole.decode(encoding)
            except UnicodeDecodeError:
                break  # a BOM lookalike, not that encoding: decide by content below
            if len(whole) < len(data) and warnings is not None:
                warnings.append(f"the file ends in the middle of a {encoding} character (truncated?)")
            if _looks_like_text(text):
                return text
            break
    if b"\x00" in data[:8192]:
        raise LoaderError(f"{source}: looks like a binary file, not text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    replaced = data.decode("utf-8", errors="replace")
    invalid = replaced.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    if invalid <= max(1, utf8_tolerance * len(data)) and _mostly_utf8(data):
        if warnings is not None:
            warnings.append(f"{invalid} invalid byte sequence(s) replaced by \ufffd while decoding UTF-8")
        return replaced.removeprefix("\ufeff")
    for encoding in ("cp932", "euc_jp"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not _looks_like_text(str(best)):
        raise LoaderError(
            f"{source}: the text encoding could not be recognised.",
            "Save the file as UTF-8 and ingest it again.",
        )
    return str(best)


def _mostly_utf8(data: bytes) -> bool:
    """True when the file has multi-byte UTF-8 sequences (or is ASCII) rather than a legacy
    double-byte encoding that happens to contain a few valid UTF-8 pairs."""
    high = sum(1 for b in data if b >= 0x80)
    if not high:
        return True
    valid = len(data.decode("utf-8", errors="ignore").encode("utf-8")) - sum(1 for b in data if b < 0x80)
    return valid / high >= 0.5


def _looks_like_text(text: str) -> bool:
    if not text:
        return True
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    return control / len(text) < 0.01


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- Markdown --------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)\s*\n(.*?)\n(?:---|\+\+\+)\s*(?:\n|\Z)", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SHORTCODE = re.compile(r"\{\{[<%]\s*(/?)\s*([\w./-]*)(.*?)\s*[>%]\}\}", re.S)
_ADMONITION = re.compile(r'^(\s*)(?:!!!|\?\?\?\+?)\s*(\w+)(?:\s+"([^"]*)")?\s*$')
_GH_ALERT = re.compile(r"^(\s*>\s*)\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$", re.I)
_FENCE = re.compile(r"^\s*(```|~~~)")
_ATTR_LIST = re.compile(r"\s*\{:?\s*[#.][^}]*\}\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return ``(metadata, body)``; YAML (``---``) and TOML (``+++``) front matter."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        return {}, text
    block = match.group(1)
    meta: dict[str, Any] = {}
    try:
        if text.lstrip().startswith("+++"):
            import tomllib

            meta = tomllib.loads(block)
        else:
            loaded = yaml.safe_load(block)
            meta = loaded if isinstance(loaded, dict) else {}
    except Exception as exc:  # malformed front matter is not fatal: keep the body
        log.warning("front matter could not be parsed (%s); ignoring it", exc)
    keep = {k: v for k, v in meta.items() if k in {"title", "description", "linktitle"} and v}
    return {k: str(v) for k, v in keep.items()}, text[match.end() :]


def clean_markdown(text: str) -> str:
    """Remove markup that is not readable text, outside of code blocks."""
    parts = re.split(r"(^\s*(?:```|~~~).*?^\s*(?:```|~~~)[^\n]*$)", text, flags=re.M | re.S)
    text = "".join(
        part if i % 2 else _SHORTCODE.sub(_shortcode_replacement, _HTML_COMMENT.sub("", part))
        for i, part in enumerate(parts)
    )
    out: list[str] = []
    in_fence = False
    admonition_indent: int | None = None
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            continue
        if in_fence:
            out.append(line)
            continue
        if admonition_indent is not None:
            stripped = line.strip()
            indent = len(line) - len(line.lstrip())
            if stripped and indent <= admonition_indent:
                admonition_indent = None
            else:
                out.append(line[admonition_indent + 4 :] if stripped else "")
                continue
        adm = _ADMONITION.match(line)
        if adm:
            admonition_indent = len(adm.group(1))
            label = adm.group(3) or adm.group(2).capitalize()
            out.append(f"{adm.group(1)}**{label}:**" if label else "")
            continue
        alert = _GH_ALERT.match(line)
        if alert:
            out.append(f"{alert.group(1)}**{alert.group(2).capitalize()}:**")
            continue
        # Images carry no readable text beyond their alt text, which becomes a caption.
        line = _IMAGE.sub(lambda m: f"（{m.group(1)}）" if m.group(1) else "", line)
        out.append(_ATTR_LIST.sub("", line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


def _shortcode_replacement(match: re.Match[str]) -> str:
    """Hugo shortcodes: keep readable arguments (titles, glossary terms), drop the tag."""
    closing, name, args = match.group(1), match.group(2), match.group(3)
    if closing:
        return ""
    if name in {"glossary_tooltip", "glossary_definition"}:
        text = re.search(r'text="([^"]*)"', args)
        return text.group(1) if text else ""
    for key in ("title", "text", "caption"):
        found = re.search(rf'{key}="([^"]*)"', args)
        if found:
            return found.group(1)
    return ""


def _first_heading(text: str) -> str | None:
    match = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)
    return match.group(1).strip() if match else None


# --- HTML and PDF ----------------------------------------------------------------------


def html_to_markdown(raw: str) -> tuple[str, str | None]:
    """Readable text of an HTML page, headings turned into Markdown headings."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    title = soup.title.get_text(strip=True) if soup.title else None
    for tag in soup(["script", "style", "noscript", "template", "head", "nav", "footer"]):
        tag.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    for item in soup.find_all("li"):
        item.insert_before("\n- ")
    for block in soup.find_all(["p", "div", "tr", "br", "table", "ul", "ol", "pre"]):
        block.insert_after("\n")
    text = soup.get_text()
    lines = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)), title


def _pdf_text(data: bytes, source: str) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise LoaderError(f"{source}: not a readable PDF ({exc}).") from None
    return "\n\n".join(page.strip() for page in pages if page.strip())
