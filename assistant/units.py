"""Evidence units: the pieces of a passage an answer is built from, each with its context.

A passage (Markdown) becomes units a reader can understand on their own:

- a **cell** of a table, with its row label and column header
  (``起動速度 — 仮想マシン: 低速（分単位）``), and the whole **row** for comparisons;
- a **list item**, with the lead-in that introduces the list (the sentence above it
  ending in a colon or announcing what follows, 「次のものは…」 / "the following", or the
  parent item of a nested list) and the heading path that names its subject;
- a **sentence**, together with the sentence before it when it opens with a
  demonstrative, a connective or a word for "both" (これにより・そのため・この・それ・
  どちらも / This, It, Therefore, Both …), a pronoun (彼女は / she) or a word for "the
  same year" (同年・翌月・同社), or a number or part of what was named ("All three …",
  "The other third …", "The result …"): the pattern classes below, not words of any corpus. A
  sentence is whole across its semicolons, where the splitter cuts chunks short ("The
  cavity forms: a mouth …; a pharynx …; …" is one unit);
- a **code block**, whole and as written, with the lead-in above it: a command or a
  file is copied, not read as sentences (``console $ docker ps CONTAINER ID …`` was
  quoted as a statement). `assistant.answerers.extractive` lets it answer only a
  question that asks for a command, a file, an option or a field.

Markdown markup (emphasis, links, images, code marks, quotation marks) is removed from
everything a reader sees but code, and a backslash escape stands as the character it escapes
(a man page's ``podman\\-machine\\-reset`` was read as the option ``-machine`` by an option
question of the related development split). Every unit's text is made only of the passage's own words, so an answer
built from units is faithful by construction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.text import FENCE, is_separator_row, shortcode_marks, split_sentences

_MARKUP = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`|!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+")
_HEADING = re.compile(r"^#{1,6}\s")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*[.)]?|[IVX]+\.)\s+")
# A list item that starts with a label: "**Label**: body" or "Label: body".
_ITEM_LABEL = re.compile(r"^\s*(?:\*\*(?P<bold>[^*]{1,60})\*\*\s*[:：]?|(?P<plain>[^:：。.]{1,40})[:：])\s*")
_COLON_END = re.compile(r"[:：]\s*(?:\*\*)?\s*$")
# a sentence that announces what follows it: 次の・以下の / "the following", "as follows"
_FOLLOWING = re.compile(r"(?:次|以下)の|\b(?:the following|as follows)\b", re.I)

# Sentences that lean on the one before: Japanese ko-/so- demonstratives and connectives,
# English pronouns and discourse connectives at the start of the sentence.
ANAPHORA_JA = re.compile(
    r"^(?:[こそ](?:れ|の|う|ちら|こ)|こうした|そうした|このため|そのため|したがって|従って|よって|"
    r"ゆえに|つまり|すなわち|なぜなら|ただし|しかし|一方|また|さらに|なお|それ[にでが]|"
    r"どちらも|いずれも|どれも|両者|両方|だが|ところが|けれども|でも|彼[はがの]|彼女[はがの]|"
    # 同年・翌月・同社: "the same year", "the next month", "the said company" name nothing themselves
    r"同(?:年|月|日|社|氏|党|国|市|町|村|県|校|局|書|法|作|曲|機|船|艦|駅|線|地|所|会|大学|時期)|"
    r"翌(?:年|月|日|朝|週|春|夏|秋|冬)|前年|前月|前日|同じ年)"
)
ANAPHORA_EN = re.compile(
    r"^(?:this|that|these|those|it|its|they|their|such|therefore|thus|hence|so|consequently|"
    r"as a result|because of this|however|also|moreover|in addition|in contrast|both|either|neither|"
    r"he|she|his|her|"
    # numbers and parts of what was named before: "All three …", "The other third …", "The result …"
    r"all (?:two|three|four|five|six|seven|eight|nine|ten)|each of|one of (?:them|these|those)|none of|"
    r"the (?:two|three|four|five|other|others|rest|remainder|latter|former|result|outcome|same)|"
    # a time told by the one before, as 同年・翌年 are: "In the same year …", "Later that month …"
    r"(?:(?:in|during|by|at|later|earlier|early|late)(?: in)? )?(?:the same|that|the following|the next|"
    r"the previous|the preceding) (?:year|month|week|day|decade|century|season|time|period)|"
    r"(?:a|one|two|three|four|five|six|seven|eight|nine|ten|several|a few) (?:years?|months?|weeks?|days?) "
    r"(?:later|earlier|after(?:wards?)?|before))\b",
    re.IGNORECASE,
)


@dataclass
class Unit:
    """One piece of evidence from one passage."""

    text: str  # what the reader sees (clean, no markup)
    passage: int  # 1-based number of the passage it comes from
    kind: str  # "cell", "row", "item", "sentence", "code"
    position: int  # order within the passage
    context: list[str] = field(default_factory=list)  # heading path, lead-in, labels (for matching)
    subject: str = ""  # what the unit is about: row label, list's heading, item label
    label: str = ""  # the attribute: a column header, an item's label
    value: str = ""  # a cell's value
    lead: str = ""  # a list's lead-in
    antecedent: str = ""  # the sentence a demonstrative points to
    group: str = ""  # units of one list or one table share a group
    score: float = 0.0
    restates: bool = False  # its own words are the question's: the fact asked for lies beside it
    names_nothing: bool = False  # a who / where question: it names nothing the question does not
    asked_row: bool = False  # a table row whose label the question names (in either language)
    subjectless: bool = False  # a Japanese sentence with no topic (は・も): its subject goes unsaid
    fills: bool = False  # it holds a compound of the noun the question asks for (揚子江気団 for 何気団)
    title: str = ""  # the title of the passage's document

    @property
    def match_text(self) -> str:
        """The unit with its context, as matched against the question."""
        return " ".join([*self.context, self.lead, self.antecedent, self.text]).strip()

    @property
    def reader_text(self) -> str:
        """The unit as quoted, its antecedent first."""
        return f"{self.antecedent}{_joiner(self.antecedent)}{self.text}" if self.antecedent else self.text


def clean(text: str) -> str:
    """Text without Markdown markup; a character escaped with a backslash (``podman\\-machine``,
    ``\\*``) stands as written."""
    text = _ESCAPED_MARK.sub(lambda m: _KEEP[m.group(1)], text)
    text = _LINK.sub(r"\1", _MARKUP.sub("", _ESCAPE.sub(r"\1", text)))
    text = shortcode_marks(text).translate(_RESTORE)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


# Markdown's backslash escapes; the marks that are also markup are kept apart while it is removed
_ESCAPE = re.compile(r"\\([\\{}\[\]()#+\-.!|<>~])")
_ESCAPED_MARK = re.compile(r"\\([*_`])")
_KEEP = {"*": "\ue001", "_": "\ue002", "`": "\ue003"}
_RESTORE = str.maketrans({"\ue001": "*", "\ue002": "_", "\ue003": "`"})


def plain_heading(heading: str) -> str:
    return _NUMBERING.sub("", clean(heading)).strip()


def passage_units(text: str, number: int, heading_path: Sequence[str] = (), title: str = "") -> list[Unit]:
    """Split one passage into evidence units."""
    headings = [h for h in (plain_heading(h) for h in heading_path) if h]
    units: list[Unit] = []
    for index, block in enumerate(_blocks(text)):
        group = f"{number}:{index}"
        if FENCE.match(block[0]):
            units.extend(_code_units(block, number, headings, _lead_in(units), group))
        elif block[0].lstrip().startswith("|"):
            units.extend(_table_units(block, number, headings, group))
        elif _BULLET.match(block[0]):
            lead = _lead_in(units)
            units.extend(_list_units(block, number, headings, lead, group))
        else:
            units.extend(_sentence_units(" ".join(block), number, headings, group))
    for position, unit in enumerate(units):
        unit.position = position
        unit.title = title
    return units


def subject_of(headings: Sequence[str]) -> str:
    """The heading that names a section's subject: the deepest one, unless it is a bare facet.

    A facet heading (「主な特徴」, "Features") is short and repeats under several subjects;
    without the whole document at hand, a short last heading under a longer parent is
    taken as a facet and the parent names the subject. A heading that asks a question
    (「どちらを選ぶべきか？」) names no subject.
    """
    headings = [h for h in headings if not re.search(r"[？?]\s*$", h)]
    if not headings:
        return ""
    last = headings[-1]
    if len(headings) >= 2 and len(last) <= 8 and len(headings[-2]) > len(last):
        return headings[-2]
    return last


# --- blocks ---------------------------------------------------------------------------


def _blocks(text: str) -> list[list[str]]:
    """Paragraphs, lists, tables and code blocks of a passage (as lists of lines; a code
    block keeps its fences). A quotation's ``>`` marks are dropped: what it quotes is text."""
    blocks: list[list[str]] = []
    current: list[str] = []
    kind = ""
    fence = ""
    for line in text.split("\n"):
        if fence:
            current.append(line)
            if line.strip().startswith(fence):
                blocks.append(current)
                current, kind, fence = [], "", ""
            continue
        if found := FENCE.match(line):
            if current:
                blocks.append(current)
            current, kind, fence = [line], "code", found.group(1)
            continue
        line = _QUOTE.sub("", line)
        stripped = line.strip()
        if not stripped or re.fullmatch(r"(-{3,}|\*{3,}|_{3,})", stripped) or _HEADING.match(stripped):
            if current:
                blocks.append(current)
            current, kind = [], ""
            continue
        line_kind = "table" if stripped.startswith("|") else "list" if _BULLET.match(line) else "text"
        if line_kind == "text" and kind == "list" and line.startswith((" ", "\t")):
            current[-1] = f"{current[-1]} {stripped}"  # continuation of an item
            continue
        if current and line_kind != kind:
            blocks.append(current)
            current = []
        kind = line_kind
        current.append(line)
    if current:
        blocks.append(current)
    return blocks


