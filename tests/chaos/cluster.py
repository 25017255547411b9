"""One scenario's world: a temporary directory with its own redis-server (or Redis Cluster), sink,
optional proxy, `taskq api`, workers and schedulers, all torn down when the scenario ends, however
it ends.

A Cluster also keeps the scenario's fault log: each fault is recorded with the jobs active just
before it, which is the suite's measure of "in flight at fault time" (see docs/reliability.md).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from processes import (ApiProcess, ProcessGroup, RedisServer, SchedulerProcess,
                       StubbornWorkerProcess, Taskq, WorkerProcess, clean_environment)
from proxy import Proxy
from redis_cluster_nodes import RedisClusterNodes
from sink import SinkProcess
from workload import QUEUE, ApiClient, active_jobs

WEBHOOK_SECRET = "chaos-suite-signing-key"  # any secret: it makes workers send webhook-id


class Cluster:
    def __init__(self, binary, name, appendfsync=None, redis_cluster=False):
        self.name = name
        self.workdir = tempfile.mkdtemp(prefix=f"taskq-chaos-{name}-")
        self.group = ProcessGroup(self.workdir)
        self.taskq = Taskq(binary)
        # One redis-server, or a Redis Cluster of 3 masters and 3 replicas (F16-F18, F24).
        self.redis = RedisClusterNodes(self.group) if redis_cluster else \
            RedisServer(self.group, appendfsync)
        self.crashes = []
        self.sink = None
        self.proxy = None
        self.api = None
        self.workers = []
        self.queues = [QUEUE]  # the queues webhook jobs run from (start's `queues`)
        self.schedulers = []
        self.client = None
        self.faults = []  # (unix time, what, ids active just before)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if self.client:
            self.client.close()
        # Read before close(): a process that ended by itself is a finding of its own.
        self.crashes = self.group.crashes()
        self.group.close()
        return False

    def remove(self, keep_logs):
        """Deletes the working directory, or says where it is when its logs are wanted."""
        if keep_logs:
            print(f"chaos: {self.name}: logs kept in {self.workdir}", file=sys.stderr)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self, workers=3, concurrency=16, proxied=False, worker_env=None, queues=(QUEUE,),
              shards=1, **worker_options):
        """Redis, the sink, the API and `workers` workers (each through its own proxy link when
        `proxied`), all running and ready. Each worker serves one of `queues` (worker_queue), so a
        fault of one worker hits one queue; webhook jobs may go to any of `queues` (the API and
        the workers are told so: webhook is a built-in type, held to its own queue otherwise).
        With shards > 1, the webhook queue is spread over that many shards (`taskq shards`) once
        Redis runs, before the API and the workers start (F24)."""
        self.queues = list(queues)
        type_flags = [] if self.queues == [QUEUE] else \
            ["--type-queues", f"{QUEUE}={'+'.join(self.queues)}"]
        self.start_services(type_flags, shards)
        if proxied:
            self.proxy = Proxy(self.group, self.redis.port, [f"w{i}" for i in range(workers)])
        for i in range(workers):
            url = self.proxy.url(f"w{i}") if proxied else self.redis.url
            env = worker_env[i] if worker_env else None
            flags = self.worker_flags(concurrency, queue=self.worker_queue(i),
                                      **worker_options) + type_flags
            self.workers.append(WorkerProcess(self.group, self.taskq, i, url, flags, env))
        self.start_workers()

    def worker_queue(self, index):
        """The queue worker `index` serves (start's `queues`)."""
        return self.queues[index % len(self.queues)]

    def start_stubborn(self, test_worker, workers, concurrency, lease_ms, grace_ms=2000,
                       max_stalls=3, isolation="thread", api_flags=()):
        """Like start(), with test workers whose webhook handler ignores stop requests
        (processes.StubbornWorkerProcess) in place of `taskq worker`; with isolation "process",
        their queue's handlers run in handler processes."""
        self.start_services(api_flags)
        for i in range(workers):
            self.workers.append(StubbornWorkerProcess(
                self.group, test_worker, i, self.redis.url, concurrency, lease_ms, grace_ms,
                max_stalls, WEBHOOK_SECRET, isolation))
        self.start_workers()

    def start_services(self, api_flags=(), shards=1):
        self.redis.start()
        if shards > 1:
            answer = self.cli("shards", QUEUE, shards)
            if answer.get("shards") != shards:
                raise RuntimeError(f"taskq shards {QUEUE} {shards} answered {answer}")
        self.sink = SinkProcess(self.group)
        self.api = ApiProcess(self.group, self.taskq, self.redis.url, api_flags)
        self.api.start()
        self.client = ApiClient(self.api.port)

    def cli(self, *args, timeout=30):
        """Runs a `taskq` command (e.g. "shards", QUEUE, 3) against the scenario's Redis, with the
        URL every process of the scenario uses; returns its JSON answer (the last line)."""
        run = subprocess.run([self.taskq.binary, "--redis-url", self.redis.url, "--output", "json",
                              *map(str, args)], capture_output=True, text=True, timeout=timeout,
                             env=clean_environment())
        if run.returncode != 0:
            raise RuntimeError(f"taskq {' '.join(map(str, args))} exited with {run.returncode}: "
                               f"{(run.stderr or run.stdout)[-2000:]}")
        return json.loads(run.stdout.strip().splitlines()[-1])

    def start_workers(self):
        for worker in self.workers:
            worker.start()
        for worker in self.workers:
            worker.wait_running()

    @staticmethod
    def worker_flags(concurrency, queue=QUEUE, lease_ms=2000, grace_ms=2000, max_stalls=3,
                     allow="127.0.0.0/8", max_redirects=0, callback_queue=None):
        """With a callback_queue, the workers also run it (a quarter of the concurrency) and
        relay completion callbacks into it."""
        queues = f"{queue}={concurrency}"
        extra = []
        if callback_queue:
            queues += f",{callback_queue}={max(concurrency // 4, 1)}"
            extra = ["--callback-queue", callback_queue]
        return extra + ["--queues", queues, "--lease-ms", str(lease_ms),
                "--shutdown-grace-ms", str(grace_ms), "--max-stalls", str(max_stalls),
                "--webhook-allow", allow, "--webhook-ports", "*", "--webhook-secret", WEBHOOK_SECRET,
                "--webhook-max-redirects", str(max_redirects)]

    def add_schedulers(self, count, flags):
        for i in range(count):
            scheduler = SchedulerProcess(self.group, self.taskq, i, self.redis.url, flags)
            scheduler.start()
            self.schedulers.append(scheduler)

    def record_fault(self, what, active=None):
        """Counts one fault. `active`: the ids active just before it, when the caller read them
        already; otherwise they are read now, in every queue of the cluster (none of a queue the
        API cannot answer for)."""
        if active is None:
            active = [i for queue in self.queues for i in active_jobs(self.client, queue) or []]
        self.faults.append((time.time(), what, active))

    @property
    def in_flight_at_fault(self):
        return sum(len(active) for _, _, active in self.faults)

    def delivered_ids(self, records=None):
        """One id per delivery (a request the sink answered 200 on its main listener) of the
        producers' jobs: completion callbacks (F19) are checked on their own."""
        return [r["id"] for r in records or self.sink.records()
                if r["status"] == 200 and r["listener"] == "main" and "cbj" not in r]

    def overlapping_runs(self, records=None):
        """Ids with two requests at the sink at the same time (each from arrival to answer,
        abandonment or the end of a held connection): two attempts of one job running at
        once."""
        spans = {}
        for r in records or self.sink.records():
            if r["status"] in (200, "abandoned", "hang"):
                spans.setdefault(r["id"], []).append((r["t"], r["t_end"]))
        overlapping = []
        for job_id, runs in spans.items():
            runs.sort()
            if any(later[0] < earlier[1] for earlier, later in zip(runs, runs[1:])):
                overlapping.append(job_id)
        return sorted(overlapping)

    def log_lines(self, child_prefix, needle):
        """Lines containing `needle` in the logs of every process named child_prefix*."""
        out = []
        for name in sorted(os.listdir(self.workdir)):
            if name.startswith(child_prefix) and name.endswith(".log"):
                with open(os.path.join(self.workdir, name), errors="replace") as f:
                    out += [line.rstrip("\n") for line in f if needle in line]
        return out
