"""The eval runner: answer every question with the configured `Assistant`, score, summarise.

Results are appended to ``results.jsonl`` as each batch is scored, so an
interrupted run resumes where it stopped: questions already in the file are
skipped. ``run.json`` pins the corpus fingerprint, the pipeline settings and the
dataset; resuming with different ones is refused rather than mixed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.evals import metrics as m
from assistant.evals.dataset import EvalRecord, dataset_files, dataset_split
from assistant.evals.fingerprint import METRICS_VERSION, effective_settings, fingerprint, settings_fingerprint
from assistant.evals.judge import make_judge, summarize_judge
from assistant.pipeline import Assistant
from assistant.settings import Settings
from assistant.types import Passage

log = logging.getLogger(__name__)

RESULTS = "results.jsonl"
SUMMARY = "summary.json"
RUN = "run.json"


def pipeline_settings(settings: Settings) -> dict[str, Any]:
    """The effective settings that change answers; recorded with every run."""
    return effective_settings(settings)


def answerer_info(settings: Settings) -> dict[str, str]:
    """Which answerer backend and model produced the run (``provider:model``)."""
    provider, _, model = settings.answerer.partition(":")
    return {"spec": settings.answerer, "backend": provider.strip().lower(), "model": model.strip()}


def corpus_fingerprint(bot: Assistant) -> dict[str, Any]:
    """sha256 over the content hashes of the indexed files (independent of where they live)."""
    return bot.corpus_fingerprint()


def git_revision() -> str | None:
    """The checked-out commit of the working directory (``+dirty`` with local changes)."""
    import subprocess

    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "") if rev else None


def file_sha256(path: Path) -> str:
    """sha256 of a dataset file, or over the names and contents of a dataset directory's files."""
    if not path.is_dir():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for file in dataset_files(path):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def default_out_dir(settings: Settings, dataset: Path, corpus: dict[str, Any] | None = None) -> Path:
    """``data_dir/evals/<dataset>-<hash of settings and corpus>``: an unchanged rerun resumes."""
    key = json.dumps([settings_fingerprint(settings), corpus], sort_keys=True, default=str)
    return settings.data_dir / "evals" / f"{dataset.stem}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def score_question(
    record: EvalRecord, answer: dict[str, Any], k: int, similarity: float | None = None
) -> dict[str, Any]:
    """Every per-question metric; ``None`` where a metric does not apply."""
    if answer.get("error"):
        return {"refused": False, "error": True, "passed": False}
    citations = answer.get("citations", [])
    passages = [Passage.from_dict(c) for c in citations]  # display order: [n] is passages[n-1]
    relevance = m.relevant_items(passages, record.reference_sources, record.reference_answers)
    # Ranking metrics follow the retrieval order, not the display order (cited passages first).
    ranked = sorted(citations, key=lambda c: c.get("rank") or c.get("number") or 0)
    by_rank = m.relevant_items(
        [Passage.from_dict(c) for c in ranked], record.reference_sources, record.reference_answers
    )
    total = m.n_items(record.reference_sources, record.reference_answers)
    scores: dict[str, Any] = {"refused": bool(answer.get("refused"))}
    judged = relevance is not None and by_rank is not None and record.answerable
    for i in range(1, k + 1):
        scores[f"hit@{i}"] = m.hit_at_k(by_rank, i) if judged and by_rank is not None else None
    scores[f"recall@{k}"] = m.recall_at_k(by_rank, k, total) if judged and by_rank is not None else None
    scores[f"mrr@{k}"] = m.mrr_at_k(by_rank, k) if judged and by_rank is not None else None
    scores[f"ndcg@{k}"] = m.ndcg_at_k(by_rank, k, total) if judged and by_rank is not None else None
    text = str(answer.get("answer", ""))
    refs = record.reference_answers if record.answerable else []
    scores["exact_match"] = m.exact_match(text, refs) if refs else None
    scores["f1"] = m.answer_f1(text, refs) if refs else None
    scores["contains_reference"] = (
        m.contains_reference(text, refs, entity=record.reference_entity) if refs else None
    )
    scores["semantic_similarity"] = similarity if refs else None
    refused = scores["refused"]
    scores["faithfulness"] = None if refused else m.faithfulness(text, passages)
    scores["citation_precision"] = (
        m.citation_precision(relevance, passages)
        if judged and relevance is not None and not refused
        else None
    )
    if record.expect_refusal:
        passed = refused
    else:
        passed = not refused
        if scores[f"hit@{k}"] is not None:
            passed = passed and scores[f"hit@{k}"] == 1.0
        if refs:
            passed = passed and (scores["contains_reference"] == 1.0 or scores["f1"] >= 0.5)
    scores["passed"] = bool(passed)
    return scores


