"""Settings from environment variables (FINRAG_*) and an optional TOML file: one `Settings` object with a
section per part (retrieval, answer, llm, serve + budget, worker, s3).

Built once at start-up by every entry point through `load_settings` (clear errors naming the variable)
and passed down; nothing reads the environment elsewhere. Imports nothing of finrag above it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

if TYPE_CHECKING:
    from finrag.llm.base import Usage


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
    rerank_batch_size: int = Field(32, ge=1, le=1024, description="cross-encoder: pairs per forward pass")
    rerank_max_length: int = Field(512, ge=16, le=8192, description="cross-encoder: tokens per (question, page) pair")
    automerge: bool = True
    automerge_min_children: int = 2
    neighbour_pages: int = Field(0, ge=0, le=3)
    graph: bool = False
    graph_answers: bool = Field(
        False, description="answer 'which company / compare the segments' questions from graph community summaries"
    )
    graph_llm_summaries: bool = Field(False, description="the configured LLM also summarises each graph community")
    # On by the per-half rule (docs/retrieval.md); 4 sub-queries measured the same as 2 and cost more searches.
    multi_query: bool = Field(
        True, description="split questions spanning several line items / years / companies into sub-queries (RRF)"
    )
    multi_query_min_parts: int = Field(2, ge=2, le=10, description="items, years or companies needed to split")
    multi_query_max: int = Field(2, ge=1, le=10, description="sub-queries per question at most")
    multi_query_llm: bool = Field(False, description="the configured LLM writes the sub-queries (one call each)")
    periods: bool = Field(
        True, description="scope quarters, halves, nine months and dates to the filings reporting them"
    )
    section_priors: bool = Field(
        True, description="question intent -> section priors (Item 1, 1A, MD&A ...), re-rank only"
    )
    form_priors: bool = Field(
        True, description="question intent -> form priors (10-K, 10-Q, earnings, 8-K), re-rank only"
    )
    page_image_url: str = Field(
        "",
        description="a ColPali-style page-image embedding service (wire format: finrag/embed/page_images.py); "
        "when set, every page is embedded as an image at ingest and the vision pipeline picks pages by image "
        "as well as by text",
    )
    page_image_api_key: SecretStr | None = None
    page_image_timeout_s: float = Field(60.0, gt=0)
    page_image_batch: int = Field(8, ge=1, le=64, description="page images per request to the service")
    page_image_scale: float = Field(1.0, gt=0, le=4, description="render scale of page images (1.0 = 72 dpi)")
    page_image_candidates: int = Field(8, ge=1, le=100, description="pages the image search hands the vision pipeline")


class AnswerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINRAG_ANSWER_", extra="ignore")

    mode: Literal["auto", "easy", "agentic", "vision", "long_context"] = Field(
        "auto", description="default when a request says none"
    )
    router_llm: bool = Field(False, description="ask the LLM to classify questions (one short call each)")

    # easy -> agentic fallback
    faithfulness_threshold: float = Field(0.7, ge=0, le=1, description="below this, easy answers are retried")
    fallback_to_agentic: bool = True

    # LLM requests
    # ~1,500 tokens of sources + the ~500-token system prompt keep one Sonnet call near $0.008
    context_chars: int = Field(6_000, ge=500, le=200_000, description="source text sent per request (~4 chars/token)")
    block_chars: int = Field(2_500, ge=200, description="longer pages are cut to their most relevant lines")
    max_answer_tokens: int = Field(512, ge=16, le=8192)

    # agentic
    agentic_max_iterations: int = Field(3, ge=1, le=10, description="LLM draft + correction steps")
    agentic_search_k: int = Field(4, ge=1, le=20, description="hits per component search")
    agentic_llm_for_metrics: bool = Field(
        False, description="also let the LLM write metric answers the calculator already grounded (costs a call)"
    )

    # long context: the scoped filing's pages (whole, or the aligned window holding the retrieved pages)
    # as ONE prompt-cached block, so follow-up questions on that filing read it from the cache
    long_context: bool = Field(False, description="let the router choose the long-context route and escalate to it")
    long_context_window_tokens: int = Field(200_000, ge=4_000, description="the configured model's context window")
    long_context_max_tokens: int = Field(
        60_000, ge=1_000, description="filing text sent per request (~4 chars/token), within the window"
    )
    long_context_max_docs: int = Field(2, ge=1, le=10, description="filings a question may be scoped to")
    long_context_cost_ratio: float = Field(
        2.0, ge=0, description="with the filing already cached: chosen when within this multiple of the RAG estimate"
    )
    long_context_max_usd: float = Field(
        0.25, ge=0, description="questions that need reading (why, explain, risks): chosen up to this estimate"
    )
    fallback_to_vision: bool = Field(False, description="last escalation step when long context is not possible")

    # vision
    vision_max_pages: int = Field(2, ge=1, le=8)
    vision_scale: float = Field(1.5, gt=0.2, le=4.0, description="render scale (1.0 = 72 dpi)")

    # online evaluation
    # optional LLM judge of faithfulness (finrag.answer.judge): off by default, it costs a call per answer
    judge: Literal["off", "llm", "ragas"] = Field(
        "off", description="faithfulness judge: off, llm (the configured providers) or ragas (pip install ragas)"
    )
    judge_weight: float = Field(0.5, ge=0, le=1, description="share of the judge in the combined faithfulness")
    judge_inline: bool = Field(
        False,
        description="judge every LLM answer on the request path (its score joins the one that drives the "
        "easy -> agentic fallback); otherwise only answers sampled for online evaluation are judged",
    )
    online_eval_share: float = Field(0.01, ge=0, le=1, description="share of live answers scored in the background")
    online_eval_queue: int = Field(1000, ge=1)
    online_eval_via_queue: bool = Field(
        False,
        description="score sampled answers on `finrag worker` through the Redis job queue (FINRAG_SERVE_REDIS_URL) "
        "instead of a thread in the API process",
    )


DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-6"


class ModelPrice(BaseModel):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float | None = Field(None, ge=0, description="5-minute cache write; default = input")
    cache_read: float | None = Field(None, ge=0, description="default = input")

    def cost(self, usage: Usage) -> float:  # a finrag.llm.base.Usage
        cw = self.input if self.cache_write is None else self.cache_write
        cr = self.input if self.cache_read is None else self.cache_read
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_creation_input_tokens * cw
            + usage.cache_read_input_tokens * cr
        ) / 1_000_000


SONNET_PRICE = ModelPrice(input=3.00, output=15.00, cache_write=3.75, cache_read=0.30)

# Keys match a model id exactly or as a prefix (longest wins), so dated snapshots such as
# "claude-sonnet-4-5-20250929" are priced without listing every one.
DEFAULT_PRICES: dict[str, ModelPrice] = {"claude-sonnet-4": SONNET_PRICE}


def price_for(prices: Mapping[str, ModelPrice], model: str) -> ModelPrice | None:
    if model in prices:
        return prices[model]
    matches = [k for k in prices if model.startswith(k)]
    return prices[max(matches, key=len)] if matches else None


def cost_usd(prices: Mapping[str, ModelPrice], model: str, usage: Usage) -> float:
    """0.0 for unpriced models (a local vLLM / Ollama server costs nothing per token)."""
    price = price_for(prices, model)
    return price.cost(usage) if price else 0.0


class LLMSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINRAG_LLM_", extra="ignore")

    # Tried in order; "extractive" is the offline answerer and only makes sense last.
    # Env: FINRAG_LLM_PROVIDERS=anthropic,openai,extractive (or a JSON list).
    providers: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["anthropic", "openai", "extractive"])

    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str = Field("", description="empty = https://api.anthropic.com")
    anthropic_model: str = DEFAULT_ANTHROPIC_MODEL

    openai_base_url: str = Field("", description="OpenAI, vLLM (http://host:8000/v1), Ollama (http://host:11434/v1)")
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4.1-mini"
    # Newer OpenAI models want max_completion_tokens; most local servers still read max_tokens.
    openai_max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"

    timeout_s: float = Field(60.0, gt=0, description="whole request (read) timeout")
    connect_timeout_s: float = Field(5.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10, description="retries per provider before falling over")
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(20.0, ge=0)

    max_tokens: int = Field(1024, ge=1)
    temperature: float | None = Field(None, ge=0, le=2, description="OpenAI-compatible only; None = server default")
    prompt_cache: bool = True
    # The easy path's system prompt (~300 tokens) is under the provider's minimum cacheable prefix, so it
    # alone is never cached. With the filing prefix, a filing asked about `prefix_after` times within the
    # cache's 5 minutes gets its statement + cover pages sent as a stable prefix after it, cached once and
    # read after. Off by default: it pays only in long sessions on one filing (docs/benchmarks.md).
    prompt_cache_filing_prefix: bool = Field(
        False, description="repeated questions on one filing: cache its statement + cover pages with the prompt"
    )
    prompt_cache_min_tokens: int = Field(
        1024, ge=0, description="the model's minimum cacheable prefix (Sonnet/Opus 1024, Haiku 2048)"
    )
    prompt_cache_prefix_after: int = Field(
        3, ge=0, le=20, description="questions on the filing within 5 minutes before its prefix is sent (0: always)"
    )
    prompt_cache_prefix_max_tokens: int = Field(
        800, ge=200, le=50_000, description="filing pages in the cached prefix at most (~4 chars/token)"
    )

    # Extra / overriding prices, merged over DEFAULT_PRICES. Env (JSON):
    # FINRAG_LLM_PRICES='{"gpt-4.1-mini": {"input": 0.4, "output": 1.6, "cache_read": 0.1}}'
    prices: dict[str, ModelPrice] = Field(default_factory=dict)

    @field_validator("providers", mode="before")
    @classmethod
    def _split_providers(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            if v.startswith("["):
                import json

                return json.loads(v)
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("providers")
    @classmethod
    def _known_providers(cls, v: list[str]) -> list[str]:
        known = {"anthropic", "openai", "extractive"}
        bad = [p for p in v if p not in known]
        if bad:
            raise ValueError(f"unknown LLM providers {bad}; known: {sorted(known)}")
        if "extractive" in v and v[-1] != "extractive":
            raise ValueError("'extractive' (offline) must be the last provider")
        return v

    @property
    def price_table(self) -> dict[str, ModelPrice]:
        return {**DEFAULT_PRICES, **self.prices}

    def cost(self, model: str, usage: Usage) -> float:
        return cost_usd(self.price_table, model, usage)


class TenantBudget(BaseModel):
    """One tenant's limits; a field left out takes the default from `BudgetSettings`."""

    model_config = ConfigDict(extra="forbid")

    monthly_usd: float | None = Field(None, ge=0)
    per_query_usd: float | None = Field(None, ge=0)
    over_budget: Literal["reject", "offline"] | None = None


