"""Compare two eval runs: metric deltas, questions that flipped, and what else differs.

A run is a directory written by the runner (``summary.json`` and ``results.jsonl``).
When the corpus fingerprint or the pipeline settings differ, the comparison says
so first: a change of chunking is not a regression of the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.evals.runner import RESULTS, SUMMARY, read_results


def load_run(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    summary_path = path / SUMMARY if path.is_dir() else path
    run_dir = summary_path.parent
    if not summary_path.is_file():
        raise AssistantError(
            f"{path} is not an eval run (no {SUMMARY}).",
            "Give the --out directory of an `assistant eval` run.",
        )
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    results = read_results(run_dir) if (run_dir / RESULTS).exists() else {}
    return summary, results


def compare_runs(a: Path, b: Path) -> dict[str, Any]:
    """Deltas of B against A. Runs scored with different metric definitions are refused
    (their numbers do not measure the same thing); other settings are flagged first."""
    sa, ra = load_run(a)
    sb, rb = load_run(b)
    va, vb = sa.get("metrics_version", 1), sb.get("metrics_version", 1)
    if va != vb:
        raise AssistantError(
            f"{a} and {b} were scored with different metric definitions (versions {va} and {vb}).",
            "Run both again with the same version of the eval suite (--fresh), then compare.",
        )
    deltas = {}
    for name in dict.fromkeys([*sa["metrics"], *sb["metrics"]]):
        va, vb = sa["metrics"].get(name), sb["metrics"].get(name)
        deltas[name] = {"a": va, "b": vb, "delta": vb - va if va is not None and vb is not None else None}
    settings = {
        k: {"a": sa["pipeline"].get(k), "b": sb["pipeline"].get(k)}
        for k in dict.fromkeys([*sa["pipeline"], *sb["pipeline"]])
        if sa["pipeline"].get(k) != sb["pipeline"].get(k)
    }
    flips: dict[str, list[dict[str, Any]]] = {"fixed": [], "broken": []}
    for qid in ra.keys() & rb.keys():
        pa, pb = bool(ra[qid]["scores"]["passed"]), bool(rb[qid]["scores"]["passed"])
        if pa != pb:
            row = {
                "id": qid,
                "question": rb[qid]["question"],
                "answer_a": ra[qid]["answer"],
                "answer_b": rb[qid]["answer"],
            }
            flips["fixed" if pb else "broken"].append(row)
    for rows in flips.values():
        rows.sort(key=lambda r: r["id"])
    return {
        "a": str(a),
        "b": str(b),
        "same_corpus": sa["corpus"]["sha256"] == sb["corpus"]["sha256"],
        "same_dataset": sa["dataset"]["sha256"] == sb["dataset"]["sha256"],
        "fingerprint": {"a": sa.get("fingerprint"), "b": sb.get("fingerprint")},
        "settings_changed": settings,
        "metrics": deltas,
        "flipped": flips,
        "only_in_a": sorted(ra.keys() - rb.keys()),
        "only_in_b": sorted(rb.keys() - ra.keys()),
    }


def format_comparison(c: dict[str, Any]) -> str:
    lines = [f"A: {c['a']}", f"B: {c['b']}"]
    if not c["same_corpus"]:
        lines.append(
            "! the corpus differs (fingerprints do not match): differences may come from the documents"
        )
    if not c["same_dataset"]:
        lines.append("! the dataset differs between the runs")
    fp = c.get("fingerprint") or {}
    if fp.get("a") != fp.get("b"):
        lines.append(f"! the settings differ (fingerprint {fp.get('a')} -> {fp.get('b')}):")
    for key, v in c["settings_changed"].items():
        lines.append(f"! setting {key}: {v['a']!r} -> {v['b']!r}")
    lines += ["", f"{'metric':<24}{'A':>10}{'B':>10}{'delta':>10}"]
    for name, v in c["metrics"].items():
        cells = ["–" if x is None else f"{x:.3f}" for x in (v["a"], v["b"])]
        delta = "–" if v["delta"] is None else f"{v['delta']:+.3f}"
        lines.append(f"{name:<24}{cells[0]:>10}{cells[1]:>10}{delta:>10}")
    for kind, label in (("broken", "passed in A, failed in B"), ("fixed", "failed in A, passed in B")):
        rows = c["flipped"][kind]
        lines += ["", f"{label}: {len(rows)}"]
        lines += [f"  {r['id']}: {r['question']}" for r in rows]
    if c["only_in_a"] or c["only_in_b"]:
        lines += ["", f"only in A: {len(c['only_in_a'])}, only in B: {len(c['only_in_b'])}"]
    return "\n".join(lines)
