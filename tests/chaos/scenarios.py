"""The fault scenarios with a producer load (F1, F19, F22, F20, F13, F15, F12, F3, F3b, F2, F5,
F6, F14; the flows' F21 and F23 are in flow_scenarios.py): each starts its own cluster, runs
`webhook` jobs into the sink while it injects its faults, drains, and returns its result for the
checker's rules (checker.violations).

Scenario-specific checks append to result["violations"]; durations and rates come from
Settings.pick(quick, full), so `--quick` runs the same scenarios shorter.
"""
import bisect
import http.client
import os
import random
import signal
import time

from checker import check_batches, check_callbacks, check_total_queue
from cluster import Cluster
from workload import (KEEP_FOR_THE_RUN, QUEUE, Producer, active_jobs, drain, queue_counts,
                      webhook_job)

# taskq's worker looks for expired leases every 5 s (WorkerOptions::recover_interval, which has
# no flag): an orphaned job runs again at most lease + 5 s after its worker died.
RECOVER_INTERVAL_S = 5.0


class Settings:
    def __init__(self, binary, quick, test_worker=None):
        self.binary = binary
        self.test_worker = test_worker  # tests/system/test_worker_main.cc, for F15 and F12
        self.quick = quick
        self.clusters = []  # every cluster made, for the runner's crash check and cleanup

    def pick(self, quick, full):
        return quick if self.quick else full

    def cluster(self, name, appendfsync=None, redis_cluster=False):
        cluster = Cluster(self.binary, name, appendfsync=appendfsync, redis_cluster=redis_cluster)
        self.clusters.append(cluster)
        return cluster


def start_load(cluster, prefix, rate, retry_for=20.0, threads=8, long_every=0, long_ms=0,
               **job_options):
    """Producers of webhook jobs of 20 ms (query="ms=N" for another duration); with long_every,
    every long_every-th job takes long_ms instead."""
    def make_job(key):
        if long_every and int(key.rsplit("-", 1)[1]) % long_every == 0:
            return webhook_job(cluster.sink.url, key, **dict(
                job_options, query=f"ms={long_ms}", timeout_ms=long_ms + 10000))
        return webhook_job(cluster.sink.url, key, **job_options)

    producer = Producer(cluster.api.port, prefix, rate, make_job, threads=threads,
                        retry_for=retry_for)
    producer.start()
    return producer


def finish(cluster, producer, drain_timeout=60.0, set_aside=None):
    """Stops the load, drains the queue and checks the history. The result holds the fields
    every scenario reports; `violations` lists what broke a rule beyond the checker's. Keys for
    which set_aside(key) is true are left out of the checker's history (the scenario checks
    them itself)."""
    load_seconds = time.monotonic() - producer.started
    log = producer.stop()
    drained, info = drain(cluster.client, drain_timeout)
    records = cluster.sink.records()
    keep = (lambda key: not set_aside(key)) if set_aside else (lambda key: True)
    result = check_total_queue({k: e.outcome for k, e in log.items() if keep(k)},
                               [i for i in cluster.delivered_ids(records) if keep(i)])
    result["faults"] = len(cluster.faults)
    result["in_flight_at_fault"] = cluster.in_flight_at_fault
    result["rate_per_s"] = round(result["acked"] / max(load_seconds, 1e-9))
    result["answers"] = producer.answer_summary()
    result["server_errors"] = dict(producer.error_messages)
    result["abandoned"] = sum(1 for r in records if r["status"] == "abandoned")
    result["overlapping_runs"] = len(cluster.overlapping_runs(records))
    result["violations"] = [f"producer failed: {e}" for e in producer.errors]
    add_queue_checks(result, drained, info, drain_timeout)
    return result


def add_queue_checks(result, drained, info, drain_timeout, queue=QUEUE):
    """After a drain: nothing of `queue` left active or waiting, and no job of it completed twice
    (the lifetime completion counter equals the completed jobs, all of which retention keeps)."""
    if info is None:
        result["violations"].append(f"the API never answered GET /api/queues/{queue}")
        return
    counts, totals = info["counts"], info["totals"]
    result["dead"] = counts["dead"]
    result["stalled"] = totals["stalled"]
    result["failed_attempts"] = totals["failed"]
    if not drained:
        result["violations"].append(f"not drained within {drain_timeout:.0f} s: {queue} "
                                    f"{counts}")
    if totals["completed"] != counts["completed"]:
        result["violations"].append(
            f"{totals['completed']} completions accepted for {counts['completed']} completed "
            f"jobs of {queue}: a job completed twice")


def kill_worker(cluster, index, active=None):
    """kill -9 a worker and start it again at once. `active`: as record_fault's."""
    worker = cluster.workers[index]
    cluster.record_fault(f"kill -9 {worker.name}", active)
    worker.child.kill9()
    worker.start()


def orphan_reruns(cluster):
    """For the jobs seen active just before a worker was killed and later recovered (stalls >
    0): seconds from that kill to the start of their last attempt. Returns (count, max)."""
    kills = [(t, set(active)) for t, what, active in cluster.faults if what.startswith("kill")]
    delays = []
    for job_id in set().union(*(ids for _, ids in kills)) if kills else ():
        job = cluster.client.get(f"/api/jobs/{job_id}?queue=webhook")
        if not job or job.get("stalls", 0) == 0 or "started_ms" not in job:
            continue
        started = job["started_ms"] / 1000
        before = [t for t, ids in kills if job_id in ids and t < started]
        if before:
            delays.append(started - max(before))
    return len(delays), round(max(delays), 2) if delays else None


def f1_kill_workers(s):
    """kill -9 a random worker every 2 s and restart it: nothing acknowledged is lost, and an
    orphaned job runs again within 2 x lease (lease 5 s: lease + the 5 s recovery pass)."""
    lease_ms = 5000
    with s.cluster("F1") as c:
        # Repeated kills may orphan one job several times; each is a stall, and the default of 3
        # would dead-letter it on purpose (a job that keeps killing its worker).
        c.start(workers=3, concurrency=16, lease_ms=lease_ms, max_stalls=50)
        load = start_load(c, "f1", s.pick(500, 1000))
        end = time.monotonic() + s.pick(12, 60)
        while time.monotonic() < end:
            time.sleep(2)
            kill_worker(c, random.randrange(len(c.workers)))
        result = finish(c, load, drain_timeout=2 * lease_ms / 1000 + 30)
        orphans, slowest = orphan_reruns(c)
        result.update(lease_s=lease_ms / 1000, orphans_measured=orphans,
                      orphan_rerun_max_s=slowest)
        if slowest is not None and slowest > 2 * lease_ms / 1000 + 1:
            result["violations"].append(f"an orphan ran again {slowest} s after its worker died "
                                        f"(2 x lease = {2 * lease_ms / 1000} s)")
        return result


