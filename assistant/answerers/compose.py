"""Answer shapes: ranked evidence units become the lines of an answer, by question type.

- value: the best unit (a cell names its row and column), and a second one when it
  is nearly as good and says something else; a sentence that only restates the
  question is followed by the next one and led by its document's title, when neither
  the question nor the sentence names it (the subject asked for: 「…を求めるのは何党？」
  over a document titled 日本共産党). Chosen on the JSQuAD development half:
  answer-contains-gold 0.865 → 0.882; seed, related and corpus development splits unchanged.
  When the sentence before the restatement gives a name (``NAMING``: 「飛沫感染と一般的に
  呼ばれる。粒子が…ものをいう。」 / "It is called …") and the one after does not, the name
  leads (JSQuAD development half 0.910 → 0.912; the others unchanged). A best sentence
  without a compound of the noun the question asks for (「…は何気団か」: `Unit.fills`) is
  followed by the sentence after it that has one (「代わって揚子江気団が…」);
- comparison: the table row that holds both sides, or the best unit for each side; a
  question that names rows of the table, as written (「サイズと起動速度をそれぞれ比べて」) or
  through their labels' translations ("the size and boot speed", `Unit.asked_row`), gets
  each of them, in the table's order (the seed development split's multi-fact question was
  answered with one row);
- which: the entity first, then the evidence (the title, as for a value, when the
  best sentence restates the question and names no entity): the best unit and up to
  ``WHICH_EVIDENCE`` more about the same entity that score within ``CLOSE`` of it, never
  the other side's (「VMは、…厳しい場合に強力な選択肢」 and the item 「完全な分離: …」). On the
  seed development split 0.892 → 0.928 with the evaluative list words of
  `assistant.questions`; related, corpus, JSQuAD and SQuAD development sets unchanged;
  Over a table whose columns are properties and whose rows are the things ("Which kettle
  keeps water warm?": the question names the column, not the row), the entity is the
  cell's row;
- list: the lead-in, then every item of the list (up to ``LIST_CAP``);
- why / how: the reason or mechanism with the sentence it refers to; when the sentence
  after the best refers back to it and gives its reason (「これは、…ためです」 / "This is
  because …", 「なぜなら、…からです」) and scores close, that sentence answers, quoted with
  the best;
- definition: the defining sentence.

A sentence that says there are some things without saying what they are (「それにはいくつか
のリスクが伴います」 / "it comes with several drawbacks", ``ANNOUNCES``) is followed by the sentence
after it, which goes on to say them (「具体的には、…」, 「ノードの数、…と関係しています。」); requiring
that sentence to open with 具体的には / "For example" lost a question whose list of factors
opened with the first factor.
With 「なぜなら、…からです」 as a reason that points back (`assistant.units`), on the
related development split (grown to 102): 0.892 → 0.931 together with the duration ask and the
fee of `assistant.questions`; the seed and corpus splits and the JSQuAD development half unchanged.

A question for a name (「…を何と呼ぶ？」 / "What are … called?", ``NAME_ASKED``) whose best
sentence describes the thing without naming it is answered with the sentence after it, when
that one refers back and gives a name (「日本では、これらの空域は管制圏…と呼ばれる。」). A sentence
that begins with its particle (「とは…の技術仕様である。」) lost its subject with the markup
it stood in; the document's title leads it. JSQuAD development half 0.922 → 0.927 (one
question each); the seed, related and corpus development splits unchanged. With the name
question, a unit close to the best still follows (「…中央機関紙を何という？」 is answered by
the second unit, 「中央機関紙（「しんぶん赤旗」）…」).

A table row quoted says what each of its cells says: no cell of it follows it.

The best sentence often sets the scene and the next one states the fact: "During this period,
substantial governmental changes to land tenure occurred." / "The most important of these was
the Swynnerton Plan …". For a value, why or how question, the sentence after the best in its
passage follows it when it holds a word of the question the best lacks (not a name, a question
word or a general noun) and scores within ``FOLLOW_REACH`` of it; it takes the place of a second
unit. On SQuAD's development half 0.820 → 0.829 (nine gained, none lost; names counted too, the
follower repeated the subject's name: 「…2014年に公開され…」 drew 「…Kubernetes がその状態に
近づけ続けます」 on our corpus's development split); the seed, related and corpus development
splits unchanged in pass rate (related citation precision 0.958 → 0.963). With the section
rule of `assistant.answerers.extractive`, the JSQuAD development half 0.904 → 0.907 (eight
gained, one lost). ``FOLLOW_REACH`` was not varied: a second value could not be measured in
the session that set it.

Each line cites its passage as ``[n]``; every word quoted is a passage's own. When the
question's language differs from the evidence's, an English (or Japanese) frame names
the entity and says that the documents are quoted as written, and a value answer quotes
no close unit of another passage: across languages the similarities lie close together,
and such a unit was as often about something else ("What does a hypervisor create?" drew
a sentence on container images; seed development split: citation precision 0.932 → 0.941,
answers otherwise unchanged; related and corpus splits unchanged; JSQuAD and SQuAD ask
within one language).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from assistant.lexical import default_tokenizer
from assistant.questions import Question, fills_noun, is_question_word
from assistant.relevance import general_terms, question_names
from assistant.text import split_answer_sentences
from assistant.types import ANSWER_FRAME
from assistant.units import Unit, is_lead_in

LIST_CAP = 8
CODE_INLINE = 80  # a one-line code block up to this long is quoted inline
CLOSE = 0.05  # a second unit joins a value answer when it scores within this of the best
WHICH_EVIDENCE = 2  # units beside the best that support a which answer's entity
WHICH_LOOK = 6  # how deep in the ranking they are looked for
FOLLOW_REACH = 0.3  # the sentence after the best follows it when it scores within this of it
# a lead-in that is a whole sentence (「次のものは…です。」), not a label ending in a colon
SENTENCE_END = re.compile(r"[。．.!?！？]\s*$")
# a sentence that gives something its name (「…と呼ばれる」 / "is called")
NAMING = re.compile(
    r"と(?:一般的に|一般に|総称して|俗に)?(?:呼ばれ|呼ぶ|称され|称する|いう。|言う。)|"
    r"\b(?:is|are|was|were) (?:commonly |also |now )?(?:called|known as|termed|named)\b",
    re.I,
)

# a question for the name of something (「…を何と呼ぶ？」 / "What is … called?")
NAME_ASKED = re.compile(
    r"(?:何|なん)と(?:いう|言う|いい|呼|称)|何という|"
    r"\bwhat (?:is|are|was|were) .+ (?:called|known as|named|termed)\b|\bwhat name\b",
    re.I,
)

# a sentence that announces things without saying what they are (「それにはいくつかのリスクが伴い
# ます」 / "This comes with several drawbacks"): the sentence after it says them
ANNOUNCES = re.compile(
    r"(?:いくつか|幾つか|複数|様々|さまざま|多く|数々|いろいろ|色々)の[^。、]{0,20}?(?:が|を|に)"
    r"(?:伴|あり|ある|存在|抱え|持|生じ|もたら|依存|左右)|"
    r"\b(?:there (?:are|were)|has|have|had|comes? with|involves?|brings?|poses?|carr(?:y|ies)|"
    r"depends? on|relies? on)\s+"
    r"(?:several|a few|a number of|various|some|many|multiple)\b",
    re.I,
)

# a sentence that begins with its particle (「とは…の技術仕様である。」): its subject, lost with
# the markup it stood in, is the document's (a page's bold title)
_SUBJECT_LOST = re.compile(r"(?:とは|は|が|も|を|の)(?![ぁ-ゖ])")

# a sentence that gives a reason or a cause (「…ためです」「…により」 / "because", "as a result")
REASON = re.compile(
    r"ため|ので|から(?:です|だ|である|でしょう)?[、。]|なぜなら|により|によって|結果|\bbecause\b|\bsince\b|\bdue to\b|\bso that\b|\bas a result\b",
    re.IGNORECASE,
)

# a demonstrative anywhere in a sentence (「日本では、これらの空域は…」 / "… these fields …")
_POINTS_BACK = re.compile(r"これ|それ|この|その|こうした|そうした|\b(?:this|these|those|such)\b", re.I)

FRAME = ANSWER_FRAME
TRANSLATION_NOTE = {
    "en": "The evidence is quoted as written (in Japanese); a language-model answerer "
    "(ASSISTANT_ANSWERER=openai:… / ollama:…) gives translated prose.",
    "ja": "根拠は原文のまま（英語で）引用しています。翻訳した文章で答えるには言語モデルの回答器"
    "（ASSISTANT_ANSWERER=openai:… / ollama:…）を使ってください。",
}


def compose(
    question: Question,
    ranked: Sequence[Unit],
    units: Sequence[Unit],
    frame: str = "",
    beside: Unit | None = None,
) -> Iterator[str]:
    """Yield the lines of the answer, one unit at a time.

    ``ranked`` is sorted best first; ``units`` are all units (for lists and rows);
    ``frame`` is the question's language when it differs from the evidence's; ``beside``
    is a unit a value answer quotes second whatever its score (one that states the fact
    asked for, when the best does not).
    """
    if not ranked:
        return
    best = ranked[0]
    shape = {
        "comparison": _comparison,
        "which": _which,
        "list": _list,
        "why": _reason,
        "how": _reason,
        "definition": _definition,
    }.get(question.kind, _value)
    lines = list(shape(question, ranked, units))
    if frame and shape is _value:
        # Across languages the similarities lie close together: a unit of another passage
        # that scores near the best is as often about something else ("In the housing
        # analogy, what is a container like?" drew a line on portability).
        lines = [line for line in lines if line == lines[0] or _cites_only(line, best.passage)]
    if beside is not None and question.kind == "value" and not _redundant(beside, best):
        # it takes the place of a second unit, not of the fact that follows a restatement
        kept = lines[:2] if best.restates else lines[:1]
        lines = kept if _line(beside) in kept else [*kept, _line(beside)]
    if not lines:
        lines = [_line(best)]
    shown = _introduced(best, units)
    if shown is not None and _line(shown) not in lines:
        # a lead-in ending in a colon states nothing yet: the code it introduces follows
        if lines[0] == _line(best):
            lines[0] = _code_line(shown)
        else:
            lines.insert(1, _code_line(shown, bare=True))
    if frame:
        label = FRAME[frame]
        entity = _entity(question, best)
        head = (
            f"{label['say']} [{best.passage}]:"
            if not entity
            else f"{entity} — {label['say']} [{best.passage}]:"
        )
        lines.insert(0, head)
    for i, line in enumerate(lines):
        yield line if i == 0 else f"\n{line}"


def _line(unit: Unit, prefix: str = "", lead: bool = True) -> str:
    """One unit as a line: its list's lead-in first (unless the list shape shows it), every
    sentence followed by its citation."""
    if unit.kind == "code":
        return _code_line(unit, prefix)
    text = unit.reader_text
    # a lead-in ending in a colon heads the item; one that is a whole sentence announcing the
    # list (「次のような特性を実現しています。」) places it, but is not repeated before each item
    sentence = bool(SENTENCE_END.search(unit.lead))
    if lead and unit.kind == "item" and unit.lead and not sentence and not text.startswith(unit.lead):
        text = f"{unit.lead.rstrip(':： ')}: {text}"  # "Their defaults:" is not doubled
    mark = f"[{unit.passage}]"
    # every sentence cited, as the answer's sentences are read (`assistant.text`)
    pieces = split_answer_sentences(text) or [text]
    inner = [f"{p}{mark}" if p.endswith(("。", "！", "？")) else f"{p} {mark}" for p in pieces[:-1]]
    return f"{prefix}{' '.join([*inner, pieces[-1]])} {mark}"


def _introduced(unit: Unit, units: Sequence[Unit]) -> Unit | None:
    """The code block a lead-in introduces ("… provides a command to check your host:")."""
    if unit.kind == "code" or not is_lead_in(unit.text):
        return None
    return next(
        (u for u in units if u.kind == "code" and u.passage == unit.passage and u.lead == unit.text), None
    )


def _code_line(unit: Unit, prefix: str = "", bare: bool = False) -> str:
    """A code block as written: inline when it is one short line, else fenced under its
    lead-in (or its section), which carries the citation; ``bare``: without them, after
    its lead-in already shown."""
    head = "" if bare else (unit.lead or unit.subject).rstrip(":： ")
    mark = f"[{unit.passage}]"
    if "\n" not in unit.text and "`" not in unit.text and len(unit.text) <= CODE_INLINE:
        return f"{prefix}{head}: `{unit.text}` {mark}" if head else f"{prefix}`{unit.text}` {mark}"
    fence = "~~~" if "```" in unit.text else "```"
    return (
        f"{prefix}{head}: {mark}\n{fence}\n{unit.text}\n{fence}"
        if head
        else f"{prefix}{mark}\n{fence}\n{unit.text}\n{fence}"
    )


def _value(question: Question, ranked: Sequence[Unit], units: Sequence[Unit]) -> list[str]:
    best = ranked[0]
    lines = [_line(best)]
    follower = _next_sentence(best, units, 1) if best.restates else None
    if follower is None and NAME_ASKED.search(question.text) and not NAMING.search(best.text):
        # 「…空域を何と呼ぶ？」: the best sentence describes the thing; the one after it that
        # refers back to it gives the name (「これらの空域は…と呼ばれる」)
        after = _next_sentence(best, units, 1)
        refers = after is not None and (after.antecedent == best.text or _POINTS_BACK.search(after.text))
        if after is not None and refers and NAMING.search(after.text):
            follower = after
    before = _next_sentence(best, units, -1) if best.restates else None
    if before is not None and NAMING.search(before.text) and not (follower and NAMING.search(follower.text)):
        # The name stands before the description that restates the question (「飛沫感染と
        # 呼ばれる。粒子が…ものをいう。」 for 「粒子が…ものは？」)
        return [_line(before), _line(best)]
    if follower is not None:
        # The best sentence only says again what the question says (「…場合がある。」 for
        # 「…場合を何という？」): the fact asked for follows it (「これを…と呼ぶ。」).
        lines = [_line(follower)] if follower.antecedent == best.text else [_line(best), _line(follower)]
        if best.restates:
            return _titled(question, best, lines)
    elif best.restates or (best.names_nothing and best.kind == "sentence") or best.subjectless:
        return _titled(question, best, lines)
    if best.kind == "sentence" and _SUBJECT_LOST.match(best.text):
        lines = _titled(question, best, lines)
    if question.noun and best.kind == "sentence" and not best.fills:
        # 「…は何気団か」: the best sentence holds no compound of the noun asked for; the
        # sentence after it that does holds the thing asked for (「…揚子江気団が…」)
        after = _next_sentence(best, units, 1)
        if after is not None and after.fills:
            # one that points back is quoted with the best already (「この方法は…」)
            return [_line(after)] if after.antecedent == best.text else [*lines, _line(after)]
        if fills_noun(best.title, question.noun, question.text, head=True):
            # 「…唯一の国政政党は？」 over 「…唯一の党である。」: the document's title names one
            # (日本共産党), and the sentence is about it
            lines = _titled(question, best, lines)
    if best.kind == "sentence" and ANNOUNCES.search(best.text):
        # 「…いくつかのリスクが伴います。」 says that there are some; the sentence after it goes
        # on to say them (「具体的には、…」, 「ノードの数、…と関係しています。」): the answer's fact
        after = _next_sentence(best, units, 1)
        if after is not None and not ANNOUNCES.search(after.text):
            return [*lines, _line(after)]
    after = _completing(question, best, units)
    if after is not None:
        return [*lines, _line(replace(after, antecedent=""))]
    for unit in ranked[1:4]:
        if unit.score < best.score - CLOSE:
            break
        # a lead-in ending in a colon ("Their defaults:") introduces what the best unit says
        if not _redundant(unit, best) and unit.kind != "row" and not is_lead_in(unit.text):
            lines.append(_line(unit))
            break
    return lines


def _named_cell(question: Question, row: Unit, units: Sequence[Unit]) -> Unit | None:
    """The one cell of a row whose column the question names by a word no other column of the
    table has (「タイプ2の…」 over the columns 「タイプ1（…）」 and 「タイプ2（…）」), if any."""
    cells = [u for u in units if u.kind == "cell" and (u.group, u.label) == (row.group, row.label)]
    tokenizer = default_tokenizer()
    words = {u.subject: set(tokenizer.tokenize(u.subject)) for u in cells}
    asked = set(tokenizer.tokenize(question.text))
    named = [
        u
        for u in cells
        if asked & words[u.subject].difference(*(w for column, w in words.items() if column != u.subject))
    ]
    return named[0] if len(named) == 1 else None


def _cites_only(line: str, passage: int) -> bool:
    """Does the answer line cite only the given passage?"""
    return set(re.findall(r"\[(\d+)\]", line)) <= {str(passage)}


def _titled(question: Question, best: Unit, lines: list[str]) -> list[str]:
    """A sentence that restates the question, or names nothing a who / where question does
    not, may answer it with its subject, which its document's title names (「…承認を求める
    のは何党？」): the title leads the answer."""
    if best.title and not _contains(question.text, best.title) and not _contains(best.text, best.title):
        lines[0] = f"{best.title}: {lines[0]}"
    return lines


def _comparison(question: Question, ranked: Sequence[Unit], units: Sequence[Unit]) -> list[str]:
    best = ranked[0]
    floor = best.score - 2 * CLOSE
    if len(question.sides) == 2:
        # Sides that are rows of a table: one row each.
        rows = [next((u for u in ranked if u.kind == "row" and _contains(u.label, side)), None)
                for side in question.sides]  # fmt: skip
        if all(rows) and rows[0] is not rows[1]:
            return [_line(u) for u in rows if u is not None]
    # Sides that are columns: the row of the attribute asked about holds both; a question
    # that names attributes (「サイズと起動速度をそれぞれ比べて」) gets each one's row.
    named = _rows_named(question, ranked[:10], units)
    if named:
        return [_line(u) for u in named[:LIST_CAP]]
    for unit in ranked[:10]:
        if unit.score < floor - 2 * CLOSE:
            break
        if unit.kind == "row":
            return [_line(unit)]
        if unit.kind == "cell":
            row = next(
                (u for u in units if u.kind == "row" and u.group == unit.group and u.label == unit.label),
                None,
            )
            if row is not None:
                return [_line(row)]
    if len(question.sides) == 2:
        lines = []
        used: list[Unit] = []
        for side in question.sides:
            found = next(
                (u for u in ranked if _mentions(u, side) and all(not _redundant(u, v) for v in used)), None
            )
            if found is not None:
                used.append(found)
                lines.append(
                    _line(found, "" if _contains(found.reader_text[: len(side) + 4], side) else f"{side}: ")
                )
        if len(lines) == 2:
            return lines
    return _value(question, ranked, units)


def _rows_named(question: Question, top: Sequence[Unit], units: Sequence[Unit]) -> list[Unit]:
    """The rows of the best table whose labels the question names, in the table's order:
    written as in the table (two characters or more, compared without marks, brackets and
    case) or word by word, in either language (``Unit.asked_row``)."""
    table = next((u.group for u in top if u.kind in {"row", "cell"}), None)
    if table is None:
        return []
    asked = label_key(question.text)
    rows = [u for u in units if u.kind == "row" and u.group == table and len(label_key(u.label)) >= 2]
    return [u for u in rows if u.asked_row or label_key(u.label) in asked]


def label_key(text: str) -> str:
    """A label or question for matching: no gloss in brackets, no spaces or marks, lower case."""
    text = re.sub(r"[（(][^)）]*[)）]", "", text)
    return re.sub(r"[\s\-_・:：、。,.?？!！「」*]", "", text).lower()


def _which(question: Question, ranked: Sequence[Unit], units: Sequence[Unit]) -> list[str]:
    best = ranked[0]
    entity = _entity(question, best)
    if best.kind == "code":
        return [_line(best)]  # the command is the answer; its lead-in says what it does
    if entity and best.kind == "cell" and _contains(best.subject, entity):
        return [f"{best.subject} — {best.label}: {best.value} [{best.passage}]"]  # the column first
    if entity and not _norm(best.reader_text).startswith(_norm(entity)):
        lines = [_line(best, f"{entity}: ", lead=entity != best.lead)]
    elif not entity and (
        best.restates or (best.names_nothing and best.kind == "sentence") or best.subjectless
    ):
        return _titled(question, best, [_line(best)])
    else:
        lines = [_line(best)]
    # The evidence for the entity chosen: units about the same entity scoring close to the
    # best (「VMは、…厳しい場合に強力な選択肢」 and the item 「完全な分離: …」), not the other side's.
    used = [best]
    for unit in ranked[1:WHICH_LOOK]:
        if unit.score < best.score - CLOSE or len(used) > WHICH_EVIDENCE:
            break
        other = _entity(question, unit)
        same = bool(entity and other) and (_contains(other, _name(entity)) or _contains(entity, _name(other)))
        if same and unit.kind != "row" and all(not _redundant(unit, u) for u in used):
            used.append(unit)
            lines.append(_line(unit))
    return lines


def _name(entity: str) -> str:
    """An entity without its gloss in brackets: 「仮想マシン (Virtual Machine)」 → 仮想マシン."""
    return re.sub(r"\s*[（(][^）)]*[）)]\s*", "", entity).strip() or entity


def _list(question: Question, ranked: Sequence[Unit], units: Sequence[Unit]) -> list[str]:
    # A list answers when one of its items is (nearly) the best unit; a table's row or cell
    # that is the best unit answers itself (its cells name the things asked for), or the
    # row's one cell whose column the question names.
    if ranked[0].kind in {"row", "cell"}:
        cell = _named_cell(question, ranked[0], units) if ranked[0].kind == "row" else None
        return [_line(cell)] if cell is not None else _value(question, ranked, units)
    top = next((u for u in ranked[:3] if u.kind == "item" and u.score >= ranked[0].score - CLOSE), None)
    if top is None:  # the best unit may be the lead-in of a list: the list answers
        top = next((u for u in units if u.kind == "item" and u.lead and u.lead == ranked[0].text), None)
    if top is None:
        return _value(question, ranked, units)
    base = top.group.removesuffix(":whole")
    members = [u for u in units if u.group in {base, base + ":whole"}]
    # Whole items stand for their sentences.
    wholes = {u.label: u for u in members if u.group.endswith(":whole")}
    items: list[Unit] = []
    for unit in members:
        if unit.group.endswith(":whole"):
            continue
        whole = wholes.get(unit.label) if unit.label else None
        chosen = whole if whole is not None else unit
        if chosen not in items and not (whole is None and unit.label in wholes):
            items.append(chosen)
    items = items[:LIST_CAP]
    if len(items) < 2:
        return _value(question, ranked, units)
    head = re.sub(r"\s*[:：]+\s*$", "", top.lead or top.subject)
    # a lead-in that is a whole sentence (「次のものは…です。」) keeps its own full stop
    colon = "" if SENTENCE_END.search(head) else ":"
    lines = [f"{head}{colon} [{top.passage}]"] if head else []
    lines.extend(_line(u, "- ", lead=False) for u in items)
    return lines


def _reason(question: Question, ranked: Sequence[Unit], units: Sequence[Unit]) -> list[str]:
    best = ranked[0]
    # The sentence after the best that gives its reason (「これは、…ためです。」 / "This is
    # because …") answers with it, when it scores close.
    because = next(
        (u for u in ranked[1:3] if u.antecedent == best.text and u.score >= best.score - CLOSE), None
    )
    if because is not None and REASON.search(because.text):
        return [_line(because)]
    lines = [_line(best)]
    after = _completing(question, best, units)
    if after is not None:
        return [*lines, _line(replace(after, antecedent=""))]
    for unit in ranked[1:3]:
        if unit.score >= best.score - CLOSE and not _redundant(unit, best) and unit.kind != "row":
            lines.append(_line(unit))
            break
    return lines


def _definition(question: Question, ranked: Sequence[Unit], units: Sequence[Unit]) -> list[str]:
    best = ranked[0]
    return _titled(question, best, [_line(best)]) if _SUBJECT_LOST.match(best.text) else [_line(best)]


def _completing(question: Question, best: Unit, units: Sequence[Unit]) -> Unit | None:
    """The sentence after the best sentence, when it holds a word of the question the best
    lacks ("The most important of these …" after "… changes to land tenure occurred.") and
    scores within ``FOLLOW_REACH`` of it. Names do not count (a sentence that names the subject
    again adds nothing asked for), nor question words, general nouns or one-letter pieces
    ("Tesla's" → s)."""
    after = _next_sentence(best, units, 1) if best.kind == "sentence" else None
    if after is None or after.score < best.score - FOLLOW_REACH:
        return None
    tokenizer = default_tokenizer()
    asked = {t for t in tokenizer.tokenize(question.text) if len(t) > 1 and not is_question_word(t)}
    asked -= general_terms() | question_names(question.text)
    have = set(tokenizer.tokenize(best.reader_text))
    return after if (set(tokenizer.tokenize(after.text)) - have) & asked else None


def _next_sentence(unit: Unit, units: Sequence[Unit], step: int = 1) -> Unit | None:
    """The sentence after the unit in its passage (``step`` -1: the one before it)."""
    return next(
        (
            u
            for u in units
            if u.group == unit.group and u.kind == "sentence" and u.position == unit.position + step
        ),
        None,
    )


def _entity(question: Question, unit: Unit) -> str:
    """The thing the unit speaks about: a side the question named, else its subject."""
    where = " ".join([unit.subject, unit.lead, unit.label, *unit.context[-2:]])
    for side in question.sides:
        if side and _contains(where, side):
            return side
    if question.kind != "which":
        return ""
    if unit.kind == "cell" and _names(question.text, unit.subject) and not _names(question.text, unit.label):
        return unit.label  # "Which kettle keeps water warm?": the row, when the question names the column
    return re.sub(r"\s*[:：]+\s*$", "", unit.lead or unit.subject)  # "Notes:" is no "Notes::"


def _mentions(unit: Unit, side: str) -> bool:
    return _contains(unit.match_text + " " + unit.subject, side)


def _names(text: str, words: str) -> bool:
    """Does the text hold every word of ``words`` ("keep water warm" names "Keep warm")?"""
    tokenizer = default_tokenizer()
    wanted = set(tokenizer.tokenize(words))
    return bool(wanted) and wanted <= set(tokenizer.tokenize(text))


def _contains(text: str, side: str) -> bool:
    norm = _norm(side)
    return bool(norm) and norm in _norm(text)


def _norm(text: str) -> str:
    return re.sub(r"[\s（）()「」・]", "", text).lower()


def _redundant(a: Unit, b: Unit) -> bool:
    """Do two units say the same thing (one contains the other, or they share a sentence)?"""
    if a.reader_text in b.reader_text or b.reader_text in a.reader_text:
        return True
    if a.text in {b.text, b.antecedent} or b.text in {a.text, a.antecedent}:
        return True
    cell, row = (a, b) if a.kind == "cell" else (b, a)
    if cell.kind == "cell" and row.kind == "row" and (cell.group, cell.label) == (row.group, row.label):
        return True  # the row says what its cell says ("Firecracker — … / Intel TDX: ❌ / …")
    return a.group == b.group and bool(a.label) and a.label == b.label and a.kind == b.kind == "item"
