"""Salesloft bulk jobs: person upserts at scale, run as Salesloft's published example flow.

Create a `person/upsert` job, add its rows (at most 5,000 a call), mark it ready to
execute, poll it until `done`, then read its results (100 a page, by `id[gt]` cursor)
into one answer per row. A job is named after the run and its rows, so a run resumed
after its worker died finds the job its first attempt had closed and reads that job's
results instead of upserting the same people again.
"""

from __future__ import annotations

import hashlib
import json

from integrations.base import ConnectorError
from integrations.clock import SYSTEM_CLOCK

JOB_TYPE = "person/upsert"
JOB_DATA_ROWS = 5000  # the documented most per job-data call
PAGE = 100
POLL_SECONDS = (0.5, 1, 2, 3, 5)  # waits between polls of a running job, the last one repeated
NAME_PREFIX = "sync-console run"


class BulkUpserts:
    """`json(method, path, **kwargs)` is the writer's call: the decoded answer, or a ConnectorError."""

    def __init__(self, json_call, run_key: str = "", resumed: bool = False, clock=SYSTEM_CLOCK):
        self.json = json_call
        self.run_key = run_key
        self.resumed = resumed
        self.clock = clock
        self.earlier_jobs = None  # name -> job id, of this run's earlier attempt (read once, if resumed)

    def upsert(self, rows: list[dict]) -> list[dict]:
        """One result per row, in order: {"status": "success"|"error", "error", "resource"}."""
        name = self.job_name(rows)
        job_id = self.earlier_job(name)
        if job_id is None:
            job_id = self.json("POST", "bulk_jobs", json={"type": JOB_TYPE, "name": name})["data"]["id"]
            for start in range(0, len(rows), JOB_DATA_ROWS):
                self.json("POST", f"bulk_jobs/{job_id}/job_data", json={"data": rows[start:start + JOB_DATA_ROWS]})
            self.json("PUT", f"bulk_jobs/{job_id}", json={"ready_to_execute": True})
        self.wait_until_done(job_id)
        return self.matched(rows, self.results(job_id))

    def job_name(self, rows: list[dict]) -> str:
        digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()[:20]
        return f"{NAME_PREFIX} {self.run_key or '-'} {digest}"

    def earlier_job(self, name: str) -> int | None:
        """The job of the same rows this run's earlier attempt closed (an open one never ran)."""
        if not (self.resumed and self.run_key):
            return None
        if self.earlier_jobs is None:
            self.earlier_jobs = {}
            mine = f"{NAME_PREFIX} {self.run_key} "
            for job in self.listed("bulk_jobs", {"state": "executing,done"}):
                if (job.get("name") or "").startswith(mine):
                    self.earlier_jobs[job["name"]] = job["id"]
        return self.earlier_jobs.get(name)

    def wait_until_done(self, job_id: int):
        polls = 0
        while True:
            job = self.json("GET", f"bulk_jobs/{job_id}")["data"]
            if job["state"] == "done":
                return
            if job["state"] != "executing":
                raise ConnectorError(f"Salesloft bulk job {job_id} is {job['state']}, not executing.")
            self.clock.sleep(POLL_SECONDS[min(polls, len(POLL_SECONDS) - 1)])
            polls += 1

    def results(self, job_id: int) -> list[dict]:
        return list(self.listed(f"bulk_jobs/{job_id}/results", {}))

    def listed(self, path: str, params: dict):
        """Every item of a cursor list (`id[gt]`, no page numbers)."""
        after = None
        while True:
            page_params = {**params, "per_page": PAGE, **({"id[gt]": after} if after is not None else {})}
            items = self.json("GET", path, params=page_params).get("data") or []
            yield from items
            if len(items) < PAGE:
                return
            after = items[-1]["id"]

    @staticmethod
    def matched(rows: list[dict], results: list[dict]) -> list[dict]:
        """Results back in the rows' order, matched on each row's upsert key value."""
        waiting: dict[tuple, list[dict]] = {}
        for result in sorted(results, key=lambda r: r["id"]):
            waiting.setdefault(row_key(result.get("record") or {}), []).append(result)
        missing = {"status": "error", "error": "Salesloft's bulk job returned no result for this row.",
                   "resource": None}
        return [(waiting.get(row_key(row)) or [missing]).pop(0) for row in rows]


def row_key(row: dict) -> tuple:
    key = row.get("upsert_key")
    return key, str(row.get(key, "")).strip().lower()