def _table_units(lines: list[str], number: int, headings: list[str], group: str) -> list[Unit]:
    rows = [[clean(c) for c in line.strip().strip("|").split("|")] for line in lines]
    body = [r for line, r in zip(lines, rows, strict=True) if not is_separator_row(line)]
    if len(body) < 2:
        return []
    header, body = body[0], body[1:]
    units: list[Unit] = []
    for cells in body:
        if not cells or not any(cells):
            continue
        label, values = cells[0], cells[1:]
        parts = []
        for column, value in zip(header[1:], values, strict=False):
            if not value:
                continue
            parts.append(f"{column}: {value}" if column else value)
            units.append(
                Unit(
                    f"{label} — {column}: {value}" if column else f"{label}: {value}",
                    number,
                    "cell",
                    0,
                    [*headings, header[0]],
                    subject=column,
                    label=label,
                    value=value,
                    group=group,
                )
            )
        if parts:
            units.append(
                Unit(
                    f"{label} — " + " / ".join(parts),
                    number,
                    "row",
                    0,
                    [*headings, header[0]],
                    subject=label,
                    label=label,
                    group=group,
                )
            )
    return units


def _code_units(lines: list[str], number: int, headings: list[str], lead: str, group: str) -> list[Unit]:
    """A code block is one unit, as written: a command or a file to copy, never split into
    sentences nor stripped of its marks."""
    body = lines[1:-1] if len(lines) > 1 and FENCE.match(lines[-1]) else lines[1:]
    code = "\n".join(body).strip("\n")
    if not code.strip():
        return []
    return [
        Unit(code, number, "code", 0, list(headings), subject=subject_of(headings), lead=lead, group=group)
    ]


