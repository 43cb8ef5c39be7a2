"""The optional LLM judge, end to end through `assistant eval` against the stand-in chat server.

The stand-in (tests/chat_standin.py) speaks OpenAI's chat-completions protocol on
127.0.0.1: answers are streamed, the judge's gradings are not, so its responder
tells them apart by the prompt.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.cli import main
from assistant.evals.dataset import EvalRecord
from assistant.evals.judge import Judge, make_judge, parse_score, summarize_judge
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from tests.chat_standin import Fault, StandIn, StandInServer, last_user_text

ROOT = Path(__file__).resolve().parents[1]
ANSWER = "コンテナは秒単位で起動します [1]。"
DATASET = [
    {"id": "speed", "question": "コンテナの起動速度はどのくらいですか？", "reference_answer": "秒単位"},
    {"id": "tech", "question": "How fast do containers start?", "reference_answer": "in seconds"},
    {"id": "off", "question": "ラーメンの美味しい店は？", "expect_refusal": True},
]


def judge_kind(body: dict[str, Any]) -> str | None:
    """``correctness``/``groundedness`` for a judge request, None for an answer request."""
    text = last_user_text(body)
    if "採点者" not in text and "grader" not in text:
        return None
    return "correctness" if ("模範解答" in text or "Reference answer" in text) else "groundedness"


def responder(grades: dict[str, Callable[[dict[str, Any]], str]]) -> Callable[[dict[str, Any]], str]:
    def respond(body: dict[str, Any]) -> str:
        kind = judge_kind(body)
        return ANSWER if kind is None else grades[kind](body)

    return respond


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandInServer() as state:
        state.responder = responder({"correctness": lambda b: "0.8", "groundedness": lambda b: "点数: 1.0"})
        yield state


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "corpus").mkdir()
    shutil.copy(ROOT / "corpus" / "containers-vs-vms.ja.md", tmp_path / "corpus")
    with (tmp_path / "dataset.jsonl").open("w", encoding="utf-8") as handle:
        for row in DATASET:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return tmp_path


def run_eval_cli(workspace: Path, standin: StandIn, *extra: str, answerer: str = "openai:standin") -> int:
    config = workspace / "assistant.toml"
    config.write_text(
        f'llm_base_url = "{standin.base_url}/v1"\nllm_timeout = 2.0\nllm_max_retries = 1\n'
        "llm_retry_backoff = 0.01\n",
        encoding="utf-8",
    )
    return main([
        "--config", str(config), "--data-dir", str(workspace / "data"), "--embedder", "fake:256",
        "--answerer", answerer, "eval", str(workspace / "dataset.jsonl"), "--corpus",
        str(workspace / "corpus"), "--out", str(workspace / "run"), "--no-progress", *extra,
    ])  # fmt: skip


def outputs(workspace: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]], str, str]:
    run = workspace / "run"
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    md = (run / "report.md").read_text(encoding="utf-8")
    page = (run / "report.html").read_text(encoding="utf-8")
    return summary, {r["id"]: r for r in rows}, md, page


def judge_requests(standin: StandIn) -> list[dict[str, Any]]:
    return [r.body for r in standin.chat_requests if judge_kind(r.body)]


# --- end to end -------------------------------------------------------------------------------------


def test_eval_with_an_llm_answerer_reports_judge_scores_beside_the_metrics(
    workspace: Path, standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_eval_cli(workspace, standin)
    printed = capsys.readouterr().out
    assert code == 0
    summary, rows, md, page = outputs(workspace)

    assert summary["answerer"] == {"spec": "openai:standin", "backend": "openai", "model": "standin"}
    judge = summary["judge"]
    assert judge["model"] == "openai:standin" and judge["repeats"] == 1
    answered = [r for r in rows.values() if not r["refused"]]
    assert answered, "the stand-in's answers should get past the relevance gate"
    correctness, groundedness = judge["metrics"]["correctness"], judge["metrics"]["groundedness"]
    assert correctness["mean"] == pytest.approx(0.8) and groundedness["mean"] == pytest.approx(1.0)
    assert correctness["std"] == 0.0 and correctness["run_min"] == correctness["run_max"] == pytest.approx(
        0.8
    )
    assert correctness["unparsed"] == correctness["failed"] == 0
    assert correctness["questions"] == sum(1 for r in answered if r["reference_answers"])
    # beside, never instead of, the deterministic metrics
    assert "f1" in summary["metrics"] and "correctness" not in summary["metrics"]
    assert "judge" not in rows["off"]  # no reference and a refusal: nothing to judge
    for row in answered:
        assert row["judge"]["correctness"]["runs"] == [0.8]
        assert row["judge"]["groundedness"] == {
            "runs": [1.0], "mean": 1.0, "std": 0.0, "unparsed": 0, "failed": 0
        }  # fmt: skip

    # the judge is called without streaming, at temperature 0, in the question's language
    bodies = judge_requests(standin)
    assert len(bodies) == 2 * len(answered)
    assert all(not b.get("stream") and b["temperature"] == 0 for b in bodies)
    answers = [r.body for r in standin.chat_requests if not judge_kind(r.body)]
    assert all(b["stream"] is True for b in answers)
    prompts = [last_user_text(b) for b in bodies]
    assert not rows["tech"]["refused"]  # the English question gets the English prompts
    assert any(p.startswith("You are a grader") and "How fast do containers start?" in p for p in prompts)
    assert any(p.startswith("あなたは採点者です") and "模範解答: 秒単位" in p for p in prompts)
    grounded = next(p for p in prompts if p.startswith("あなたは採点者です。回答の各文"))
    assert "[1] " in grounded and ANSWER in grounded

    for text in (md, page, printed):
        assert "LLM judge" in text and "openai:standin" in text
    assert "## LLM judge" in md and "| correctness | 0.800 | 0.000 |" in md
    assert '<h2 id="llm-judge">LLM judge</h2>' in page
    assert "backend openai, model standin" in md


def test_a_reply_without_a_number_is_counted_as_unparsed(
    workspace: Path, standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    standin.responder = responder(
        {"correctness": lambda b: "よく分かりません。", "groundedness": lambda b: "0.5"}
    )
    assert run_eval_cli(workspace, standin) == 0
    summary, rows, md, _ = outputs(workspace)
    correctness = summary["judge"]["metrics"]["correctness"]
    judged = [r for r in rows.values() if "correctness" in r.get("judge", {})]
    assert judged and correctness["unparsed"] == len(judged)
    assert correctness["mean"] is None and correctness["scored"] == 0
    assert all(r["judge"]["correctness"]["runs"] == [None] for r in judged)
    assert summary["judge"]["metrics"]["groundedness"]["mean"] == pytest.approx(0.5)
    assert f"{len(judged)} unparsed" in capsys.readouterr().out
    assert "| correctness | – | – | – | – | 0 |" in md


def test_repeated_judging_reports_the_spread(workspace: Path, standin: StandIn) -> None:
    calls: Counter[str] = Counter()
    cycle = ["0.6", "0.8", "1.0"]

    def grade(kind: str) -> Callable[[dict[str, Any]], str]:
        def reply(body: dict[str, Any]) -> str:
            calls[kind] += 1
            return cycle[(calls[kind] - 1) % 3]

        return reply

    standin.responder = responder(
        {"correctness": grade("correctness"), "groundedness": grade("groundedness")}
    )
    assert run_eval_cli(workspace, standin, "--judge-repeats", "3") == 0
    summary, rows, md, page = outputs(workspace)
    assert summary["judge"]["repeats"] == 3
    spread = summary["judge"]["metrics"]["groundedness"]
    # every question's three gradings are 0.6, 0.8, 1.0 (the calls are sequential)
    assert spread["mean"] == pytest.approx(0.8)
    assert spread["std"] == pytest.approx(0.163299, abs=1e-5)
    assert (spread["run_min"], spread["run_max"]) == (pytest.approx(0.6), pytest.approx(1.0))
    for row in rows.values():
        if "groundedness" in row.get("judge", {}):
            assert row["judge"]["groundedness"]["runs"] == [0.6, 0.8, 1.0]
    assert "3 run(s) per answer" in md and "3 run(s) per answer" in page

    # resuming the run with another number of repeats would mix gradings: refused
    assert run_eval_cli(workspace, standin, "--judge-repeats", "2") != 0


def test_the_extractive_answerer_has_no_judge(
    workspace: Path, standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_eval_cli(workspace, standin, answerer="extractive") == 0
    summary, rows, md, page = outputs(workspace)
    assert summary["judge"] is None
    assert summary["answerer"] == {"spec": "extractive", "backend": "extractive", "model": ""}
    assert all("judge" not in row for row in rows.values())
    assert "LLM judge" not in md and "LLM judge" not in page and "LLM judge" not in capsys.readouterr().out
    assert not standin.chat_requests


def test_judge_repeats_zero_switches_the_judge_off(workspace: Path, standin: StandIn) -> None:
    assert run_eval_cli(workspace, standin, "--judge-repeats", "0") == 0
    summary, _, md, _ = outputs(workspace)
    assert summary["judge"] is None and "LLM judge" not in md
    assert not judge_requests(standin)


# --- the judge on its own -------------------------------------------------------------------------


def judge_for(tmp_path: Path, standin: StandIn, **llm: Any) -> Judge:
    values: dict[str, Any] = {
        "llm_base_url": standin.base_url + "/v1", "llm_timeout": 2.0, "llm_max_retries": 1,
        "llm_retry_backoff": 0.01,
    }  # fmt: skip
    values.update(llm)
    settings: Settings = load_settings(
        data_dir=tmp_path, embedder="fake:256", answerer="openai:standin", **values
    )
    made = make_judge(Assistant(settings))
    assert made is not None
    return made


RECORD = EvalRecord(id="q", question="コンテナの起動速度は？", reference_answers=["秒単位"])
ANSWERED = {
    "answer": ANSWER,
    "refused": False,
    "citations": [{"number": 1, "text": "コンテナは秒単位で起動"}],
}


@pytest.mark.parametrize(
    ("fault", "llm"),
    [(Fault("500"), {}), (Fault("slow", 5.0), {"llm_timeout": 0.3}), (Fault("malformed"), {})],
    ids=["server-error", "timeout", "malformed"],
)
def test_a_failing_judge_is_counted_and_never_stops_the_run(
    tmp_path: Path, standin: StandIn, fault: Fault, llm: dict[str, Any]
) -> None:
    judge = judge_for(tmp_path, standin, **llm)
    standin.fail(fault, fault)  # enough for every attempt (1 + llm_max_retries)
    unsourced = {**ANSWERED, "citations": []}  # only correctness applies
    started = time.monotonic()
    row = judge.score(RECORD, unsourced)
    assert time.monotonic() - started < 4
    assert row == {"correctness": {"runs": [None], "mean": None, "std": None, "unparsed": 0, "failed": 1}}
    standin.faults.clear()
    again = judge.score(RECORD, unsourced)  # the server recovered
    assert again is not None and again["correctness"]["runs"] == [0.8]
    summary = summarize_judge([row, again], judge.model, 1)["metrics"]["correctness"]
    assert (summary["failed"], summary["questions"], summary["scored"]) == (1, 2, 1)
    assert summary["mean"] == pytest.approx(0.8)


def test_an_unreachable_judge_fails_fast(tmp_path: Path, standin: StandIn) -> None:
    judge = judge_for(tmp_path, standin, llm_base_url="http://127.0.0.1:9/v1")
    row = judge.score(RECORD, ANSWERED)
    assert row is not None and row["correctness"]["failed"] == 1 and row["groundedness"]["failed"] == 1


def test_the_answerer_keeps_its_own_temperature_and_streaming(tmp_path: Path, standin: StandIn) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        embedder="fake:256",
        answerer="openai:standin",
        llm_base_url=standin.base_url + "/v1",
    )
    bot = Assistant(settings)
    answerer = bot.answerer
    judge = make_judge(bot)
    assert judge is not None and judge.llm is not answerer
    assert answerer.chat.temperature == pytest.approx(0.1) and answerer.chat.streaming is True  # type: ignore[attr-defined]
    assert judge.llm.chat.temperature == 0.0 and judge.llm.chat.streaming is False
    assert make_judge(Assistant(settings.model_copy(update={"answerer": "extractive"}))) is None


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("0.8", 0.8),
        ("点数: 0.75", 0.75),
        ("０．９", 0.9),  # full-width digits
        ("1", 1.0),
        ("0", 0.0),
        (".5", 0.5),
        ("4/5", 0.8),
        ("80%", 0.8),
        ("0〜1の範囲で評価すると 0.6 です。", 0.6),  # the scale echoed back is not the score
        ("On a scale of 0 to 1: 0.3", 0.3),
        ("<think>maybe 0.2 or 0.9</think>\n0.9", 0.9),
        ("0.7\n理由: 1つ目の文は資料にあります。", 0.7),
        ("よく分かりません", None),
        ("", None),
        ("7", None),  # out of range: unparsed, not guessed
        ("3/0", None),
    ],
)
def test_parse_score(reply: str, score: float | None) -> None:
    parsed = parse_score(reply)
    assert parsed == (pytest.approx(score) if score is not None else None)
