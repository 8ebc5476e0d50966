"""Reliable job queue on Redis (BLMOVE into a processing list + leases), shared by API replicas and workers.

Keys under `namespace` (default ``finrag:jobs``):

* ``pending``    LIST  of job ids; enqueue LPUSHes, workers BLMOVE from the right into ``processing`` (FIFO).
  BLMOVE is atomic: a job is always in one of the lists, never only in a dead worker's memory;
* ``processing`` LIST  of job ids handed to workers;
* ``leases``     ZSET  job id -> lease deadline (epoch s); workers heartbeat to push it forward;
* ``delayed``    ZSET  job id -> time its retry is due (exponential backoff);
* ``failed``     LIST  of failed job ids (newest first, the last 10,000) for listing;
* ``tenant:<t>`` ZSET  a tenant's job ids by enqueue time (the last 10,000), for `list`;
* ``job:<id>``   HASH  kind, payload (JSON), status, attempts, max_attempts, error, result, token, timestamps.

`maintain()` (every worker runs it between jobs) promotes due retries and requeues jobs whose lease
expired. A job moved by BLMOVE whose worker died before writing its lease gets a grace lease the first
time `maintain` sees it, so it is recovered too. State changes are Lua scripts (atomic on the server).
Needs a single Redis (or Sentinel); job keys are not hash-tagged for Redis Cluster."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import quote

from finrag.queue.base import Job, JobStatus, new_job_id, now_iso

# KEYS: job, pending, tenant index  ARGV: id, kind, payload, max_attempts, now_iso, now
_ENQUEUE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'kind', ARGV[2], 'payload', ARGV[3], 'status', 'queued',
  'attempts', 0, 'max_attempts', ARGV[4], 'error', '', 'result', '{}', 'token', '', 'created_at', ARGV[5],
  'updated_at', ARGV[5])
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -10001)
return 1
"""

# KEYS: job, leases, processing  ARGV: id, token, deadline, now
_CLAIM = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then
  redis.call('LREM', KEYS[3], 0, ARGV[1])
  return 0
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'token', ARGV[2], 'updated_at', ARGV[4], 'started_at', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS: job, leases  ARGV: id, token, deadline
_HEARTBEAT = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[2] or ARGV[2] == '' then return 0 end
redis.call('ZADD', KEYS[2], 'XX', ARGV[3], ARGV[1])
return 1
"""

# KEYS: job, leases, processing  ARGV: id, token, result, now, keep_s
_COMPLETE = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[2] or ARGV[2] == '' then return 0 end
redis.call('LREM', KEYS[3], 0, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'succeeded', 'result', ARGV[3], 'token', '', 'error', '',
  'updated_at', ARGV[4], 'finished_at', ARGV[4])
if tonumber(ARGV[5]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
return 1
"""

# KEYS: job, leases, processing, delayed, failed  ARGV: id, token, reason, now_iso, retry, due_at
_FAIL = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[2] or ARGV[2] == '' then
  return redis.call('HGET', KEYS[1], 'status') or 'failed'
end
redis.call('LREM', KEYS[3], 0, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts'))
local max = tonumber(redis.call('HGET', KEYS[1], 'max_attempts'))
redis.call('HSET', KEYS[1], 'token', '', 'error', ARGV[3], 'updated_at', ARGV[4])
if ARGV[5] == '1' and attempts < max then
  redis.call('HSET', KEYS[1], 'status', 'queued')
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
  return 'queued'
end
redis.call('HSET', KEYS[1], 'status', 'failed', 'finished_at', ARGV[4])
redis.call('LPUSH', KEYS[5], ARGV[1])
redis.call('LTRIM', KEYS[5], 0, 9999)
return 'failed'
"""

# KEYS: pending, processing, leases, delayed, failed  ARGV: now, grace_deadline, job_prefix, now_iso, visibility
_MAINTAIN = """
local moved = 0
local now = tonumber(ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 200)) do
  redis.call('ZREM', KEYS[4], id)
  redis.call('LPUSH', KEYS[1], id)
  moved = moved + 1
end
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  redis.call('ZADD', KEYS[3], 'NX', ARGV[2], id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 200)) do
  local job = ARGV[3] .. id
  redis.call('ZREM', KEYS[3], id)
  redis.call('LREM', KEYS[2], 0, id)
  if redis.call('EXISTS', job) == 1 then
    local attempts = tonumber(redis.call('HGET', job, 'attempts'))
    local max = tonumber(redis.call('HGET', job, 'max_attempts'))
    local reason = 'worker stopped responding (lease of ' .. ARGV[5] .. 's expired) on attempt ' .. attempts
    redis.call('HSET', job, 'token', '', 'error', reason, 'updated_at', ARGV[4])
    if attempts < max then
      redis.call('HSET', job, 'status', 'queued')
      redis.call('RPUSH', KEYS[1], id)
    else
      redis.call('HSET', job, 'status', 'failed', 'finished_at', ARGV[4])
      redis.call('LPUSH', KEYS[5], id)
      redis.call('LTRIM', KEYS[5], 0, 9999)
    end
    moved = moved + 1
  end