def run_eval(
    bot: Assistant,
    records: Sequence[EvalRecord],
    out_dir: Path,
    *,
    dataset: Path,
    batch_size: int = 8,
    fresh: bool = False,
    progress: bool = True,
    judge_repeats: int = 1,
) -> dict[str, Any]:
    """Answer and score every record (skipping those already in ``out_dir``); return the summary.

    With an LLM answerer, each answer is also graded ``judge_repeats`` times by the
    LLM judge (0: no judge); see `assistant.evals.judge`.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    k = bot.settings.top_k
    judge = make_judge(bot, judge_repeats) if judge_repeats > 0 else None
    effective = pipeline_settings(bot.settings)
    run: dict[str, Any] = {
        "dataset": {
            "path": str(dataset),
            "split": dataset_split(dataset),
            "sha256": file_sha256(dataset),
            "records": len(records),
        },
        "corpus": corpus_fingerprint(bot),
        "fingerprint": fingerprint(effective),
        "metrics_version": METRICS_VERSION,
        "pipeline": effective,
        "answerer": answerer_info(bot.settings),
        "judge": {"model": judge.model, "repeats": judge.repeats} if judge else None,
    }
    results_path = out_dir / RESULTS
    if fresh:
        results_path.unlink(missing_ok=True)
    done = _check_resume(out_dir, run) if results_path.exists() else {}
    (out_dir / RUN).write_text(json.dumps(run, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    todo = [r for r in records if r.id not in done]
    if done:
        log.info("resuming: %d of %d questions already answered", len(records) - len(todo), len(records))
    started = time.time()
    from tqdm import tqdm

    bar = tqdm(
        total=len(records),
        initial=len(records) - len(todo),
        desc="eval",
        unit="q",
        file=sys.stderr,
        disable=not progress,
    )
    try:
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            answers = [_answer(bot, r) for r in batch]
            similarities = _similarities(bot, batch, answers)
            with results_path.open("a", encoding="utf-8") as handle:
                for record, answer, similarity in zip(batch, answers, similarities, strict=True):
                    row = _result_row(record, answer, score_question(record, answer, k, similarity))
                    judged = judge.score(record, answer) if judge is not None else None
                    if judged is not None:
                        row["judge"] = judged
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                    done[record.id] = row
                    bar.update(1)
    finally:
        bar.close()
    results = [done[r.id] for r in records if r.id in done]
    summary = summarize(results, k, judge=run["judge"])
    summary.update({key: value for key, value in run.items() if key != "judge"})
    summary["git_revision"] = git_revision()
    summary["run"] = {
        "out_dir": str(out_dir),
        "answered_now": len(todo),
        "resumed": len(records) - len(todo),
        "seconds": round(time.time() - started, 2),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (out_dir / SUMMARY).write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return summary


def summarize(
    results: Sequence[dict[str, Any]], k: int, judge: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Aggregate per-question scores into the run's metrics.

    The LLM judge's figures (when ``judge``, its model and repeats, is given and rows
    were judged) go to their own ``judge`` entry, never into ``metrics``.
    """
    names = [f"hit@{i}" for i in range(1, k + 1)] + [
        f"recall@{k}",
        f"mrr@{k}",
        f"ndcg@{k}",
        "exact_match",
        "f1",
        "contains_reference",
        "semantic_similarity",
        "faithfulness",
        "citation_precision",
    ]
    metrics: dict[str, float | None] = {n: m.mean(r["scores"].get(n) for r in results) for n in names}
    # A question that ended in an error was neither answered nor refused: it counts
    # against the pass rate and in error_rate, never as a refusal.
    answered = [r for r in results if not r.get("error")]
    expected = [bool(r.get("expect_refusal")) for r in answered]
    refused = [bool(r["refused"]) for r in answered]
    metrics.update(m.refusal_scores(expected, refused))
    metrics["pass_rate"] = m.mean(float(r["scores"]["passed"]) for r in results)
    metrics["error_rate"] = m.mean(float(bool(r.get("error"))) for r in results)
    latency = m.latency([r.get("timings") or {} for r in results])
    for stage in ("total", "answer"):
        if stage in latency:
            metrics[f"latency_{stage}_p50"] = latency[stage]["p50"]
            metrics[f"latency_{stage}_p95"] = latency[stage]["p95"]
    by_tag: dict[str, dict[str, Any]] = {}
    for tag in sorted({t for r in results for t in r.get("tags", [])}):
        rows = [r for r in results if tag in r.get("tags", [])]
        by_tag[tag] = {
            "n": len(rows),
            "pass_rate": m.mean(float(r["scores"]["passed"]) for r in rows),
            "hit@1": m.mean(r["scores"].get("hit@1") for r in rows),
            "f1": m.mean(r["scores"].get("f1") for r in rows),
        }
    judged = [r["judge"] for r in results if isinstance(r.get("judge"), dict)]
    judge_summary = (
        summarize_judge(judged, judge.get("model"), int(judge.get("repeats") or 1)) if judge else None
    )
    return {
        "k": k,
        "metrics": metrics,
        "counts": {
            "questions": len(results),
            "expect_refusal": sum(bool(r.get("expect_refusal")) for r in results),
            "answerable": sum(not r.get("expect_refusal") for r in results),
            "with_reference_answer": sum(bool(r.get("reference_answers")) for r in results),
            "refused": sum(refused),
            "passed": sum(bool(r["scores"]["passed"]) for r in results),
            "errors": sum(bool(r.get("error")) for r in results),
        },
        "latency": latency,
        "by_tag": by_tag,
        "judge": judge_summary,
    }


