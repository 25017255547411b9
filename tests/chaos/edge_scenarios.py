"""Faults at taskq's edges: Redis out of memory under the API (F7), the API killed (F8), the
scheduler leader killed (F9), a misbehaving webhook target (F10) and a worker's skewed clock
(F11). Same shape as scenarios.py: each returns a result for checker.violations.
"""
import random
import time

from checker import SAMPLE, check_total_queue
from processes import faketime_env
from scenarios import add_queue_checks, finish, start_load
from workload import KEEP_FOR_THE_RUN, Producer, active_jobs, drain, webhook_job


def f7_out_of_memory(s):
    """Redis reaches maxmemory (noeviction) under load: enqueues get a clear 503, no refused
    enqueue leaves a job behind, and raising maxmemory recovers everything without a restart."""
    with s.cluster("F7") as c:
        c.start(workers=2, concurrency=16)
        # No retries: every answer during the outage is seen as it was. 2 KiB bodies fill the
        # margin in about a thousand jobs.
        load = start_load(c, "f7", s.pick(300, 500), retry_for=0, padding=2048)
        time.sleep(3)
        used = int(c.redis.info("memory")["used_memory"])
        c.redis.cli("CONFIG", "SET", "maxmemory", used + 2 * 1024 * 1024)
        # Workers cannot complete or renew leases while Redis refuses writes, so every job active
        # at any time during the outage is in flight: sampled until maxmemory is raised.
        in_flight = set(active_jobs(c.client) or [])
        full_at = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.2)
            in_flight.update(active_jobs(c.client) or [])
            if full_at is None and any(a not in ("200", "201") for a in load.answer_summary()):
                full_at = time.monotonic()
            if full_at is not None and time.monotonic() - full_at >= s.pick(3, 10):
                break
        c.record_fault("CONFIG SET maxmemory used+2MB", sorted(in_flight))
        during = load.answer_summary()
        raised_at = time.time()
        c.redis.cli("CONFIG", "SET", "maxmemory", 0)
        time.sleep(s.pick(3, 5))
        result = finish(c, load)
        acks = [e.acked_at for e in load.log.values() if e.acked_at and e.acked_at > raised_at]
        result["recovered_s"] = round(min(acks) - raised_at, 2) if acks else None
        refusals = {a: n for a, n in during.items() if a not in ("200", "201")}
        result["oom_answers"] = refusals
        if full_at is None:
            result["violations"].append("Redis never refused a write: no out-of-memory reached")
        unclear = {a: n for a, n in refusals.items() if not a.startswith("503")}
        if unclear:
            result["violations"].append(f"out of memory answered {unclear}, not 503")
        if result["recovered_s"] is None:
            result["violations"].append("no enqueue succeeded after maxmemory was raised")
        leftovers = jobs_behind_refusals(c, load.log)
        if leftovers:
            result["violations"].append(f"{len(leftovers)} refused enqueues left a job behind, "
                                        f"e.g. {leftovers[:SAMPLE]}")
        return result


def jobs_behind_refusals(cluster, log):
    """Keys whose enqueue was refused (4xx) but that exist as jobs now."""
    return [k for k, e in log.items() if e.outcome == "refused"
            and cluster.client.get(f"/api/jobs/{k}?queue=webhook") is not None]


def f8_kill_api(s):
    """kill -9 the API mid-load and restart it on its port; clients retry with the same
    Idempotency-Key: exactly one job per key."""
    with s.cluster("F8") as c:
        c.start(workers=2, concurrency=16)
        load = start_load(c, "f8", s.pick(500, 1000), retry_for=30)
        for _ in range(s.pick(3, 10)):
            time.sleep(3)
            # Killing the API re-runs no job: nothing is in flight in the checker's sense, so
            # any duplicate fails the scenario.
            c.record_fault("kill -9 taskq api", [])
            c.api.child.kill9()
            c.api.start()
        time.sleep(2)
        result = finish(c, load)
        result["retried_keys"] = sum(1 for e in load.log.values() if e.tries > 1)
        return result


SCHEDULE_ID = "chaos"
LEADER_KEY = "taskq:{:schedules}:leader"


