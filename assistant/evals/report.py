"""Reports of a run: Markdown and a self-contained HTML page with inline PNG plots.

Every piece of dataset or answer text is escaped. The plots are drawn with
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


def write_reports(out_dir: Path, summary: dict[str, Any], results: Sequence[dict[str, Any]]) -> list[Path]:
    """Write ``report.md`` and ``report.html``; return their paths."""
    md = out_dir / "report.md"
    page = out_dir / "report.html"
    md.write_text(markdown_report(summary, results), encoding="utf-8")
    page.write_text(html_report(summary, results), encoding="utf-8")
    return [md, page]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    out = html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")
    return out.replace("[", "\\[").replace("]", "\\]").replace("`", "\\`").replace("*", "\\*")


def failures(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if not r.get("scores", {}).get("passed")]


def _expected(row: dict[str, Any]) -> str:
    if row.get("expect_refusal"):
        return "(a refusal: the corpus cannot answer)"
    refs = " / ".join(row.get("reference_answers") or []) or "(no reference answer)"
    sources = ", ".join(row.get("reference_sources") or [])
    return f"{refs}" + (f" — sources: {sources}" if sources else "")


def markdown_report(summary: dict[str, Any], results: Sequence[dict[str, Any]]) -> str:
    lines = [f"# Eval report: {_md(Path(summary['dataset']['path']).name)}", ""]
    lines += _md_header(summary)
    lines += ["## Metrics", "", "| metric | value | definition |", "| --- | --- | --- |"]
    shown: set[str] = set()
    for name, value in summary["metrics"].items():
        lines.append(f"| {name} | {_fmt(value)} | {_md(_once(_definition(name), shown))} |")
    lines += _md_judge(summary.get("judge"))
    lines += ["", "## Latency (seconds)", "", "| stage | p50 | p95 | mean |", "| --- | --- | --- | --- |"]
    for stage, row in summary["latency"].items():
        lines.append(f"| {stage} | {row['p50']:.4f} | {row['p95']:.4f} | {row['mean']:.4f} |")
    if summary.get("by_tag"):
        lines += [
            "",
            "## By tag",
            "",
            "| tag | n | pass rate | hit@1 | f1 |",
            "| --- | --- | --- | --- | --- |",
        ]
        for tag, row in summary["by_tag"].items():
            lines.append(
                f"| {_md(tag)} | {row['n']} | {_fmt(row['pass_rate'])} | {_fmt(row['hit@1'])} "
                f"| {_fmt(row['f1'])} |"
            )
    errored = [r for r in results if r.get("error")]
    if errored:
        lines += ["", f"## Errors ({len(errored)})", "", "Neither answered nor refused; they count as failures.", ""]
        lines += [
            f"- {_md(r['id'])}: {_md(r.get('error_type') or 'error')}: {_md(r['error'])}" for r in errored
        ]
    failed = failures(results)
    lines += ["", f"## Failures ({len(failed)})", ""]
    for row in failed:
        lines += [
            f"### {_md(row['id'])}: {_md(row['question'])}",
            "",
            f"- expected: {_md(_expected(row))}",
            f"- answer{' (refused)' if row.get('refused') else ''}: {_md(row.get('answer', ''))}",
            "- passages:",
        ]
        for c in row.get("citations", []):
            lines.append(
                f"  - [{c['number']}]{' cited' if c.get('cited') else ''} "
                f"{_md(Path(c['source']).name)} › {_md(' > '.join(c.get('heading_path') or []))} "
                f"(score {c['score']:.4f}): {_md(c['text'][:240])}"
            )
        lines.append("")
    lines += [
        "## All questions",
        "",
        "| id | question | passed | refused | hit@1 | f1 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in results:
        sc = row.get("scores", {})
        lines.append(
            f"| {_md(row['id'])} | {_md(row['question'])} | {'✓' if sc.get('passed') else '✗'} | "
            f"{'yes' if row.get('refused') else ''} | {_fmt(sc.get('hit@1'))} | {_fmt(sc.get('f1'))} |"
        )
    return "\n".join(lines) + "\n"


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


def _md_judge(judge: dict[str, Any] | None) -> list[str]:
    if not judge:
        return []
    lines = [
        "",
        "## LLM judge",
        "",
        f"Judge model: `{_md(judge.get('model'))}`, {judge.get('repeats')} run(s) per answer. "
        + _md(JUDGE_NOTE),
        "",
        "| judge metric | " + " | ".join(JUDGE_COLUMNS) + " | questions | definition |",
        "| --- " * (len(JUDGE_COLUMNS) + 3) + "|",
    ]
    for name, cells, definition in _judge_rows(judge):
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {_md(definition)} |")
    if not judge.get("metrics"):
        lines.append("| (no answer could be judged) |" + " |" * (len(JUDGE_COLUMNS) + 2))
    return lines


def _html_judge(judge: dict[str, Any] | None) -> list[str]:
    if not judge:
        return []
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in (*JUDGE_COLUMNS, "questions", "definition"))
    parts = [
        '<h2 id="llm-judge">LLM judge</h2>',
        f"<p>Judge model: <code>{e(str(judge.get('model')))}</code>, {int(judge.get('repeats') or 1)} "
        f"run(s) per answer. {e(JUDGE_NOTE)}</p>",
        f"<table><tr><th>judge metric</th>{head}</tr>",
    ]
    for name, cells, definition in _judge_rows(judge):
        parts.append(
            f"<tr><td>{e(name)}</td>"
            + "".join(f"<td>{e(c)}</td>" for c in cells)
            + f"<td>{e(definition)}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _md_header(summary: dict[str, Any]) -> list[str]:
    c, corpus, p = summary["counts"], summary["corpus"], summary["pipeline"]
    return [
        f"- questions: {c['questions']} ({c['answerable']} answerable, {c['expect_refusal']} expecting a "
        f"refusal); passed {c['passed']}, refused {c['refused']}, errors {c['errors']}",
        f"- corpus: {corpus['documents']} documents, {corpus['chunks']} chunks, fingerprint "
        f"`{corpus['sha256'][:16]}`",
        *([f"- answerer: {_md(_answerer_line(summary['answerer']))}"] if summary.get("answerer") else []),
        "- pipeline: " + ", ".join(f"{k}={_md(v)}" for k, v in p.items()),
        "",
    ]


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


# --- HTML ------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}.fail{border:1px solid #e0b4b4;
background:#fff6f6;padding:.6em 1em;margin:1em 0}.passage{font-size:.9em;color:#444;margin:.3em 0}
.cited{font-weight:bold}img{max-width:100%}code{background:#f3f3f3}"""


