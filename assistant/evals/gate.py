"""The CI gate: thresholds on summary metrics; failing ones make a non-zero exit.

Thresholds come from a TOML file and/or flags. ``[min]`` lists metrics that must
be at least the value, ``[max]`` those that must be at most the value. ``[goal]``
holds the targets (reported beside the floor, never failing the run; for a metric
where lower is better the goal is a ceiling), and ``[measured]`` records how the
floor was measured: the settings ``fingerprint``, ``date``, ``dataset`` and
``revision``::

    [measured]
    fingerprint = "c5c0a64f71cd"
    [min]
    "hit@1" = 0.85
    [max]
    false_refusal_rate = 0.1
    [goal]
    "hit@1" = 0.9
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

LOWER_IS_BETTER = frozenset({"false_refusal_rate", "error_rate"})


def lower_is_better(metric: str) -> bool:
    return metric in LOWER_IS_BETTER or metric.startswith("latency_")


@dataclass
class Thresholds:
    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)
    goal: dict[str, float] = field(default_factory=dict)
    measured: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.minimum or self.maximum)


@dataclass
class GateResult:
    failures: list[str]
    checked: int

    @property
    def passed(self) -> bool:
        return not self.failures


def load_thresholds(
    path: Path | None = None, mins: list[str] | None = None, maxs: list[str] | None = None
) -> Thresholds:
    """Read ``path`` (TOML) and add ``name=value`` flags, which win over the file."""
    t = Thresholds()
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"Thresholds file {path} does not exist.", "Check --thresholds.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Thresholds file {path} is not valid TOML: {exc}") from None
        unknown = set(data) - {"min", "max", "goal", "measured"}
        if unknown:
            raise ConfigError(
                f"Thresholds file {path} has unknown sections: {', '.join(sorted(unknown))}.",
                "Use [min], [max] and [goal] tables of metric = value (and [measured]).",
            )
        t.minimum.update(_numbers(data.get("min", {}), str(path)))
        t.maximum.update(_numbers(data.get("max", {}), str(path)))
        t.goal.update(_numbers(data.get("goal", {}), str(path)))
        measured = data.get("measured", {})
        if not isinstance(measured, dict):
            raise ConfigError(f"{path}: [measured] must be a table (fingerprint, date, dataset, revision).")
        t.measured.update(measured)
    t.minimum.update(_flags(mins or [], "--min"))
    t.maximum.update(_flags(maxs or [], "--max"))
    return t


def check(metrics: dict[str, Any], thresholds: Thresholds) -> GateResult:
    """Compare; a metric named in the thresholds but missing from the run fails too."""
    failures: list[str] = []
    for name, limit in thresholds.minimum.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name}: missing from the run (threshold >= {limit})")
        elif value < limit:
            failures.append(f"{name} = {value:.4f} is below the threshold {limit}")
    for name, limit in thresholds.maximum.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name}: missing from the run (threshold <= {limit})")
        elif value > limit:
            failures.append(f"{name} = {value:.4f} is above the threshold {limit}")
    return GateResult(failures, len(thresholds.minimum) + len(thresholds.maximum))


def metric_rows(metrics: dict[str, Any], thresholds: Thresholds) -> list[dict[str, Any]]:
    """Per metric: value, floor (the gate's limit) and goal, and whether each is met."""
    rows = []
    for name, value in metrics.items():
        low = lower_is_better(name)
        floor = thresholds.maximum.get(name) if low else thresholds.minimum.get(name)
        goal = thresholds.goal.get(name)

        def met(limit: float | None, value: Any = value, low: bool = low) -> bool | None:
            if limit is None or value is None:
                return None
            return bool(value <= limit if low else value >= limit)

        rows.append(
            {
                "name": name,
                "value": value,
                "floor": floor,
                "goal": goal,
                "lower_is_better": low,
                "floor_met": met(floor),
                "goal_met": met(goal),
            }
        )
    return rows


def _numbers(table: Any, where: str) -> dict[str, float]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [min] and [max] must be tables of metric = number.")
    out: dict[str, float] = {}
    for key, value in table.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"{where}: threshold {key!r} must be a number, not {value!r}.")
        out[key] = float(value)
    return out


def _flags(items: list[str], flag: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ConfigError(f"{flag} {item!r} is not metric=number.", f"For example: {flag} hit@1=0.8")
    return out