def f19_callbacks_under_worker_kills(s):
    """Every job names a completion callback (to the sink); kill -9 a random worker every 2 s,
    as F1 does, so relays die between a job's completion, the webhook job they create and the
    outbox entry they delete. Each completed job's callback must arrive, from one callback job
    (one webhook id), after the job's own delivery."""
    lease_ms = 5000
    with s.cluster("F19") as c:
        c.start(workers=3, concurrency=16, lease_ms=lease_ms, max_stalls=50,
                callback_queue="callbacks")
        load = start_load(c, "f19", s.pick(300, 600), callback_url=f"{c.sink.url}/ok")
        end = time.monotonic() + s.pick(12, 60)
        while time.monotonic() < end:
            time.sleep(2)
            kill_worker(c, random.randrange(len(c.workers)))
        result = finish(c, load, drain_timeout=2 * lease_ms / 1000 + 30)
        # The callbacks of the last jobs are relayed and run after the main queue drained.
        deadline = time.monotonic() + 90
        while True:
            records = c.sink.records()
            done = {}
            for r in records:
                if r["status"] == 200 and r["listener"] == "main" and "cbj" not in r:
                    done[r["id"]] = min(done.get(r["id"], r["t_end"]), r["t_end"])
            callbacks = check_callbacks(done, records)
            if callbacks["callbacks_lost"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        drained, _ = drain(c.client, 30, queue="callbacks")
        result.update(callbacks)
        if not drained:
            result["violations"].append("the callback queue did not drain within 30 s")
        for name in ("callbacks_lost", "callbacks_doubled", "callbacks_unexpected",
                     "callbacks_early"):
            if result[name] > 0:
                result["violations"].append(f"{name}: {result[name]}")
        if result["callback_ids_delivered_twice"] > result["in_flight_at_fault"]:
            result["violations"].append("more callbacks delivered twice than jobs in flight at "
                                        "the faults")
        return result


def f22_batches_under_worker_kills(s):
    """Batches of webhook jobs (8 members, on_complete and on_success), one in four with a member
    that always fails (two attempts), one in two created open and then given an addition of 4
    members and closed; kill -9 a random worker every 2 s, as F1 does. Every member of an
    acknowledged batch runs; on_complete runs after every member was answered, and so does
    on_success, which runs only when no member failed; after the drain no job is held and every
    acknowledged batch is finished."""
    lease_ms, members, added = 5000, 8, 4

    def number(key):
        return int(key.rsplit("-", 1)[1])

    def failing(key):
        return number(key) % 4 == 1

    def is_open(key):
        return number(key) % 2 == 0

    with s.cluster("F22") as c:
        c.start(workers=3, concurrency=16, lease_ms=lease_ms, max_stalls=50)

        def member(key, ref):
            if ref == "3" and failing(key):
                return webhook_job(c.sink.url, f"{key}.{ref}", path="/always500", max_attempts=2)
            return webhook_job(c.sink.url, f"{key}.{ref}")

        def make_batch(key):
            return {"jobs": [member(key, str(i)) for i in range(members)], "open": is_open(key),
                    "on_complete": webhook_job(c.sink.url, f"{key}.on_complete"),
                    "on_success": webhook_job(c.sink.url, f"{key}.on_success")}

        added_to, add_errors = set(), []

        def add_and_close():
            """Gives each acknowledged open batch its addition, then closes it (both idempotent,
            so a try whose answer was lost is repeated as it was)."""
            with load.lock:
                ready = [k for k, e in load.log.items() if e.outcome == "ok" and is_open(k)]
            for key in ready:
                if key in added_to:
                    continue
                body = {"addition_id": "x",
                        "jobs": [webhook_job(c.sink.url, f"{key}.x-{i}") for i in range(added)]}
                path = f"/api/batches/{QUEUE}:{key}"
                try:
                    status, answer = c.client.request("POST", f"{path}/jobs", body)
                    if status in (200, 201):
                        status, answer = c.client.request("POST", f"{path}/close", {})
                except (OSError, http.client.HTTPException) as e:
                    status, answer = None, repr(e)
                if status == 200:
                    added_to.add(key)
                elif status is not None and status < 500:
                    add_errors.append(f"{key}: {status} {answer}")

        load = Producer(c.api.port, "f22", s.pick(6, 12), make_batch, path="/api/batches")
        load.start()
        end = time.monotonic() + s.pick(12, 60)
        while time.monotonic() < end:
            time.sleep(2)
            kill_worker(c, random.randrange(len(c.workers)))
            add_and_close()
        log = load.stop()
        for _ in range(10):  # the batches acknowledged last
            add_and_close()
        drained, info = drain(c.client, 2 * lease_ms / 1000 + 60)
        records = c.sink.records()
        batches = {}
        for key, enqueue in log.items():
            refs = [str(i) for i in range(members)]
            if key in added_to:
                refs += [f"x-{i}" for i in range(added)]
            batches[key] = {"outcome": enqueue.outcome,
                            "members": [f"{key}.{ref}" for ref in refs],
                            "failing": failing(key),
                            "on_complete": f"{key}.on_complete",
                            "on_success": f"{key}.on_success"}
        result = check_batches(batches, records)
        # The total-queue rules over the jobs that must succeed: each delivered (200) at least
        # once, duplicates bounded by the jobs in flight at the kills.
        succeeding = {}
        for key, batch in batches.items():
            for job_id in batch["members"] + [batch["on_complete"]]:
                if not (job_id.endswith(".3") and failing(key)):
                    succeeding[job_id] = batch["outcome"]
            if not failing(key):
                succeeding[batch["on_success"]] = batch["outcome"]
        forbidden = {b["on_success"] for b in batches.values() if b["failing"]}
        delivered = [i for i in c.delivered_ids(records) if i not in forbidden]
        result.update(check_total_queue(succeeding, delivered))
        result["faults"] = len(c.faults)
        result["in_flight_at_fault"] = c.in_flight_at_fault
        result["answers"] = load.answer_summary()
        result["additions"] = len(added_to)
        result["violations"] = [f"producer failed: {e}" for e in load.errors]
        result["violations"] += [f"addition refused: {e}" for e in add_errors[:3]]
        open_acked = [k for k, b in batches.items() if b["outcome"] == "ok" and is_open(k)]
        if len(added_to) != len(open_acked):
            result["violations"].append(
                f"{len(open_acked) - len(added_to)} open batches never got their addition")
        add_queue_checks(result, drained, info, 2 * lease_ms / 1000 + 60)
        if info is not None and info["counts"].get("held", 0) != 0:
            result["violations"].append(f"{info['counts']['held']} jobs still held")
        states = {}
        for key, batch in batches.items():
            if batch["outcome"] != "ok":
                continue
            got = c.client.get(f"/api/batches/{QUEUE}:{key}")
            state = got["state"] if got else None
            states[state] = states.get(state, 0) + 1
            if state != "finished":
                result["violations"].append(f"batch {key} is {state}, not finished")
                break
        result["batch_states"] = states
        for name in ("batch_callbacks_lost", "batch_callbacks_forbidden",
                     "batch_callbacks_early"):
            if result[name] > 0:
                result["violations"].append(f"{name}: {result[name]}")
        if result["batch_callbacks_twice"] > result["in_flight_at_fault"]:
            result["violations"].append("more callbacks run twice than jobs in flight at the "
                                        "faults")
        return result


def f20_backpressure_lifo_pause(s):
    """A queue with a maximum length fed faster than it drains (429s), one job in three LIFO,
    one in ten expired before it is enqueued, every queue paused for a second every 3 s
    (POST /api/pause, /api/resume), and F1's kills of a worker every 2 s. A refused enqueue must
    never run (the checker's "unexpected"), an accepted one never be lost, an expired one never
    run and end dead as expired, and the backlog never pass the maximum."""
    lease_ms, max_length = 5000, 300
    with s.cluster("F20") as c:
        # 3 x 4 handlers of 50 ms drain about 240 jobs/s: a faster load fills the queue.
        c.start(workers=3, concurrency=4, lease_ms=lease_ms, max_stalls=50)
        status, answer = c.client.request("PUT", f"/api/queues/{QUEUE}/limits",
                                          {"max_length": max_length})
        if status != 200:
            raise RuntimeError(f"could not set the maximum length: {status} {answer}")

        def expired(key):
            return int(key.rsplit("-", 1)[1]) % 10 == 5

        def make_job(key):
            n = int(key.rsplit("-", 1)[1])
            options = {"lifo": n % 3 == 0}
            if expired(key):
                options["expires_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                      time.gmtime(time.time() - 60))
            return webhook_job(c.sink.url, key, query="ms=50", **options)

        load = Producer(c.api.port, "f20", s.pick(400, 600), make_job)
        load.start()
        end = time.monotonic() + s.pick(12, 60)
        next_kill = next_pause = time.monotonic()
        largest_backlog, pauses = 0, 0
        try:
            while time.monotonic() < end:
                time.sleep(0.25)
                info = queue_counts(c.client)
                if info is not None:
                    counts = info["counts"]
                    largest_backlog = max(largest_backlog, counts["waiting"] +
                                          counts["delayed"] + counts["retrying"])
                now = time.monotonic()
                if now >= next_kill:
                    next_kill = now + 2
                    kill_worker(c, random.randrange(len(c.workers)))
                if now >= next_pause:
                    next_pause = now + 3
                    c.record_fault("pause every queue for 1 s")
                    c.client.request("POST", "/api/pause")
                    time.sleep(1)
                    c.client.request("POST", "/api/resume")
                    pauses += 1
        finally:
            c.client.request("POST", "/api/resume")
        result = finish(c, load, drain_timeout=2 * lease_ms / 1000 + 60, set_aside=expired)
        # Expired jobs: never delivered; each accepted one dead, as expired.
        delivered = set(c.delivered_ids())
        accepted = [k for k, e in load.log.items() if expired(k) and e.outcome == "ok"]
        ran = [k for k in load.log if expired(k) and k in delivered]
        not_dead = []
        for key in accepted:
            job = c.client.get(f"/api/jobs/{key}?queue={QUEUE}")
            if not job or job.get("state") != "dead" or \
                    "expired" not in (job.get("errors") or [{}])[0].get("message", ""):
                not_dead.append(key)
        result.update(expired_accepted=len(accepted), expired_ran=len(ran),
                      expired_not_dead=len(not_dead))
        if ran:
            result["violations"].append(f"{len(ran)} expired jobs ran, e.g. {ran[:3]}")
        if not_dead:
            result["violations"].append(f"{len(not_dead)} expired jobs not dead as expired, "
                                        f"e.g. {not_dead[:3]}")
        if not accepted:
            result["violations"].append("no expired job was accepted")
        refused = result["answers"].get("429 queue_full", 0)
        result.update(max_length=max_length, largest_backlog_seen=largest_backlog,
                      answers_429=refused, pauses=pauses)
        # Enqueues never pass the maximum; jobs coming back from running (a killed worker's,
        # recovered; a failed attempt's, retried) are no enqueues and may, by at most the jobs
        # that were running: the 3 x 4 slots (docs/limits.md).
        running_slots = 3 * 4
        if largest_backlog > max_length + running_slots:
            result["violations"].append(f"the backlog reached {largest_backlog}, past the "
                                        f"maximum of {max_length} and the {running_slots} jobs "
                                        f"that can come back from running")
        if refused == 0:
            result["violations"].append("no enqueue was refused: the maximum was never reached")
        return result


def f13_sigterm_workers(s):
    """SIGTERM a random worker under load, every 3 s, and restart it once it exits: running jobs
    finish within the grace period (or are handed back), nothing is lost."""
    grace_ms = 2000
    with s.cluster("F13") as c:
        c.start(workers=3, concurrency=16, grace_ms=grace_ms)
        # One job in 100 outlasts the grace period: it must be handed back, not lost.
        load = start_load(c, "f13", s.pick(500, 1000), long_every=100, long_ms=4000)
        end = time.monotonic() + s.pick(12, 60)
        slowest_exit, bad_exits = 0.0, []
        while time.monotonic() < end:
            time.sleep(3)
            worker = c.workers[random.randrange(len(c.workers))]
            c.record_fault(f"SIGTERM {worker.name}")
            code, took = worker.child.terminate(timeout=grace_ms / 1000 + 10)
            slowest_exit = max(slowest_exit, took)
            if code != 0:
                bad_exits.append(f"{worker.name} exited with {code}")
            worker.start()
        result = finish(c, load)
        handed_back = c.log_lines("worker-", "handed back")
        result.update(grace_s=grace_ms / 1000, slowest_exit_s=round(slowest_exit, 2),
                      handed_back_logs=len(handed_back))
        if not handed_back:
            result["violations"].append("no worker handed a running job back: not exercised")
        result["violations"] += bad_exits
        if slowest_exit > grace_ms / 1000 + 3:
            result["violations"].append(f"a worker took {slowest_exit:.1f} s to stop "
                                        f"(grace {grace_ms / 1000} s)")
        return result


OVERRUN_EVERY = 50  # one job in 50 overruns its timeout
ATTEMPT_TIMEOUT_MS = 1000
# The target's first answer to such a job: none, for this long. Longer than the timeout and the
# lease together, so that a worker that let the lease of a timed-out attempt lapse would have the
# job run again while the first attempt still holds its request.
HOLD_MS = 8000


def f15_overrunning_handlers(s):
    """Handlers that ignore stop requests run past their attempt timeout (one job in 50: the
    target holds the first request 8 s, the timeout is 1 s) while workers are killed -9: no
    attempt of a job starts while an earlier one still runs, nothing is lost.

    The lease is 5 s, not shorter: a worker that cannot renew a lease in time stops the job's
    handler and gives the job up, and these handlers ignore that too, so on a loaded machine a
    short lease would let a second attempt start for a reason F15 does not test."""
    lease_ms = 5000
    with s.cluster("F15") as c:
        # 144 slots: the held requests take about 8 x 8 = 64 slots at 400 jobs/s, and the jobs
        # a kill orphans hold theirs until their leases expire, so the workers keep up and the
        # queue drains. As in F1, repeated kills may orphan one job several times: each is a
        # stall.
        c.start_stubborn(s.test_worker, workers=3, concurrency=48, lease_ms=lease_ms,
                         max_stalls=50)

        def make_job(key):
            if int(key.rsplit("-", 1)[1]) % OVERRUN_EVERY:
                return webhook_job(c.sink.url, key)
            job = webhook_job(c.sink.url, key, path="/hang",
                              query=f"times=1&hold={HOLD_MS}", timeout_ms=10000)
            job["timeout_ms"] = ATTEMPT_TIMEOUT_MS  # the attempt's; data.timeout_ms is HTTP's
            return job

        load = Producer(c.api.port, "f15", s.pick(300, 400), make_job)
        load.start()
        end = time.monotonic() + s.pick(12, 60)
        while time.monotonic() < end:
            time.sleep(3)
            kill_worker(c, random.randrange(len(c.workers)))
        result = finish(c, load, drain_timeout=2 * lease_ms / 1000 + 30)
        totals = (c.client.get(f"/api/queues/{QUEUE}") or {}).get("totals", {})
        result["overran"] = totals.get("overran")
        if result["overlapping_runs"]:
            result["violations"].append(f"{result['overlapping_runs']} jobs had two attempts "
                                        "running at once")
        if not result["overran"]:
            result["violations"].append("no attempt overran its timeout: not exercised")
        return result


def f12_crashing_jobs(s):
    """Jobs whose handler crashes its process on every attempt (a segfault, an abort), among
    webhook jobs, on workers that run the queue's handlers in handler processes: each crashing
    job goes dead after its attempts with the crash named, every other job is delivered (lost
    0), and no worker process ends."""
    with s.cluster("F12") as c:
        c.start_stubborn(s.test_worker, workers=3, concurrency=8, lease_ms=5000,
                         isolation="process", api_flags=["--job-types", "misbehave"])
        load = start_load(c, "f12", s.pick(200, 300))
        crashers, end = [], time.monotonic() + s.pick(12, 60)
        while time.monotonic() < end:
            time.sleep(0.5)
            what = random.choice(["segv", "abort"])
            try:
                status, job = c.client.request("POST", "/api/jobs", {
                    "type": "misbehave", "queue": QUEUE, "data": {"do": what},
                    "max_attempts": 2, "backoff": {"type": "fixed", "delay_ms": 200},
                    "retention": KEEP_FOR_THE_RUN})
            except OSError:
                continue
            if status == 201:
                crashers.append(job["id"])
                # The fault is the job itself: nothing in flight is hit by it but its own runs.
                c.record_fault(f"a job whose handler crashes its process ({what})", [])
        result = finish(c, load)
        result["crashing_jobs"] = len(crashers)
        wrong = []
        for job_id in crashers:
            job = c.client.get(f"/api/jobs/{job_id}?queue={QUEUE}") or {}
            errors = job.get("errors") or []
            if (job.get("state") != "dead" or len(errors) != 2 or
                    not all("crashed:" in e.get("message", "") for e in errors)):
                wrong.append((job_id, job.get("state"), [e.get("message") for e in errors]))
        if not crashers:
            result["violations"].append("no crashing job was enqueued: not exercised")
        if wrong:
            result["violations"].append(f"{len(wrong)} crashing jobs did not end dead after two "
                                        f"crashed attempts, e.g. {wrong[0]}")
        # The crashing jobs are the only dead ones: every webhook job completed.
        if result.get("dead") != len(crashers):
            result["violations"].append(f"{result.get('dead')} dead jobs for {len(crashers)} "
                                        "crashing ones")
        return result


def redis_crash(s, name, appendfsync):
    """kill -9 Redis under load and restart it on the same port and directory."""
    with s.cluster(name, appendfsync=appendfsync) as c:
        c.start(workers=3, concurrency=16)
        load = start_load(c, name.lower(), s.pick(500, 1000))
        restarts, recent_deliveries = [], 0
        for _ in range(s.pick(2, 5)):
            time.sleep(s.pick(4, 8))
            active = active_jobs(c.client) or []
            if appendfsync == "everysec":
                # Writes of about the last second may be gone after the restart (a machine crash
                # loses them; a process kill usually not): jobs completed in that window may run
                # again, so they count as in flight.
                recent_deliveries += c.sink.stats(after=time.time() - 2.0)["ok_after"]
            c.record_fault("kill -9 redis-server", active)
            c.redis.kill9()
            time.sleep(1)
            restarts.append(time.time())
            c.redis.start()
        time.sleep(s.pick(4, 6))
        result = finish(c, load)
        result["in_flight_at_fault"] += recent_deliveries
        api_s, workers_s = recovery_times(c, load.log, restarts)
        result.update(appendfsync=appendfsync, api_reconnect_max_s=max_or_none(api_s),
                      workers_reconnect_max_s=max_or_none(workers_s))
        for what, values in (("the API", api_s), ("the workers", workers_s)):
            if any(v is None or v > 5 for v in values):
                result["violations"].append(f"{what} did not work again within 5 s of a Redis "
                                            f"restart: {values}")
        return result


def recovery_times(cluster, log, restarts):
    """For each Redis restart: seconds to the first enqueue acknowledged after it (the API works
    again) and to the first delivery that started after it (a worker claimed from the new
    Redis: the jobs running at the kill took 20 ms and ended a second before); None when there
    was none."""
    started = sorted(r["t"] for r in cluster.sink.records()
                     if r["status"] == 200 and r["listener"] == "main")
    api, workers = [], []
    for since in restarts:
        acks = [e.acked_at for e in log.values() if e.acked_at and e.acked_at > since]
        api.append(round(min(acks) - since, 2) if acks else None)
        i = bisect.bisect_right(started, since)
        workers.append(round(started[i] - since, 2) if i < len(started) else None)
    return api, workers


def max_or_none(values):
    present = [v for v in values if v is not None]
    return max(present) if present and len(present) == len(values) else None


def f3_redis_crash_fsync_always(s):
    return redis_crash(s, "F3", "always")


def f3b_redis_crash_fsync_everysec(s):
    return redis_crash(s, "F3b", "everysec")


def f2_sigstop_worker(s):
    """SIGSTOP a worker past its lease (and past the next recovery pass), then SIGCONT: its jobs
    ran elsewhere meanwhile, and its late results are refused (fencing)."""
    lease_ms = 1000
    with s.cluster("F2") as c:
        c.start(workers=3, concurrency=16, lease_ms=lease_ms)
        load = start_load(c, "f2", s.pick(400, 500), query="ms=50")
        victims = set()
        for _ in range(s.pick(1, 3)):
            time.sleep(3)
            worker = c.workers[random.randrange(len(c.workers))]
            victims.add(worker.index)
            c.record_fault(f"SIGSTOP {worker.name}")
            worker.child.signal(signal.SIGSTOP)
            time.sleep(lease_ms / 1000 + RECOVER_INTERVAL_S + 1)
            worker.child.signal(signal.SIGCONT)
        time.sleep(3)
        result = finish(c, load)
        refused = 0
        for index in sorted(victims):
            worker = c.workers[index]
            worker.child.terminate(timeout=15)
            for line in c.log_lines(f"{worker.name}.", "results refused"):
                refused += int(line.split(" failed attempts, ")[1].split()[0])
        lost_leases = len(c.log_lines("worker-", "lost the lease of job"))
        result.update(lease_s=lease_ms / 1000, stale_results_refused=refused,
                      stale_jobs_stopped=lost_leases)
        if result.get("stalled", 0) == 0:
            result["violations"].append("no lease expired: the stopped worker held no job")
        return result


def f5_blackhole_worker_link(s):
    """Black-hole one worker's link to Redis for 2 x lease, then heal it: its jobs run elsewhere,
    it stops its handlers once its lease must have expired (no job runs twice at once), and
    none of its stale results is accepted after the heal."""
    # 2 x lease outlasts the lease plus the next recovery pass (5 s) with a second to spare: the
    # cut-off worker's jobs have been taken over before the link heals.
    lease_ms = 6000
    with s.cluster("F5") as c:
        c.start(workers=3, concurrency=24, lease_ms=lease_ms, proxied=True)
        # Two jobs a second run 20 s, longer than the cut: when it starts (after 6 s) each worker
        # runs about four, still running when their leases expire and others take them over.
        rate = s.pick(400, 700)
        load = start_load(c, "f5", rate, query="ms=50", long_every=rate // 2, long_ms=20000)
        for _ in range(s.pick(1, 3)):
            time.sleep(6)
            link = f"w{random.randrange(len(c.workers))}"
            c.record_fault(f"black-hole {link}")
            c.proxy.command(link, "blackhole")
            time.sleep(2 * lease_ms / 1000)
            c.proxy.command(link, "pass")
        time.sleep(3)
        result = finish(c, load, drain_timeout=60)
        result["lease_s"] = lease_ms / 1000
        if result.get("stalled", 0) == 0:
            result["violations"].append("no lease expired: no job was taken over")
        if result["overlapping_runs"]:
            result["violations"].append(
                f"{result['overlapping_runs']} jobs ran twice at once: the cut-off worker kept "
                f"running handlers past its lease, e.g. {c.overlapping_runs()[:5]}")
        return result


def f6_latency(s):
    """100 +- 50 ms more on every worker's round trip to Redis for the whole load: no lease may
    expire falsely and no attempt may fail."""
    with s.cluster("F6") as c:
        c.start(workers=3, concurrency=32, lease_ms=2000, proxied=True)
        c.record_fault("latency 100+-50 ms on every worker link", [])
        c.proxy.command("*", "latency", 100, 50)
        # About 600 jobs/s is what 96 slots do at 150 ms a round trip: the load stays below it.
        load = start_load(c, "f6", s.pick(300, 500))
        time.sleep(s.pick(10, 60))
        result = finish(c, load)
        c.proxy.command("*", "pass")
        if result.get("stalled", 0) or result.get("failed_attempts", 0):
            result["violations"].append(f"{result['stalled']} leases expired, "
                                        f"{result['failed_attempts']} attempts failed")
        errors = {a: n for a, n in result["answers"].items() if a not in ("200", "201")}
        if errors:
            result["violations"].append(f"enqueue errors under latency: {errors}")
        return result


# scripts/soak sets TASKQ_F14_SECONDS to run it for hours.
F14_SECONDS = int(os.environ.get("TASKQ_F14_SECONDS", "600"))


def f14_mixed(s):
    """F1, F5 and F3 at random for 10 minutes, or TASKQ_F14_SECONDS (not in --quick)."""
    lease_ms = 3000
    with s.cluster("F14", appendfsync="always") as c:
        # Kills repeat for ten minutes: one job may be orphaned more than the default 3 times.
        c.start(workers=3, concurrency=16, lease_ms=lease_ms, max_stalls=50, proxied=True)
        load = start_load(c, "f14", 500, query="ms=20")
        end = time.monotonic() + F14_SECONDS
        kinds = {"worker": 0, "link": 0, "redis": 0}
        while time.monotonic() < end:
            time.sleep(random.uniform(3, 8))
            kind = random.choice(list(kinds))
            kinds[kind] += 1
            if kind == "worker":
                kill_worker(c, random.randrange(len(c.workers)))
            elif kind == "link":
                link = f"w{random.randrange(len(c.workers))}"
                c.record_fault(f"black-hole {link}")
                c.proxy.command(link, "blackhole")
                time.sleep(2 * lease_ms / 1000)
                c.proxy.command(link, "pass")
            else:
                c.record_fault("kill -9 redis-server")
                c.redis.kill9()
                time.sleep(1)
                c.redis.start()
        time.sleep(5)
        result = finish(c, load, drain_timeout=120)
        result["fault_kinds"] = kinds
        info = queue_counts(c.client)
        if info and info["counts"]["active"]:
            result["violations"].append(f"{info['counts']['active']} jobs left active")
        return result
