"""Eval datasets: one record per question, in JSON Lines, CSV or YAML.

A record has an ``id``, a ``question`` and optionally ``reference_answer`` (a
string, or a list of acceptable alternatives), ``reference_sources`` (paths of
the documents that hold the answer, matched by suffix, optionally narrowed to a
section with ``path#Heading``; or chunk ids), ``expect_refusal`` (the corpus
cannot answer it), ``tags`` and free-form ``notes``/``metadata``. `RECORD_SCHEMA`
is the JSON Schema of a record (also published as ``evals/schema.json``). A
malformed record is an error that names the file and line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import AssistantError, MissingDependencyError

RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.invalid/assistant/evals/record.schema.json",
    "title": "Eval dataset record",
    "description": "One question of an evaluation dataset (one JSONL line, CSV row or YAML list item).",
    "type": "object",
    "required": ["id", "question"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1, "description": "Unique within the dataset."},
        "question": {"type": "string", "minLength": 1},
        "reference_answer": {
            "description": "The expected answer, or a list of acceptable alternatives.",
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            ],
        },
        "reference_sources": {
            "description": "Documents (path, matched as a suffix of the indexed path; "
            "'path#Heading' narrows to a section) or chunk ids that hold the answer.",
            "type": "array",
            "items": {"type": "string", "minLength": 1},
        },
        "reference_entity": {
            "description": "Comparison questions: the side asked for (a name or its aliases); "
            "contains_reference then requires the reference in a clause of the answer naming it.",
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            ],
        },
        "expect_refusal": {
            "type": "boolean",
            "description": "True when the corpus cannot answer the question.",
        },
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "notes": {"type": "string"},
        "metadata": {"type": "object"},
    },
}


class DatasetError(AssistantError):
    """A dataset file cannot be read or holds a malformed record."""

    exit_code = 2


@dataclass
class EvalRecord:
    id: str
    question: str
    reference_answers: list[str] = field(default_factory=list)
    reference_sources: list[str] = field(default_factory=list)
    expect_refusal: bool = False
    tags: list[str] = field(default_factory=list)
    reference_entity: list[str] = field(default_factory=list)
    notes: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    line: int = 0

    @property
    def answerable(self) -> bool:
        return not self.expect_refusal

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("line")
        return data


SPLITS = ("dev", "test")
DATASET_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".yaml", ".yml")


def dataset_split(path: Path) -> str | None:
    """``dev`` or ``test`` when the dataset lives in (or is) a split directory."""
    for part in (path.name, path.parent.name):
        if part in SPLITS:
            return part
    return None


def dataset_files(path: Path) -> list[Path]:
    """The files of a dataset: the file itself, or every dataset file in a directory
    (a split such as ``evals/datasets/test/``), sorted by name."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in DATASET_SUFFIXES)
        if not files:
            raise DatasetError(
                f"Dataset directory {path} holds no dataset file.", "Put .jsonl, .csv or .yaml files in it."
            )
        return files
    return [path]


def load_dataset(path: Path) -> list[EvalRecord]:
    """Read and validate a dataset file, or every file of a dataset directory (ids must
    be unique across them); the format follows each file's suffix."""
    if path.is_dir():
        records: list[EvalRecord] = []
        first: dict[str, Path] = {}
        for file in dataset_files(path):
            for record in load_dataset(file):
                if record.id in first:
                    raise DatasetError(
                        f"{file}:{record.line}: duplicate id {record.id!r} (also in {first[record.id]}).",
                        "Give every question of a split its own id (prefix them per file).",
                    )
                first[record.id] = file
                records.append(record)
        return records
    if not path.is_file():
        raise DatasetError(f"Dataset {path} does not exist.", "Check the path of the dataset file.")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"Dataset {path} cannot be read: {exc}", "Save it as UTF-8.") from None
    if suffix in {".jsonl", ".ndjson"}:
        rows = _jsonl_rows(path, text)
    elif suffix == ".csv":
        rows = _csv_rows(path, text)
    elif suffix in {".yaml", ".yml"}:
        rows = _yaml_rows(path, text)
    else:
        raise DatasetError(
            f"Dataset {path} has an unknown format ({suffix or 'no suffix'}).",
            "Use .jsonl, .csv or .yaml (one record per question).",
        )
    validator = _validator()
    records = []
    seen: dict[str, int] = {}
    for line, row in rows:
        errors = sorted(validator.iter_errors(row), key=lambda e: list(e.absolute_path))
        if errors:
            err = errors[0]
            where = ".".join(str(p) for p in err.absolute_path)
            raise DatasetError(
                f"{path}:{line}: invalid record{f' (field {where!r})' if where else ''}: {err.message}",
                "Each record needs 'id' and 'question'; see evals/schema.json for the other fields.",
            )
        if row["id"] in seen:
            raise DatasetError(
                f"{path}:{line}: duplicate id {row['id']!r} (first on line {seen[row['id']]}).",
                "Give every question its own id.",
            )
        seen[row["id"]] = line
        records.append(_record(row, line))
    if not records:
        raise DatasetError(f"Dataset {path} holds no records.", "Add at least one question.")
    return records


