"""Interface strings of the browser chat, in Japanese and English.

Only the interface is translated here; answers come from the core in the
language of the question.
"""

from __future__ import annotations

LANGUAGES = {"ja": "日本語", "en": "English"}

STRINGS: dict[str, dict[str, str]] = {
    "title": {"ja": "ドキュメント質問アシスタント", "en": "Document Q&A assistant"},
    "intro": {
        "ja": "取り込んだ資料について、日本語または英語で質問できます。回答には出典 [n] が付きます。",
        "en": "Ask about the ingested documents in Japanese or English. Answers cite their sources as [n].",
    },
    "placeholder": {"ja": "質問を入力してください（例: コンテナとは？）", "en": "Ask a question…"},
    "examples": {"ja": "質問の例", "en": "Example questions"},
    "new_chat": {"ja": "新しい会話", "en": "New conversation"},
    "thinking": {"ja": "資料を検索しています…", "en": "Searching the documents…"},
    "interrupted": {
        "ja": "（この回答は中断されました。もう一度質問してください。）",
        "en": "(This answer was interrupted. Please ask again.)",
    },
    "sources": {"ja": "出典", "en": "Sources"},
    "closest": {"ja": "見つかった最も近い資料", "en": "Closest passages found"},
    "refused": {
        "ja": "資料の中に答えが見つかりませんでした。",
        "en": "The documents do not answer this question.",
    },
    "score": {
        "ja": "関連度 {score:.3f} · 意味の類似度 {dense} · 語の一致率 {coverage:.0%}",
        "en": "relevance {score:.3f} · semantic similarity {dense} · term coverage {coverage:.0%}",
    },
    "heading": {"ja": "見出し", "en": "Section"},
    "file": {"ja": "ファイル", "en": "File"},
    "download": {"ja": "ファイルをダウンロード", "en": "Download the file"},
    "timings": {"ja": "{seconds:.2f} 秒 · {answerer}", "en": "{seconds:.2f} s · {answerer}"},
    "feedback_prompt": {"ja": "この回答は役に立ちましたか？", "en": "Was this answer helpful?"},
    "comment": {"ja": "コメント（任意）", "en": "Comment (optional)"},
    "send_feedback": {"ja": "フィードバックを送信", "en": "Send feedback"},
    "feedback_saved": {
        "ja": "フィードバックを記録しました。ありがとうございます！",
        "en": "Feedback saved. Thank you!",
    },
    # sidebar
    "index": {"ja": "インデックス", "en": "Index"},
    "documents": {"ja": "文書数", "en": "Documents"},
    "chunks": {"ja": "チャンク数", "en": "Chunks"},
    "embedder": {"ja": "埋め込みモデル", "en": "Embedder"},
    "updated": {"ja": "最終取り込み", "en": "Last ingest"},
    "no_index": {"ja": "インデックスがまだありません。", "en": "There is no index yet."},
    "session_settings": {"ja": "この会話の設定", "en": "Settings for this session"},
    "language": {"ja": "表示言語 / Language", "en": "Language / 表示言語"},
    "top_k": {"ja": "参照する資料の数", "en": "Passages per answer"},
    "answerer": {"ja": "回答方式", "en": "Answer mode"},
    "add_documents": {"ja": "資料を追加", "en": "Add documents"},
    "upload_label": {
        "ja": "Markdown・テキスト・HTML・PDF（1ファイル {mb} MB まで）",
        "en": "Markdown, text, HTML or PDF ({mb} MB per file at most)",
    },
    "upload_button": {"ja": "取り込む", "en": "Ingest"},
    "ingesting": {"ja": "{name} を取り込んでいます…", "en": "Ingesting {name}…"},
    "ingested": {
        "ja": "{name} を取り込みました（{chunks} チャンク）。すぐに検索できます。",
        "en": "Ingested {name} ({chunks} chunks); it is searchable now.",
    },
    "unchanged": {
        "ja": "{name} は取り込み済みで、変更はありません。",
        "en": "{name} is already ingested and unchanged.",
    },
    "bad_type": {
        "ja": "{name}: この形式は取り込めません。対応形式: {types}",
        "en": "{name}: this file type is not supported. Supported: {types}",
    },
    "too_large": {
        "ja": "{name}: ファイルが大きすぎます（{size:.1f} MB、上限 {mb} MB）。",
        "en": "{name}: the file is too large ({size:.1f} MB; the limit is {mb} MB).",
    },
    "unreadable": {
        "ja": "{name} を読み込めませんでした: {reason}",
        "en": "{name} could not be read: {reason}",
    },
    "unreadable_hint": {
        "ja": "ファイルが壊れていないか、文字を含んでいるか確認してください（画像だけの PDF は読めません）。",
        "en": "Check that the file is intact and contains text (scanned PDFs without text cannot be read).",
    },
    "rebuild": {"ja": "インデックスを作り直す", "en": "Rebuild the index"},
    "rebuild_help": {
        "ja": "corpus/ とアップロード済みの資料からインデックスを作り直します。",
        "en": "Rebuilds the index from corpus/ and the uploaded documents.",
    },
    "rebuilt": {
        "ja": "インデックスを作り直しました（{documents} 文書、{chunks} チャンク、{seconds:.1f} 秒）。",
        "en": "Rebuilt the index ({documents} documents, {chunks} chunks, {seconds:.1f} s).",
    },
    "feedback_data": {"ja": "フィードバック", "en": "Feedback"},
    "feedback_count": {"ja": "記録済み: {n} 件", "en": "{n} recorded"},
    "export": {"ja": "評価データとしてエクスポート", "en": "Export as an eval dataset"},
    "unexpected": {
        "ja": "予期しないエラーが発生しました: {error}",
        "en": "An unexpected error occurred: {error}",
    },
    "unexpected_hint": {
        "ja": "ページを再読み込みしてもう一度お試しください。続く場合はサーバーのログを確認してください。",
        "en": "Reload the page and try again; if it persists, check the server log.",
    },
}


def text(key: str, language: str, **values: object) -> str:
    """The interface string ``key`` in ``language`` (Japanese when unknown), formatted."""
    entry = STRINGS[key]
    template = entry.get(language, entry["ja"])
    return template.format(**values) if values else template


def default_language(locale: str | None) -> str:
    """Japanese first: English only when the browser asks for another language than Japanese."""
    if locale and not locale.lower().startswith("ja"):
        return "en"
    return "ja"
