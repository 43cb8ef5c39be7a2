"""``openai:<model>``: any server that speaks OpenAI's chat-completions protocol.

OpenAI itself, vLLM, LM Studio, llama.cpp's ``llama-server`` and Ollama's ``/v1``
all do; point ``llm_base_url`` at the server (e.g. ``http://127.0.0.1:8080/v1``).
Retries are ours (`assistant.answerers.llm`), so the SDK's own are switched off.
"""

from __future__ import annotations

from pydantic import SecretStr

from assistant.answerers.llm import LLMAnswerer, LLMOptions
from assistant.embedders import Embedder
from assistant.errors import ConfigError, MissingDependencyError
from assistant.settings import Settings

#: The key sent to a local server that asks for none.
NO_KEY = "not-needed"


def OpenAIAnswerer(model: str, *, settings: Settings, embedder: Embedder) -> LLMAnswerer:
    try:
        import httpx
        import openai
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise MissingDependencyError("langchain-openai", "llm", "The openai answerer") from exc
    if not model:
        raise ConfigError(
            "The openai answerer needs a model name.",
            "Write it as openai:<model>, e.g. openai:gpt-4o-mini or openai:qwen2.5-7b-instruct.",
        )
    options = LLMOptions.from_settings(settings)
    if not options.api_key and not options.base_url:
        raise ConfigError(
            f"openai:{model} needs an API key, or the address of an OpenAI-compatible server.",
            "Set ASSISTANT_LLM_API_KEY, or ASSISTANT_LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1).",
        )
    chat = ChatOpenAI(
        model=model,
        base_url=options.base_url,
        api_key=SecretStr(options.api_key or NO_KEY),
        temperature=options.temperature,
        max_completion_tokens=options.max_tokens,
        timeout=options.timeout,
        max_retries=0,
        streaming=True,
    )
    return LLMAnswerer(
        chat,
        name=f"openai:{model}",
        settings=settings,
        embedder=embedder,
        options=options,
        # APIStatusError carries a status code: 429 and 5xx are retried, 401/404 are not.
        transient=(
            openai.APITimeoutError,
            openai.APIConnectionError,
            openai.APIResponseValidationError,
            httpx.TransportError,
        ),
        failures=(openai.OpenAIError, httpx.HTTPError),
    )
