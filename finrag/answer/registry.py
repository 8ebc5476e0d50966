"""Answering pipelines registered by name. The name is the answer mode that selects the pipeline, so
the mode list (`modes()`) is this registry's keys plus "auto" (the router chooses).

A new pipeline: a class with `name` and `run(request) -> Answer` (`finrag.answer.request.Pipeline`),
and one `register(name, factory)` call in its module; built-in modules are listed in `_BUILTIN`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from finrag.answer.llm_answerer import LLMAnswerer
    from finrag.answer.request import Pipeline
    from finrag.settings import AnswerSettings

# (llm, settings, every pipeline built for the same llm: resolved at call time) -> pipeline
PipelineFactory = Callable[["LLMAnswerer", "AnswerSettings", Mapping[str, "Pipeline"]], "Pipeline"]

_BUILTIN = (
    "finrag.answer.pipelines.easy",
    "finrag.answer.pipelines.agentic",
    "finrag.answer.pipelines.vision",
    "finrag.answer.pipelines.long_context",
)
_FACTORIES: dict[str, PipelineFactory] = {}
_loaded = False


def register(name: str, factory: PipelineFactory) -> None:
    if name == "auto":
        raise ValueError("'auto' is the router's mode, not a pipeline name")
    _FACTORIES[name] = factory


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in _BUILTIN:
            importlib.import_module(module)
        _loaded = True


def names() -> tuple[str, ...]:
    """Registered pipeline names, in registration order."""
    _load()
    return tuple(_FACTORIES)


def modes() -> tuple[str, ...]:
    """Answer modes a request may ask for: "auto" and every pipeline."""
    return ("auto", *names())


def build_pipelines(llm: LLMAnswerer, settings: AnswerSettings) -> dict[str, Pipeline]:
    """One instance of every registered pipeline over `llm`."""
    _load()
    built: dict[str, Pipeline] = {}
    for name, factory in _FACTORIES.items():
        built[name] = factory(llm, settings, built)
    return built
