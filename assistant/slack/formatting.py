"""Block Kit for answers: the answer in mrkdwn with ``[n]`` citations, a compact
sources block (title, heading path, short snippet) and 👍/👎 buttons.

Slack limits a section's text to 3000 characters and a message to 50 blocks;
long answers are split over several sections and, if needed, several messages.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.types import Answer, Passage

SECTION_LIMIT = 2900  # Slack: 3000 characters per section text
MAX_BLOCKS = 45  # Slack: 50 blocks per message
FALLBACK_LIMIT = 3000  # the notification text of a message
SNIPPET_CHARS = 140
MAX_SOURCES = 5
FEEDBACK_ACTIONS = {"assistant_feedback_up": 1, "assistant_feedback_down": -1}

Block = dict[str, Any]
Message = dict[str, Any]  # {"text": str, "blocks": list[Block]}

_LABELS = {
    "ja": {
        "thinking": "考え中…",
        "sources": "出典",
        "closest": "近い資料",
        "up": "役に立った",
        "down": "役に立たなかった",
        "thanks": "フィードバックありがとうございます。",
        "already": "この回答はすでに評価済みです。",
        "gone": "この回答の記録が見つからないため、評価を保存できませんでした。",
        "apology": "申し訳ありません。Slack への返信に失敗しました。しばらくしてからもう一度お試しください。",
        "failed": "申し訳ありません。回答の作成中にエラーが発生しました。",
    },
    "en": {
        "thinking": "Thinking…",
        "sources": "Sources",
        "closest": "Closest passages",
        "up": "Helpful",
        "down": "Not helpful",
        "thanks": "Thanks for the feedback.",
        "already": "You already rated this answer.",
        "gone": "This answer is no longer on record, so the rating could not be stored.",
        "apology": "Sorry, I could not post my answer to Slack. Please try again in a moment.",
        "failed": "Sorry, something went wrong while answering.",
    },
}


def label(key: str, language: str) -> str:
    return _LABELS.get(language, _LABELS["en"])[key]


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(text: str) -> str:
    """Markdown-ish answer text to Slack mrkdwn; ``[n]`` citations stay as they are."""
    text = escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)
    text = re.sub(r"^#{1,6}\s+(.+)$", r"*\1*", text, flags=re.M)
    return re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r"<\2|\1>", text)


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split text into pieces of at most ``limit`` characters, at paragraph, line or
    sentence ends where possible; no character is lost."""
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            ends = [m.end() for m in re.finditer(r"[。．！？!?]|\. ", window)]
            cut = ends[-1] if ends and ends[-1] >= limit // 2 else limit
        else:
            cut += 1
        pieces.append(text[:cut])
        text = text[cut:]
    if text or not pieces:
        pieces.append(text)
    return pieces


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def progress_text(partial: str, language: str) -> str:
    """The placeholder while the answer grows."""
    shown = partial if len(partial) <= SECTION_LIMIT else partial[: SECTION_LIMIT - 1] + "…"
    return to_mrkdwn(shown) + " …" if shown.strip() else label("thinking", language)


def shown_sources(answer: Answer) -> list[Passage]:
    """The cited passages; when nothing is cited (or the assistant refused), the closest ones."""
    return answer.sources()[:MAX_SOURCES]


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def source_line(citation: Passage) -> str:
    title = citation.title or Path(citation.source).name
    where = f" › {citation.heading}" if citation.heading_path else ""
    return (
        f"*[{citation.number}]* {escape(title)}{escape(where)}  `{escape(Path(citation.source).name)}`\n"
        f"_{escape(_snippet(citation.text))}_"
    )


def sources_blocks(answer: Answer) -> list[Block]:
    sources = shown_sources(answer)
    if not sources:
        return []
    heading = label("closest" if answer.refused or not answer.cited else "sources", answer.language)
    elements = [{"type": "mrkdwn", "text": f"*{heading}*"}]
    elements += [{"type": "mrkdwn", "text": source_line(c)} for c in sources]
    return [{"type": "divider"}, {"type": "context", "elements": elements[:10]}]


def feedback_block(answer_id: str, language: str) -> Block:
    buttons = [
        ("assistant_feedback_up", f"👍 {label('up', language)}"),
        ("assistant_feedback_down", f"👎 {label('down', language)}"),
    ]
    return {
        "type": "actions",
        "block_id": "assistant_feedback",
        "elements": [
            {"type": "button", "action_id": action, "value": answer_id,
             "text": {"type": "plain_text", "text": text, "emoji": True}}
            for action, text in buttons
        ],
    }  # fmt: skip


def answer_messages(answer: Answer, answer_id: str) -> list[Message]:
    """The messages that show an answer: usually one; more when the answer is long.

    Each message's ``text`` (the notification and what thread history reads back)
    is the plain answer text it shows.
    """
    pieces = split_text(answer.answer, SECTION_LIMIT - 400)
    blocks: list[tuple[str, Block]] = [
        (piece, {"type": "section", "text": {"type": "mrkdwn", "text": to_mrkdwn(piece)[:3000]}})
        for piece in pieces
    ]
    blocks += [("", block) for block in sources_blocks(answer)]
    blocks.append(("", feedback_block(answer_id, answer.language)))
    messages: list[Message] = []
    for start in range(0, len(blocks), MAX_BLOCKS):
        part = blocks[start : start + MAX_BLOCKS]
        text = "".join(piece for piece, _ in part).strip() or label("sources", answer.language)
        if len(text) > FALLBACK_LIMIT:
            text = text[: FALLBACK_LIMIT - 1] + "…"
        messages.append({"text": escape(text), "blocks": [block for _, block in part]})
    return messages


def error_text(error: AssistantError) -> str:
    return escape(error.message + (f"\n{error.hint}" if error.hint else ""))