def _lead_in(units: list[Unit]) -> str:
    """The sentence just before a list, when it introduces it: it ends in a colon, or it
    announces what follows (「次のものは…共有されたままです。」, "… the following.")."""
    if (
        units
        and units[-1].kind == "sentence"
        and (is_lead_in(units[-1].text) or _FOLLOWING.search(units[-1].text))
    ):
        return units[-1].text
    return ""


def _list_units(lines: list[str], number: int, headings: list[str], lead: str, group: str) -> list[Unit]:
    units: list[Unit] = []
    parents: list[tuple[int, str]] = []  # (indent, text) of items that introduce nested items
    subject = subject_of(headings)
    for line in lines:
        match = _BULLET.match(line)
        if not match:
            continue
        indent = len(match.group(1).expandtabs(4))
        raw = line[match.end() :].strip()
        while parents and parents[-1][0] >= indent:
            parents.pop()
        item = clean(raw)
        if _COLON_END.search(raw) or _COLON_END.search(item):
            parents.append((indent, re.sub(r"\s*[:：]\s*$", "", item)))
            continue  # an item that only introduces the nested ones
        label_match = _ITEM_LABEL.match(raw)
        label = clean(label_match.group("bold") or label_match.group("plain") or "") if label_match else ""
        item_lead = parents[-1][1] if parents else lead
        sentences = [s for s in split_sentences(item) if s]
        for i, sentence in enumerate(sentences or [item]):
            antecedent = sentences[i - 1] if i and is_anaphoric(_strip_label(sentence, label)) else ""
            units.append(
                Unit(
                    sentence,
                    number,
                    "item",
                    0,
                    list(headings),
                    subject=subject,
                    label=label,
                    lead=item_lead,
                    antecedent=antecedent,
                    group=f"{group}:{item_lead}",
                )
            )
        if len(sentences) > 1:  # the whole item, for answers that want all of it
            units.append(
                Unit(
                    item,
                    number,
                    "item",
                    0,
                    list(headings),
                    subject=subject,
                    label=label,
                    lead=item_lead,
                    group=f"{group}:{item_lead}:whole",
                )
            )
    return units


