"""The CI gate's thresholds file: measured with today's defaults, on the test split, with goals."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from assistant.evals.fingerprint import default_settings, effective_settings, fingerprint
from assistant.evals.gate import Thresholds, check, load_thresholds, metric_rows
from assistant.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = ROOT / "evals" / "thresholds.toml"
GATE_DATASET = "evals/datasets/test/seed_qa.jsonl"


def test_the_gate_was_measured_with_the_current_defaults() -> None:
    measured = load_thresholds(THRESHOLDS).measured
    current = fingerprint(default_settings())
    assert measured["fingerprint"] == current, (
        f"evals/thresholds.toml was measured with settings {measured['fingerprint']}, the defaults are now "
        f"{current}: re-measure the floor with `make eval-gate` (see evals/README.md) and record the new "
        "fingerprint, date and figures"
    )


def test_a_changed_default_changes_the_fingerprint(tmp_path: Path) -> None:
    base = effective_settings(load_settings(data_dir=tmp_path))
    assert fingerprint(base) == fingerprint(default_settings())
    for change in ({"top_k": 5}, {"fusion": "rrf"}, {"answerer": "openai:x"}, {"chunk_size": 400}):
        assert fingerprint(effective_settings(load_settings(data_dir=tmp_path, **change))) != fingerprint(
            base
        )
    # where things live is not a setting of the pipeline
    moved = load_settings(data_dir=tmp_path / "elsewhere", corpus=[tmp_path], log_level="DEBUG")
    assert fingerprint(effective_settings(moved)) == fingerprint(base)


def test_the_header_states_what_was_measured_truthfully() -> None:
    text = THRESHOLDS.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    measured = data["measured"]
    assert measured["dataset"] == GATE_DATASET
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    assert str(measured["date"]) in header and measured["fingerprint"] in header and GATE_DATASET in header
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    gate = makefile[makefile.index("eval-gate:") :].split("\n\n")[0]
    assert GATE_DATASET in gate and "--thresholds evals/thresholds.toml" in gate
    # every floor figure quoted in the header is the measured value of that metric
    for name, value in re.findall(r"([a-z_@0-9]+) ([01]\.\d{3})", header):
        floor = data["min"].get(name, data["max"].get(name))
        if floor is not None:
            assert (float(value) >= floor) if name in data["min"] else (float(value) <= floor), name


def test_goals_are_the_targets() -> None:
    goal = load_thresholds(THRESHOLDS).goal
    assert goal == {
        "pass_rate": 0.90,
        "refusal_recall": 0.90,
        "false_refusal_rate": 0.05,
        "contains_reference": 0.85,
        "hit@1": 0.80,
    }


def test_rows_against_floor_and_goal() -> None:
    t = Thresholds(
        minimum={"hit@1": 0.5},
        maximum={"false_refusal_rate": 0.1},
        goal={"hit@1": 0.8, "false_refusal_rate": 0.05},
    )
    rows = {r["name"]: r for r in metric_rows({"hit@1": 0.6, "false_refusal_rate": 0.04, "f1": 0.3}, t)}
    assert (rows["hit@1"]["floor_met"], rows["hit@1"]["goal_met"]) == (True, False)
    assert rows["false_refusal_rate"]["lower_is_better"] and rows["false_refusal_rate"]["goal_met"] is True
    assert rows["f1"]["floor"] is None and rows["f1"]["goal_met"] is None
    assert check({"hit@1": 0.6, "false_refusal_rate": 0.04}, t).passed  # goals never fail the gate
