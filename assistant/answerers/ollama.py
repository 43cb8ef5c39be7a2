"""``ollama:<model>``: a model served by Ollama through its native API.

The server address is ``llm_base_url`` (default ``http://127.0.0.1:11434``).
"""

from __future__ import annotations

from assistant.answerers.llm import LLMAnswerer, LLMOptions
from assistant.embedders import Embedder
from assistant.errors import ConfigError, MissingDependencyError
from assistant.settings import Settings

DEFAULT_URL = "http://127.0.0.1:11434"


def OllamaAnswerer(model: str, *, settings: Settings, embedder: Embedder) -> LLMAnswerer:
    try:
        import httpx
        import ollama
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise MissingDependencyError("langchain-ollama", "llm", "The ollama answerer") from exc
    if not model:
        raise ConfigError(
            "The ollama answerer needs a model name.",
            "Write it as ollama:<model>, e.g. ollama:qwen2.5:7b (see `ollama list`).",
        )
    options = LLMOptions.from_settings(settings)
    chat = ChatOllama(
        model=model,
        base_url=options.base_url or DEFAULT_URL,
        temperature=options.temperature,
        num_predict=options.max_tokens,
        client_kwargs={"timeout": options.timeout},
    )
    return LLMAnswerer(
        chat,
        name=f"ollama:{model}",
        settings=settings,
        embedder=embedder,
        options=options,
        # ResponseError carries the HTTP status: 429 and 5xx are retried, 404 (no such model) not.
        transient=(httpx.TransportError,),
        failures=(ollama.ResponseError, ollama.RequestError, httpx.HTTPError, ValueError),
    )
