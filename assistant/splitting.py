"""Splitting: documents become chunks that know where they come from.

Japanese-aware: sentences end at 。！？ (and their half-width forms), at English
sentence punctuation followed by a space, and at newlines. Markdown headings
give each chunk its heading path (``概要 > 各技術の詳細``); tables and code
blocks are kept whole where they fit in a chunk.

A section that holds nothing but a figure (an image's caption and its credit line) is not
a chunk: it states nothing, and as a passage of a few Latin words (「（Container vs VM）
*(出典: Docker Docs)*」) it was among the four retrieved for 24 of the 96 questions of the
seed development split, first for 7 of them. Chunks are as valid either way, so the
splitter's version stays: an index built before keeps such a passage until its document
changes or ``assistant ingest --rebuild``.

What is embedded and indexed lexically is the chunk's *contextual text*: a header
line with the document title and heading path (``Title > 概要 > 各技術の詳細``)
before the body, so that a passage knows where it stands (`contextual_text`). The
header's format is recorded in the index manifest (`header_format`): changing it
asks for ``assistant ingest --rebuild``. Header on vs off was compared on the
JSQuAD dev half (benchmarks/jsquad_retrieval.py); see assistant/retrieval.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.loading import Document
from assistant.text import FENCE, HEADING_SEPARATOR, is_separator_row, split_sentences

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# A block of figure lines only: an image's caption (its alt text, 「（Container vs VM）」, as
# `assistant.loading` leaves it) or a credit in brackets (「*(出典: Docker Docs)*」)
_FIGURE = re.compile(r"(?:\s*[*_]*\s*[（(][^）)\n]*[）)]\s*[*_]*\s*(?:\n|$))+")
#: The contextual header's format, as recorded in the manifest; change the name when
#: `contextual_text` changes.
HEADER_FORMAT = "title>headings\\n:v1"


def header_format(enabled: bool) -> str:
    return HEADER_FORMAT if enabled else "off"


def contextual_text(text: str, title: str, heading_path: list[str], header: bool = True) -> str:
    """The text that is embedded and indexed: a header line with the document title and
    heading path, then the passage (the passage alone when ``header`` is off)."""
    context = HEADING_SEPARATOR.join(part for part in [title, *heading_path] if part)
    return f"{context}\n{text}" if header and context else text


@dataclass(frozen=True)
class SplitterConfig:
    chunk_size: int = 500
    chunk_overlap: int = 100

    def as_dict(self) -> dict[str, Any]:
        return {"chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap, "version": 1}


@dataclass
class Chunk:
    """A piece of a document: the unit that is embedded, retrieved and cited."""

    id: str
    text: str
    source: str
    title: str
    heading_path: list[str]
    ordinal: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return HEADING_SEPARATOR.join(self.heading_path)

    @property
    def embedding_text(self) -> str:
        """What is embedded and indexed: the passage with its title and headings."""
        return contextual_text(self.text, self.title, self.heading_path)


def split_document(doc: Document, config: SplitterConfig) -> list[Chunk]:
    """Split one document into chunks with stable, content-derived ids."""
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for path, blocks in _sections(doc.text, doc.title):
        for text in _pack(blocks, config):
            digest = hashlib.sha256(f"{doc.source}\n{text}".encode()).hexdigest()[:24]
            repeat = seen.get(digest, 0)
            seen[digest] = repeat + 1
            chunk_id = digest if repeat == 0 else f"{digest}-{repeat}"
            chunks.append(Chunk(chunk_id, text, doc.source, doc.title, list(path), len(chunks), {}))
    return chunks


def _sections(text: str, title: str) -> Iterator[tuple[tuple[str, ...], list[str]]]:
    """Yield ``(heading_path, blocks)``; a block is a paragraph, list, table or code block."""
    stack: list[tuple[int, str]] = []
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False

    def flush_block() -> None:
        if current and any(line.strip() for line in current):
            blocks.append("\n".join(current).strip("\n"))
        current.clear()

    def path() -> tuple[str, ...]:
        names = [name for _, name in stack]
        # The document's own H1 is its title, shown separately.
        if names and stack[0][0] == 1 and _plain(names[0]) == _plain(title):
            names = names[1:]
        return tuple(_plain(name) for name in names)

    for line in text.split("\n"):
        if FENCE.match(line):
            if not in_fence:
                flush_block()
            current.append(line)
            in_fence = not in_fence
            if not in_fence:
                flush_block()
            continue
        if in_fence:
            current.append(line)
            continue
        heading = HEADING.match(line)
        if heading:
            flush_block()
            if blocks and not all(_FIGURE.fullmatch(block) for block in blocks):
                yield path(), blocks
            blocks = []
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2)))
            continue
        if not line.strip() or re.fullmatch(r"\s*(-{3,}|\*{3,}|_{3,})\s*", line):
            flush_block()
            continue
        is_table = line.lstrip().startswith("|")
        if current and is_table != current[-1].lstrip().startswith("|"):
            flush_block()
        current.append(line)
    flush_block()
    if blocks and not all(_FIGURE.fullmatch(block) for block in blocks):
        yield path(), blocks


def _plain(heading: str) -> str:
    return re.sub(r"[*_`]", "", heading).strip()


def _pack(blocks: list[str], config: SplitterConfig) -> Iterator[str]:
    """Pack blocks into chunks of at most ``chunk_size`` characters, with overlap."""
    size, overlap = config.chunk_size, config.chunk_overlap
    pieces: list[str] = []
    for block in blocks:
        if len(block) <= size:
            pieces.append(block)
        elif block.lstrip().startswith("|"):
            pieces.extend(_split_table(block, size))
        else:
            pieces.extend(_split_long(block, size))
    current: list[str] = []
    length = 0
    for piece in pieces:
        if current and length + len(piece) + 1 > size:
            yield "\n".join(current)
            current, length = _overlap_tail(current, overlap, size - len(piece) - 1)
        current.append(piece)
        length += len(piece) + 1
    if current:
        yield "\n".join(current)


def _overlap_tail(pieces: list[str], overlap: int, room: int) -> tuple[list[str], int]:
    """The trailing sentences of the previous chunk that fit in ``overlap`` characters."""
    tail: list[str] = []
    length = 0
    limit = min(overlap, room)
    for piece in reversed(pieces):
        if piece.lstrip().startswith(("|", "```", "~~~")):
            break
        for sentence in reversed(split_sentences(piece)):
            if length + len(sentence) + 1 > limit:
                return tail, length
            tail.insert(0, sentence)
            length += len(sentence) + 1
    return tail, length


def _split_long(block: str, size: int) -> list[str]:
    out: list[str] = []
    for sentence in split_sentences(block):
        while len(sentence) > size:  # a single sentence longer than a chunk
            out.append(sentence[:size])
            sentence = sentence[size:]
        if sentence:
            out.append(sentence)
    return out


def _split_table(table: str, size: int) -> list[str]:
    """Split a large table by rows, repeating the header in every part."""
    rows = table.split("\n")
    header = rows[:2] if len(rows) > 1 and is_separator_row(rows[1]) else []
    body = rows[len(header) :]
    parts: list[str] = []
    current = list(header)
    for row in body:
        if len("\n".join([*current, row])) > size and len(current) > len(header):
            parts.append("\n".join(current))
            current = list(header)
        current.append(row[:size])
    if len(current) > len(header) or not parts:
        parts.append("\n".join(current))
    return parts
