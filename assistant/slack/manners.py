"""When the bot speaks without being mentioned: the thread-manners rule.

- A message that mentions the bot is always answered.
- In a thread, a message *without* a mention is answered only when all hold:
  1. its author asked the bot in this thread before (by mention or follow-up),
  2. the bot answered that person there within the conversation window
     (``ASSISTANT_SLACK_THREAD_WINDOW_MINUTES``, default 30),
  3. it mentions nobody else (no ``@someone``, ``@here``, ``@channel``, user groups),
  4. it is not only thanks or an acknowledgement (「ありがとう！」, "got it 👍", an emoji).
- Other channel messages without a mention are never answered.
- In a direct message every message is for the bot, except thanks/acknowledgements.
"""

from __future__ import annotations

import re

_ANY_MENTION = re.compile(
    r"<@([A-Z0-9]+)(?:\|[^>]*)?>|<!(here|channel|everyone)(?:\|[^>]*)?>|<!subteam\^[^>]+>"
)
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-']+:")
#: Words that only acknowledge or thank; longest first so that phrases win over their parts.
_ACKNOWLEDGEMENTS = sorted(
    {
        # Japanese
        "ありがとうございました",
        "ありがとうございます",
        "ありがとう",
        "ありがと",
        "あざす",
        "どうも",
        "了解しました",
        "了解です",
        "了解",
        "りょうかい",
        "承知しました",
        "承知いたしました",
        "承知です",
        "承知",
        "わかりました",
        "分かりました",
        "わかった",
        "分かった",
        "なるほど",
        "助かりました",
        "助かります",
        "助かる",
        "感謝します",
        "感謝です",
        "感謝",
        "お疲れ様です",
        "おつかれさまです",
        "いいね",
        "はい",
        "おけ",
        "サンキュー",
        "よろしくお願いします",
        "とても",
        "本当に",
        "ほんとに",
        "すごい",
        "さすが",
        "完璧",
        "大丈夫です",
        "です",
        "ます",
        # English
        "thank you so much",
        "thank you very much",
        "thank you",
        "thanks a lot",
        "thanks so much",
        "thanks",
        "thank",
        "thx",
        "ty",
        "got it",
        "sounds good",
        "makes sense",
        "understood",
        "okay",
        "ok",
        "cool",
        "great",
        "nice",
        "perfect",
        "awesome",
        "noted",
        "will do",
        "cheers",
        "much",
        "appreciated",
        "helpful",
        "very",
        "so",
        "that",
        "this",
        "is",
        "was",
        "yes",
        "yep",
        "alright",
    },
    key=len,
    reverse=True,
)
_FILLER = re.compile(r"[\s\W_ー〜～wｗ!！。、，,.・…]+", re.UNICODE)


def mentioned_users(text: str) -> set[str]:
    """User ids and special mentions (``here``, ``channel``, ``subteam``) in a message."""
    found = set()
    for match in _ANY_MENTION.finditer(text):
        found.add(match.group(1) or match.group(2) or "subteam")
    return found


def mentions_someone_else(text: str, bot_user_id: str | None) -> bool:
    return bool(mentioned_users(text) - {bot_user_id})


def is_acknowledgement(text: str) -> bool:
    """Only thanks, agreement or emoji: nothing to answer. A question mark is never one."""
    if "?" in text or "？" in text:
        return False
    rest = _ANY_MENTION.sub(" ", text)
    rest = _EMOJI_CODE.sub(" ", rest).lower()
    for phrase in _ACKNOWLEDGEMENTS:
        rest = rest.replace(phrase, " ")
    # What remains may be punctuation, emoji and other symbols (\W covers them).
    return not _FILLER.sub("", rest)


def should_answer_follow_up(
    text: str,
    *,
    bot_user_id: str | None,
    asked_here_recently: bool,
) -> bool:
    """The rule for a thread message without a mention of the bot (see the module doc)."""
    return (
        asked_here_recently and not mentions_someone_else(text, bot_user_id) and not is_acknowledgement(text)
    )
