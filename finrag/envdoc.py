"""Render `.env.example` from the settings models, so every setting is documented in one place and
the file cannot drift from the code (a test compares them)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic_settings import BaseSettings

HEADER = """# finrag settings. Every variable is optional; the defaults run embedded (no server, no network).
# Generated from the settings models: python -m finrag.envdoc > .env.example
"""


def _sections() -> list[tuple[str, type[BaseSettings]]]:
    from finrag.settings import (
        AnswerSettings,
        BudgetSettings,
        LLMSettings,
        RetrievalSettings,
        S3Settings,
        SecuritySettings,
        ServeSettings,
        Settings,
        WorkerSettings,
    )

    return [
        ("core", Settings),
        ("retrieval", RetrievalSettings),
        ("answer pipelines", AnswerSettings),
        ("LLM providers", LLMSettings),
        ("HTTP service", ServeSettings),
        ("LLM budgets", BudgetSettings),
        ("job worker", WorkerSettings),
        ("S3 object stores", S3Settings),
        ("security", SecuritySettings),
    ]


def _value(default: object) -> str:
    if default is None:
        return ""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, Path):
        return str(default).replace(str(Path.home()), "~")
    if isinstance(default, list | dict):
        return json.dumps(default, default=str)
    return str(getattr(default, "value", default))


def render_env_example() -> str:
    lines = [HEADER]
    for title, model in _sections():
        prefix = model.model_config.get("env_prefix", "")
        lines.append(f"\n# --- {title} ({prefix}*) ---")
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
                continue  # nested sections are listed on their own
            if field.description:
                lines.append(f"# {field.description}")
            default = field.get_default(call_default_factory=True)
            if ("key" in name and "keys" not in name) or "password" in name or "secret" in name:
                default = None  # never print secrets, even defaults
            lines.append(f"# {prefix}{name.upper()}={_value(default)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_env_example(), end="")
