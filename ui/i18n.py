"""Interface strings of the browser chat, in Japanese and English, and errors in the interface language.

Only the interface is translated here; answers come from the core in the
language of the question.
"""

from __future__ import annotations

import re

from assistant.errors import (
    AssistantError,
    ConfigError,
    IndexMismatchError,
    IndexNotFoundError,
    InvalidQuestionError,
    MissingDependencyError,
    ModelError,
    ServiceUnavailableError,
    StoreUnavailableError,
)

LANGUAGES = {"ja": "日本語", "en": "English"}

STRINGS: dict[str, dict[str, str]] = {
    "page_title": {"ja": "ドキュメント質問アシスタント", "en": "Document Q&A assistant"},
    "title": {"ja": "ドキュメント質問アシスタント", "en": "Document Q&A assistant"},
    "intro": {
        "ja": "取り込んだ資料について、日本語または英語で質問できます。回答には出典 [n] が付きます。",
        "en": "Ask about the ingested documents in Japanese or English. Answers cite their sources as [n].",
    },
    "placeholder": {
        "ja": "質問を入力してください（{limit:,} 文字まで）",
        "en": "Ask a question ({limit:,} characters at most)",
    },
    "examples": {"ja": "質問の例", "en": "Example questions"},
    "new_chat": {"ja": "新しい会話", "en": "New conversation"},
    "loading": {"ja": "準備しています…", "en": "Getting ready…"},
    "stage_embedder": {"ja": "検索モデルを読み込んでいます…", "en": "Loading the search model…"},
    "stage_answerer": {"ja": "回答モデルを読み込んでいます…", "en": "Loading the answer model…"},
    "stage_index": {"ja": "索引を読み込んでいます…", "en": "Loading the index…"},
    "stage_ready": {"ja": "準備ができました。", "en": "Ready."},
    "stage_service": {
        "ja": "回答は {url} のサービスが作ります（このプロセスではモデルを読み込みません）。",
        "en": "Answers come from the service at {url} (no model is loaded in this process).",
    },
    "queued": {"ja": "前の質問の回答を待っています…", "en": "Waiting for the previous answer…"},
    "retrieving": {"ja": "検索中…", "en": "Searching the documents…"},
    "answering": {"ja": "回答を作成中…", "en": "Writing the answer…"},
    "found": {"ja": "見つかった資料（{n} 件）", "en": "Passages found ({n})"},
    "sources": {"ja": "出典", "en": "Sources"},
    "closest": {"ja": "見つかった最も近い資料", "en": "Closest passages found"},
    "cited_note": {"ja": "回答で引用", "en": "cited in the answer"},
    "not_cited_note": {"ja": "参考（引用なし）", "en": "for reference (not cited)"},
    "coverage": {
        "ja": "質問の語句の {percent}% を含む",
        "en": "contains {percent}% of the question's words",
    },
    "heading": {"ja": "見出し", "en": "Section"},
    "file": {"ja": "文書", "en": "Document"},
    "download": {"ja": "ファイルをダウンロード", "en": "Download the file"},
    "timings": {"ja": "{seconds:.1f} 秒 · {answerer}", "en": "{seconds:.1f} s · {answerer}"},
    "notes": {"ja": "この回答について", "en": "About this answer"},
    "note_dropped": {
        "ja": "渡していない資料への引用 {n} 件を取り除きました。",
        "en": "Removed {n} citation(s) of passages that were not given.",
    },
    "note_uncited": {
        "ja": "回答のうち {n} 文には出典がありません。資料で確かめてください。",
        "en": "{n} sentence(s) of the answer cite no source; check them against the documents.",
    },
    "feedback_prompt": {"ja": "この回答は役に立ちましたか？", "en": "Was this answer helpful?"},
    "comment": {"ja": "コメント（任意）", "en": "Comment (optional)"},
    "send_comment": {"ja": "コメントを追加", "en": "Add the comment"},
    "feedback_saved": {
        "ja": "評価を記録しました。ありがとうございます！",
        "en": "Rating saved. Thank you!",
    },
    "comment_saved": {"ja": "コメントを記録しました。", "en": "Comment saved."},
    "feedback_failed": {
        "ja": "評価を保存できませんでした。",
        "en": "The rating could not be saved.",
    },
    "feedback_failed_hint": {
        "ja": "データディレクトリに書き込めるか管理者に確認してください。",
        "en": "Ask an admin to check that the data directory is writable.",
    },
    "too_long": {
        "ja": "質問が長すぎます（{length:,} 文字、上限 {limit:,} 文字）。質問は送信されていません。",
        "en": "The question is too long ({length:,} characters; the limit is {limit:,}). It was not sent.",
    },
    "too_long_hint": {
        "ja": "知りたいことを短い質問にまとめてください。入力した文章は下に残してあります。",
        "en": "Ask the essential question in a few words. Your text is kept below.",
    },
    "your_text": {"ja": "入力した文章", "en": "Your text"},
    "interrupted": {
        "ja": "（この回答は途中で止まりました。もう一度質問してください。）",
        "en": "(This answer stopped before it was finished. Please ask again.)",
    },
    # conversations
    "conversations": {"ja": "会話の履歴", "en": "Conversations"},
    "no_conversations": {"ja": "まだ会話はありません。", "en": "No conversations yet."},
    "delete": {"ja": "削除", "en": "Delete"},
    "deleted": {"ja": "会話を削除しました。", "en": "Conversation deleted."},
    "export_md": {"ja": "Markdown で書き出す", "en": "Export as Markdown"},
    "question": {"ja": "質問", "en": "Question"},
    "answer": {"ja": "回答", "en": "Answer"},
    # roles
    "role_viewer": {"ja": "閲覧者", "en": "Viewer"},
    "role_admin": {"ja": "管理者", "en": "Admin"},
    "signed_in_as": {"ja": "{who}（{role}）", "en": "{who} ({role})"},
    "admin_login": {"ja": "管理者としてログイン", "en": "Sign in as admin"},
    "password": {"ja": "管理者パスワード", "en": "Admin password"},
    "login": {"ja": "ログイン", "en": "Sign in"},
    "logout": {"ja": "ログアウト", "en": "Sign out"},
    "login_oidc": {"ja": "SSO でログイン", "en": "Sign in with SSO"},
    "wrong_password": {"ja": "パスワードが違います。", "en": "Wrong password."},
    "wrong_password_hint": {
        "ja": "管理者パスワードは設定 ASSISTANT_UI_ADMIN_PASSWORD で決まります。",
        "en": "The admin password is set by ASSISTANT_UI_ADMIN_PASSWORD.",
    },
    "admin_only": {
        "ja": "資料の追加と索引の作り直しは管理者だけができます。",
        "en": "Only admins can add documents and rebuild the index.",
    },
    # sidebar
    "index": {"ja": "索引", "en": "Index"},
    "documents": {"ja": "文書数", "en": "Documents"},
    "chunks": {"ja": "チャンク数", "en": "Chunks"},
    "embedder": {"ja": "埋め込みモデル", "en": "Embedder"},
    "updated": {"ja": "最終取り込み", "en": "Last ingest"},
    "no_index": {"ja": "索引がまだありません。", "en": "There is no index yet."},
    "session_settings": {"ja": "表示と回答の設定", "en": "Display and answers"},
    "language": {"ja": "表示言語 / Language", "en": "Language / 表示言語"},
    "top_k": {"ja": "参照する資料の数", "en": "Passages per answer"},
    "answerer": {"ja": "回答方式", "en": "Answer mode"},
    "admin": {"ja": "管理", "en": "Administration"},
    "add_documents": {"ja": "資料を追加", "en": "Add documents"},
    "upload_label": {
        "ja": "{types}（1 ファイル {mb} MB まで）",
        "en": "{types} ({mb} MB per file at most)",
    },
    "upload_button": {"ja": "取り込む", "en": "Ingest"},
    "choose_files": {"ja": "ファイルを選ぶ", "en": "Choose files"},
    "no_files": {
        "ja": "取り込むファイルがありません。「ファイルを選ぶ」で選び、名前が表示されてから「取り込む」を押してください。",
        "en": "No file to ingest. Choose files, and press Ingest once their names are shown.",
    },
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
        "ja": "{name}: この形式は取り込めません。",
        "en": "{name}: this file type is not supported.",
    },
    "bad_type_hint": {
        "ja": "対応している形式: {types}。別の形式で保存し直してください。",
        "en": "Supported types: {types}. Save the document in one of them.",
    },
    "too_large": {
        "ja": "{name}: ファイルが大きすぎます（{size:.1f} MB、上限 {mb} MB）。",
        "en": "{name}: the file is too large ({size:.1f} MB; the limit is {mb} MB).",
    },
    "too_large_hint": {
        "ja": "文書を分割するか、管理者に上限（ASSISTANT_MAX_FILE_MB）の変更を依頼してください。",
        "en": "Split the document, or ask for a higher limit (ASSISTANT_MAX_FILE_MB).",
    },
    "empty_file": {"ja": "{name}: ファイルが空です。", "en": "{name}: the file is empty."},
    "empty_file_hint": {
        "ja": "中身のあるファイルを選んでください。",
        "en": "Choose a file that has content.",
    },
    "no_text": {
        "ja": "{name}: 読み取れる文字がありません。",
        "en": "{name}: there is no readable text in it.",
    },
    "no_text_hint": {
        "ja": "文字を含むファイルを選んでください。",
        "en": "Choose a file that contains text.",
    },
    "no_text_pdf_hint": {
        "ja": "画像だけの PDF（スキャンした文書など）は読めません。文字認識（OCR）をかけた PDF を使ってください。",
        "en": "PDFs made of images (scans) cannot be read; use a PDF with a text layer (OCR).",
    },
    "bad_encoding": {
        "ja": "{name}: 文字コードを判別できませんでした。",
        "en": "{name}: the text encoding could not be recognised.",
    },
    "bad_encoding_hint": {
        "ja": "UTF-8 で保存し直してから取り込んでください。",
        "en": "Save it as UTF-8 and ingest it again.",
    },
    "binary": {
        "ja": "{name}: テキストではなくバイナリファイルのようです。",
        "en": "{name}: this looks like a binary file, not text.",
    },
    "bad_pdf": {"ja": "{name}: PDF として読めませんでした。", "en": "{name}: not a readable PDF."},
    "bad_pdf_hint": {
        "ja": "ファイルが壊れていないか、パスワードで保護されていないか確認してください。",
        "en": "Check that the file is intact and not password-protected.",
    },
    "unreadable": {"ja": "{name} を読み込めませんでした。", "en": "{name} could not be read."},
    "unreadable_hint": {
        "ja": "ファイルが壊れていないか確認し、もう一度お試しください。",
        "en": "Check that the file is intact and try again.",
    },
    "rebuild": {"ja": "索引を作り直す", "en": "Rebuild the index"},
    "rebuild_help": {
        "ja": "corpus/ とアップロード済みの資料から索引を作り直します。",
        "en": "Rebuilds the index from corpus/ and the uploaded documents.",
    },
    "rebuilt": {
        "ja": "索引を作り直しました（{documents} 文書、{chunks} チャンク、{seconds:.1f} 秒）。",
        "en": "Rebuilt the index ({documents} documents, {chunks} chunks, {seconds:.1f} s).",
    },
    "feedback_data": {"ja": "フィードバック", "en": "Feedback"},
    "feedback_count": {"ja": "記録済み: {n} 件", "en": "{n} recorded"},
    "export": {"ja": "評価データとしてエクスポート", "en": "Export as an eval dataset"},
    # errors of the core, in the interface language
    "err_empty": {"ja": "質問が空です。", "en": "The question is empty."},
    "err_empty_hint": {"ja": "質問を入力してください。", "en": "Type a question."},
    "err_invalid": {"ja": "この質問は受け付けられません。", "en": "This question cannot be accepted."},
    "err_no_index": {"ja": "まだ索引がありません。", "en": "There is no index yet."},
    "err_no_index_hint": {
        "ja": "管理者が資料を取り込むと質問できるようになります（`make ingest` またはサイドバーの「索引を作り直す」）。",
        "en": "Questions work once an admin has ingested documents (`make ingest`, or “Rebuild the index”).",
    },
    "err_mismatch": {
        "ja": "索引が別の埋め込みモデルで作られています。",
        "en": "The index was built with another embedding model.",
    },
    "err_mismatch_hint": {
        "ja": "管理者が索引を作り直す必要があります（サイドバーの「索引を作り直す」）。",
        "en": "An admin needs to rebuild the index (“Rebuild the index” in the sidebar).",
    },
    "err_service": {
        "ja": "回答サービスに接続できません。",
        "en": "The answering service cannot be reached.",
    },
    "err_service_hint": {
        "ja": "質問は会話に残っています。しばらくしてからもう一度送ってください。続く場合は管理者に連絡してください。",
        "en": "Your question is kept in the conversation. Send it again in a moment; if it persists, tell an admin.",
    },
    "err_store": {
        "ja": "索引のデータベースに接続できません。",
        "en": "The index database cannot be reached.",
    },
    "err_store_hint": {
        "ja": "しばらくしてからもう一度お試しください。続く場合は管理者に連絡してください。",
        "en": "Try again in a moment; if it persists, tell an admin.",
    },
    "err_model": {"ja": "モデルを利用できません。", "en": "A model is not available."},
    "err_model_hint": {
        "ja": "管理者はサーバーのログとモデルの設定を確認してください。",
        "en": "Admins: check the server log and the model settings.",
    },
    "err_config": {"ja": "設定に誤りがあります。", "en": "The settings are not valid."},
    "err_config_hint": {
        "ja": "管理者はサーバーのログで詳細を確認してください。",
        "en": "Admins: the server log has the details.",
    },
    "unexpected": {
        "ja": "予期しないエラーが発生しました（{error}）。",
        "en": "An unexpected error occurred ({error}).",
    },
    "unexpected_hint": {
        "ja": "ページを再読み込みしてもう一度お試しください。続く場合は管理者に連絡してください。",
        "en": "Reload the page and try again; if it persists, tell an admin.",
    },
}

