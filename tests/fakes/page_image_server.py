"""A fake ColPali-style page-image embedding service speaking finrag's wire format
(finrag/embed/page_images.py): `POST /v1/embed/images`, `POST /v1/embed/queries`.

No model ships for page images, so this fake embeds by colour, honestly and deterministically: an image
is cut into an 8 x 8 grid and each patch becomes a row [red, green, blue, ink, paper, 1] (the share of
its pixels of each kind, plus a constant); a question's colour words become rows pointing at that
colour, its other words a row matching ink and paper alike. MaxSim over these finds "the red chart"
on the page that has one — the late-interaction plumbing is exercised for real, with a toy model."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from PIL import Image

GRID = 8
COLOURS = {"red": 0, "green": 1, "blue": 2}


def patch_rows(png: bytes) -> list[list[float]]:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    kinds = np.stack(
        [
            (r > 170) & (g < 90) & (b < 90),
            (g > 130) & (r < 90) & (b < 90),
            (b > 170) & (r < 90) & (g < 130),
            (r < 100) & (g < 100) & (b < 100),
            (r > 230) & (g > 230) & (b > 230),
        ],
        axis=-1,
    ).astype(np.float32)
    h, w = kinds.shape[:2]
    rows = []
    for i in range(GRID):
        for j in range(GRID):
            cell = kinds[i * h // GRID : (i + 1) * h // GRID, j * w // GRID : (j + 1) * w // GRID]
            rows.append([*cell.reshape(-1, 5).mean(axis=0).tolist(), 0.05])
    return rows


def query_rows(text: str) -> list[list[float]]:
    rows = []
    for word in re.findall(r"[a-z]+", text.lower()):
        row = [0.0] * 6
        if word in COLOURS:
            row[COLOURS[word]] = 1.0
        else:
            row[3], row[4], row[5] = 0.3, 0.3, 0.05
        rows.append(row)
    return rows or [[0.0, 0.0, 0.0, 0.3, 0.3, 0.05]]


@dataclass
class FakePageImageService:
    images_seen: int = 0
    queries_seen: list[str] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this status (a broken service)


def create_app(state: FakePageImageService) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/embed/images")
    async def images(request: Request) -> Any:
        if state.fail_with:
            return JSONResponse({"error": "scripted failure"}, status_code=state.fail_with)
        body = await request.json()
        pngs = [base64.b64decode(s) for s in body["images"]]
        state.images_seen += len(pngs)
        return {"embeddings": [patch_rows(p) for p in pngs]}

    @app.post("/v1/embed/queries")
    async def queries(request: Request) -> Any:
        if state.fail_with:
            return JSONResponse({"error": "scripted failure"}, status_code=state.fail_with)
        body = await request.json()
        state.queries_seen += body["queries"]
        return {"embeddings": [query_rows(q) for q in body["queries"]]}

    return app
