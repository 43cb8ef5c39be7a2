"""The eval runner end to end on a real index (fake:256 embedder), reports, gate, compare, CLI."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from assistant.errors import AssistantError, ConfigError
from assistant.evals import cli
from assistant.evals.compare import compare_runs, format_comparison
from assistant.evals.dataset import load_dataset
from assistant.evals.gate import check, load_thresholds
from assistant.evals.report import write_reports
from assistant.evals.runner import read_results, run_eval
from assistant.pipeline import Assistant
from assistant.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

DATASET = [
    {
        "id": "speed",
        "question": "コンテナの起動速度はどのくらいですか？",
        "reference_answer": "秒単位",
        "reference_sources": ["corpus/containers-vs-vms.ja.md#概要"],
        "tags": ["lang:ja"],
    },
    {
        "id": "hyper",
        "question": "仮想的なハードウェアを作り出すソフトウェア層は何と呼ばれますか？",
        "reference_answer": "ハイパーバイザー",
        "tags": ["lang:ja"],
    },
    {
        "id": "tech",
        "question": "Docker and Podman are examples of what?",
        "reference_answer": ["コンテナ", "containers"],
        "reference_sources": ["containers-vs-vms.ja.md"],
        "tags": ["lang:en"],
    },
    {"id": "off", "question": "ラーメンの美味しい店は？", "expect_refusal": True, "tags": ["lang:ja"]},
    {"id": "xss", "question": "<script>alert('x')</script> とは何ですか？", "expect_refusal": True},
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evals")
    (root / "corpus").mkdir()
    shutil.copy(CORPUS / "containers-vs-vms.ja.md", root / "corpus")
    with (root / "dataset.jsonl").open("w", encoding="utf-8") as handle:
        for row in DATASET:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    settings = load_settings(data_dir=root / "data", embedder="fake:256", corpus=[root / "corpus"])
    Assistant(settings).ingest()
    return root


def make_bot(workspace: Path, **overrides: object) -> Assistant:
    return Assistant(
        load_settings(
            data_dir=workspace / "data", embedder="fake:256", corpus=[workspace / "corpus"], **overrides
        )
    )


def test_runner_writes_results_and_summary(workspace: Path, tmp_path: Path) -> None:
    dataset = workspace / "dataset.jsonl"
    records = load_dataset(dataset)
    summary = run_eval(
        make_bot(workspace), records, tmp_path / "run", dataset=dataset, batch_size=2, progress=False
    )
    results = read_results(tmp_path / "run")
    assert list(results) == [r["id"] for r in DATASET]
    row = results["speed"]
    assert row["citations"] and row["citations"][0]["source"].endswith("containers-vs-vms.ja.md")
    assert {"total", "embed_query"} <= set(row["timings"])
    assert set(row["scores"]) >= {"hit@1", "hit@4", "mrr@4", "ndcg@4", "f1", "faithfulness", "passed"}
    assert results["off"]["refused"] and results["off"]["scores"]["passed"]
    assert results["off"]["scores"]["f1"] is None
    saved = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert saved["metrics"] == summary["metrics"]
    assert summary["counts"] == {
        "questions": 5,
        "expect_refusal": 2,
        "answerable": 3,
        "with_reference_answer": 3,
        "refused": summary["counts"]["refused"],
        "passed": summary["counts"]["passed"],
        "errors": 0,
    }
    assert summary["corpus"]["documents"] == 1 and len(summary["corpus"]["sha256"]) == 64
    assert summary["pipeline"]["embedder"] == "fake:256" and summary["pipeline"]["top_k"] == 4
    assert summary["metrics"]["refusal_recall"] == 1.0
    assert 0 <= summary["metrics"]["hit@1"] <= summary["metrics"]["hit@4"] <= 1
    assert summary["latency"]["total"]["p95"] >= summary["latency"]["total"]["p50"] > 0
    assert summary["by_tag"]["lang:ja"]["n"] == 3

    paths = write_reports(tmp_path / "run", summary, list(results.values()))
    md, page = (p.read_text(encoding="utf-8") for p in paths)
    assert "## Metrics" in md and "hit@1" in md and "semantic_similarity" in md
    assert "data:image/png;base64," in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<script>alert" not in md


def test_runner_resumes_and_refuses_to_mix_settings(workspace: Path, tmp_path: Path) -> None:
    dataset = workspace / "dataset.jsonl"
    records = load_dataset(dataset)
    out = tmp_path / "run"
    run_eval(make_bot(workspace), records[:2], out, dataset=dataset, progress=False)
    # an interrupted write leaves half a line; it is dropped and the question asked again
    with (out / "results.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"id": "tech", "quest')
    summary = run_eval(make_bot(workspace), records, out, dataset=dataset, progress=False)
    assert summary["run"] == {**summary["run"], "answered_now": 3, "resumed": 2}
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [r["id"] for r in DATASET]
    again = run_eval(make_bot(workspace), records, out, dataset=dataset, progress=False)
    assert again["run"]["answered_now"] == 0 and again["metrics"] == summary["metrics"]
    with pytest.raises(AssistantError, match="other settings") as info:
        run_eval(make_bot(workspace, top_k=3), records, out, dataset=dataset, progress=False)
    assert "--fresh" in info.value.hint
    fresh = run_eval(make_bot(workspace, top_k=3), records, out, dataset=dataset, fresh=True, progress=False)
    assert fresh["run"]["answered_now"] == 5 and "hit@4" not in fresh["metrics"]


def test_gate(tmp_path: Path) -> None:
    toml = tmp_path / "t.toml"
    toml.write_text('[min]\n"hit@1" = 0.8\nf1 = 0.3\n[max]\nfalse_refusal_rate = 0.1\n', encoding="utf-8")
    thresholds = load_thresholds(toml, mins=["f1=0.5"])
    assert thresholds.minimum == {"hit@1": 0.8, "f1": 0.5}
    good = check({"hit@1": 0.9, "f1": 0.6, "false_refusal_rate": 0.0}, thresholds)
    assert good.passed and good.checked == 3
    bad = check({"hit@1": 0.7, "f1": 0.6, "false_refusal_rate": 0.2}, thresholds)
    assert not bad.passed and len(bad.failures) == 2
    assert "hit@1 = 0.7000 is below the threshold 0.8" in bad.failures
    assert not check({"f1": 0.6}, load_thresholds(mins=["hit@1=0.1"])).passed  # a missing metric fails
    with pytest.raises(ConfigError, match="metric=number"):
        load_thresholds(mins=["hit@1"])
    toml.write_text("[minimum]\nf1 = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown sections"):
        load_thresholds(toml)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="assistant")
    cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_eval_gate_and_compare(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(data_dir=workspace / "data", embedder="fake:256", corpus=[workspace / "corpus"])
    dataset = str(workspace / "dataset.jsonl")
    args = parse(
        ["eval", dataset, "--out", str(tmp_path / "a"), "--no-progress", "--min", "refusal_recall=1"]
    )
    assert args.handler(args, settings) == 0
    out = capsys.readouterr().out
    assert "gate: passed (1 thresholds)" in out and "report.html" in out
    assert {p.name for p in (tmp_path / "a").iterdir()} >= {
        "results.jsonl",
        "summary.json",
        "report.md",
        "report.html",
        "run.json",
    }

    args = parse(
        [
            "eval",
            "run",
            dataset,
            "--out",
            str(tmp_path / "b"),
            "--no-progress",
            "--json",
            "--min",
            "hit@1=1.01",
            "--limit",
            "3",
        ]
    )
    assert args.handler(args, settings) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["gate"]["passed"] is False and summary["counts"]["questions"] == 3

    args = parse(["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert args.handler(args, settings) == 0
    text = capsys.readouterr().out
    assert "hit@1" in text and "delta" in text and "! the dataset differs" not in text
    comparison = compare_runs(tmp_path / "a", tmp_path / "b")
    assert comparison["same_corpus"] and comparison["only_in_a"] == ["off", "xss"]
    assert format_comparison(comparison).count("passed in A, failed in B") == 1

    args = parse(["eval", dataset, "--no-progress", "--limit", "1"])
    assert args.handler(args, settings) == 0
    capsys.readouterr()
    default_runs = list((workspace / "data" / "evals").glob("dataset-*/summary.json"))
    assert len(default_runs) == 1

    with pytest.raises(ConfigError, match="two run directories"):
        bad = parse(["eval", "compare", str(tmp_path / "a")])
        bad.handler(bad, settings)


def test_compare_reports_flips_and_setting_changes(workspace: Path, tmp_path: Path) -> None:
    dataset = workspace / "dataset.jsonl"
    records = load_dataset(dataset)
    run_eval(make_bot(workspace), records, tmp_path / "a", dataset=dataset, progress=False)
    run_eval(
        make_bot(workspace, min_relevance=0.99, confident_relevance=0.999),
        records,
        tmp_path / "b",
        dataset=dataset,
        progress=False,
    )
    comparison = compare_runs(tmp_path / "a", tmp_path / "b")
    assert set(comparison["settings_changed"]) == {"min_relevance", "confident_relevance"}
    # refusing everything breaks the answerable questions that passed and fixes none
    assert not comparison["flipped"]["fixed"]
    broken = {row["id"] for row in comparison["flipped"]["broken"]}
    passed_a = {i for i, r in read_results(tmp_path / "a").items() if r["scores"]["passed"]}
    assert broken == passed_a - {"off", "xss"}
    assert comparison["metrics"]["false_refusal_rate"]["b"] == 1.0


@pytest.mark.slow
def test_html_report_opens_in_headless_chromium(workspace: Path, tmp_path: Path) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    dataset = workspace / "dataset.jsonl"
    summary = run_eval(
        make_bot(workspace), load_dataset(dataset), tmp_path / "run", dataset=dataset, progress=False
    )
    _, page_path = write_reports(tmp_path / "run", summary, list(read_results(tmp_path / "run").values()))
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
            page.goto(page_path.as_uri())
            assert page.title().startswith("Eval report")
            images = page.locator("img")
            assert images.count() >= 2
            widths = images.evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth)")
            assert all(w and w > 0 for w in widths)
            assert page.locator("text=Failures").count() >= 1
        finally:
            browser.close()
    assert errors == []


# --- regressions found in review (each failed before its fix) ---------------------------


def test_an_invalid_question_is_an_error_not_a_refusal(workspace: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "errors.jsonl"
    rows = [
        {"id": "long", "question": "コンテナとは何ですか？" * 400, "expect_refusal": True},
        {"id": "off", "question": "ラーメンの美味しい店は？", "expect_refusal": True},
    ]
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    summary = run_eval(
        make_bot(workspace), load_dataset(dataset), tmp_path / "run", dataset=dataset, progress=False
    )
    results = read_results(tmp_path / "run")
    assert results["long"]["error_type"] == "InvalidQuestionError" and not results["long"]["refused"]
    assert results["long"]["scores"]["passed"] is False
    assert summary["counts"]["errors"] == 1 and summary["counts"]["refused"] == 1
    assert summary["metrics"]["error_rate"] == 0.5
    assert summary["metrics"]["refusal_recall"] == 1.0  # over the questions that got an answer
    report = tmp_path / "run" / "report.md"
    write_reports(tmp_path / "run", summary, list(results.values()))
    text = report.read_text(encoding="utf-8")
    assert "## Errors (1)" in text and "InvalidQuestionError" in text


@pytest.mark.parametrize(
    ("setting", "value"),
    [("fusion", "rrf"), ("llm_temperature", 0.7), ("llm_max_tokens", 64), ("system_prompt_file", "prompt")],
)
def test_every_effective_setting_is_recorded_and_resuming_refuses_to_mix(
    workspace: Path, tmp_path: Path, setting: str, value: object
) -> None:
    dataset = workspace / "dataset.jsonl"
    records = load_dataset(dataset)[:1]
    out = tmp_path / "run"
    first = run_eval(make_bot(workspace), records, out, dataset=dataset, progress=False)
    if value == "prompt":
        (tmp_path / "prompt.txt").write_text("Answer briefly. {refusal} {max_sentences}", encoding="utf-8")
        value = tmp_path / "prompt.txt"
    changed = make_bot(workspace, **{setting: value})
    with pytest.raises(AssistantError, match=f"other settings: {setting} "):
        run_eval(changed, records, out, dataset=dataset, progress=False)
    other = run_eval(changed, records, tmp_path / "other", dataset=dataset, progress=False)
    assert other["fingerprint"] != first["fingerprint"]
    assert setting in compare_runs(out, tmp_path / "other")["settings_changed"]


def test_compare_refuses_runs_scored_with_other_metric_definitions(workspace: Path, tmp_path: Path) -> None:
    dataset = workspace / "dataset.jsonl"
    records = load_dataset(dataset)[:1]
    for name in ("a", "b"):
        run_eval(make_bot(workspace), records, tmp_path / name, dataset=dataset, progress=False)
    summary = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    summary["metrics_version"] = 1
    (tmp_path / "a" / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(AssistantError, match="different metric definitions"):
        compare_runs(tmp_path / "a", tmp_path / "b")


def test_ranking_metrics_follow_the_retrieval_rank_not_the_display_order() -> None:
    from assistant.evals.dataset import EvalRecord
    from assistant.evals.runner import score_question
    from assistant.types import Answer, Passage, number_passages

    found = [
        Passage("a", "無関係な文。", "/c/other.md", "O", [], rank=1, number=1),
        Passage("b", "起動は秒単位です。", "/c/doc.md", "D", [], rank=2, number=2),
    ]
    # The answer cites the second-ranked passage, so it is shown first as [1].
    shown = number_passages(found, {2: 1})
    answer = Answer("q", "秒単位です。[1]", False, shown, {}, "ja", "q", "extractive").to_dict()
    record = EvalRecord(
        id="r", question="起動の速さは？", reference_answers=["秒単位"], reference_sources=["doc.md"]
    )
    scores = score_question(record, answer, k=2)
    assert scores["hit@1"] == 0.0 and scores["hit@2"] == 1.0 and scores["mrr@2"] == 0.5
    assert scores["faithfulness"] == 1.0  # [1] still points at the passage shown as [1]