def f9_kill_scheduler_leader(s):
    """Three schedulers, the leader killed -9 again and again, a schedule firing every second:
    each fire time gets exactly one job, and it runs once."""
    with s.cluster("F9") as c:
        c.start(workers=1, concurrency=8)
        schedule = {"cron": "@every 1s", "type": "webhook",
                    "data": {"url": f"{c.sink.url}/ok", "body": {"k": SCHEDULE_ID}},
                    "options": {"max_attempts": 20, "retention": KEEP_FOR_THE_RUN,
                                "backoff": {"type": "fixed", "delay_ms": 200}}}
        status, answer = c.client.request("PUT", f"/api/schedules/{SCHEDULE_ID}", schedule)
        if status not in (200, 201):
            raise RuntimeError(f"PUT schedule: {status} {answer}")
        c.add_schedulers(3, [])
        by_token = {scheduler.token(): scheduler for scheduler in c.schedulers}
        end = time.monotonic() + s.pick(15, 60)
        while time.monotonic() < end:
            time.sleep(random.uniform(2, 4))
            leader = by_token.get(c.redis.cli("GET", LEADER_KEY))
            if leader is None:
                continue  # between leaders: the next one takes over within a lease
            c.record_fault(f"kill -9 leading scheduler-{leader.index}", [])
            leader.child.kill9()
            leader.start()
            by_token[leader.token()] = leader
        c.client.request("POST", f"/api/schedules/{SCHEDULE_ID}/pause")
        time.sleep(1.5)  # a tick that read the schedule before the pause may still enqueue
        drained, info = drain(c.client, 30)
        state = c.client.get(f"/api/schedules/{SCHEDULE_ID}")
        records = c.sink.records()
        result = check_fire_times(state, c.delivered_ids(records))
        result.update(faults=len(c.faults), in_flight_at_fault=0, violations=[])
        add_queue_checks(result, drained, info, 30)
        if state["runs"] != result["acked"]:
            result["violations"].append(f"runs {state['runs']} != {result['acked']} fire times")
        # A killed leader is replaced within its lease (2 s) plus a tick (1 s); the job of a
        # fire time is then enqueued late, never skipped.
        late = [r["t"] - int(r["id"].rsplit(":", 1)[1]) / 1000 for r in records
                if r["status"] == 200 and r["id"].startswith(f"s:{SCHEDULE_ID}:")]
        result["max_fire_delay_s"] = round(max(late), 2) if late else None
        if late and max(late) > 5:
            result["violations"].append(f"a fire time ran {max(late):.1f} s late")
        return result


def check_fire_times(state, delivered_ids):
    """Total-queue check of a schedule's jobs (`s:<id>:<fire time ms>`, @every 1s): every fire
    time from its creation to its last run is expected, once."""
    prefix = f"s:{SCHEDULE_ID}:"
    created, last = state["created_ms"], state["last_run"]["fire_time_ms"]
    delivered = [int(i[len(prefix):]) for i in delivered_ids if i.startswith(prefix)]
    first = created if created in delivered else created + 1000
    expected = {f"{prefix}{t}": "ok" for t in range(first, last + 1, 1000)}
    result = check_total_queue(expected, delivered_ids)
    result["runs"] = state["runs"]
    return result


# F10's kinds of target behaviour, by a key's number modulo 20, and what each must show:
# (path, query, requests the sink must see for the job, must it end delivered).
TARGET_KINDS = {
    0: ("flaky", "/flaky", "fail=2", 3, True),          # 500, 500, then 200
    1: ("always500", "/always500", "", 3, False),       # 3 attempts, then dead
    2: ("hang", "/hang", "times=1&hold=3000", 2, True),  # no answer within timeout_ms, then 200
    3: ("reset", "/reset", "times=1", 2, True),         # connection reset, then 200
    4: ("redirect", "/redirect", None, 1, False),       # 302 to a loopback address not allowed
}
NORMAL = ("ok", "/ok", "ms=20", 1, True)


def target_kind(key):
    return TARGET_KINDS.get(int(key.rsplit("-", 1)[1]) % 20, NORMAL)


def f10_webhook_target_faults(s):
    """The webhook target answers 500, hangs, resets, or redirects to a loopback address the
    worker may not reach: bounded retries, the same webhook-id on every attempt, no starvation
    of the other jobs, the private redirect refused."""
    with s.cluster("F10") as c:
        # Only the sink's own address is allowed: 127.0.0.2, where the redirects point, is not.
        c.start(workers=2, concurrency=16, allow="127.0.0.1/32", max_redirects=2)
        forbidden = f"{c.sink.forbidden_url}/ok"

        def make_job(key):
            name, path, query, _, _ = target_kind(key)
            if name == "redirect":
                query = f"to={forbidden}"
            return webhook_job(c.sink.url, key, path=path, query=query, timeout_ms=1000,
                               max_attempts=3)

        load = Producer(c.api.port, "f10", s.pick(100, 200), make_job)
        load.start()
        time.sleep(s.pick(8, 30))
        log = load.stop()
        drained, info = drain(c.client, 60)
        records = c.sink.records()
        result = check_target_history(log, records)
        result["in_flight_at_fault"] = 0
        result["violations"] += [f"producer failed: {e}" for e in load.errors]
        add_queue_checks(result, drained, info, 60)
        should_die = sum(1 for k, e in log.items()
                         if e.outcome == "ok" and not target_kind(k)[4])
        if info and info["counts"]["dead"] != should_die:
            result["violations"].append(f"{info['counts']['dead']} dead jobs, expected "
                                        f"{should_die} (always500 and redirect)")
        redirect = next((k for k in log if target_kind(k)[0] == "redirect"), None)
        job = c.client.get(f"/api/jobs/{redirect}?queue=webhook") if redirect else None
        if not job or "refused" not in (job.get("error") or ""):
            result["violations"].append(f"the private redirect was not refused: {job}")
        return result


