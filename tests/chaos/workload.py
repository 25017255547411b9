"""What the chaos suite does to taskq through its public API: producers that enqueue `webhook`
jobs and log each enqueue's outcome, and the reads (queue counts, active jobs, drain) that a
scenario needs around its faults.

An enqueue's outcome is what a client can know: `ok` (201 or 200: the job exists), `refused`
(a 4xx: the API says it wrote nothing) or `unknown` (a 5xx, a timeout or a broken connection:
the job may or may not exist). A producer retries an unknown enqueue with the same
Idempotency-Key, so a job is never enqueued twice by its retries; the first definite answer is
the outcome.
"""
import http.client
import itertools
import json
import threading
import time

QUEUE = "webhook"

# Jobs are kept after completion for the whole run: the Idempotency-Key of a retried enqueue is
# checked against existing jobs, and a retention that removed the first job would let the retry
# create a second one (an idempotency window shorter than the client's retries).
KEEP_FOR_THE_RUN = {"completed": {"count": 1 << 40, "age_ms": 86400000},
                    "dead": {"count": 1 << 40, "age_ms": 86400000}}


class ApiClient:
    """One keep-alive HTTP connection to `taskq api`; reconnects after any error. Not shared
    between threads."""

    # The API closes a connection idle for --request-timeout-ms (the suite gives 10 s); one idle
    # for half of that is replaced rather than raced against that close.
    MAX_IDLE_S = 5.0

    def __init__(self, port, timeout=5.0):
        self.port = port
        self.timeout = timeout
        self.conn = None
        self.last_used = 0.0

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON or None). Raises OSError (or http.client.HTTPException) when no
        answer came."""
        if self.conn is not None and time.monotonic() - self.last_used > self.MAX_IDLE_S:
            self.close()
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        self.last_used = time.monotonic()
        try:
            data = json.dumps(body) if body is not None else None
            self.conn.request(method, path, body=data, headers=headers or {})
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return response.status, parsed

    def get(self, path):
        """The parsed 200 answer, or None for anything else (the API may be down meanwhile)."""
        try:
            status, parsed = self.request("GET", path)
        except (OSError, http.client.HTTPException):
            return None
        return parsed if status == 200 else None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def webhook_job(sink_url, key, path="/ok", query="ms=20", timeout_ms=5000, padding=0,
                **options):
    """A job that delivers {"k": key} (and `padding` bytes more) to the sink; `options` go into
    the job as given."""
    body = {"k": key, "pad": "x" * padding} if padding else {"k": key}
    job = {"type": "webhook",
           "data": {"url": f"{sink_url}{path}?{query}", "body": body, "timeout_ms": timeout_ms},
           "max_attempts": 20, "backoff": {"type": "fixed", "delay_ms": 200},
           "retention": KEEP_FOR_THE_RUN}
    job.update(options)
    return job


class Enqueue:
    """One key's enqueue as the producer saw it."""
    __slots__ = ("key", "outcome", "first_try", "acked_at", "tries", "last_answer")

    def __init__(self, key, first_try):
        self.key = key
        self.outcome = "unknown"
        self.first_try = first_try
        self.acked_at = None
        self.tries = 0
        self.last_answer = None