def _sentence_units(text: str, number: int, headings: list[str], group: str) -> list[Unit]:
    text = clean(text)
    if not text or (text.startswith(("（", "(")) and text.endswith(("）", ")"))):
        return []  # a caption
    sentences = [s for s in _clauses_joined(split_sentences(text)) if len(s) >= 4]
    units = []
    subject = subject_of(headings)
    for i, sentence in enumerate(sentences):
        antecedent = sentences[i - 1] if i and is_anaphoric(sentence) else ""
        units.append(Unit(sentence, number, "sentence", 0, list(headings), subject=subject,
                          antecedent=antecedent, group=group))  # fmt: skip
    return units


def _clauses_joined(pieces: list[str]) -> list[str]:
    """The splitter ends a piece at a semicolon (chunks stay short); a unit is the whole
    sentence, so the clauses of 「The cavity forms: a mouth …; a pharynx …」 stay together."""
    sentences: list[str] = []
    for piece in pieces:
        if sentences and sentences[-1].endswith(";"):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def is_lead_in(text: str) -> bool:
    """Does the text end in a colon, introducing what follows ("Their defaults:")?"""
    return bool(_COLON_END.search(text))


def is_anaphoric(sentence: str) -> bool:
    """Does the sentence open with a word that points back to the one before it?"""
    s = sentence.lstrip("「『（(")
    return bool(ANAPHORA_JA.match(s) or ANAPHORA_EN.match(s))


def _strip_label(sentence: str, label: str) -> str:
    if label and sentence.startswith(label):
        return sentence[len(label) :].lstrip(" :：")
    return sentence


def _joiner(first: str) -> str:
    return "" if re.search(r"[。！？]$", first) else " "
