"""Answering pipelines (easy, agentic, vision, long context), each registered by name in
`finrag.answer.registry` and run by `finrag.answer.engine.AnswerEngine`.

`finrag.settings` imports `AnswerSettings` from `.config`; nothing else is imported here, so that
importing the settings does not pull in the LLM and retrieval stack."""

from __future__ import annotations

from finrag.answer.pipelines.config import AnswerSettings

__all__ = ["AnswerSettings"]
