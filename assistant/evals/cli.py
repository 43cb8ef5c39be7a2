"""``assistant eval``: run a dataset through the pipeline, report, gate; or compare two runs.

assistant eval evals/datasets/test/seed_qa.jsonl --thresholds evals/thresholds.toml
assistant eval run DATASET [options]          (a file, or a split directory such as evals/datasets/dev)          (the same, spelled out)
assistant eval compare RUN_A RUN_B            (metric deltas and flipped questions)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from assistant.settings import Settings

log = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  assistant eval evals/datasets/dev/seed_qa.jsonl            # calibrate on the development split
  assistant eval evals/datasets/test/seed_qa.jsonl --thresholds evals/thresholds.toml --out artifacts/eval
  assistant eval run my_questions.csv --corpus docs/ --limit 20 --json
  assistant eval compare artifacts/eval-before artifacts/eval-after
"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate the pipeline on a dataset of questions (or compare two runs)",
        description="Answer every question of DATASET (.jsonl, .csv or .yaml) with the configured "
        "pipeline, score retrieval, answers and refusals, write results.jsonl, summary.json and "
        "Markdown/HTML reports, and exit non-zero when a metric is below its threshold. "
        "`assistant eval compare RUN_A RUN_B` compares two runs.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "target",
        nargs="+",
        metavar="DATASET | run DATASET | compare RUN_A RUN_B",
        help="a dataset file, or a directory of them (a split: evals/datasets/dev or evals/datasets/test)",
    )
    p.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="files or directories to index before evaluating (default: the configured corpus)",
    )
    p.add_argument("--out", type=Path, help="run directory (default: DATA_DIR/evals/<dataset>-<settings>)")
    p.add_argument(
        "--thresholds", type=Path, help="TOML file with [min]/[max] floors and [goal] targets (reported)"
    )
    p.add_argument(
        "--min",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="fail when METRIC is below VALUE (repeatable)",
    )
    p.add_argument(
        "--max",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="fail when METRIC is above VALUE (repeatable)",
    )
    p.add_argument("--limit", type=int, help="evaluate only the first N questions")
    p.add_argument("--batch-size", type=int, default=8, help="questions scored per batch (default 8)")
    p.add_argument(
        "--judge-repeats",
        type=_non_negative,
        default=1,
        metavar="N",
        help="with an LLM answerer, grade each answer N times with the LLM judge and report mean and "
        "spread (default 1; 0: no judge)",
    )
    p.add_argument("--fresh", action="store_true", help="start over instead of resuming the run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary (or comparison) as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.errors import ConfigError

    target = list(args.target)
    if target[0] == "compare":
        if len(target) != 3:
            raise ConfigError(
                "`assistant eval compare` takes two run directories.",
                "Example: assistant eval compare runs/before runs/after",
            )
        return _compare(Path(target[1]), Path(target[2]), args.json)
    if target[0] == "run":
        target = target[1:]
    if len(target) != 1:
        raise ConfigError(
            "`assistant eval` takes one dataset file.",
            "Example: assistant eval evals/datasets/dev/seed_qa.jsonl",
        )
    return evaluate(Path(target[0]), settings, args)


def evaluate(dataset: Path, settings: Settings, args: argparse.Namespace) -> int:
    from assistant.evals.dataset import load_dataset
    from assistant.evals.gate import check, load_thresholds, metric_rows
    from assistant.evals.report import write_reports
    from assistant.evals.runner import corpus_fingerprint, default_out_dir, read_results, run_eval
    from assistant.pipeline import Assistant

    records = load_dataset(dataset)
    if args.limit:
        records = records[: args.limit]
    thresholds = load_thresholds(args.thresholds, args.min, args.max)
    bot = Assistant(settings)
    progress = not args.no_progress
    report = bot.ingest(args.corpus or None, progress=_ingest_bar() if progress else None)
    if report.changed:
        log.info("index updated: %d added, %d updated", len(report.added), len(report.updated))
    out_dir = args.out or default_out_dir(settings, dataset, corpus_fingerprint(bot))
    summary = run_eval(
        bot,
        records,
        out_dir,
        dataset=dataset,
        batch_size=args.batch_size,
        fresh=args.fresh,
        progress=progress,
        judge_repeats=args.judge_repeats,
    )
    results = read_results(out_dir)
    wanted = {r.id for r in records}
    paths = write_reports(out_dir, summary, [results[i] for i in results if i in wanted], thresholds)
    gate = check(summary["metrics"], thresholds)
    summary["gate"] = {
        "passed": gate.passed,
        "failures": gate.failures,
        "checked": gate.checked,
        "goals": {
            r["name"]: r["goal_met"]
            for r in metric_rows(summary["metrics"], thresholds)
            if r["goal"] is not None
        },
        "measured_with": thresholds.measured.get("fingerprint"),
    }
    if args.json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(format_summary(summary, paths) + "\n")
    return 0 if gate.passed else 1


def format_summary(summary: dict[str, Any], reports: list[Path]) -> str:
    c = summary["counts"]
    lines = [
        f"{c['questions']} questions ({c['answerable']} answerable, {c['expect_refusal']} expecting a "
        f"refusal): {c['passed']} passed, {c['refused']} refused, {c['errors']} errors",
        f"split {summary['dataset'].get('split') or '-'}, settings {summary.get('fingerprint')}, "
        f"revision {summary.get('git_revision') or '-'}",
        f"corpus {summary['corpus']['documents']} documents / {summary['corpus']['chunks']} chunks "
        f"(fingerprint {summary['corpus']['sha256'][:12]}); embedder {summary['pipeline']['embedder']}, "
        f"answerer {summary['pipeline']['answerer']}, top_k {summary['pipeline']['top_k']}",
        "",
    ]
    for name, value in summary["metrics"].items():
        lines.append(f"  {name:<24}{'–' if value is None else f'{value:.3f}'}")
    lines += format_judge(summary.get("judge"))
    lines += ["", f"results: {Path(summary['run']['out_dir']) / 'results.jsonl'}"]
    lines += [f"report:  {p}" for p in reports]
    gate = summary.get("gate")
    if gate and gate.get("measured_with") and gate["measured_with"] != summary.get("fingerprint"):
        lines.append(
            f"warning: the thresholds were measured with settings {gate['measured_with']}, this run used "
            f"{summary.get('fingerprint')}: re-measure them (evals/README.md) before trusting the gate"
        )
    if gate and gate.get("goals"):
        reached = [name for name, ok in gate["goals"].items() if ok]
        lines.append(
            f"goals: {len(reached)} of {len(gate['goals'])} reached ({', '.join(reached) or 'none'})"
        )
    if gate and gate["checked"]:
        if gate["passed"]:
            lines.append(f"gate: passed ({gate['checked']} thresholds)")
        else:
            lines.append(f"gate: FAILED ({len(gate['failures'])} of {gate['checked']} thresholds)")
            lines += [f"  - {f}" for f in gate["failures"]]
    return "\n".join(lines)


def format_judge(judge: dict[str, Any] | None) -> list[str]:
    """The LLM judge's lines of the printed summary (none without a judge)."""
    if not judge:
        return []
    lines = [
        "",
        f"LLM judge {judge['model']} ({judge['repeats']} run(s) per answer; beside the metrics above)",
    ]
    if not judge["metrics"]:
        lines.append("  (no answer could be judged)")
    for name, row in judge["metrics"].items():
        value = "–" if row["mean"] is None else f"{row['mean']:.3f}"
        spread = ""
        if judge["repeats"] > 1 and row["std"] is not None:
            spread = f"  ±{row['std']:.3f} per question, runs {row['run_min']:.3f}–{row['run_max']:.3f}"
        lines.append(
            f"  {name:<24}{value}{spread}  ({row['scored']}/{row['questions']} scored, "
            f"{row['unparsed']} unparsed, {row['failed']} failed)"
        )
    return lines


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _compare(a: Path, b: Path, as_json: bool) -> int:
    from assistant.evals.compare import compare_runs, format_comparison

    result = compare_runs(a, b)
    text = (
        json.dumps(result, ensure_ascii=False, indent=2, default=str)
        if as_json
        else format_comparison(result)
    )
    sys.stdout.write(text + "\n")
    return 0


def _ingest_bar() -> Any:
    from tqdm import tqdm

    state: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc="embedding", unit="chunk", file=sys.stderr)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress
