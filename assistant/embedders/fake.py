"""A deterministic embedder for tests: character n-gram hashing, no model at all.

Texts that share characters get similar vectors, so retrieval over it behaves
sensibly on small corpora in Japanese and English alike.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from assistant.embedders import Vectors, normalise


class FakeEmbedder:
    name = "fake"
    min_relevance = 0.2
    confident_relevance = 0.6

    def __init__(self, model: str = "", models_dir: Path | None = None) -> None:
        self.dimension = int(model) if model.isdigit() else 256
        self.calls = 0

    def _embed(self, text: str) -> Vectors:
        vector = np.zeros(self.dimension, dtype=np.float32)
        lowered = text.lower()
        for n in (1, 2):
            for i in range(len(lowered) - n + 1):
                gram = lowered[i : i + n]
                if gram.isspace():
                    continue
                digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
                vector[int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
        if not vector.any():
            vector[0] = 1.0
        return normalise(vector)

    def embed_documents(self, texts: list[str]) -> Vectors:
        self.calls += 1
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._embed(t) for t in texts])

    def embed_query(self, text: str) -> Vectors:
        return self._embed(text)