def check_target_history(log, records):
    """F10's checks over the sink's records: the total-queue check for the jobs that must end
    delivered, the request count of every job, one webhook-id per job, starvation."""
    main = [r for r in records if r["listener"] == "main"]
    must_deliver = {k: e.outcome for k, e in log.items() if target_kind(k)[4]}
    result = check_total_queue(must_deliver, [r["id"] for r in main if r["status"] == 200])
    never = {k for k, e in log.items() if not target_kind(k)[4]}
    result["unexpected"] += sum(1 for r in main if r["status"] == 200 and r["id"] in never)
    # Every job counts as attempted and acknowledged, also those meant to end dead.
    result["attempted"] = len(log)
    result["acked"] = sum(1 for e in log.values() if e.outcome == "ok")
    result["faults"] = sum(1 for r in main if r["status"] != 200)
    violations = []
    requests = {}
    for r in main:
        requests[r["id"]] = requests.get(r["id"], 0) + 1
    wrong = {}
    for key, e in log.items():
        name, _, _, expected, _ = target_kind(key)
        if e.outcome == "ok" and requests.get(key, 0) != expected:
            wrong.setdefault((name, expected), []).append(f"{key}:{requests.get(key, 0)}")
    for (name, expected), keys in wrong.items():
        violations.append(f"{len(keys)} {name} jobs were requested another number of times "
                          f"than {expected}, e.g. {keys[:SAMPLE]}")
    mismatched = [r for r in main if r["id"] != r["k"]]
    if mismatched:
        violations.append(f"{len(mismatched)} requests whose webhook-id is not their job's id")
    reached = [r for r in records if r["listener"] == "forbidden"]
    if reached:
        violations.append(f"{len(reached)} requests reached the address the worker may not reach")
    delivered_at = {r["id"]: r["t"] for r in main if r["status"] == 200}
    latencies = [delivered_at[k] - e.acked_at for k, e in log.items()
                 if target_kind(k)[0] == "ok" and e.acked_at and k in delivered_at]
    result["normal_max_latency_s"] = round(max(latencies), 2) if latencies else None
    if latencies and max(latencies) > 5:
        violations.append(f"a normal job waited {max(latencies):.1f} s: starved by the others")
    result["requests_by_kind"] = {}
    for r in main:
        name = target_kind(r["id"])[0] if r["id"].startswith("f10-") else "?"
        result["requests_by_kind"][name] = result["requests_by_kind"].get(name, 0) + 1
    result["violations"] = violations
    return result


SKEWS = ["+30s", "-30s", None]  # one worker ahead, one behind, one right
DELAY_MS = 2000


def f11_clock_skew(s):
    """Workers whose wall clocks are 30 s ahead and 30 s behind (libfaketime): no early start of
    a delayed job, no lease expiring early, and the skewed workers do their share."""
    with s.cluster("F11") as c:
        env = [faketime_env(skew) if skew else None for skew in SKEWS]
        c.start(workers=len(SKEWS), concurrency=16, lease_ms=2000, worker_env=env)
        for skew in SKEWS:
            if skew:
                c.record_fault(f"worker clock {skew}", [])

        def make_job(key):
            delayed = int(key.rsplit("-", 1)[1]) % 2 == 0
            return webhook_job(c.sink.url, key, delay_ms=DELAY_MS if delayed else 0)

        load = Producer(c.api.port, "f11", s.pick(300, 1000), make_job)
        load.start()
        time.sleep(s.pick(8, 30))
        result = finish(c, load)
        delivered_at = {}
        for r in c.sink.records():
            if r["status"] == 200:
                delivered_at.setdefault(r["id"], r["t"])
        early, lateness = 0, []
        for key, e in load.log.items():
            if int(key.rsplit("-", 1)[1]) % 2 == 0 and key in delivered_at:
                # The job's due time is its creation in Redis plus the delay, and its creation
                # came after the producer's first try: before first_try + delay is early for sure.
                since_due = delivered_at[key] - (e.first_try + DELAY_MS / 1000)
                early += since_due < 0
                lateness.append(since_due)
        completed = {}
        for worker, skew in zip(c.workers, SKEWS):
            worker.child.terminate(timeout=15)
            line = c.log_lines(f"{worker.name}.", "worker stopped:")
            completed[skew or "0s"] = int(line[-1].split("worker stopped: ")[1].split()[0])
        result.update(early_starts=early, max_lateness_s=round(max(lateness), 2),
                      completed_by_clock=completed)
        if early:
            result["violations"].append(f"{early} delayed jobs started before their due time")
        if result.get("stalled", 0):
            result["violations"].append(f"{result['stalled']} leases expired early")
        idle = [skew for skew, n in completed.items() if n == 0]
        if idle:
            result["violations"].append(f"workers with clock {idle} ran no job: not exercised")
        return result
