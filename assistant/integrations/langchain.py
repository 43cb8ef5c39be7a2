"""LangChain integration: the index as a `BaseRetriever`, our embedders as `Embeddings`.

A LangChain user plugs the assistant into their own chains::

    from assistant.integrations.langchain import AssistantRetriever
    from assistant.pipeline import Assistant
    from assistant.settings import load_settings

    retriever = AssistantRetriever.from_settings(load_settings())
    chain = {"context": retriever, "question": RunnablePassthrough()} | prompt | llm

The retriever runs the same hybrid search as the assistant (dense + BM25, fused);
each passage becomes a `Document` whose metadata carries its source, title,
heading path and every score.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.embedders import Embedder, get_embedder
from assistant.pipeline import Assistant
from assistant.settings import Settings
from assistant.types import Passage


def to_document(passage: Passage) -> Document:
    metadata: dict[str, Any] = {
        **passage.metadata,
        "id": passage.id,
        "source": passage.source,
        "title": passage.title,
        "heading_path": list(passage.heading_path),
        "score": passage.score,
        "dense_score": passage.dense_score,
        "lexical_score": passage.lexical_score,
        "term_coverage": passage.term_coverage,
    }
    return Document(page_content=passage.text, metadata=metadata, id=passage.id)


class AssistantRetriever(BaseRetriever):
    """The assistant's hybrid search as a LangChain retriever."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Assistant
    k: int | None = None  # passages per query; None uses the top_k setting

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> AssistantRetriever:
        return cls(assistant=Assistant(settings), **kwargs)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        question = self.assistant.validate(query)
        retrieval = self.assistant.retriever.search(question, self.k)
        return [to_document(p) for p in retrieval.chunks]


class AssistantEmbeddings(Embeddings):
    """One of our embedders (``provider:model``) as LangChain `Embeddings`."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    @classmethod
    def from_name(cls, name: str, settings: Settings | None = None) -> AssistantEmbeddings:
        return cls(get_embedder(name, settings.models_dir if settings is not None else None))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self.embedder.embed_documents(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed_query(text)]