end
return moved
"""


class RedisQueue:
    def __init__(
        self,
        url: str,
        namespace: str = "finrag:jobs",
        visibility_s: float = 300.0,
        backoff_s: float = 2.0,
        max_backoff_s: float = 300.0,
        keep_done_s: int = 7 * 24 * 3600,
        client: Any = None,
    ) -> None:
        import redis

        self.url = url
        self.ns = namespace
        self.visibility_s = visibility_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.keep_done_s = keep_done_s
        # socket_timeout must exceed the longest BLMOVE wait, or the client times out a healthy block.
        self.r = client or redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5)
        self._enqueue = self.r.register_script(_ENQUEUE)
        self._claim = self.r.register_script(_CLAIM)
        self._heartbeat = self.r.register_script(_HEARTBEAT)
        self._complete = self.r.register_script(_COMPLETE)
        self._fail = self.r.register_script(_FAIL)
        self._maintain = self.r.register_script(_MAINTAIN)

    def _k(self, name: str) -> str:
        return f"{self.ns}:{name}"

    def _job_key(self, job_id: str) -> str:
        return f"{self.ns}:job:{job_id}"

    def _tenant_key(self, tenant: str) -> str:
        return f"{self.ns}:tenant:{quote(tenant, safe='')}"

    # API -----------------------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any], *, max_attempts: int = 3, job_id: str | None = None) -> Job:
        jid = job_id or new_job_id()
        tenant = str(payload.get("tenant") or "")
        self._enqueue(
            keys=[self._job_key(jid), self._k("pending"), self._tenant_key(tenant)],
            args=[jid, kind, json.dumps(payload), max_attempts, now_iso(), time.time()],
        )
        job = self.get(jid)
        assert job is not None
        return job

    def reserve(self, timeout_s: float = 0.0) -> Job | None:
        deadline = time.monotonic() + timeout_s
        while True:
            self.maintain()
            left = deadline - time.monotonic()
            # BLMOVE's timeout has 1 ms resolution; 0 would block forever, so poll without blocking then.
            if left > 0:
                jid = self.r.blmove(self._k("pending"), self._k("processing"), min(left, 1.0), "RIGHT", "LEFT")
            else:
                jid = self.r.lmove(self._k("pending"), self._k("processing"), "RIGHT", "LEFT")
            if jid is not None:
                token = uuid.uuid4().hex
                claimed = self._claim(
                    keys=[self._job_key(jid), self._k("leases"), self._k("processing")],
                    args=[jid, token, time.time() + self.visibility_s, now_iso()],
                )
                if claimed:
                    return self.get(jid)
                continue  # a stale id (job deleted / already finished): skip it
            if time.monotonic() >= deadline:
                return None

    def heartbeat(self, job: Job) -> bool:
        return bool(
            self._heartbeat(
                keys=[self._job_key(job.id), self._k("leases")],
                args=[job.id, job.token, time.time() + self.visibility_s],
            )
        )

    def complete(self, job: Job, result: dict[str, Any] | None = None) -> bool:
        return bool(
            self._complete(
                keys=[self._job_key(job.id), self._k("leases"), self._k("processing")],
                args=[job.id, job.token, json.dumps(result or {}), now_iso(), self.keep_done_s],
            )
        )

    def fail(self, job: Job, reason: str, *, retry: bool = True) -> JobStatus:
        from finrag.queue.base import backoff_delay

        due = time.time() + backoff_delay(job.attempts, self.backoff_s, self.max_backoff_s)
        status = self._fail(
            keys=[
                self._job_key(job.id),
                self._k("leases"),
                self._k("processing"),
                self._k("delayed"),
                self._k("failed"),
            ],
            args=[job.id, job.token, reason, now_iso(), "1" if retry else "0", due],
        )
        return JobStatus(status)

    def maintain(self) -> int:
        now = time.time()
        return int(
            self._maintain(
                keys=[
                    self._k("pending"),
                    self._k("processing"),
                    self._k("leases"),
                    self._k("delayed"),
                    self._k("failed"),
                ],
                args=[now, now + self.visibility_s, f"{self.ns}:job:", now_iso(), f"{self.visibility_s:g}"],
            )
        )

    def get(self, job_id: str) -> Job | None:
        data = self.r.hgetall(self._job_key(job_id))
        if not data:
            return None
        return Job(
            id=data["id"],
            kind=data["kind"],
            payload=json.loads(data["payload"]),
            status=JobStatus(data["status"]),
            attempts=int(data["attempts"]),
            max_attempts=int(data["max_attempts"]),
            error=data.get("error", ""),
            result=json.loads(data.get("result") or "{}"),
            created_at=data.get("created_at", ""),
            updated_at=data.get("updated_at", ""),
            token=data.get("token", ""),
            started_at=data.get("started_at") or None,
            finished_at=data.get("finished_at") or None,
        )

    def list(self, tenant: str, limit: int = 100) -> list[Job]:
        ids = self.r.zrevrange(self._tenant_key(tenant), 0, limit - 1)
        # Finished jobs' hashes expire after keep_done_s: those ids are skipped.
        return [j for j in (self.get(i) for i in ids) if j is not None]

    def failed_jobs(self, limit: int = 100) -> list[Job]:
        ids = self.r.lrange(self._k("failed"), 0, limit - 1)
        return [j for j in (self.get(i) for i in ids) if j is not None]

    def counts(self) -> dict[str, int]:
        pipe = self.r.pipeline()
        pipe.llen(self._k("pending"))
        pipe.zcard(self._k("delayed"))
        pipe.llen(self._k("processing"))
        pipe.llen(self._k("failed"))
        pending, delayed, processing, failed = pipe.execute()
        # Succeeded jobs are not indexed (their hashes expire); count what waits, runs and failed.
        return {"queued": pending + delayed, "running": processing, "failed": failed}

    def close(self) -> None:
        self.r.close()
