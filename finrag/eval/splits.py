"""Splits of a question set by id, so a lever is kept only if it helps every part (never fit to one question).

Halves: questions sorted by id, the first half "A", the second "B". Folds: round-robin over the sorted ids.
Both depend on the ids alone, so every run and every helper reports the same parts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def _sorted_by_id(items: Sequence[T], key: str = "id") -> list[T]:
    return sorted(items, key=lambda item: str(item[key] if isinstance(item, dict) else getattr(item, key)))


def halves(items: Sequence[T], key: str = "id") -> dict[str, list[T]]:
    """{"A": first half by id, "B": second half}; A takes the extra item of an odd count."""
    ordered = _sorted_by_id(items, key)
    cut = (len(ordered) + 1) // 2
    return {"A": ordered[:cut], "B": ordered[cut:]}


def folds(items: Sequence[T], k: int = 5, key: str = "id") -> list[list[T]]:
    """k folds, round-robin over the items sorted by id."""
    if k < 1:
        raise ValueError("k must be at least 1")
    ordered = _sorted_by_id(items, key)
    return [ordered[i::k] for i in range(k)]
