"""The LangChain integration: our index as a retriever inside an LCEL chain, our embedders as Embeddings."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import ParrotFakeChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from assistant.embedders import get_embedder
from assistant.integrations.langchain import AssistantEmbeddings, AssistantRetriever
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings

from .server_helpers import ORBIT_EN, ORBIT_JA


@pytest.fixture
def indexed(tmp_path: Path) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "orbit.en.md").write_text(ORBIT_EN, encoding="utf-8")
    (docs / "hoshimi.ja.md").write_text(ORBIT_JA, encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "data", embedder="fake:256", corpus=[docs])
    Assistant(settings).ingest()
    return settings


def format_docs(docs: list[Document]) -> str:
    return "\n\n".join(f"[{i}] {d.page_content}" for i, d in enumerate(docs, start=1))


def test_retriever_returns_documents_with_metadata_and_scores(indexed: Settings) -> None:
    retriever = AssistantRetriever.from_settings(indexed, k=3)
    docs = retriever.invoke("星見坂図書館で一度に借りられる本は何冊までで、貸出期間は？")
    assert len(docs) == 3
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    lending = next(d for d in docs if "三週間" in d.page_content)
    assert lending.metadata["source"].endswith("hoshimi.ja.md")
    assert lending.metadata["title"] == "星見坂図書館"
    assert lending.metadata["heading_path"] == ["貸出"]
    assert lending.metadata["dense_score"] is not None and lending.metadata["lexical_score"] is not None
    assert lending.id == lending.metadata["id"] and "tokens" not in lending.metadata


def test_retriever_in_an_lcel_chain_with_a_fake_chat_model(indexed: Settings) -> None:
    retriever = AssistantRetriever.from_settings(indexed, k=1)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the numbered passages."), ("human", "{context}\n\nQuestion: {question}")]
    )
    # The parrot model repeats its last message, so the output shows what reached the model.
    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt
        | ParrotFakeChatModel()
        | StrOutputParser()
    )
    out = chain.invoke("At what time does the Orbit tea shop open every morning?")
    assert "[1] " in out and "7:30" in out
    assert "Question: At what time" in out
    batch = chain.batch(["星見坂図書館の二階には何がありますか？"])
    assert "望遠鏡" in batch[0]


def test_empty_query_is_our_error(indexed: Settings) -> None:
    from assistant.errors import InvalidQuestionError

    with pytest.raises(InvalidQuestionError):
        AssistantRetriever.from_settings(indexed).invoke("   ")


def test_embeddings_in_a_langchain_vector_store() -> None:
    embeddings = AssistantEmbeddings(get_embedder("fake:64"))
    vectors = embeddings.embed_documents(["a cat sat", "ein Hund"])
    assert len(vectors) == 2 and len(vectors[0]) == 64 and isinstance(vectors[0][0], float)
    assert len(embeddings.embed_query("cat")) == 64
    store = InMemoryVectorStore(embedding=AssistantEmbeddings.from_name("fake:64"))
    store.add_texts(["The Orbit tea shop opens at 7:30.", "星見坂図書館は丘の上にあります。"])
    assert "図書館" in store.similarity_search("星見坂図書館", k=1)[0].page_content
