"""Ingest jobs: status of an upload's background ingestion."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from finrag.queue import Job
from finrag.serve.deps import ReadKey, StateDep
from finrag.serve.errors import ERROR_RESPONSES, NOT_FOUND, not_found
from finrag.serve.schemas import JobList, JobOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


# An absolute path in a failure reason ("cannot open /srv/finrag/uploads/acme/3f…pdf") tells a client
# about the server's layout; the file's own name is all it needs.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:/[^\s/:'\"()]+)+/?")


def public_reason(reason: str, filename: str = "") -> str:
    """A job's failure reason as clients see it: absolute server paths reduced to the file's name."""

    def name(m: re.Match[str]) -> str:
        base = m.group(0).rstrip("/").rsplit("/", 1)[-1]
        # an upload is stored under its content hash: the client knows it by the name it sent
        return filename if filename and re.fullmatch(r"[0-9a-f]{64}\.pdf", base) else base

    reason = _ABSOLUTE_PATH.sub(name, reason)
    return re.sub(r"\b[0-9a-f]{64}\.pdf\b", filename, reason) if filename else reason


def job_out(job: Job) -> JobOut:
    result = job.result
    return JobOut(
        job_id=job.id,
        status=job.status.value,
        filename=(filename := str(job.payload.get("filename") or Path(str(job.payload.get("path", ""))).name)),
        reason=public_reason(job.error or str(result.get("reason", "")), filename),
        doc_id=str(result.get("doc_id", "")),
        pages=int(result.get("pages", 0)),
        chunks=int(result.get("chunks", 0)),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        url=f"/v1/jobs/{job.id}",
    )


@router.get("", response_model=JobList, summary="Recent jobs of the key's tenant", responses=ERROR_RESPONSES)
async def list_jobs(state: StateDep, who: ReadKey, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> JobList:
    jobs = await run_in_threadpool(state.jobs.list, who.tenant, limit)
    return JobList(jobs=[job_out(j) for j in jobs])


@router.get(
    "/{job_id}",
    response_model=JobOut,
    summary="One job: queued, running, succeeded or failed (with reason)",
    responses={**ERROR_RESPONSES, **NOT_FOUND},
)
async def get_job(job_id: Annotated[str, PathParam(max_length=64)], state: StateDep, who: ReadKey) -> JobOut:
    job = await run_in_threadpool(state.jobs.get, job_id, who.tenant)
    if job is None:
        raise not_found(f"job {job_id!r}")
    return job_out(job)
