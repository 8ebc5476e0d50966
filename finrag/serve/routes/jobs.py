"""Ingest jobs: status of an upload's background ingestion."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from finrag.queue import Job
from finrag.serve.deps import ReadKey, StateDep
from finrag.serve.errors import ERROR_RESPONSES, not_found
from finrag.serve.schemas import JobList, JobOut

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def job_out(job: Job) -> JobOut:
    result = job.result
    return JobOut(
        job_id=job.id,
        status=job.status.value,
        filename=str(job.payload.get("filename") or Path(str(job.payload.get("path", ""))).name),
        reason=job.error or str(result.get("reason", "")),
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
    responses=ERROR_RESPONSES,
)
async def get_job(job_id: Annotated[str, PathParam(max_length=64)], state: StateDep, who: ReadKey) -> JobOut:
    job = await run_in_threadpool(state.jobs.get, job_id, who.tenant)
    if job is None:
        raise not_found(f"job {job_id!r}")
    return job_out(job)
