"""The shared types: one passage type, one serialisation, one sources rule."""

from __future__ import annotations

from assistant.types import Answer, Passage, number_passages


def passage(i: int, **kw: object) -> Passage:
    return Passage(f"c{i}", f"text {i}", f"/docs/{i}.md", f"T{i}", ["h", str(i)], score=1.0 / i, **kw)  # type: ignore[arg-type]


def answer(text: str, passages: list[Passage], refused: bool = False) -> Answer:
    return Answer("q", text, refused, passages, {"total": 0.123456}, "ja", "q", "extractive")


def test_passages_are_numbered_in_the_order_cited_then_the_rest() -> None:
    found = [passage(i, number=i) for i in range(1, 5)]
    numbered = number_passages(found, {3: 1, 1: 2})
    assert [(p.id, p.number, p.cited) for p in numbered] == [
        ("c3", 1, True), ("c1", 2, True), ("c2", 3, False), ("c4", 4, False),
    ]  # fmt: skip
    assert [p.number for p in found] == [1, 2, 3, 4], "the retrieved passages are not changed"


def test_sources_are_the_cited_passages_or_all_of_them_when_none_is_cited() -> None:
    cited = number_passages([passage(1), passage(2)], {2: 1})
    assert [p.id for p in answer("x [1]", cited).sources()] == ["c2"]
    closest = number_passages([passage(1), passage(2)], {})
    assert [p.id for p in answer("I don't know", closest, refused=True).sources()] == ["c1", "c2"]


def test_an_answer_survives_its_one_serialisation() -> None:
    original = answer("x [1]", number_passages([passage(1, metadata={"url": "https://e.x/1"})], {1: 1}))
    data = original.to_dict()
    assert data["timings"] == {"total": 0.1235}
    restored = Answer.from_dict(data)
    assert restored.citations == original.citations and restored.citations[0].url == "https://e.x/1"
    assert restored.answer == original.answer and restored.cited[0].heading == "h > 1"


def test_records_written_before_the_unified_type_still_load() -> None:
    old = {"number": 1, "chunk_id": "c9", "source": "/a.md", "title": "A", "heading": "x", "text": "t",
           "score": 0.5, "cited": True}  # fmt: skip
    assert Passage.from_dict(old).id == "c9"


def test_the_retrieval_rank_survives_renumbering_for_the_ranking_metrics() -> None:
    found = [passage(i, number=i, rank=i) for i in range(1, 4)]
    numbered = number_passages(found, {3: 1})
    assert [(p.id, p.number, p.rank) for p in numbered] == [("c3", 1, 3), ("c1", 2, 1), ("c2", 3, 2)]
