"""The App Home tab: how to use the bot, and whether its index is ready."""

from __future__ import annotations

from typing import Any


def home_view(status: dict[str, Any], bot_user_id: str | None, window_minutes: int = 30) -> dict[str, Any]:
    me = f"<@{bot_user_id}>" if bot_user_id else "@assistant"
    if status.get("ok"):
        index = (
            f":large_green_circle: 資料 {status['documents']} 件（{status['chunks']} 個の断片）を検索できます。\n"
            f"Ready: {status['documents']} documents ({status['chunks']} passages) indexed."
        )
    else:
        index = (
            ":red_circle: 索引がまだありません。管理者に `assistant ingest` の実行を依頼してください。\n"
            f"Not ready: {status.get('error') or 'the index is empty'}"
        )
    usage = (
        "*使い方 / How to use*\n"
        f"• チャンネルで {me} にメンション: `{me} コンテナとは？` / mention me in a channel\n"
        "• このアプリにダイレクトメッセージ / send me a direct message\n"
        "• `/ask 質問` — 自分だけに回答が表示されます / only you see the answer\n"
        f"• スレッドでは、質問した人の続きの質問に {window_minutes} 分間メンションなしで答えます。"
        "お礼や他の人宛てのメッセージには答えません。\n"
        f"  In a thread I answer follow-ups of the person who asked me, for {window_minutes} minutes, without a mention; "
        "never thanks or messages addressed to someone else.\n"
        "• 回答の 👍/👎 で評価してください（後から変更できます）/ rate answers with 👍/👎 (you can change it)"
    )
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Docs Assistant"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": usage}},
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": index}},
        ],
    }
