"""What an index was built with (embedding model and dimension). Vectors from another model are
meaningless against it, so a mismatch is refused with a clear message instead of silently mixing."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


class IndexMismatchError(RuntimeError):
    pass


@dataclass(slots=True)
class IndexManifest:
    model: str
    backend: str
    dim: int

    @classmethod
    def for_embedder(cls, name: str, dim: int) -> IndexManifest:
        model, _, backend = name.partition("/")
        return cls(model=model, backend=backend, dim=dim)


def check_or_record(data_dir: Path, manifest: IndexManifest, index_empty: bool | Callable[[], bool]) -> None:
    """Record the manifest on first use; afterwards refuse another model or dimension. A different
    backend of the same model (torch vs ONNX int8) is the same vector space and is allowed.

    `index_empty` may be a callable: it is then only called when the manifests differ, so the common
    case (same model) never has to open the vector store to count it."""
    path = data_dir / "index.json"
    if path.exists():
        saved = IndexManifest(**json.loads(path.read_text()))
        if saved == manifest:
            return
        empty = index_empty() if callable(index_empty) else index_empty
        if (saved.model, saved.dim) == (manifest.model, manifest.dim) or empty:
            if empty:
                _write(path, manifest)
            return
        raise IndexMismatchError(
            f"this index ({data_dir}) was built with {saved.model} ({saved.dim} dimensions); the configured "
            f"embedder is {manifest.model} ({manifest.dim} dimensions). Re-embedding is explicit: use a new "
            "FINRAG_DATA_DIR and ingest again, or configure the original model."
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    _write(path, manifest)


def _write(path: Path, manifest: IndexManifest) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(manifest), indent=2))
    os.replace(tmp, path)
