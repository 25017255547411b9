"""Flows under worker kills (F21, F23): trees of webhook jobs submitted with POST /api/flows while
a random worker is killed -9 every 2 s, as F1 does. F21 runs every job of a flow in one queue;
F23 spreads each flow over three queues, each served by workers of its own, so that dispatches,
releases, failures and finishes cross queues through the outboxes (docs/workflows.md, "Flows
across queues"). Same shape as scenarios.py: each returns a result for checker.violations.
"""
import random
import time

from checker import check_flows, check_total_queue
from scenarios import add_queue_checks, kill_worker
from workload import QUEUE, Producer, drain_queues, webhook_job

LEASE_MS = 5000
DRAIN_TIMEOUT_S = 2 * LEASE_MS / 1000 + 60
POLICIES = ("fail", "ignore", "continue")
# Every job of a flow by ref, with its parent: a root r with children a, b and c, and a0 and a1
# under a. a1 is the child that fails, in the flows that have one.
SHAPE = (("r", None), ("a", "r"), ("b", "r"), ("c", "r"), ("a0", "a"), ("a1", "a"))
CHILDREN = {"r": ("a", "b", "c"), "a": ("a0", "a1")}


def failing(key):
    """The policy of flow `key`'s always failing a1: one flow in four has one, under each policy
    in turn; None for the other flows."""
    n = int(key.rsplit("-", 1)[1])
    return POLICIES[(n // 4) % 3] if n % 4 == 1 else None


def f21_flows_under_worker_kills(s):
    """Flows of webhook jobs (a root r with children a, b and c, and a0 and a1 under a), one in
    four with a child a1 that always fails (two attempts), under each failure policy in turn;
    kill -9 a random one of 3 workers every 2 s, as F1 does. Every job that must run runs (a
    flow is committed whole: one whose POST got no answer runs whole or not at all); each parent
    runs after every request of its children was answered; a parent failed by a child (policy
    fail), and the root above it, never runs; after the drain no job is held and every flow is
    completed or dead as its shape says."""
    return flows_under_worker_kills(s, "F21", {ref: QUEUE for ref, _ in SHAPE}, workers=3,
                                    concurrency=16)


F23_QUEUES = {"r": QUEUE, "a0": QUEUE, "a": "webhook-b", "b": "webhook-b", "c": "webhook-c",
              "a1": "webhook-c"}


def f23_flows_across_queues_under_worker_kills(s):
    """F21's flows with their jobs in three queues: r and a0 in webhook (the flow's home), a and
    b in webhook-b, c and a1 in webhook-c. So a parent (a) runs in another queue than its root
    and is parked at home until released, a leaf (c) runs in a third queue, and the failing
    child (a1) in another queue than its parent. Two workers per queue, each serving its queue
    alone, so that a kill hits one queue's jobs and one queue's relay. F21's checks, plus: after
    the drain (of all three queues and their outboxes) no job is held in any queue and every
    outbox is empty, each flow's view puts each job in its queue, and every queue completed
    jobs."""
    return flows_under_worker_kills(s, "F23", F23_QUEUES, workers=6, concurrency=8)


def outbox_lengths(cluster, queues):
    """queue -> entries in its outbox (docs/redis-keys.md), which relays delete once applied."""
    return {q: int(cluster.redis.cli("XLEN", f"taskq:{{{q}}}:outbox")) for q in queues}


def flows_under_worker_kills(s, name, queue_of, workers, concurrency):
    """The flows of SHAPE, job `ref` in queue queue_of[ref], under kills of `workers` workers
    that share the queues out (cluster.Cluster.start)."""
    home = queue_of["r"]
    queues = list(dict.fromkeys([home, *queue_of.values()]))
    with s.cluster(name) as c:
        c.start(workers=workers, concurrency=concurrency, lease_ms=LEASE_MS, max_stalls=50,
                queues=queues)

        def make_flow(key):
            jobs = []
            for ref, parent in SHAPE:
                if ref == "a1" and failing(key):
                    job = webhook_job(c.sink.url, f"{key}.{ref}", path="/always500",
                                      max_attempts=2, on_failure=failing(key))
                else:
                    job = webhook_job(c.sink.url, f"{key}.{ref}")
                job.update(ref=ref, queue=queue_of[ref])
                if parent:
                    job["parent"] = parent
                jobs.append(job)
            return {"jobs": jobs}

        load = Producer(c.api.port, name.lower(), s.pick(40, 80), make_flow, path="/api/flows")
        load.start()
        kills = dict.fromkeys(queues, 0)
        end = time.monotonic() + s.pick(12, 60)
        while time.monotonic() < end:
            time.sleep(2)
            victim = random.randrange(len(c.workers))
            kills[c.worker_queue(victim)] += 1
            kill_worker(c, victim)
        log = load.stop()
        # A queue may look idle while an outbox still owes it a dispatch, or owes its home a
        # finish that releases a parent: the drain waits for the outboxes too.
        drained, infos = drain_queues(
            c.client, DRAIN_TIMEOUT_S, queues,
            settled=lambda: not any(outbox_lengths(c, queues).values()))
        records = c.sink.records()
        flows = {}
        for key, enqueue in log.items():
            ids = {ref: f"{key}.{ref}" for ref, _ in SHAPE}
            never = [ids["a"], ids["r"]] if failing(key) == "fail" else []
            flows[key] = {"outcome": enqueue.outcome,
                          "must_run": [i for i in ids.values() if i not in never],
                          "never_run": never,
                          "children": {ids[p]: [ids[ref] for ref in refs]
                                       for p, refs in CHILDREN.items()}}
        result = check_flows(flows, records)
        # The total-queue rules over the jobs that must succeed: each delivered (200) at least
        # once, duplicates bounded by the jobs in flight at the kills.
        succeeding = {}
        for key, flow in flows.items():
            for job_id in flow["must_run"]:
                if not (job_id.endswith(".a1") and failing(key)):
                    succeeding[job_id] = flow["outcome"]
        forbidden = {i for flow in flows.values() for i in flow["never_run"]}
        delivered = [i for i in c.delivered_ids(records) if i not in forbidden]
        result.update(check_total_queue(succeeding, delivered))
        result["flow_jobs_acked"] = len(SHAPE) * sum(
            1 for flow in flows.values() if flow["outcome"] == "ok")
        result["faults"] = len(c.faults)
        result["in_flight_at_fault"] = c.in_flight_at_fault
        result["kills"] = kills
        result["answers"] = load.answer_summary()
        result["violations"] = [f"producer failed: {e}" for e in load.errors]
        add_per_queue_checks(result, c, queues, drained, infos)
        add_flow_state_checks(result, c, flows, home, queue_of)
        for field in ("flows_lost", "flows_partial", "flows_forbidden", "flows_early"):
            if result[field] > 0:
                result["violations"].append(f"{field}: {result[field]}")
        return result


def add_per_queue_checks(result, cluster, queues, drained, infos):
    """scenarios.add_queue_checks for each queue, and in each: no job held and an empty outbox
    after the drain, and completed jobs (its workers ran its part of the flows). The result's
    dead, stalled and failed_attempts are summed over the queues; `queues` gives each queue's
    figures."""
    outboxes = outbox_lengths(cluster, queues)
    per_queue = {}
    for queue in queues:
        figures = {"violations": result["violations"]}
        info = infos.get(queue)
        add_queue_checks(figures, drained, info, DRAIN_TIMEOUT_S, queue)
        del figures["violations"]
        if info is not None:
            figures["held"] = info["counts"].get("held", 0)
            figures["completed"] = info["counts"]["completed"]
            if figures["held"]:
                result["violations"].append(f"{figures['held']} jobs still held in {queue}")
            if not figures["completed"]:
                result["violations"].append(f"no job completed in {queue}: not exercised")
        figures["outbox"] = outboxes[queue]
        if outboxes[queue]:
            result["violations"].append(f"{outboxes[queue]} entries left in {queue}'s outbox")
        per_queue[queue] = figures
    for name in ("dead", "stalled", "failed_attempts"):
        result[name] = sum(f.get(name, 0) for f in per_queue.values())
    result["queues"] = per_queue


def add_flow_state_checks(result, cluster, flows, home, queue_of):
    """Each acknowledged flow, read from its home, is completed, or dead when its failing
    child's policy is fail, and puts each job in the queue it was given."""
    states, wrong, misplaced = {}, [], []
    for key, flow in flows.items():
        if flow["outcome"] != "ok":
            continue
        got = cluster.client.get(f"/api/flows/{home}:{key}")
        want = "dead" if failing(key) == "fail" else "completed"
        state = got["state"] if got else None
        states[state] = states.get(state, 0) + 1
        if state != want:
            wrong.append(f"{key} is {state}, not {want}")
        if got and {job["ref"]: job["queue"] for job in got["jobs"]} != queue_of:
            misplaced.append(key)
    result["flow_states"] = states
    if wrong:
        result["violations"].append(f"{len(wrong)} flows in the wrong state, e.g. {wrong[:3]}")
    if misplaced:
        result["violations"].append(f"{len(misplaced)} flows with a job outside its queue, "
                                    f"e.g. {misplaced[:3]}")
