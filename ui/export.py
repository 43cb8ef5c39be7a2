"""A conversation as a Markdown document, with the sources of each answer."""

from __future__ import annotations

from assistant.settings import Settings
from ui.conversations import StoredTurn
from ui.i18n import note_text, text
from ui.sources import source_location


def conversation_markdown(title: str, turns: list[StoredTurn], settings: Settings, language: str) -> str:
    lines = [f"# {title}", ""]
    for i, turn in enumerate(turns, start=1):
        lines += [f"## {i}. {text('question', language)}", "", _quote(turn.question), ""]
        lines += [f"### {text('answer', language)}", ""]
        if turn.error:
            lines += [f"> {turn.error[0]} {turn.error[1]}".strip(), ""]
            continue
        answer = turn.answer
        if answer is None:
            lines += [text("interrupted", language), ""]
            continue
        lines += [answer.answer, ""]
        lines += [f"- *{note_text(n, language)}*" for n in answer.notes]
        sources = answer.sources()
        if sources:
            lines += ["", f"**{text('closest' if answer.refused else 'sources', language)}**", ""]
            for p in sources:
                where, url = source_location(p)
                location = f"[{where}]({url})" if url else f"`{where}`"
                heading = f" — {p.heading}" if p.heading_path else ""
                lines.append(f"{p.number}. {p.title or where}{heading} ({location})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _quote(value: str) -> str:
    return "\n".join("> " + line for line in value.splitlines())