def write_jsonl(records: list[EvalRecord], path: Path) -> None:
    """Write records as a JSONL dataset that `load_dataset` reads back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for r in records:
            row: dict[str, Any] = {"id": r.id, "question": r.question}
            if r.reference_answers:
                row["reference_answer"] = (
                    r.reference_answers[0] if len(r.reference_answers) == 1 else r.reference_answers
                )
            if r.reference_sources:
                row["reference_sources"] = r.reference_sources
            if r.reference_entity:
                row["reference_entity"] = (
                    r.reference_entity[0] if len(r.reference_entity) == 1 else r.reference_entity
                )
            if r.expect_refusal:
                row["expect_refusal"] = True
            if r.tags:
                row["tags"] = r.tags
            if r.notes:
                row["notes"] = r.notes
            if r.metadata:
                row["metadata"] = r.metadata
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _record(row: dict[str, Any], line: int) -> EvalRecord:
    answer = row.get("reference_answer")
    answers = [answer] if isinstance(answer, str) else list(answer or [])
    return EvalRecord(
        id=row["id"],
        question=row["question"].strip(),
        reference_answers=[a.strip() for a in answers if a.strip()],
        reference_sources=list(row.get("reference_sources") or []),
        expect_refusal=bool(row.get("expect_refusal", False)),
        tags=list(row.get("tags") or []),
        reference_entity=[entity]
        if isinstance(entity := row.get("reference_entity"), str)
        else list(entity or []),
        notes=row.get("notes", ""),
        metadata=dict(row.get("metadata") or {}),
        line=line,
    )


def _validator() -> Any:
    try:
        import jsonschema
    except ImportError:
        raise MissingDependencyError("jsonschema", "eval", "Validating eval datasets") from None
    return jsonschema.Draft202012Validator(RECORD_SCHEMA)


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("//"):
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno}).",
                "Each line of a .jsonl file must be one JSON object.",
            ) from None


_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"id", "question"} <= set(reader.fieldnames):
        raise DatasetError(
            f"{path}:1: the CSV header must name at least the columns id and question "
            f"(found: {', '.join(reader.fieldnames or []) or 'nothing'}).",
            "Columns: id, question, reference_answer, reference_sources, expect_refusal, tags, notes.",
        )
    for row in reader:
        line = reader.line_num
        if None in row:
            raise DatasetError(
                f"{path}:{line}: more cells than header columns.", "Quote cells that contain commas."
            )
        out: dict[str, Any] = {}
        for key, value in row.items():
            value = (value or "").strip()
            if key in {"reference_sources", "tags"}:
                if value:
                    out[key] = [v.strip() for v in value.replace("|", ";").split(";") if v.strip()]
            elif key == "reference_answer":
                if value:
                    parts = [v.strip() for v in value.split("|") if v.strip()]
                    out[key] = parts[0] if len(parts) == 1 else parts
            elif key == "expect_refusal":
                if value.lower() not in _TRUE | _FALSE:
                    raise DatasetError(f"{path}:{line}: expect_refusal must be true or false, not {value!r}.")
                out[key] = value.lower() in _TRUE
            elif value or key in {"id", "question"}:
                out[key] = value
        yield line, out


def _yaml_rows(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise DatasetError(f"{path}{line}: not valid YAML ({exc}).") from None
    nodes: list[Any] = []
    if isinstance(data, dict) and isinstance(data.get("questions"), list) and root is not None:
        for key_node, value_node in root.value:
            if key_node.value == "questions":
                nodes = value_node.value
        data = data["questions"]
    elif isinstance(data, list) and root is not None:
        nodes = root.value
    else:
        raise DatasetError(
            f"{path}:1: a YAML dataset is a list of records (or a mapping with a 'questions' list).",
        )
    for node, row in zip(nodes, data, strict=True):
        yield node.start_mark.line + 1, row


def answer_in_question(record: EvalRecord) -> list[str]:
    """The reference answers that already appear in the question (normalised): such a
    question tests copying, not answering. The dataset check rejects them."""
    from assistant.evals.metrics import normalize_chars

    question = normalize_chars(record.question)
    return [a for a in record.reference_answers if normalize_chars(a) and normalize_chars(a) in question]
