"""Settings from environment variables (FINRAG_*) and an optional TOML file.

Built once at start-up (CLI command, API app factory) and passed down; nothing reads them at import."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from finrag.answer.pipelines.config import AnswerSettings
from finrag.llm.config import LLMSettings


def _default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "finrag"


class RetrievalSettings(BaseSettings):
    """Retrieval levers, each switchable so the ablation can measure it."""

    model_config = SettingsConfigDict(env_prefix="FINRAG_RETRIEVAL_", extra="ignore")

    top_k: int = Field(5, ge=1, le=100)
    prefetch_limit: int = Field(100, ge=1, le=2000, description="candidates per route before fusion")
    rrf_k: int = 60
    routes: Literal["hybrid", "dense", "sparse"] = "hybrid"
    statement_route: bool = Field(True, description="metric questions also search the financial statement pages")
    statement_candidates: int = Field(10, ge=1, le=100)
    min_documents: int = Field(2, ge=1, le=10, description="distinct filings among the first results")
    diversity_window: int = Field(5, ge=1, le=50, description="how many first results min_documents applies to")
    scope: bool = Field(True, description="infer company / fiscal year / form from the question")
    scope_mode: Literal["filter", "boost"] = "filter"
    glossary: bool = Field(True, description="expand finance synonyms (capex -> purchases of PP&E ...)")
    glossary_dense: bool = Field(True, description="also run a dense query with the glossary's wording")
    glossary_sparse: bool = Field(False, description="add the glossary's wording to the BM25 query (ablation: no gain)")
    rerank: Literal["none", "lexical", "cross-encoder", "remote"] = "lexical"
    cross_encoder_model: str = "BAAI/bge-reranker-v2-m3"
    rerank_url: str = Field("", description="rerank=remote: a `finrag rerank-server`, e.g. http://gpu-box:8080")
    rerank_candidates: int = Field(60, ge=1, le=500)
    automerge: bool = True
    automerge_min_children: int = 2
    neighbour_pages: int = Field(0, ge=0, le=3)
    graph: bool = False


class SecuritySettings(BaseSettings):
    """Hardening of the API and the data folder (FINRAG_SECURITY_*)."""

    model_config = SettingsConfigDict(env_prefix="FINRAG_SECURITY_", extra="ignore")

    max_body_kb: int = Field(
        1024, ge=1, description="largest request body of every route but uploads (413 beyond; uploads: MAX_UPLOAD_MB)"
    )
    metrics_token: SecretStr | None = Field(
        None, description="/metrics needs 'Authorization: Bearer <token>' (unset: open, unless metrics_port moves it)"
    )
    metrics_port: int = Field(
        0, ge=0, le=65535, description="serve /metrics on this port only (same host), not on the API port; 0 = API port"
    )
    metrics_host: str = Field("127.0.0.1", description="interface of the metrics port (0.0.0.0 in containers)")
    metrics_tenants: list[str] = Field(
        default_factory=list, description="tenants exported by name in per-tenant metrics (others are left out)"
    )
    api_key: SecretStr | None = Field(
        None, description="CLI: the API key `finrag ask` uses when a running server owns the data folder"
    )
    tenant_rate_limit_per_minute: int = Field(600, ge=1, description="requests per minute of all of a tenant's keys")
    max_keys_per_tenant: int = Field(50, ge=1, description="live API keys one tenant may hold")
    tenant_quota_mb: float | None = Field(
        None, gt=0, description="stored uploads per tenant (MB); unset = unlimited; beyond it uploads get 413"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINRAG_", extra="ignore", env_nested_delimiter="__")

    data_dir: Path = Field(default_factory=_default_data_dir)
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "finrag",
        description="shared across data dirs: exported/quantised models",
    )
    tenant: str = Field("default", description="tenant used by the CLI (the API takes it from the key)")

    # Embeddings
    embedder: Literal["onnx-int8", "onnx", "torch", "openai"] = Field(
        "onnx-int8", description="onnx-int8 (fast default) | onnx | torch (reference) | openai (remote endpoint)"
    )
    embedding_model: str = Field("", description="path or hub id; empty = packaged MiniLM")
    embedding_base_url: str = Field("", description="openai embedder: OpenAI-compatible base URL (…/v1)")
    embedding_api_key: str = ""
    embedding_dim: int = Field(384, ge=8, le=8192, description="openai embedder: the vector size the index expects")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto uses a GPU when one is present")
    embed_batch_size: int = Field(64, ge=1, le=1024)
    embed_threads: int = Field(0, ge=0, description="0 = all cores")

    # Chunking
    child_max_tokens: int = Field(240, ge=32, le=512, description="fits MiniLM's 256 word pieces")
    metadata_prefix: bool = Field(True, description="prefix chunks with company | form | FY | section when indexing")

    # Stores (server URLs replace the embedded defaults when set)
    database_url: str = Field("", description="SQLAlchemy URL; empty = SQLite in data_dir")
    qdrant_url: str = Field("", description="Qdrant server/cluster URL; empty = embedded Qdrant edge in data_dir")
    qdrant_api_key: SecretStr | None = Field(None, description="Qdrant server: API key (Qdrant Cloud, clusters)")
    qdrant_collection: str = Field("finrag", description="Qdrant server: collection holding every tenant's chunks")
    # Applied when the collection is created (a cluster spreads shards over its nodes; replicas survive a node loss).
    qdrant_shard_number: int | None = Field(None, ge=1, description="Qdrant cluster: shards (empty = server default)")
    qdrant_replication_factor: int | None = Field(None, ge=1, description="Qdrant cluster: copies of each shard")
    qdrant_write_consistency_factor: int | None = Field(None, ge=1, description="replicas that must ack a write")
    qdrant_on_disk: bool = Field(False, description="Qdrant server: keep dense vectors on disk (memory-mapped)")

    # Ingest
    parse_workers: int = Field(1, ge=0, le=32, description="processes parsing PDFs while the main one embeds")

    # Questions
    max_question_chars: int = Field(2000, ge=10, description="longer questions are refused with a clear error")

    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        config_file = os.environ.get("FINRAG_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @property
    def sqlite_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'registry.sqlite3'}"

    @property
    def vector_dir(self) -> Path:
        return self.data_dir / "qdrant"


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the environment variable to fix."""


def load_settings(**overrides: object) -> Settings:
    """Settings, or a SettingsError that names each bad variable (never a pydantic traceback)."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        # Nested sections validate on their own, so the failing model's name gives the prefix.
        prefix = _PREFIXES.get(exc.title, "FINRAG_")
        problems = []
        for err in exc.errors():
            loc = [str(part) for part in err["loc"]]
            if len(loc) >= 2 and f"{loc[0]}." in _NESTED:
                var = _NESTED[f"{loc[0]}."] + "_".join(loc[1:]).upper()
            else:
                var = prefix + "_".join(loc).upper()
            problems.append(f"{var}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None


_NESTED = {
    "retrieval.": "FINRAG_RETRIEVAL_",
    "llm.": "FINRAG_LLM_",
    "answer.": "FINRAG_ANSWER_",
    "security.": "FINRAG_SECURITY_",
}
_PREFIXES = {
    "RetrievalSettings": "FINRAG_RETRIEVAL_",
    "LLMSettings": "FINRAG_LLM_",
    "AnswerSettings": "FINRAG_ANSWER_",
    "SecuritySettings": "FINRAG_SECURITY_",
}
