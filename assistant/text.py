"""Text utilities every layer needs: languages, sentences, citation marks, Markdown.

The ground floor beside `assistant.types`: it imports nothing from the package.
One implementation of each: the splitter, the answerers, the frontends and the
evaluation metrics all call these.

- Languages: `detect_language` (``ja`` when Japanese script is present, else ``en``).
- Sentences: `split_sentences` for document text (。！？ and English punctuation,
  newlines); `split_answer_sentences` for answers, which also ends a sentence at
  its ``[n]`` marks and at line ends, so a table-row answer splits where it cites.
- Citation marks ``[n]``: `CITATION`, `citation_numbers`, `strip_citations`,
  `renumber_citations`.
- Markdown: `markdown_blocks` (runs of table and other lines), `parse_table`,
  `is_separator_row`, `strip_markup`, `shortcode_marks`, heading paths joined by
  `HEADING_SEPARATOR`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- languages -----------------------------------------------------------------------

#: Hiragana, katakana, CJK ideographs and half-width katakana.
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


#: Character-class bodies (to put inside ``[...]``): CJK ideographs, and the letters of a
#: Japanese compound noun (kanji and katakana, ー included).
KANJI = "\u3400-\u9fff"
COMPOUND = f"{KANJI}\u30a1-\u30ffー"


def has_japanese(text: str) -> bool:
    return bool(JAPANESE.search(text))


def detect_language(text: str) -> str:
    """``ja`` if the text contains Japanese script, else ``en``."""
    return "ja" if has_japanese(text) else "en"


# --- sentences -----------------------------------------------------------------------

SENTENCE_END = re.compile(r"(?<=[。！？!?．])(?![。！？!?．」』）\)])|(?<=[.;])(?=\s)|\n+")


# An English full stop that ends no sentence: after an initialism ("U.S.", "J. R.") or
# a title or Latin abbreviation ("Dr.", "e.g."), or before a word in lower case. Words of
# the language, like stopwords.
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Mt|Gen|Col|Lt|Capt|Sgt|Rev|Hon|Inc|Ltd|Co|Corp|Ave|Rd|Blvd|Ft|"
    r"vs|etc|e\.g|i\.e|cf|approx|ca|No|Vol|Fig|pp|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.)$"
)
_LOWER_START = re.compile(r"[a-z]")


def split_sentences(text: str) -> list[str]:
    """Split document text into sentences, Japanese and English punctuation alike.
    An English full stop after an abbreviation or before a lower-case word ends no
    sentence ("the largest U.S. city not linked …" stays one sentence)."""
    sentences: list[str] = []
    start, glue = 0, False  # glue: the last sentence ended at an English full stop
    for match in [*SENTENCE_END.finditer(text), None]:
        piece = text[start : match.start() if match else len(text)].strip()
        if piece and glue and _continues(sentences[-1], piece):
            sentences[-1] = f"{sentences[-1]} {piece}"
        elif piece:
            sentences.append(piece)
        if match:
            glue = bool(sentences) and not match.group(0) and text[match.start() - 1] == "."
            start = match.end()
    return sentences


def _continues(previous: str, piece: str) -> bool:
    """Whether `piece` goes on the sentence `previous`: the full stop that ended it
    follows an abbreviation or comes before a word in lower case ("J. P. Morgan")."""
    return previous.endswith(".") and bool(_LOWER_START.match(piece) or _ABBREVIATION.search(previous))


CITATION = re.compile(r"\[(\d+)\]")
_CITATION_RUN = r"(?:\s*\[\d+\])"
# A sentence of an answer ends at a terminator (its citation marks belong to it) or
# at a run of citation marks that more text follows.
_ANSWER_SENTENCE = re.compile(
    rf".+?(?:(?:[。！？!?]|\.(?=\s|$|\[)){_CITATION_RUN}*(?:(?<=\])[。.])?|{_CITATION_RUN}+(?:[。.])?|$)",
    re.S,
)


# the opening or closing line of a fenced code block
FENCE = re.compile(r"^\s*(```|~~~)")


def split_answer_sentences(text: str) -> list[str]:
    """Sentences of an answer, each with the ``[n]`` marks that follow it.

    Line ends and citation marks end a sentence too: ``"A — 秒単位 [1] B — 分単位 [2]"``
    is two sentences. The lines of a fenced code block are quoted code, not sentences.
    A full stop ends no sentence where `split_sentences` would not end one either
    ("financier J. P. Morgan" is one sentence, so it is cited once).
    """
    sentences: list[str] = []
    fence = ""
    for line in text.splitlines():
        if fence or FENCE.match(line):
            opened = FENCE.match(line)
            if fence and line.strip().startswith(fence):
                fence = ""
            elif not fence and opened:
                fence = opened.group(1)
            continue
        first = len(sentences)
        for match in _ANSWER_SENTENCE.finditer(line):
            sentence = match.group(0).strip()
            if not sentence or CITATION.fullmatch(sentence):
                continue
            if len(sentences) > first and _continues(sentences[-1], sentence):
                sentences[-1] = f"{sentences[-1]} {sentence}"
            else:
                sentences.append(sentence)
    return sentences


# --- citation marks ------------------------------------------------------------------


def citation_numbers(text: str) -> list[int]:
    """The ``[n]`` numbers of a text, in order of appearance (repeats kept)."""
    return [int(n) for n in CITATION.findall(text)]


def strip_citations(text: str) -> str:
    """The text without its ``[n]`` marks (and the space before them)."""
    return re.sub(r"\s*\[\d+\]", "", text).strip()


class CitationRenumberer:
    """Renumber ``[n]`` marks in streamed text so sources read 1, 2, 3 in the order cited.

    Feed the pieces as they come; a mark split across pieces (``"[1"``, ``"2]"``) is held
    back until it is complete. Marks of numbers outside ``1..n_passages`` are dropped and
    counted. ``mapping`` holds old number → new number.
    """

    def __init__(self, n_passages: int) -> None:
        self.n_passages = n_passages
        self.mapping: dict[int, int] = {}
        self.dropped = 0
        self._pending = ""

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        cut = text.rfind("[")
        if cut != -1 and re.fullmatch(r"\[\d*", text[cut:]):
            text, self._pending = text[:cut], text[cut:]
        else:
            self._pending = ""
        return CITATION.sub(self._renumber, text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return text

    def _renumber(self, match: re.Match[str]) -> str:
        old = int(match.group(1))
        if not 1 <= old <= self.n_passages:
            self.dropped += 1
            return ""
        new = self.mapping.setdefault(old, len(self.mapping) + 1)
        return f"[{new}]"


# --- Markdown ------------------------------------------------------------------------

HEADING_SEPARATOR = " > "
_MARKUP = re.compile(r"\*\*|__|`|!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
# a table's delimiter row: every cell dashes, with an optional colon at either end
# (``| --- | :-: |``, and the compact ``|-|-|`` of many READMEs)
_SEPARATOR_ROW = re.compile(r"\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*")
# GitHub's emoji shortcodes that mark a table cell yes or no (support matrices): shown as the mark
SHORTCODES = {
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "ballot_box_with_check": "☑️",
    "x": "❌", "heavy_multiplication_x": "✖️", "negative_squared_cross_mark": "❎",
    "warning": "⚠️", "construction": "🚧", "question": "❓", "no_entry": "⛔",
}  # fmt: skip
_SHORTCODE = re.compile(r"(?<![\w:]):([a-z_]+):(?![\w:])")


def join_heading(path: list[str]) -> str:
    return HEADING_SEPARATOR.join(path)


def split_heading(heading: str) -> list[str]:
    return heading.split(HEADING_SEPARATOR) if heading else []


def strip_markup(text: str) -> str:
    """Inline Markdown removed: emphasis, code ticks, images; links keep their text; the
    shortcodes of yes / no marks become the marks."""
    return shortcode_marks(_LINK.sub(r"\1", _MARKUP.sub("", text))).strip()


def is_separator_row(line: str) -> bool:
    """Is the line a Markdown table's delimiter row (``| --- | :-: |``, ``|-|-|``)?"""
    return bool(_SEPARATOR_ROW.fullmatch(line))


