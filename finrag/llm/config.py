"""LLM settings (FINRAG_LLM_*) and the per-model price table used for cost accounting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from finrag.llm.base import Usage

DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-6"


class ModelPrice(BaseModel):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float | None = Field(None, ge=0, description="5-minute cache write; default = input")
    cache_read: float | None = Field(None, ge=0, description="default = input")

    def cost(self, usage: Usage) -> float:
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
