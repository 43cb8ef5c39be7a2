"""Feedback: 👍/👎 and a comment on an answer, stored durably as JSON Lines.

Every frontend (browser chat, Slack) writes through `record_feedback`, so the
file has one format; `export_dataset` turns it into an eval dataset.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from assistant.errors import AssistantError
from assistant.types import Answer

_lock = threading.Lock()


@dataclass
class Feedback:
    question: str
    answer: str
    rating: int  # +1 or -1
    citations: list[dict[str, Any]] = field(default_factory=list)
    comment: str = ""
    frontend: str = ""  # "streamlit", "slack", ...
    refused: bool = False
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_answer(
        cls,
        answer: Answer,
        rating: int,
        *,
        comment: str = "",
        frontend: str = "",
        extra: dict[str, Any] | None = None,
    ) -> Feedback:
        """The record of a rating of ``answer``; the answer is kept as `Answer.to_dict` writes it."""
        data = answer.to_dict()
        return cls(
            question=answer.question,
            answer=answer.answer,
            rating=rating,
            citations=data["citations"],
            comment=comment.strip(),
            frontend=frontend,
            refused=answer.refused,
            extra={
                "standalone_question": answer.standalone_question,
                "answerer": answer.answerer,
                "language": answer.language,
                **(extra or {}),
            },
        )


def record_feedback(path: Path, feedback: Feedback) -> Feedback:
    """Append one record; safe across threads and processes."""
    if feedback.rating not in (1, -1):
        raise AssistantError(f"A rating is +1 or -1, not {feedback.rating!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(feedback), ensure_ascii=False) + "\n"
    with _lock, FileLock(str(path) + ".lock"), path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return feedback


def read_feedback(path: Path) -> Iterator[Feedback]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield Feedback(**json.loads(line))


def export_dataset(path: Path, out: Path) -> int:
    """Write the feedback as an eval dataset (JSONL); returns the number of records.

    A 👍 answer becomes the reference answer and its cited sources the reference
    sources; a 👎 answer becomes a question to review (tagged ``needs-review``).
    """
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        for item in read_feedback(path):
            record: dict[str, Any] = {"id": f"feedback-{item.id[:12]}", "question": item.question}
            if item.rating > 0 and not item.refused:
                record["reference_answer"] = item.answer
                record["reference_sources"] = sorted(
                    {c["source"] for c in item.citations if c.get("cited", True) and c.get("source")}
                )
                record["tags"] = ["feedback", "thumbs-up"]
            elif item.rating > 0:
                record["expect_refusal"] = True
                record["tags"] = ["feedback", "thumbs-up"]
            else:
                record["tags"] = ["feedback", "needs-review"]
                if item.comment:
                    record["notes"] = item.comment
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
