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
        "working": "考え中…",
        "sources": "出典",
        "closest": "近い資料",
        "notes": "注記",
        "up": "役に立った",
        "down": "役に立たなかった",
        "rated_up": "👍 として記録しました。👎 を押すと変更できます。",
        "rated_down": "👎 として記録しました。👍 を押すと変更できます。",
        "gone": "この回答の記録は保存期間を過ぎたため、評価を保存できませんでした。",
        "apology": "申し訳ありません。回答を Slack に投稿できませんでした。もう一度質問してください。",
        "failed": "申し訳ありません。回答の作成中にエラーが発生しました。",
        "busy": "申し訳ありません。いま質問が混み合っています。少し待ってからもう一度質問してください。",
        "ask_again": "申し訳ありません。ボットの再起動のため、この質問（「{question}」）に回答できませんでした。もう一度質問してください。",
        "service_down": "申し訳ありません。回答サービスにいま接続できないため、この質問（「{question}」）に回答できませんでした。数分後にもう一度質問してください。続く場合は管理者に連絡してください。",
        "external": "申し訳ありません。このボットは所属ワークスペースのメンバーの質問にだけ回答します。",
        "channel": "申し訳ありません。このチャンネルでは回答できません。ダイレクトメッセージで質問してください。",
        "empty_command": "使い方: `/ask 質問` （例: `/ask コンテナとは？`）",
    },
    "en": {
        "working": "Working on it…",
        "sources": "Sources",
        "closest": "Closest passages",
        "notes": "Notes",
        "up": "Helpful",
        "down": "Not helpful",
        "rated_up": "Recorded as 👍. Click 👎 to change it.",
        "rated_down": "Recorded as 👎. Click 👍 to change it.",
        "gone": "This answer is past its retention period, so the rating could not be stored.",
        "apology": "Sorry, I could not post my answer to Slack. Please ask again.",
        "failed": "Sorry, something went wrong while answering.",
        "busy": "Sorry, I have too many questions right now. Please ask again in a moment.",
        "ask_again": "Sorry, I was restarted and could not answer your question (“{question}”). Please ask again.",
        "service_down": "Sorry, the answering service cannot be reached right now, so I could not answer your question (“{question}”). Please ask again in a few minutes; if it persists, tell an admin.",
        "external": "Sorry, I only answer members of the workspace this bot belongs to.",
        "channel": "Sorry, I do not answer in this channel. Please ask me in a direct message.",
        "empty_command": "Usage: `/ask your question` (e.g. `/ask What is a container?`)",
    },
}


def label(key: str, language: str) -> str:
    return _LABELS.get(language, _LABELS["en"])[key]


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(text: str) -> str:
    """Markdown-ish answer text to Slack mrkdwn; ``[n]`` citations stay as they are, and so
    does a fenced code block (Slack shows ``` blocks as written)."""
    parts = re.split(r"(^(?:```|~~~)[^\n]*\n.*?^(?:```|~~~)[ \t]*$)", text, flags=re.M | re.S)
    return "".join(
        "```\n" + escape(p.split("\n", 1)[1].rsplit("\n", 1)[0]) + "\n```" if i % 2 else _prose_mrkdwn(p)
        for i, p in enumerate(parts)
    )


def _prose_mrkdwn(text: str) -> str:
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


_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """The question without the bot's mention, unescaped, on one line."""
    text = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text)
    return unescape(" ".join(text.split()))


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def shown_sources(answer: Answer) -> list[Passage]:
    """The cited passages; when nothing is cited (or the assistant refused), the closest ones."""
    return answer.sources()[:MAX_SOURCES]


def snippet_mrkdwn(text: str, limit: int = SNIPPET_CHARS) -> str:
    """A short excerpt of a passage, as mrkdwn on one line (Markdown marks converted,
    table pipes and heading marks dropped, a cut mark left unbalanced removed)."""
    lines = [re.sub(r"^\s*(#{1,6}\s+|[-*+]\s+|>\s*)", "", line) for line in text.splitlines()]
    lines = [line for line in lines if not re.fullmatch(r"[\s|:\-]*", line)]
    flat = " ".join(" ".join(line.replace("|", " ").split()) for line in lines)
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    converted = to_mrkdwn(flat)
    return converted.replace("**", "").replace("`", "'")


def source_line(citation: Passage, url: str | None = None) -> str:
    title = escape(citation.title or Path(citation.source).name)
    where = escape(f" › {citation.heading}") if citation.heading_path else ""
    name = f"<{url}|{title}>" if url else title
    return f"*[{citation.number}]* {name}{where}  `{escape(Path(citation.source).name)}`\n{snippet_mrkdwn(citation.text)}"


def sources_blocks(answer: Answer) -> list[Block]:
    sources = shown_sources(answer)
    if not sources:
        return []
    heading = label("closest" if answer.refused or not answer.cited else "sources", answer.language)
    elements = [{"type": "mrkdwn", "text": f"*{heading}*"}]
    elements += [{"type": "mrkdwn", "text": source_line(c, c.url)} for c in sources]
    return [{"type": "divider"}, {"type": "context", "elements": elements[:10]}]


def notes_block(answer: Answer) -> list[Block]:
    """The answer's notes (offline answer, removed citations...) in a context block."""
    notes = [n for n in answer.notes if n]
    if not notes:
        return []
    text = f"*{label('notes', answer.language)}*: " + " / ".join(escape(str(n)) for n in notes)
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text[:2900]}]}]


def feedback_block(answer_id: str, language: str, counts: dict[int, int] | None = None) -> Block:
    """👍/👎 buttons; with ``counts`` they show how the answer was rated so far."""
    counts = counts or {}
    buttons = [("assistant_feedback_up", 1, "👍", "up"), ("assistant_feedback_down", -1, "👎", "down")]
    elements = []
    for action, rating, emoji, key in buttons:
        text = f"{emoji} {label(key, language)}" + (f" ({counts[rating]})" if counts.get(rating) else "")
        button: Block = {"type": "button", "action_id": action, "value": answer_id,
                         "text": {"type": "plain_text", "text": text, "emoji": True}}  # fmt: skip
        if counts.get(rating, 0) and counts.get(rating, 0) >= counts.get(-rating, 0):
            button["style"] = "primary" if rating > 0 else "danger"
        elements.append(button)
    return {"type": "actions", "block_id": "assistant_feedback", "elements": elements}


def with_feedback(blocks: list[Block], answer_id: str, language: str, counts: dict[int, int]) -> list[Block]:
    """A message's blocks with its feedback buttons showing the current counts."""
    block = feedback_block(answer_id, language, counts)
    return [block if b.get("block_id") == "assistant_feedback" else b for b in blocks]


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
    blocks += [("", block) for block in notes_block(answer)]
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