_ERRORS: list[tuple[type[AssistantError], str]] = [
    (IndexNotFoundError, "err_no_index"),
    (IndexMismatchError, "err_mismatch"),
    (ServiceUnavailableError, "err_service"),
    (StoreUnavailableError, "err_store"),
    (ModelError, "err_model"),
    (MissingDependencyError, "err_model"),
    (ConfigError, "err_config"),
]
_DROPPED = re.compile(r"^removed (\d+) citation")
_UNCITED = re.compile(r"^(\d+) sentence\(s\) of the answer cite no passage")


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


def error_text(exc: BaseException, language: str) -> tuple[str, str]:
    """What happened and what to do, in the interface language (the core's messages are English)."""
    if isinstance(exc, InvalidQuestionError):
        if "empty" in exc.message:
            return text("err_empty", language), text("err_empty_hint", language)
        return text("err_invalid", language), text("too_long_hint", language)
    for kind, key in _ERRORS:
        if isinstance(exc, kind):
            return text(key, language), text(key + "_hint", language)
    return text("unexpected", language, error=type(exc).__name__), text("unexpected_hint", language)


def note_text(note: str, language: str) -> str:
    """A note of the core in the interface language (the answerer's own notes already are)."""
    if match := _DROPPED.match(note):
        return text("note_dropped", language, n=int(match.group(1)))
    if match := _UNCITED.match(note):
        return text("note_uncited", language, n=int(match.group(1)))
    return note


def upload_problem(name: str, suffix: str, reason: str, language: str) -> tuple[str, str]:
    """An ingest failure of an uploaded file, in the interface language, with a hint for the case."""
    lowered = reason.lower()
    if "no readable text" in lowered:
        hint = "no_text_pdf_hint" if suffix == ".pdf" else "no_text_hint"
        return text("no_text", language, name=name), text(hint, language)
    if "encoding" in lowered:
        return text("bad_encoding", language, name=name), text("bad_encoding_hint", language)
    if "binary" in lowered:
        return text("binary", language, name=name), text("unreadable_hint", language)
    if "pdf" in lowered:
        return text("bad_pdf", language, name=name), text("bad_pdf_hint", language)
    return text("unreadable", language, name=name), text("unreadable_hint", language)
