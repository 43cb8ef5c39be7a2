"""The vocabulary every layer speaks: a passage, a turn, an answer and its notes.

This is the ground floor: it imports nothing from the package but `assistant.text`.
Backends (retrieval, answerers) produce these types and frontends (CLI, browser,
Slack, evals, the HTTP service) consume them; they meet here, never inside each
other's packages. `Answer.to_dict` / `Answer.from_dict` are the one serialisation
(CLI JSON, feedback records, eval results, the HTTP API) and `Answer.sources` is
the one rule for which passages a frontend shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from assistant.text import HEADING_SEPARATOR

#: File types the loader reads, by format; uploads, ingest globs and the loader use this one list.
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".rst"})
PDF_SUFFIXES = frozenset({".pdf"})
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES | PDF_SUFFIXES

REFUSALS = {
    "ja": "提供された資料からは、この質問に答えられる情報が見つかりませんでした。",
    "en": "I don't know: the documents do not contain an answer to this question.",
}
CLOSEST = {
    "ja": "最も近い資料を下に示します。",
    "en": "The closest passages found are listed below.",
}
#: Asked back when a follow-up ("それはなぜ？") arrives with nothing before it.
CLARIFY = {
    "ja": "「{question}」の「{word}」が何を指しているのか分かりませんでした。何についての質問か、具体的に教えてください。",
    "en": 'I am not sure what "{word}" in "{question}" refers to. Which topic do you mean?',
}


#: The offline answerer's own words around quoted evidence (labels, "The documents say").
#: They quote nothing, so faithfulness does not look for them in the passages.
ANSWER_FRAME = {
    "en": {
        "say": "The documents say",
        "answer": "Answer",
        "items": "Listed in the documents",
        "reason": "Reason given in the documents",
        "compare": "Comparison in the documents",
        "definition": "Definition in the documents",
    },
    "ja": {
        "say": "資料の記述",
        "answer": "回答",
        "items": "資料に挙げられている項目",
        "reason": "資料に書かれた理由",
        "compare": "資料での比較",
        "definition": "資料での定義",
    },
}


def refusal_text(language: str) -> str:
    return f"{REFUSALS.get(language, REFUSALS['en'])} {CLOSEST.get(language, CLOSEST['en'])}"


def is_refusal(text: str) -> bool:
    stripped = text.strip()
    return any(stripped.startswith(r[:12]) for r in REFUSALS.values())


@dataclass
class Turn:
    """One exchange of a conversation, as frontends keep it."""

    question: str
    answer: str


@dataclass
class Passage:
    """A passage of the index found for a question, with every score that ranked it.

    The retriever produces passages; the pipeline numbers them (``number``, the
    ``[n]`` of the answer) and marks those the answer cites (``cited``).
    """

    id: str
    text: str
    source: str
    title: str
    heading_path: list[str]
    score: float = 0.0  # fused score, higher is better
    dense_score: float | None = None  # cosine similarity to the question
    lexical_score: float | None = None  # BM25 score
    term_coverage: float = 0.0  # share of the question's terms found in the passage
    dense_rank: int | None = None
    lexical_rank: int | None = None
    number: int = 0  # 1-based; ``[number]`` in the answer points here (cited ones first)
    rank: int = 0  # 1-based place in the retrieval ranking; ``number`` may differ after citing
    cited: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return HEADING_SEPARATOR.join(self.heading_path)

    @property
    def url(self) -> str | None:
        """Where a person can open the document: the URL its source recorded, or one made
        from ``source_url_base`` when that is configured."""
        value = self.metadata.get("url")
        return str(value) if value else None

    @property
    def location(self) -> str:
        """What to show a person for the document: its URL, its path relative to the corpus
        (``uploads/…`` for uploads), or its file name; never an absolute server path."""
        if self.url:
            return self.url
        path = self.metadata.get("path")
        return str(path) if path else self.source.replace("\\", "/").rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        # Records written before the passage type was unified call the id chunk_id.
        if "id" not in values and "chunk_id" in data:
            values["id"] = data["chunk_id"]
        values.setdefault("title", "")
        values.setdefault("heading_path", [])
        values.setdefault("source", "")
        values.setdefault("text", "")
        return cls(**values)


@dataclass(frozen=True)
class Note:
    """A remark about how an answer was made, shown with it (e.g. the model was unavailable)."""

    text: str


@dataclass
class Status:
    """The stage an answer is in while it streams: ``retrieving`` or ``answering``."""

    stage: str


@dataclass
class Sources:
    """The passages an answer will be built from, as soon as retrieval is done."""

    passages: list[Passage]


@dataclass
class Delta:
    """A piece of answer text while it is being produced."""

    text: str


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Passage]  # the numbered passages the answer was built from
    timings: dict[str, float]
    language: str
    standalone_question: str
    answerer: str
    notes: list[str] = field(default_factory=list)
    uncited: list[str] = field(default_factory=list)  # answer sentences that cite no passage
    clarify: bool = False  # the answer asks what the question refers to

    @property
    def cited(self) -> list[Passage]:
        return [c for c in self.citations if c.cited]

    def sources(self) -> list[Passage]:
        """The passages a frontend shows under the answer, numbered like its ``[n]`` marks.

        The cited passages when the answer cites any; otherwise (a refusal, an
        answer without marks) every passage found, as the closest evidence.
        """
        return self.cited or list(self.citations)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["citations"] = [Passage.from_dict(p) for p in data.get("citations", [])]
        return cls(**values)


def number_passages(passages: list[Passage], mapping: dict[int, int]) -> list[Passage]:
    """The passages in their final order: the cited ones first, numbered as ``mapping``
    (old number → new) says, then the others in retrieval order."""
    cited = sorted(mapping, key=mapping.__getitem__)
    rest = [n for n in range(1, len(passages) + 1) if n not in mapping]
    return [
        replace(passages[old - 1], number=new, cited=old in mapping)
        for new, old in enumerate([*cited, *rest], start=1)
    ]


@dataclass
class DocumentInfo:
    """One document of the index, as `Assistant.documents` lists it."""

    source: str
    chunks: int
    complete: bool = True  # False while an interrupted ingest left it half-written


@dataclass
class IndexInfo:
    """What the index holds (`Assistant.info`, ``assistant info --json``)."""

    address: str
    documents: int
    chunks: int
    manifest: dict[str, Any]
    sources: list[str]


@dataclass
class Skipped:
    """A file that was not loaded, and why."""

    source: str
    reason: str


@dataclass
class IngestReport:
    """What an ingest did; the same record embedded and through the service (`as_dict`/`from_dict`)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # paths given that do not exist
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": len(self.unchanged),
            "removed": self.removed,
            "skipped": [{"source": s.source, "reason": s.reason} for s in self.skipped],
            "warnings": self.warnings,
            "missing": self.missing,
            "chunks_embedded": self.chunks_embedded,
            "chunks_total": self.chunks_total,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IngestReport:
        """The report of `as_dict`; ``unchanged_sources`` (the service's) restores the list."""
        return cls(
            added=list(data.get("added", [])),
            updated=list(data.get("updated", [])),
            unchanged=list(data.get("unchanged_sources", [])),
            removed=list(data.get("removed", [])),
            skipped=[Skipped(s["source"], s["reason"]) for s in data.get("skipped", [])],
            warnings=list(data.get("warnings", [])),
            missing=list(data.get("missing", [])),
            chunks_embedded=int(data.get("chunks_embedded", 0)),
            chunks_total=int(data.get("chunks_total", 0)),
            seconds=float(data.get("seconds", 0.0)),
        )
