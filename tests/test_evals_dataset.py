"""Eval datasets: formats, clear errors for malformed records, the shipped sets, the SQuAD adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import AssistantError
from assistant.evals.dataset import (
    RECORD_SCHEMA,
    DatasetError,
    EvalRecord,
    answer_in_question,
    dataset_split,
    load_dataset,
)
from assistant.evals.metrics import normalize_chars
from assistant.evals.squad import convert, read_squad

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_csv_and_yaml_give_the_same_records(tmp_path: Path) -> None:
    jsonl = write(
        tmp_path / "d.jsonl",
        "\n".join(
            [
                json.dumps(
                    {
                        "id": "a",
                        "question": "コンテナとは？",
                        "reference_answer": ["OS", "kernel"],
                        "reference_sources": ["corpus/x.md#概要"],
                        "tags": ["lang:ja"],
                    },
                    ensure_ascii=False,
                ),
                "",
                json.dumps({"id": "b", "question": "Capital of France?", "expect_refusal": True}),
            ]
        ),
    )
    csv = write(
        tmp_path / "d.csv",
        "id,question,reference_answer,reference_sources,expect_refusal,tags\n"
        "a,コンテナとは？,OS|kernel,corpus/x.md#概要,,lang:ja\n"
        "b,Capital of France?,,,true,\n",
    )
    yml = write(
        tmp_path / "d.yaml",
        "questions:\n"
        "  - id: a\n    question: コンテナとは？\n    reference_answer: [OS, kernel]\n"
        "    reference_sources: ['corpus/x.md#概要']\n    tags: ['lang:ja']\n"
        "  - id: b\n    question: Capital of France?\n    expect_refusal: true\n",
    )
    loaded = [[r.to_dict() for r in load_dataset(p)] for p in (jsonl, csv, yml)]
    assert loaded[0] == loaded[1] == loaded[2]
    assert loaded[0][0]["reference_answers"] == ["OS", "kernel"]
    assert loaded[0][1]["expect_refusal"] is True
    assert [r.line for r in load_dataset(jsonl)] == [1, 3]
    assert [r.line for r in load_dataset(yml)] == [2, 7]


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        (
            "bad.jsonl",
            '{"id": "a", "question": "q"}\n{"id": "b", "question": \n',
            "bad.jsonl:2: not valid JSON",
        ),
        ("bad.jsonl", '{"id": "a", "question": "q"}\n\n{"id": "b"}\n', "bad.jsonl:3: invalid record"),
        ("bad.jsonl", '{"id": "a", "question": "q", "expect_refusal": "yes"}\n', "field 'expect_refusal'"),
        ("bad.jsonl", '{"id": "a", "question": "q", "colour": 1}\n', "'colour' was unexpected"),
        ("bad.jsonl", '{"id": "a", "question": "q"}\n{"id": "a", "question": "r"}\n', "duplicate id 'a'"),
        ("bad.csv", "id,question,expect_refusal\na,q,maybe\n", "bad.csv:2: expect_refusal must be"),
        ("bad.csv", "name,text\nx,y\n", "bad.csv:1: the CSV header"),
        ("bad.yaml", "- id: a\n  question: q\n- id: b\n  question: ''\n", "bad.yaml:3: invalid record"),
        ("bad.yaml", "- id: a\n  question: [unclosed\n", "bad.yaml:"),
        ("bad.txt", "hello", "unknown format"),
        ("empty.jsonl", "\n", "holds no records"),
    ],
)
def test_malformed_datasets_name_the_file_and_line(
    tmp_path: Path, name: str, text: str, fragment: str
) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset(write(tmp_path / name, text))
    assert fragment in info.value.message
    assert str(tmp_path / name) in info.value.message


def test_missing_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope.jsonl")


def test_published_schema_is_the_one_used() -> None:
    assert json.loads((ROOT / "evals" / "schema.json").read_text(encoding="utf-8")) == RECORD_SCHEMA


DATASETS = ROOT / "evals" / "datasets"


def both_splits(name: str) -> tuple[list[EvalRecord], list[EvalRecord]]:
    return load_dataset(DATASETS / "dev" / name), load_dataset(DATASETS / "test" / name)


def check_mix(records: list[EvalRecord]) -> None:
    n = len(records)
    assert sum("lang:en" in r.tags for r in records) >= 0.25 * n
    near = [r for r in records if "type:near-topic" in r.tags]
    assert len(near) >= 0.20 * n and all(r.expect_refusal and "type:unanswerable" in r.tags for r in near)
    assert all(not r.reference_answers for r in records if r.expect_refusal)
    assert all(r.reference_answers and r.reference_sources for r in records if not r.expect_refusal)
    assert sum("type:paraphrase" in r.tags for r in records) >= 0.1 * n


def test_seed_split_sizes_and_mix() -> None:
    dev, test = both_splits("seed_qa.jsonl")
    assert len(dev) + len(test) >= 120 and min(len(dev), len(test)) >= 0.4 * (len(dev) + len(test))
    for records in (dev, test, dev + test):
        check_mix(records)
    assert sum("type:multi-fact" in r.tags for r in test) >= 5
    for r in dev + test:
        assert all(s.startswith("corpus/containers-vs-vms.ja.md") for s in r.reference_sources)
    # Japanese reference answers that quote the document's table must occur in it (modulo punctuation).
    document = normalize_chars((ROOT / "corpus" / "containers-vs-vms.ja.md").read_text(encoding="utf-8"))
    quoted = [r for r in dev + test if "type:table" in r.tags and r.reference_answers
              and r.reference_answers[0][0] not in "コ仮"]  # fmt: skip
    assert len(quoted) >= 10
    for r in quoted:
        assert normalize_chars(r.reference_answers[0]) in document, r.id


def test_related_split_sizes_mix_and_documents() -> None:
    dev, test = both_splits("related_qa.jsonl")
    records = dev + test
    assert len(records) >= 60
    check_mix(records)
    assert sum("type:near-topic" in r.tags for r in records) >= 15
    documents = {s.split("#")[0] for r in records for s in r.reference_sources}
    assert len(documents) >= 15
    related = ROOT.parent / "shared" / "corpus" / "related"
    if not related.is_dir():
        pytest.skip("../shared/corpus/related is not available")
    for source in documents:
        assert (related / source).is_file(), source


def shipped() -> list[Path]:
    return sorted(DATASETS.glob("*/*.jsonl"))


def test_no_shipped_question_contains_its_expected_answer() -> None:
    assert len(shipped()) >= 4
    for path in shipped():
        for r in load_dataset(path):
            assert not answer_in_question(r), (path.name, r.id, answer_in_question(r))
    # the check does reject such an item
    copy = EvalRecord(id="x", question="コンテナの起動は秒単位ですか？", reference_answers=["秒単位"])
    assert answer_in_question(copy) == ["秒単位"]


def test_development_and_test_splits_do_not_share_questions() -> None:
    seen: dict[str, str] = {}
    for path in shipped():
        for r in load_dataset(path):
            key = normalize_chars(r.question)
            assert key not in seen, (r.id, seen.get(key))
            seen[key] = f"{path.parent.name}/{r.id}"
    test_ids = {r.id for r in load_dataset(DATASETS / "test")}
    dev_ids = {r.id for r in load_dataset(DATASETS / "dev")}
    assert test_ids and dev_ids and not test_ids & dev_ids


def test_a_split_directory_loads_as_one_dataset(tmp_path: Path) -> None:
    split = load_dataset(DATASETS / "test")
    assert {r.id.split("-")[0] for r in split} >= {"seed", "related"}
    assert (
        dataset_split(DATASETS / "test") == "test"
        and dataset_split(DATASETS / "dev" / "seed_qa.jsonl") == "dev"
    )
    (tmp_path / "a.jsonl").write_text('{"id": "q1", "question": "a?"}\n', encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"id": "q1", "question": "b?"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="duplicate id 'q1'"):
        load_dataset(tmp_path)


def test_comparison_items_name_the_side_asked_for() -> None:
    records = load_dataset(DATASETS / "test" / "seed_qa.jsonl") + load_dataset(
        DATASETS / "dev" / "seed_qa.jsonl"
    )
    compared = [r for r in records if r.reference_entity]
    assert len(compared) >= 15
    assert all("type:table" in r.tags for r in compared)


def squad_file(tmp_path: Path) -> Path:
    data = {
        "data": [
            {
                "title": "梅雨",
                "paragraphs": [
                    {
                        "context": "梅雨 [SEP] 梅雨は、5月から7月にかけて来る"
                        "曇りや雨の多い期間のこと。雨季の一種である。",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "梅雨とは何季の一種か",
                                "is_impossible": False,
                                "answers": [
                                    {"text": "雨季", "answer_start": 39},
                                    {"text": "雨季", "answer_start": 39},
                                ],
                            },
                            {
                                "id": "q2",
                                "question": "5月から7月の雨の多い期間を何というか",
                                "is_impossible": False,
                                "answers": [{"text": "梅雨", "answer_start": 0}],
                            },
                        ],
                    }
                ],
            },
            {
                "title": "Super_Bowl_50",
                "paragraphs": [
                    {
                        "context": "Super Bowl 50 was won by the Denver Broncos.",
                        "qas": [
                            {
                                "id": "q3",
                                "question": "Who won?",
                                "answers": [{"text": "Denver Broncos", "answer_start": 29}],
                            }
                        ],
                    }
                ],
            },
        ]
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_squad_adapter_keeps_the_title_apart_and_flags_answers_in_it(tmp_path: Path) -> None:
    paragraphs = read_squad(squad_file(tmp_path))
    assert [(p.title, p.body[:3]) for p in paragraphs] == [("梅雨", "梅雨は"), ("Super Bowl 50", "Sup")]
    assert "[SEP]" not in paragraphs[0].body
    result = convert(squad_file(tmp_path), tmp_path / "out")
    assert (result.paragraphs, result.questions, result.answers_in_title) == (2, 3, 1)
    text = (tmp_path / "out" / "corpus" / "0000-000.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: 梅雨\n---\n\n梅雨は、5月")
    records = {r.id: r for r in load_dataset(result.dataset)}
    assert records["q1"].reference_answers == ["雨季"]
    assert records["q1"].reference_sources == ["corpus/0000-000.md"]
    assert "answer:title" in records["q2"].tags and records["q2"].metadata["answer_in_title"]
    assert "answer:title" not in records["q1"].tags
    assert "lang:en" in records["q3"].tags


def test_squad_sampling_is_nested_and_prunes_files(tmp_path: Path) -> None:
    path = squad_file(tmp_path)
    small = convert(path, tmp_path / "out", paragraphs=1)
    assert small.paragraphs == 1 and len(list(small.corpus_dir.glob("*.md"))) == 1
    convert(path, tmp_path / "out")
    assert len(list(small.corpus_dir.glob("*.md"))) == 2
    again = convert(path, tmp_path / "out", paragraphs=1)
    assert sorted(p.name for p in again.corpus_dir.glob("*.md")) == sorted(
        p.name for p in small.corpus_dir.glob("*.md")
    )


def test_squad_split_by_title_is_deterministic_and_keeps_every_paragraph(tmp_path: Path) -> None:
    from assistant.evals.squad import title_split

    path = squad_file(tmp_path)
    every = convert(path, tmp_path / "all")
    dev = convert(path, tmp_path / "dev", split="dev")
    test = convert(path, tmp_path / "test", split="test")
    assert dev.paragraphs == test.paragraphs == every.paragraphs  # the search space stays whole
    assert dev.questions + test.questions == every.questions
    for part, conversion in (("dev", dev), ("test", test)):
        for r in load_dataset(conversion.dataset):
            assert title_split(r.metadata["title"]) == part
    titles = [f"記事{i}" for i in range(200)]
    assert 60 < sum(title_split(t) == "dev" for t in titles) < 140
    with pytest.raises(AssistantError, match="Unknown split"):
        convert(path, tmp_path / "x", split="train")