def html_report(summary: dict[str, Any], results: Sequence[dict[str, Any]]) -> str:
    e = html.escape
    shown: set[str] = set()
    c, corpus = summary["counts"], summary["corpus"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ja"><head><meta charset="utf-8">',
        f"<title>Eval report: {e(Path(summary['dataset']['path']).name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Eval report: {e(Path(summary['dataset']['path']).name)}</h1>",
        f"<p>{c['questions']} questions ({c['answerable']} answerable, {c['expect_refusal']} expecting a "
        f"refusal); passed {c['passed']}, refused {c['refused']}, errors {c['errors']}.<br>"
        f"Corpus: {corpus['documents']} documents, {corpus['chunks']} chunks, fingerprint "
        f"<code>{e(corpus['sha256'][:16])}</code>."
        + (f"<br>Answerer: {e(_answerer_line(summary['answerer']))}." if summary.get("answerer") else "")
        + "</p>",
        "<h2>Pipeline</h2><table>",
        *(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in summary["pipeline"].items()),
        "</table><h2>Metrics</h2><table><tr><th>metric</th><th>value</th><th>definition</th></tr>",
        *(
            f"<tr><td>{e(n)}</td><td>{e(_fmt(v))}</td><td>{e(_once(_definition(n), shown))}</td></tr>"
            for n, v in summary["metrics"].items()
        ),
        "</table>",
    ]
    parts += _html_judge(summary.get("judge"))
    parts.append("<h2>Plots</h2>")
    for title, png in plots(summary, results):
        parts.append(
            f'<figure><img alt="{e(title)}" src="data:image/png;base64,{png}">'
            f"<figcaption>{e(title)}</figcaption></figure>"
        )
    parts.append(
        "<h2>Latency (seconds)</h2><table><tr><th>stage</th><th>p50</th><th>p95</th><th>mean</th></tr>"
    )
    for stage, row in summary["latency"].items():
        parts.append(
            f"<tr><td>{e(stage)}</td><td>{row['p50']:.4f}</td><td>{row['p95']:.4f}</td>"
            f"<td>{row['mean']:.4f}</td></tr>"
        )
    parts.append("</table>")
    errored = [r for r in results if r.get("error")]
    if errored:
        parts.append(f"<h2>Errors ({len(errored)})</h2><ul>")
        parts += [
            f"<li>{e(r['id'])}: {e(r.get('error_type') or 'error')}: {e(r['error'])}</li>" for r in errored
        ]
        parts.append("</ul>")
    failed = failures(results)
    parts.append(f"<h2>Failures ({len(failed)})</h2>")
    for row in failed:
        parts.append(
            f'<div class="fail"><h3>{e(row["id"])}: {e(row["question"])}</h3>'
            f"<p><b>Expected:</b> {e(_expected(row))}</p>"
            f"<p><b>Answer{' (refused)' if row.get('refused') else ''}:</b> {e(row.get('answer', ''))}</p>"
        )
        for cit in row.get("citations", []):
            cls = "passage cited" if cit.get("cited") else "passage"
            parts.append(
                f'<div class="{cls}">[{int(cit["number"])}] {e(Path(cit["source"]).name)} › '
                f"{e(' > '.join(cit.get('heading_path') or []))} (score {float(cit['score']):.4f}): "
                f"{e(cit['text'][:400])}</div>"
            )
        parts.append("</div>")
    parts.append(
        "<h2>All questions</h2><table><tr><th>id</th><th>question</th><th>passed</th>"
        "<th>refused</th><th>hit@1</th><th>f1</th><th>similarity</th></tr>"
    )
    for row in results:
        sc = row.get("scores", {})
        parts.append(
            f"<tr><td>{e(row['id'])}</td><td>{e(row['question'])}</td><td>{'✓' if sc.get('passed') else '✗'}"
            f"</td><td>{'yes' if row.get('refused') else ''}</td><td>{_fmt(sc.get('hit@1'))}</td>"
            f"<td>{_fmt(sc.get('f1'))}</td><td>{_fmt(sc.get('semantic_similarity'))}</td></tr>"
        )
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"


def plots(summary: dict[str, Any], results: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(title, base64 PNG) for the score distributions, the hit@k curve and the latency histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: list[tuple[str, str]] = []
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
