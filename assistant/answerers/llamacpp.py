"""``llamacpp:<path to .gguf>``: a local model run in-process by llama.cpp.

Needs the optional extra ``llamacpp`` (``llama-cpp-python``; on CPUs without
every instruction set build it with ``CMAKE_ARGS="-DGGML_NATIVE=OFF"``). The
model is loaded once per process and shared; generation is serialised, since a
llama.cpp context serves one request at a time. The chat template is the one
stored in the GGUF file; a file without one gets the format of its architecture
(``gemma`` for Gemma, ``chatml`` for Qwen) or ``llm_chat_format`` when set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from assistant.answerers.llm import LLMAnswerer, LLMOptions, message_text
from assistant.embedders import Embedder
from assistant.errors import ConfigError, MissingDependencyError
from assistant.settings import Settings

log = logging.getLogger(__name__)

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
_MODELS: dict[tuple[str, int, int | None, str | None], Any] = {}
#: llama-cpp-python chat formats for GGUF files that carry no chat template.
ARCHITECTURE_FORMATS = {
    "gemma": "gemma",
    "gemma2": "gemma",
    "gemma3": "gemma",
    "qwen2": "chatml",
    "qwen3": "chatml",
}
_MODELS_LOCK = threading.Lock()


def load_llama(path: str, n_ctx: int, n_threads: int | None, chat_format: str | None = None) -> Any:
    """The llama.cpp model for ``path``, loaded once per process."""
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise MissingDependencyError("llama-cpp-python", "llamacpp", "The llamacpp answerer") from exc
    key = (path, n_ctx, n_threads, chat_format)
    with _MODELS_LOCK:
        if key not in _MODELS:
            log.info("loading %s (n_ctx=%d)", path, n_ctx)
            llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False)
            architecture = llama.metadata.get("general.architecture", "")
            if chat_format:
                llama.chat_format = chat_format
            elif "tokenizer.chat_template" not in llama.metadata and architecture in ARCHITECTURE_FORMATS:
                llama.chat_format = ARCHITECTURE_FORMATS[architecture]
            log.info("%s: architecture %s, chat format %s", path, architecture, llama.chat_format)
            _MODELS[key] = llama
        return _MODELS[key]


class ChatLlamaCpp(BaseChatModel):
    """A LangChain chat model over ``llama_cpp.Llama.create_chat_completion``."""

    model_path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    chat_format: str | None = None
    temperature: float = 0.1
    max_tokens: int = 512
    seed: int = 0
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(message_text(c.message) for c in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama = load_llama(self.model_path, self.n_ctx, self.n_threads, self.chat_format)
        converted = [{"role": _ROLES.get(m.type, "user"), "content": message_text(m)} for m in messages]
        with self._lock:
            for part in llama.create_chat_completion(
                messages=converted,
                stream=True,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                stop=stop,
                seed=self.seed,
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager is not None:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk


def LlamaCppAnswerer(model: str, *, settings: Settings, embedder: Embedder) -> LLMAnswerer:
    path = Path(model).expanduser()
    if not model or not path.is_file():
        raise ConfigError(
            f"The llamacpp answerer needs an existing .gguf file; {model or '(none)'!r} is not one.",
            "Write it as llamacpp:/path/to/model.gguf.",
        )
    options = LLMOptions.from_settings(settings)
    chat = ChatLlamaCpp(
        model_path=str(path),
        n_ctx=settings.llm_context_tokens,
        n_threads=settings.llm_threads,
        chat_format=settings.llm_chat_format,
        temperature=options.temperature,
        max_tokens=options.max_tokens,
    )
    return LLMAnswerer(
        chat,
        name=f"llamacpp:{path.name}",
        settings=settings,
        embedder=embedder,
        options=options,
        # Nothing in-process is worth retrying: a too-long prompt stays too long.
        failures=(ValueError, RuntimeError, OSError),
    )
