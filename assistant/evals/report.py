"""Reports of a run: Markdown and a self-contained HTML page with inline PNG plots.

One report model (`report_model`: plain data) is rendered through two Jinja2
templates in ``templates/``; every piece of dataset or answer text is escaped
(HTML autoescaping; a Markdown escape filter). The plots are drawn with
matplotlib's Agg backend (no display) and embedded as base64, so the HTML file
needs nothing else to open.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.evals.gate import Thresholds, metric_rows

DEFINITIONS: dict[str, str] = {
    "hit@k": "1 if one of the first k passages given to the answerer is relevant, averaged over "
    "answerable questions with a reference. Relevant: it matches a reference source (path "
    "suffix, path#Heading, or chunk id) or, with no sources given, contains a reference answer.",
    "recall@k": "Share of a question's reference sources found in the first k passages.",
    "mrr@k": "1/rank of the first relevant passage within the first k (0 if none).",
    "ndcg@k": "Standard binary nDCG: each relevant passage in the first k gains 1/log2(rank+1); divided "
    "by the ideal ranking of min(k, relevant passages) relevant ones first (maximum 1).",
    "exact_match": "1 if the normalised answer equals a normalised reference answer.",
    "f1": "Token F1, each text tokenised by its own language: Japanese characters and words of other "
    "scripts (SQuAD normalisation), NFKC, no punctuation; best over the reference alternatives.",
    "contains_reference": "1 if a reference's tokens occur in order inside the answer's; for comparison "
    "questions (reference_entity) inside a clause that names the side asked for.",
    "semantic_similarity": "Cosine similarity of the answer and the reference answer, both "
    "embedded with the configured embedder.",
    "faithfulness": "Share of answer sentences (split at sentence ends, citation marks and line ends) "
    "supported by a passage they cite (uncited: by any cited passage); supported = at least 80% of "
    "the sentence's character bigrams occur in it.",
    "citation_precision": "Share of the cited passages that are relevant.",
    "refusal_precision": "Of the questions the assistant refused, the share that expected a refusal.",
    "refusal_recall": "Of the questions that expected a refusal, the share it refused.",
    "false_refusal_rate": "Of the answerable questions, the share it refused.",
    "error_rate": "Share of questions that ended in an error (an invalid question, a failing model): "
    "neither answered nor refused; refusal metrics leave them out, the pass rate counts them as failed.",
    "pass_rate": "Share of questions passed: refused when a refusal is expected; otherwise not "
    "refused, a relevant passage in the top k, and the answer contains the reference or F1 >= 0.5.",
    "latency": "Seconds per pipeline stage over all questions (p50, p95), from Answer.timings.",
}


def write_reports(
    out_dir: Path,
    summary: dict[str, Any],
    results: Sequence[dict[str, Any]],
    thresholds: Thresholds | None = None,
) -> list[Path]:
    """Write ``report.md`` and ``report.html``; return their paths."""
    model = report_model(summary, results, thresholds)
    md = out_dir / "report.md"
    page = out_dir / "report.html"
    md.write_text(render("report.md.j2", model), encoding="utf-8")
    page.write_text(
        render("report.html.j2", {**model, "plots": plots(summary, results, model)}), encoding="utf-8"
    )
    return [md, page]


def markdown_report(
    summary: dict[str, Any], results: Sequence[dict[str, Any]], thresholds: Thresholds | None = None
) -> str:
    return render("report.md.j2", report_model(summary, results, thresholds))


def html_report(
    summary: dict[str, Any], results: Sequence[dict[str, Any]], thresholds: Thresholds | None = None
) -> str:
    model = report_model(summary, results, thresholds)
    return render("report.html.j2", {**model, "plots": plots(summary, results, model)})


def failures(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if not r.get("scores", {}).get("passed")]


def _expected(row: dict[str, Any]) -> str:
    if row.get("expect_refusal"):
        return "(a refusal: the corpus cannot answer)"
    refs = " / ".join(row.get("reference_answers") or []) or "(no reference answer)"
    sources = ", ".join(row.get("reference_sources") or [])
    return f"{refs}" + (f" — sources: {sources}" if sources else "")


def report_model(
    summary: dict[str, Any], results: Sequence[dict[str, Any]], thresholds: Thresholds | None = None
) -> dict[str, Any]:
    """Everything a report shows, as plain data: the one input of both templates."""
    thresholds = thresholds or Thresholds()
    shown: set[str] = set()
    rows = metric_rows(summary["metrics"], thresholds)
    for row in rows:
        row["definition"] = _once(_definition(row["name"]), shown)
    measured = thresholds.measured.get("fingerprint")
    judge = summary.get("judge")
    return {
        "title": Path(summary["dataset"]["path"]).name,
        "dataset": summary["dataset"],
        "split": summary["dataset"].get("split") or "(not a dev/test split)",
        "fingerprint": summary.get("fingerprint"),
        "thresholds_fingerprint": measured,
        "stale_thresholds": bool(
            measured and summary.get("fingerprint") and measured != summary["fingerprint"]
        ),
        "git_revision": summary.get("git_revision") or "(unknown)",
        "counts": summary["counts"],
        "corpus": summary["corpus"],
        "answerer": _answerer_line(summary["answerer"]) if summary.get("answerer") else None,
        "pipeline": summary["pipeline"],
        "metrics": rows,
        "has_targets": any(r["floor"] is not None or r["goal"] is not None for r in rows),
        "judge": judge,
        "judge_note": JUDGE_NOTE,
        "judge_columns": JUDGE_COLUMNS,
        "judge_rows": _judge_rows(judge) if judge else [],
        "latency": summary["latency"],
        "by_tag": summary.get("by_tag") or {},
        "errors": [r for r in results if r.get("error")],
        "failures": [
            {**r, "expected": _expected(r), "passages": r.get("citations", [])} for r in failures(results)
        ],
        "results": list(results),
    }


def render(template: str, model: dict[str, Any]) -> str:
    return _environment().get_template(template).render(**model)


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("assistant.evals", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = _md
    env.filters["fmt"] = _fmt
    env.filters["name"] = lambda path: Path(str(path)).name
    return env


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    out = html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")
    return out.replace("[", "\\[").replace("]", "\\]").replace("`", "\\`").replace("*", "\\*")


# --- the LLM judge (only with an LLM answerer) -------------------------------------------

JUDGE_DEFINITIONS: dict[str, str] = {
    "correctness": "The judge model's 0–1 grade of whether the answer states the facts of the reference "
    "answer (answerable questions with a reference).",
    "groundedness": "The judge model's 0–1 share of answer sentences supported by the passages the "
    "answerer was given (answers that are not refusals).",
}
JUDGE_COLUMNS = ("mean", "std", "run_min", "run_max", "scored", "unparsed", "failed")
JUDGE_NOTE = (
    "Graded by the answerer's own language model at temperature 0, beside — never instead of — the "
    "deterministic metrics above. mean: over questions of each question's mean over the repeats; std: "
    "mean per-question standard deviation across repeats; run_min/run_max: lowest and highest mean of "
    "a single repeat; unparsed: replies without a score in [0, 1]; failed: calls that failed after the "
    "retries."
)


def _judge_rows(judge: dict[str, Any]) -> list[tuple[str, list[str], str]]:
    return [
        (name, [_fmt(row.get(col)) for col in JUDGE_COLUMNS] + [str(row.get("questions"))],
         JUDGE_DEFINITIONS.get(name, ""))
        for name, row in judge.get("metrics", {}).items()
    ]  # fmt: skip


def _answerer_line(info: dict[str, Any]) -> str:
    model = info.get("model") or "(none)"
    return f"backend {info.get('backend')}, model {model}"


def _once(text: str, shown: set[str]) -> str:
    """A definition shared by several rows (hit@1, hit@2...) is written on the first only."""
    if text in shown:
        return "〃"
    shown.add(text)
    return text


def _definition(name: str) -> str:
    base = name.split("@")[0] + "@k" if "@" in name else name
    if name.startswith("latency_"):
        base = "latency"
    return DEFINITIONS.get(base, "")


# --- plots ---------------------------------------------------------------------------


def plots(
    summary: dict[str, Any], results: Sequence[dict[str, Any]], model: dict[str, Any] | None = None
) -> list[tuple[str, str]]:
    """(title, base64 PNG): metrics against floor and goal, the score distributions, the
    hit@k curve and the latency histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: list[tuple[str, str]] = []
    targeted = [
        r
        for r in (model or {}).get("metrics", [])
        if r["value"] is not None
        and (r["floor"] is not None or r["goal"] is not None)
        and not r["name"].startswith("latency_")
    ]
    if targeted:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(targeted) + 1))
        ys = list(range(len(targeted)))
        ax.barh(
            ys,
            [r["value"] for r in targeted],
            color=[
                "#54a24b" if r["goal_met"] else "#f58518" if r["floor_met"] is not False else "#e45756"
                for r in targeted
            ],
        )
        for y, r in zip(ys, targeted, strict=True):
            if r["floor"] is not None:
                ax.plot([r["floor"]] * 2, [y - 0.4, y + 0.4], color="#222", linewidth=2)
            if r["goal"] is not None:
                ax.plot([r["goal"]] * 2, [y - 0.4, y + 0.4], color="#4c78a8", linewidth=2, linestyle="--")
        ax.set_yticks(
            ys, [r["name"] + (" (lower is better)" if r["lower_is_better"] else "") for r in targeted]
        )
        ax.set_xlim(0, 1.0)
        ax.invert_yaxis()
        ax.set_xlabel("value; solid line: floor (gate), dashed: goal")
        out.append(("Metrics against floor and goal", _png(fig, plt)))
    names = ["f1", "semantic_similarity", "faithfulness", "contains_reference"]
    fig, axes = plt.subplots(1, len(names), figsize=(12, 2.8))
    for ax, name in zip(axes, names, strict=True):
        values = [r["scores"][name] for r in results if r["scores"].get(name) is not None]
        ax.hist(values, bins=10, range=(0, 1), color="#4c78a8")
        ax.set_title(f"{name} (n={len(values)})", fontsize=9)
    out.append(("Score distributions", _png(fig, plt)))
    k = int(summary["k"])
    ks = list(range(1, k + 1))
    hits = [summary["metrics"].get(f"hit@{i}") for i in ks]
    if any(h is not None for h in hits):
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot(ks, [h or 0.0 for h in hits], marker="o")
        ax.set_xlabel("k")
        ax.set_ylabel("hit@k")
        ax.set_ylim(0, 1.05)
        ax.set_xticks(ks)
        out.append(("hit@k curve", _png(fig, plt)))
    totals = [float(r["timings"]["total"]) for r in results if "total" in (r.get("timings") or {})]
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(totals, bins=20, color="#f58518")
    ax.set_xlabel("seconds per question (total)")
    ax.set_ylabel("questions")
    out.append(("Latency histogram", _png(fig, plt)))
    return out


def _png(fig: Any, plt: Any) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