class Producer:
    """Threads that enqueue one job per key at `rate` keys per second in all, each key's job
    built by `make_job(key)` and POSTed to `path` (a flow's body to /api/flows). Retries an
    unknown outcome with the same key for up to `retry_for` seconds (0: no retries). With
    `accept`, only the keys for which accept(key) is true are enqueued (the others' turns pass
    unused, so the rate falls by as much)."""

    def __init__(self, api_port, prefix, rate, make_job, threads=8, retry_for=20.0,
                 timeout=5.0, path="/api/jobs", accept=None):
        self.path = path
        self.accept = accept
        self.api_port = api_port
        self.prefix = prefix
        self.rate = rate
        self.make_job = make_job
        self.threads_count = threads
        self.retry_for = retry_for
        self.timeout = timeout
        self.log = {}  # key -> Enqueue
        self.lock = threading.Lock()
        self.sequence = itertools.count()
        self.stopping = threading.Event()
        self.threads = []
        self.started = None
        self.answers = {}  # (status, code) -> count, over every try
        self.error_messages = {}  # "status code" -> the first message of that 5xx
        self.errors = []  # a producer thread's crash: the scenario cannot be trusted

    def start(self):
        self.started = time.monotonic()
        for i in range(self.threads_count):
            thread = threading.Thread(target=self.run, name=f"producer-{i}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self):
        """Stops taking new keys, and waits while unknown outcomes are retried."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(self.retry_for + self.timeout + 10)
        return self.log

    def run(self):
        try:
            self.produce()
        except Exception as e:
            self.errors.append(repr(e))
            raise

    def produce(self):
        client = ApiClient(self.api_port, self.timeout)
        while not self.stopping.is_set():
            n = next(self.sequence)
            # Open loop at the target rate: slot n is due at start + n / rate.
            wait = self.started + n / self.rate - time.monotonic()
            if wait > 0 and self.stopping.wait(wait):
                break
            key = f"{self.prefix}-{n:07d}"
            if self.accept and not self.accept(key):
                continue
            record = Enqueue(key, time.time())
            with self.lock:
                self.log[key] = record
            self.enqueue(client, record)
        client.close()

    def enqueue(self, client, record):
        pause = 0.1
        deadline = time.monotonic() + self.retry_for
        body = self.make_job(record.key)
        while True:
            record.tries += 1
            try:
                status, answer = client.request("POST", self.path, body,
                                                 {"Idempotency-Key": record.key})
                code = (answer or {}).get("code") if status >= 400 else None
            except (OSError, http.client.HTTPException) as e:
                status, code = None, type(e).__name__
            with self.lock:
                self.answers[(status, code)] = self.answers.get((status, code), 0) + 1
                if status is not None and status >= 500:
                    # The first message of each kind of server error, for the report.
                    message = (answer or {}).get("detail", "")
                    self.error_messages.setdefault(f"{status} {code}", message[:300])
            record.last_answer = f"{status} {code}" if code else str(status)
            if status in (200, 201):
                record.outcome, record.acked_at = "ok", time.time()
                return
            if status is not None and 400 <= status < 500:
                record.outcome = "refused"
                return
            if time.monotonic() + pause > deadline:
                return  # stays unknown
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def answer_summary(self):
        with self.lock:
            return {f"{s} {c}" if c else str(s): n for (s, c), n in sorted(
                self.answers.items(), key=lambda item: str(item[0]))}


def queue_counts(client, queue=QUEUE):
    """The queue's counts and totals, or None when the API cannot say now."""
    return client.get(f"/api/queues/{queue}")


def active_jobs(client, queue=QUEUE):
    """Ids of the jobs active now (one page of at most 1000, more than the suite runs at once),
    or None when the API cannot say."""
    page = client.get(f"/api/queues/{queue}/jobs?state=active&limit=1000")
    return None if page is None else [job["id"] for job in page["jobs"]]


def drain(client, timeout, queue=QUEUE):
    """Waits until nothing of the queue waits, runs or is due (twice in a row, 0.5 s apart).
    Returns (drained, last counts)."""
    drained, last = drain_queues(client, timeout, [queue])
    return drained, last.get(queue)


def drain_queues(client, timeout, queues, settled=lambda: True):
    """Waits until nothing of any of `queues` waits, runs or is due and settled() holds (work
    still on its way to a queue, e.g. an outbox entry, is not in its counts), twice in a row,
    0.5 s apart. Returns (drained, queue -> last counts), a queue the API never answered for
    left out."""
    deadline = time.monotonic() + timeout
    quiet = 0
    last = {}
    while time.monotonic() < deadline:
        busy, answered = 0, True
        for queue in queues:
            info = queue_counts(client, queue)
            if info is None:
                answered = False  # the API cannot say now: this round neither counts nor resets
                continue
            last[queue] = info
            c = info["counts"]
            busy += c["waiting"] + c["active"] + c["delayed"] + c["retrying"]
        if answered:
            quiet = quiet + 1 if busy == 0 and settled() else 0
        if quiet >= 2:
            return True, last
        time.sleep(0.5)
    return False, last