class BudgetSettings(BaseSettings):
    """LLM spend limits per tenant (FINRAG_BUDGET_*), counted from each answer's `cost_usd`."""

    model_config = SettingsConfigDict(env_prefix="FINRAG_BUDGET_", extra="ignore")

    monthly_usd: float | None = Field(
        None, ge=0, description="per tenant and calendar month (UTC); unset = unlimited, 0 = offline answers only"
    )
    per_query_usd: float | None = Field(
        None, ge=0, description="per request: stops escalation to costlier pipelines; unset = none, 0 = no LLM call"
    )
    over_budget: Literal["reject", "offline"] = Field(
        "offline", description="when the month's budget is spent: 402 error, or offline (extractive) answers"
    )
    # FINRAG_BUDGET_TENANTS='{"acme": {"monthly_usd": 50, "over_budget": "reject"}, "trial": {"monthly_usd": 0}}'
    tenants: dict[str, TenantBudget] = Field(default_factory=dict, description="per-tenant overrides (JSON)")

    def for_tenant(self, tenant: str) -> TenantBudget:
        """The defaults with the tenant's overrides (only the fields it sets) on top."""
        own = self.tenants.get(tenant)
        base = {"monthly_usd": self.monthly_usd, "per_query_usd": self.per_query_usd, "over_budget": self.over_budget}
        if own is not None:
            base.update({k: getattr(own, k) for k in own.model_fields_set})
        return TenantBudget(**base)


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINRAG_SERVE_", extra="ignore")

    # Uploads
    max_upload_mb: float = Field(50.0, gt=0, description="largest accepted PDF upload")
    max_queued_jobs: int = Field(1000, ge=1, description="ingest queue depth before uploads get 503")
    job_queue: Literal["in-process", "redis"] = Field(
        "in-process",
        description="uploads' ingest jobs: in this process (journal in the database) or the shared Redis queue "
        "(FINRAG_SERVE_REDIS_URL; `finrag worker` processes take them too, so they must share the uploads folder)",
    )

    # Rate limits (per API key)
    rate_limit_per_minute: int = Field(120, ge=1, description="moving-window requests per minute")
    max_concurrent_per_key: int = Field(8, ge=1, description="requests of one key in flight at once")

    # Response cache
    cache_enabled: bool = True
    cache_ttl_s: int = Field(7 * 24 * 3600, ge=1, description="entries also die when the tenant's index changes")

    # Shared backends: empty = in-process / on-disk defaults
    redis_url: str = Field("", description="rate limits + response cache in Redis, e.g. redis://localhost:6379/0")

    cors_origins: list[str] = Field(default_factory=list, description='JSON list, e.g. ["https://app.example"]')
    key_cache_s: float = Field(5.0, ge=0, description="how long a verified key is trusted before re-checking")
    page_dpi: int = Field(110, ge=36, le=300, description="resolution of page images")
    max_top_k: int = Field(50, ge=1, le=100)

    # Stored answers (GET /v1/answers/{id}, feedback) and LLM budgets (FINRAG_BUDGET_*)
    store_answers: bool = Field(True, description="keep every answer with its trace, for feedback and debugging")
    budget: BudgetSettings = Field(default_factory=BudgetSettings)


