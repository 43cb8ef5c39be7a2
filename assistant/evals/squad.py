"""SQuAD-format files (SQuAD, JSQuAD) become a corpus of paragraph files plus an eval dataset.

Each paragraph is written as a Markdown file whose front matter holds the
article title, so that the title is indexed with the passage (as for any other
document) but kept apart from the body. JSQuAD contexts start with
``title [SEP] ``: that prefix is removed from the body and kept as the title. An
answer that lies in the title (its offset falls inside the prefix, or its text
occurs only there) is still a fair question: the record is tagged
``answer:title`` and its reference source is the paragraph file, whose indexed
text includes the title.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import AssistantError
from assistant.evals.dataset import EvalRecord, write_jsonl

SEP = " [SEP] "


@dataclass
class Paragraph:
    id: str
    title: str
    body: str
    qas: list[dict[str, Any]]
    prefix_len: int  # characters of "title [SEP] " before the body in the original context


@dataclass
class Conversion:
    corpus_dir: Path
    dataset: Path
    paragraphs: int
    questions: int
    answers_in_title: int


def read_squad(path: Path) -> list[Paragraph]:
    """Every paragraph of a SQuAD-format file, in file order."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles = data["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssistantError(
            f"{path} is not a SQuAD-format file ({exc}).",
            'Expected {"data": [{"title", "paragraphs": [{"context", "qas"}]}]}.',
        ) from None
    out: list[Paragraph] = []
    for a, article in enumerate(articles):
        article_title = str(article.get("title", "")).replace("_", " ").strip()
        for p, para in enumerate(article.get("paragraphs", [])):
            context = str(para["context"])
            title, body, prefix = article_title, context, 0
            head, sep, rest = context.partition(SEP)
            if sep and len(head) <= 200:
                title, body, prefix = head.strip() or article_title, rest, len(head) + len(SEP)
            out.append(Paragraph(f"{a:04d}-{p:03d}", title, body, list(para.get("qas", [])), prefix))
    return out


def paragraph_markdown(paragraph: Paragraph) -> str:
    front = yaml.safe_dump({"title": paragraph.title}, allow_unicode=True, sort_keys=False).strip()
    return f"---\n{front}\n---\n\n{paragraph.body.strip()}\n"


def records_for(paragraph: Paragraph, source: str) -> list[EvalRecord]:
    records = []
    for qa in paragraph.qas:
        if qa.get("is_impossible"):
            continue
        answers = list(dict.fromkeys(str(a["text"]).strip() for a in qa.get("answers", []) if a.get("text")))
        if not answers:
            continue
        in_title = any(_in_title(paragraph, a) for a in qa.get("answers", []) if a.get("text"))
        tags = ["squad", f"lang:{'ja' if paragraph.prefix_len else 'en'}"]
        if in_title:
            tags.append("answer:title")
        records.append(
            EvalRecord(
                id=str(qa["id"]),
                question=str(qa["question"]).strip(),
                reference_answers=answers,
                reference_sources=[source],
                tags=tags,
                metadata={"paragraph": paragraph.id, "title": paragraph.title, "answer_in_title": in_title},
            )
        )
    return records


def _in_title(paragraph: Paragraph, answer: dict[str, Any]) -> bool:
    start = answer.get("answer_start")
    text = str(answer["text"])
    if paragraph.prefix_len and isinstance(start, int) and start >= 0:
        return start < paragraph.prefix_len
    return text not in paragraph.body and text in paragraph.title


SPLITS = ("dev", "test", "all")


def title_split(title: str) -> str:
    """``dev`` or ``test`` for an article, by a hash of its title: deterministic, about
    half each, and every paragraph (and question) of an article on the same side."""
    return "dev" if hashlib.sha256(title.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def convert(
    path: Path,
    out_dir: Path,
    *,
    paragraphs: int | None = None,
    questions: int | None = None,
    seed: int = 13,
    split: str = "all",
) -> Conversion:
    """Write ``out_dir/corpus/*.md`` and ``out_dir/dataset.jsonl`` for a (sampled) SQuAD file.

    Sampling is deterministic and nested: the first N paragraphs of a fixed
    shuffle, so a larger sample contains a smaller one and an incremental ingest
    embeds only the new paragraphs. Files of paragraphs outside the sample are
    removed, so that ``ingest(prune=True)`` drops them from the index. ``split``
    (``dev``/``test``) keeps the questions of that side of `title_split`; the
    corpus searched stays every (sampled) paragraph.
    """
    if split not in SPLITS:
        raise AssistantError(f"Unknown split {split!r}.", f"Use one of: {', '.join(SPLITS)}.")
    every = read_squad(path)
    rng = random.Random(seed)
    order = list(range(len(every)))
    rng.shuffle(order)
    chosen = [every[i] for i in sorted(order[: paragraphs or len(every)])]
    corpus = out_dir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    keep: set[str] = set()
    records: list[EvalRecord] = []
    for paragraph in chosen:
        name = f"{paragraph.id}.md"
        keep.add(name)
        target = corpus / name
        text = paragraph_markdown(paragraph)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        if split == "all" or title_split(paragraph.title) == split:
            records.extend(records_for(paragraph, f"corpus/{name}"))
    for stale in corpus.glob("*.md"):
        if stale.name not in keep:
            stale.unlink()
    if questions is not None and questions < len(records):
        picked = set(random.Random(seed + 1).sample(range(len(records)), questions))
        records = [r for i, r in enumerate(records) if i in picked]
    dataset = out_dir / "dataset.jsonl"
    write_jsonl(records, dataset)
    return Conversion(
        corpus,
        dataset,
        len(chosen),
        len(records),
        sum(bool(r.metadata.get("answer_in_title")) for r in records),
    )