def _answer(bot: Assistant, record: EvalRecord) -> dict[str, Any]:
    """The answer as a dict; an error of ours (an invalid question, an unreachable
    model…) is recorded with its type and counted apart from refusals."""
    try:
        return bot.ask(record.question).to_dict()
    except AssistantError as exc:
        return {
            "answer": "",
            "refused": False,
            "citations": [],
            "timings": {},
            "error": exc.message,
            "error_type": type(exc).__name__,
        }


def _similarities(
    bot: Assistant, batch: Sequence[EvalRecord], answers: Sequence[dict[str, Any]]
) -> list[float | None]:
    """Cosine similarity of each answer to its closest reference, embedded in one call."""
    texts: list[str] = []
    spans: list[tuple[int, int] | None] = []
    for record, answer in zip(batch, answers, strict=True):
        if not record.reference_answers or not record.answerable:
            spans.append(None)
            continue
        first = len(texts)
        texts.append(m.strip_citations(str(answer.get("answer", ""))) or "-")
        texts.extend(record.reference_answers)
        spans.append((first, len(texts)))
    if not texts:
        return [None] * len(batch)
    vectors = bot.embed_texts(texts)
    out: list[float | None] = []
    for span in spans:
        if span is None:
            out.append(None)
            continue
        first, end = span
        out.append(max(m.cosine(vectors[first], vectors[j]) for j in range(first + 1, end)))
    return out


def _result_row(record: EvalRecord, answer: dict[str, Any], scores: dict[str, Any]) -> dict[str, Any]:
    row = {
        "id": record.id,
        "question": record.question,
        "tags": record.tags,
        "reference_answers": record.reference_answers,
        "reference_sources": record.reference_sources,
        "expect_refusal": record.expect_refusal,
        "answer": answer.get("answer", ""),
        "refused": bool(answer.get("refused")),
        "language": answer.get("language"),
        "citations": [dict(c) for c in answer.get("citations", [])],
        "timings": answer.get("timings", {}),
        "scores": scores,
    }
    if answer.get("error"):
        row["error"] = answer["error"]
        row["error_type"] = answer.get("error_type", "")
    return row


def read_results(out_dir: Path, repair: bool = False) -> dict[str, dict[str, Any]]:
    """Rows of ``results.jsonl`` by id; a line cut short by an interruption is dropped
    (and, with ``repair``, removed from the file so that appending can go on)."""
    rows: dict[str, dict[str, Any]] = {}
    path = out_dir / RESULTS
    if not path.exists():
        return rows
    good: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            log.warning("dropping an incomplete line of %s", path)
            continue
        rows[row["id"]] = row
        good.append(line)
    if repair:
        path.write_text("".join(g + "\n" for g in good), encoding="utf-8")
    return rows


_CHANGED = {
    "corpus": "other documents",
    "fingerprint": "other settings",
    "metrics_version": "metrics defined differently (an older version)",
    "dataset": "another version of the dataset",
    "judge": "another LLM judge or --judge-repeats",
}


def settings_diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    """``name a -> b`` for every setting that differs."""
    names = [n for n in dict.fromkeys([*a, *b]) if a.get(n) != b.get(n)]
    return ", ".join(f"{n} {a.get(n)!r} -> {b.get(n)!r}" for n in names) or "(recorded differently)"


def _check_resume(out_dir: Path, run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    previous_path = out_dir / RUN
    if previous_path.exists():
        previous = json.loads(previous_path.read_text(encoding="utf-8"))
        for key in ("corpus", "fingerprint", "metrics_version", "dataset", "judge"):
            old, new = previous.get(key), run[key]
            if key == "dataset":
                old, new = (old or {}).get("sha256"), new["sha256"]
            if json.dumps(old, sort_keys=True, default=str) != json.dumps(new, sort_keys=True, default=str):
                what = _CHANGED.get(key, key)
                if key == "fingerprint":
                    what += ": " + settings_diff(previous.get("pipeline") or {}, run["pipeline"])
                raise AssistantError(
                    f"{out_dir} holds a run scored with {what}; results are not mixed.",
                    "Choose another --out directory, or pass --fresh to start this run over.",
                )
    return read_results(out_dir, repair=True)
