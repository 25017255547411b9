"""A REST client for taskq's HTTP API (docs/http-api.md), on the standard library alone.

    from taskq_client import TaskqClient
    client = TaskqClient("http://localhost:8000")
    job = client.enqueue("email", {"to": "user@example.com", "subject": "Hello"})
    done = client.wait(job["id"], queue=job["queue"], timeout_ms=10000)

Every method returns the API's JSON answer as Python objects, or raises TaskqError with the HTTP
status and the API's error code, message and field.
"""
import json
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["TaskqClient", "TaskqError"]
__version__ = "0.1.0"


class TaskqError(Exception):
    """An error answer of the API (RFC 9457 problem details): `status` (HTTP), `code`
    ("invalid_field", "unavailable", ...), `message` (the detail), `field` (the request field at
    fault, or None), `errors` (for invalid_field, every invalid field as {"field", "detail"}) and
    `retry_after` (seconds, when the API said; 503 means Redis is unavailable and the same request
    may be sent again)."""

    def __init__(self, status, code, message, field=None, retry_after=None, errors=()):
        super().__init__(f"{status} {code}: {message}" + (f" (field: {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after
        self.errors = list(errors)


def _headers(idempotency_key, traceparent):
    """The optional headers of a submission: its Idempotency-Key and W3C traceparent."""
    headers = {}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    if traceparent is not None:
        headers["traceparent"] = traceparent
    return headers


class TaskqClient:
    """`base_url`: where `taskq api` listens; `api_key`: a token of `--api-key` (sent as
    Authorization: Bearer), or None when the API takes no keys."""

    def __init__(self, base_url="http://localhost:8000", api_key=None, timeout=30.0):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    # --- jobs -------------------------------------------------------------------------------

    def enqueue(self, type, data=None, *, idempotency_key=None, traceparent=None, **options):
        """Enqueues one job (POST /api/jobs). `options` are the body's other fields: queue,
        priority, delay_ms, run_at, max_attempts, backoff, timeout_ms, group, retention, unique,
        job_id. Returns {"id", "queue", "state", "created", "links"}; an existing job (same id or
        unique key) comes back with "created": False."""
        body = {"type": type, "data": data if data is not None else {}, **options}
        return self._request("POST", "/api/jobs", body, _headers(idempotency_key, traceparent))

    def enqueue_bulk(self, jobs, *, traceparent=None):
        """Enqueues many jobs at once, all or nothing (POST /api/jobs/bulk); `jobs` are bodies as
        enqueue() sends them. Returns the answers in order."""
        return self._request("POST", "/api/jobs/bulk", {"jobs": list(jobs)},
                             _headers(None, traceparent))["jobs"]

    def get_job(self, job_id, queue=None):
        """The job as GET /api/jobs/{id} shows it; TaskqError 404 when there is none."""
        return self._request("GET", self._job_path(job_id, "", queue))

    def wait(self, job_id, queue=None, timeout_ms=30000):
        """Waits until the job is completed or dead, or `timeout_ms` passes; returns the job as it
        is then (check its "state")."""
        return self._request("GET", self._job_path(job_id, "/wait", queue, timeout_ms=timeout_ms),
                             timeout=self.timeout + timeout_ms / 1000.0)

    def cancel(self, job_id, queue=None):
        """Removes a job that has not started, or asks the worker running it to stop."""
        return self._request("DELETE", self._job_path(job_id, "", queue))

    def retry(self, job_id, queue=None):
        """Retries a dead job (or runs a retrying one now)."""
        return self._request("POST", self._job_path(job_id, "/retry", queue))

    def promote(self, job_id, queue=None):
        """Runs a delayed or retrying job now."""
        return self._request("POST", self._job_path(job_id, "/promote", queue))

    # --- flows (docs/workflows.md) -----------------------------------------------------------

    def submit_flow(self, jobs=None, *, chain=None, flow_id=None, retention_ms=None,
                    idempotency_key=None, traceparent=None):
        """Submits a flow, a tree of jobs (in one queue or several) whose parents run once their
        children have settled (POST /api/flows). Either `jobs`: bodies as enqueue() sends them (not job_id
        or unique), each with "ref", "parent" (the parent's ref; left out for the root) and
        "on_failure" ("fail", "ignore" or "continue"); or `chain`: bodies of steps that run one
        after the other, each reading the result of the one before. `flow_id`, else
        `idempotency_key`, names the flow within its queue; submitting it again writes nothing.
        `retention_ms`: how long the flow's record outlives its root's finish (default 7 days).
        Returns {"id" ("<queue>:<flow key>"), "queue", "state", "created", "jobs": [{"ref",
        "id", "queue", "state", "links"}], "links"}, "created" False when the flow existed."""
        body = {"chain": list(chain)} if chain is not None else {"jobs": list(jobs or [])}
        if flow_id is not None:
            body["flow_id"] = flow_id
        if retention_ms is not None:
            body["retention_ms"] = retention_ms
        return self._request("POST", "/api/flows", body, _headers(idempotency_key, traceparent))

    def get_flow(self, flow_id):
        """The flow as GET /api/flows/{id} shows it: "state" ("running", then "completed" or
        "dead" with its root), "created_ms", "finished_ms", and "jobs" by ref, each with "parent",
        "on_failure", "state", "cancelled" and, for a parent, "children" ({"state", "total",
        "pending", "completed", "dead", "overridden"}). TaskqError 404 when there is none (or
        its record expired)."""
        return self._request("GET", self._flow_path(flow_id))

    def cancel_flow(self, flow_id):
        """Cancels the flow's root and every unfinished job below it (DELETE /api/flows/{id}):
        {"id", "outcome"}, "cancelled", or "stop_requested" while the root runs. TaskqError 409
        once the root has finished."""
        return self._request("DELETE", self._flow_path(flow_id))

    # --- batches (docs/workflows.md, "Batches") ----------------------------------------------

    def submit_batch(self, jobs, *, on_complete=None, on_success=None, batch_id=None, open=False,
                     retention_ms=None, idempotency_key=None, traceparent=None):
        """Submits a batch, independent jobs in one queue with callbacks that run once they have
        settled (POST /api/batches). `jobs`, `on_complete` and `on_success` are bodies as
        enqueue() sends them (not job_id or unique), all in one queue: `on_complete` runs once
        every member completed or died, `on_success` once every member completed. `batch_id`,
        else `idempotency_key`, names the batch within its queue; submitting it again writes
        nothing. `open`: the batch takes additions (add_to_batch) and holds its callbacks until
        close_batch(); only an open batch may have no jobs, and it then needs a callback.
        `retention_ms`: how long its record outlives its finish (the API's default: 7 days).
        Returns {"id" ("<queue>:<batch key>"), "queue", "state", "created", "jobs": [{"id"}],
        "on_complete", "on_success" ({"id"} or None), "links"}, "created" False when the batch
        existed."""
        body = {"jobs": list(jobs)}
        for name, value in (("on_complete", on_complete), ("on_success", on_success),
                            ("batch_id", batch_id), ("retention_ms", retention_ms)):
            if value is not None:
                body[name] = value
        if open:
            body["open"] = True
        return self._request("POST", "/api/batches", body, _headers(idempotency_key, traceparent))

    def add_to_batch(self, batch_id, jobs, *, addition_id=None, idempotency_key=None,
                     traceparent=None):
        """Adds jobs to a batch that has not finished (POST /api/batches/{id}/jobs), each in the
        batch's queue. `addition_id`, else `idempotency_key`, names the addition; adding it again
        writes nothing. Returns {"id", "addition_id", "created", "jobs": [{"id"}], "links"}.
        TaskqError 404 when there is no such batch, 409 "batch_finished" once it finished or
        was cancelled."""
        body = {"jobs": list(jobs)}
        if addition_id is not None:
            body["addition_id"] = addition_id
        return self._request("POST", self._batch_path(batch_id, "/jobs"), body,
                             _headers(idempotency_key, traceparent))

    def close_batch(self, batch_id):
        """Closes an open batch: no more jobs come, and its callbacks run once every member
        settled (POST /api/batches/{id}/close). Returns {"id", "outcome"}, "closed", or
        "already_closed" when it was closed before. TaskqError 404 when there is no such
        batch."""
        return self._request("POST", self._batch_path(batch_id, "/close"))

    def get_batch(self, batch_id):
        """The batch as GET /api/batches/{id} shows it: "state" ("open", "running" once closed,
        "finished"), "cancelled", "total", "pending", "completed", "dead" (over every addition),
        "created_ms", "finished_ms", and "on_complete", "on_success" ({"id", "state",
        "cancelled"} or None). TaskqError 404 when there is none (or its record expired)."""
        return self._request("GET", self._batch_path(batch_id, ""))

    def cancel_batch(self, batch_id):
        """Cancels the batch (DELETE /api/batches/{id}): every unfinished member and its held
        callbacks go dead, cancelled (a running member is asked to stop). Returns {"id",
        "outcome": "cancelled"}. TaskqError 409 "batch_finished" once it finished or was
        cancelled."""
        return self._request("DELETE", self._batch_path(batch_id, ""))

    # --- queues ------------------------------------------------------------------------------

    def queues(self):
        """Every queue with its counts (GET /api/queues)."""
        return self._request("GET", "/api/queues")["queues"]

    def queue(self, name):
        return self._request("GET", "/api/queues/" + urllib.parse.quote(name, safe=""))

    def jobs(self, queue, state="waiting", limit=50):
        """One page of a queue's jobs in one state."""
        query = urllib.parse.urlencode({"state": state, "limit": limit})
        return self._request("GET", f"/api/queues/{urllib.parse.quote(queue, safe='')}/jobs?"
                             + query)

    def pause(self, queue):
        return self._request("POST", f"/api/queues/{urllib.parse.quote(queue, safe='')}/pause")

    def resume(self, queue):
        return self._request("POST", f"/api/queues/{urllib.parse.quote(queue, safe='')}/resume")

    # --- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _job_path(job_id, suffix, queue, **query):
        params = {k: v for k, v in {"queue": queue, **query}.items() if v is not None}
        path = "/api/jobs/" + urllib.parse.quote(job_id, safe="") + suffix
        return path + ("?" + urllib.parse.urlencode(params) if params else "")

    @staticmethod
    def _flow_path(flow_id):
        return "/api/flows/" + urllib.parse.quote(flow_id, safe="")

    @staticmethod
    def _batch_path(batch_id, suffix):
        return "/api/batches/" + urllib.parse.quote(batch_id, safe="") + suffix

    def _request(self, method, path, body=None, headers=None, timeout=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.api_key:
            request.add_header("Authorization", "Bearer " + self.api_key)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as answer:
                text = answer.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                error = json.loads(text)
                if not isinstance(error, dict) or "code" not in error:
                    raise ValueError("not a problem document")
            except ValueError:
                error = {"code": "http_error", "detail": text.decode("utf-8", "replace")[:500]}
            retry_after = e.headers.get("Retry-After")
            raise TaskqError(e.code, error.get("code"), error.get("detail"), error.get("field"),
                             float(retry_after) if retry_after and retry_after.isdigit()
                             else None, error.get("errors") or ()) from None