class WorkerSettings(BaseSettings):
    """`finrag worker` (FINRAG_WORKER_*)."""

    model_config = SettingsConfigDict(env_prefix="FINRAG_WORKER_", extra="ignore")

    metrics_port: int = Field(0, ge=0, le=65535, description="export online-evaluation scores on this port; 0 = off")
    visibility_s: float = Field(600.0, gt=0, description="job lease: a worker silent this long is presumed dead")


class S3Settings(BaseSettings):
    """S3 / S3-compatible object stores (FINRAG_S3_*); credentials come from boto3's usual chain."""

    model_config = SettingsConfigDict(env_prefix="FINRAG_S3_", extra="ignore")

    endpoint_url: str = Field("", description="MinIO, R2, ...: the S3 API endpoint; empty = AWS")
    region: str = Field(
        "us-east-1",
        validation_alias=AliasChoices("FINRAG_S3_REGION", "AWS_REGION", "region"),
        description="the bucket's region (FINRAG_S3_REGION, or AWS_REGION)",
    )


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
    ingest_embedder: Literal["auto", "same", "torch-bf16"] = Field(
        "auto",
        description="documents at ingest: torch-bf16 (the same model in bfloat16; fast only on CPUs with AMX) | same"
        " (FINRAG_EMBEDDER) | auto (torch-bf16 when the CPU has AMX, torch is installed and FINRAG_EMBEDDER is a local"
        " model on FINRAG_DEVICE=cpu, for a run of 500+ PDF pages and every run after it; else same). Questions always"
        " use FINRAG_EMBEDDER",
    )
    embedding_model: str = Field("", description="path or hub id; empty = packaged MiniLM")
    embedding_base_url: str = Field("", description="openai embedder: OpenAI-compatible base URL (…/v1)")
    embedding_api_key: str = ""
    embedding_dim: int = Field(384, ge=8, le=8192, description="openai embedder: the vector size the index expects")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "cpu",
        description="embedder: cpu (int8 ONNX default) | auto (CUDA when onnxruntime-gpu/torch sees a GPU, else cpu)"
        " | cuda (required: an error when absent)",
    )
    embed_batch_size: int = Field(64, ge=1, le=1024)
    embed_threads: int = Field(0, ge=0, description="0 = all cores")

    # Chunking
    child_max_tokens: int = Field(240, ge=32, le=512, description="fits MiniLM's 256 word pieces")
    metadata_prefix: bool = Field(True, description="prefix chunks with company | form | FY | section when indexing")
    exhibit_passages: int = Field(
        0,
        ge=-1,
        description="prose passages embedded per contract/plan page among a 10-K/10-Q's exhibits (other pages and"
        " tables always; BM25 keeps all); -1 = all",
    )
    strip_running_lines: bool = Field(False, description="leave running headers/footers out of embedded passages")

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
    # Embedded store (Qdrant edge). Qdrant edge has no background optimiser: a shard's segments get their
    # HNSW graph and quantised copies only when `finrag index optimize` or an ingest run builds them.
    edge_quantization: Literal["none", "int8"] = Field(
        "int8",
        description="embedded store: int8 scalar copies of the dense vectors in RAM for the search, the float"
        " originals kept to rescore the best candidates; applies to segments built from then on",
    )
    edge_vectors_on_disk: bool = Field(
        True, description="embedded store: float originals of built segments stay on disk (memory-mapped)"
    )
    # cold by default: at 1M chunks it served within 2 GB (pinned did not) at a few ms of p95 (docs/performance.md).
    edge_index_memory: Literal["pinned", "cached", "cold"] = Field(
        "cold",
        description="embedded store: where built segments keep the HNSW graph and the BM25 inverted index:"
        " pinned = heap; cached = memory-mapped, read into the page cache at open; cold = memory-mapped, read"
        " on first use; applies from the next index build (`finrag index optimize` re-places built segments)",
    )
    edge_index_min_points: int = Field(
        100_000,
        ge=0,
        description="embedded store: an ingest run that wrote chunks ends with an index build (HNSW) when the"
        " shard holds at least this many points; smaller shards are searched by a full scan; 0 = never",
    )
    # 1M: the size at which one segment was measured within the serving targets (docs/performance.md).
    edge_segment_max_points: int = Field(
        1_000_000,
        ge=0,
        description="embedded store: builds never merge segments past this many points, and a long ingest run"
        " builds each time it adds this many, so each build's memory and time stay bounded; 0 = Qdrant's own"
        " bound (256 MB of vectors per CPU) and a build only at the end of a run",
    )

    # Ingest
    parse_workers: int = Field(1, ge=0, le=32, description="processes parsing PDFs while the main one embeds")

    # Questions
    max_question_chars: int = Field(2000, ge=10, description="longer questions are refused with a clear error")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="long-running commands (serve, worker, updater, rerank-server)"
    )

    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
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
            var = prefix + "_".join(loc).upper()
            for depth in range(len(loc) - 1, 0, -1):  # the deepest section named in the location
                section = ".".join(loc[:depth]) + "."
                if section in _NESTED:
                    var = _NESTED[section] + "_".join(loc[depth:]).upper()
                    break
            problems.append(f"{var}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None


SECTIONS: dict[str, type[BaseSettings]] = {
    "retrieval": RetrievalSettings,
    "answer": AnswerSettings,
    "llm": LLMSettings,
    "serve": ServeSettings,
    "worker": WorkerSettings,
    "s3": S3Settings,
    "security": SecuritySettings,
}
_NESTED = {f"{name}.": str(cls.model_config.get("env_prefix", "")) for name, cls in SECTIONS.items()}
_NESTED["serve.budget."] = str(BudgetSettings.model_config.get("env_prefix", ""))
_PREFIXES = {cls.__name__: prefix for cls, prefix in ((c, str(c.model_config.get("env_prefix", ""))) for c in
             [*SECTIONS.values(), BudgetSettings])}  # fmt: skip