def shortcode_marks(text: str) -> str:
    """``:white_check_mark:`` → ✅, ``:x:`` → ❌ …; other shortcodes stay as written."""
    return _SHORTCODE.sub(lambda m: SHORTCODES.get(m.group(1), m.group(0)), text)


def is_table_line(line: str) -> bool:
    return line.lstrip().startswith("|")


def markdown_blocks(text: str) -> list[tuple[bool, str]]:
    """Split text into runs of table lines (``True``) and of other lines (``False``).

    A lone ``|`` line is not a table and is dropped; blocks keep their line breaks.
    """
    blocks: list[tuple[bool, list[str]]] = []
    for line in text.split("\n"):
        table = is_table_line(line)
        if blocks and blocks[-1][0] == table:
            blocks[-1][1].append(line)
        else:
            blocks.append((table, [line]))
    return [(t, "\n".join(lines)) for t, lines in blocks if not t or len(lines) >= 2]


@dataclass
class Table:
    """A Markdown table: its header cells and body rows, inline markup removed."""

    header: list[str]
    rows: list[list[str]]

    def columns(self) -> dict[str, list[str]]:
        """Column name → values, for display; unnamed or repeated columns get a number."""
        out: dict[str, list[str]] = {}
        for i, name in enumerate(self.header):
            key = name if name and name not in out else f"{name or '#'}{i + 1}"
            out[key] = [row[i] if i < len(row) else "" for row in self.rows]
        return out


def parse_table(block: str) -> Table:
    """Parse a Markdown table (header row, separator row, body rows)."""
    lines = [line for line in block.split("\n") if is_table_line(line)]
    cells = [
        [strip_markup(cell) for cell in line.strip().strip("|").split("|")]
        for line in lines
        if not is_separator_row(line)
    ]
    if not cells:
        return Table([], [])
    return Table(cells[0], cells[1:])
