"""The Redis Cluster scenarios (F16-F18, F24): the usual producer load of webhook jobs through the
API and three workers, on a cluster of 3 masters and 3 replicas (redis_cluster_nodes.py), while the
master serving the queue fails over, is killed, or hands the queue's slot to another master; F24
spreads the queue over three shards on the three masters and kills the master of one shard.

The API's URL asks for ?wait_replicas=1, so an acknowledged enqueue is on a replica too: a master
lost a moment after the acknowledgement loses no job. What a worker did just before a master was
killed may be lost with it (replication is asynchronous): a completion lost so runs the job again,
so the jobs delivered in the second before a kill count as in flight, as F3b counts them.
"""
import bisect
import random
import time
from collections import Counter
from datetime import datetime, timezone

from scenarios import finish, start_load
from workload import QUEUE, ApiClient, Enqueue, Producer, webhook_job

QUEUE_KEY = f"taskq:{{{QUEUE}}}:wait"


def f16_failover(s):
    """CLUSTER FAILOVER on the replica of the queue's master under load, back and forth: the
    clients follow the slot to the new master (MOVED), nothing is lost."""
    with s.cluster("F16", redis_cluster=True) as c:
        c.start(workers=3, concurrency=16)
        slot = c.redis.keyslot(QUEUE_KEY)
        load = start_load(c, "f16", s.pick(300, 500))
        ports = []
        for _ in range(s.pick(2, 4)):
            time.sleep(s.pick(3, 6))
            c.record_fault("CLUSTER FAILOVER")
            ports.append(c.redis.failover(slot))
        time.sleep(s.pick(3, 6))
        result = finish(c, load)
        result.update(slot=slot, masters_in_turn=ports)
        return result


def f17_kill_master(s):
    """kill -9 the queue's master under load: its replica takes over after the node timeout, the
    killed node returns as a replica, and nothing acknowledged is lost."""
    with s.cluster("F17", redis_cluster=True) as c:
        c.start(workers=3, concurrency=16)
        slot = c.redis.keyslot(QUEUE_KEY)
        load = start_load(c, "f17", s.pick(300, 500), retry_for=40.0)
        outages, recent_deliveries = [], 0
        for _ in range(s.pick(1, 3)):
            time.sleep(s.pick(4, 8))
            recent_deliveries += c.sink.stats(after=time.time() - 1.0)["ok_after"]
            c.record_fault("kill -9 the queue's master")
            without_master, settled = c.redis.kill_master(slot)
            outages.append(round(without_master, 1))
        time.sleep(s.pick(4, 6))
        result = finish(c, load, drain_timeout=90)
        result["in_flight_at_fault"] += recent_deliveries
        result.update(slot=slot, seconds_without_master=outages)
        return result


def f18_move_slot(s):
    """Moves the queue's slot to another master and on again while jobs flow, as a reshard does
    (the keys in one MIGRATE): clients follow ASK while it moves and MOVED after."""
    with s.cluster("F18", redis_cluster=True) as c:
        c.start(workers=3, concurrency=16)
        slot = c.redis.keyslot(QUEUE_KEY)
        load = start_load(c, "f18", s.pick(300, 500))
        moves = []
        for _ in range(s.pick(2, 4)):
            time.sleep(s.pick(3, 6))
            c.record_fault("move the queue's slot")
            keys, seconds = c.redis.move_slot(slot)
            moves.append({"keys": keys, "seconds": round(seconds, 2)})
        time.sleep(s.pick(3, 6))
        result = finish(c, load)
        result.update(slot=slot, moves=moves)
        return result



F24_SHARDS = 3
# Deliveries answered in the first half second of an outage may be of jobs that were running
# when the master died (20 ms each) or waiting then: those after it were claimed since.
OUTAGE_MARGIN_S = 0.5
# F24's probes of the two shards whose master is up: enqueues a second during each outage, and
# jobs acknowledged before the kill that fall due from 0.8 to 1.8 s after it: past the margin,
# and before the cluster marks the dead master as failed (the node timeout, 2 s), after which,
# with Redis' default cluster-require-full-coverage, every master refuses commands until the
# replica is promoted.
PROBE_RATE = 60
DUE_PROBES = 40
DUE_FROM_S, DUE_SPREAD_S = 0.8, 1.0


def placement_shard(job_id, shards):
    """The shard a job goes to by its id (the suite's jobs have no group or unique key; their
    Idempotency-Key is their id): 64-bit FNV-1a of the id modulo the shards, as
    src/common/shard_placement.cc places it."""
    h = 0xcbf29ce484222325
    for byte in job_id.encode():
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h % shards


def shard_tags(c):
    """The hash tags of the queue's shards, shard 0's (the queue's name) first."""
    stags = c.redis.on_master_of(f"taskq:{{{QUEUE}}}:meta", "HGET", f"taskq:{{{QUEUE}}}:meta",
                                 "stags")
    return [QUEUE] + stags.split()


def shard_command(c, tag, command, suffix, *args):
    """`command taskq:{tag}:suffix args` on the master serving that shard."""
    key = f"taskq:{{{tag}}}:{suffix}"
    return c.redis.on_master_of(key, command, key, *args)


def rfc3339(unix_time):
    return datetime.fromtimestamp(unix_time, timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def enqueue_due_probe(c, prefix, dead, kill_at):
    """DUE_PROBES jobs placed on the shards other than `dead`, enqueued now, due from
    kill_at + DUE_FROM_S over DUE_SPREAD_S. Returns their (stopped) Producer, for take_over."""
    keys = [k for k in (f"{prefix}-{i:07d}" for i in range(DUE_PROBES * 3))
            if placement_shard(k, F24_SHARDS) != dead][:DUE_PROBES]
    due = {k: rfc3339(kill_at + DUE_FROM_S + DUE_SPREAD_S * i / len(keys))
           for i, k in enumerate(keys)}
    probe = Producer(c.api.port, prefix, 1, lambda key: webhook_job(c.sink.url, key,
                                                                     run_at=due[key]),
                     retry_for=5.0)
    client = ApiClient(c.api.port)
    for key in keys:
        record = Enqueue(key, time.time())
        probe.log[key] = record
        probe.enqueue(client, record)
    client.close()
    return probe


def take_over(load, probe):
    """Stops `probe` and adds its enqueues (and answers, errors) to the load's, so that the
    checker covers them."""
    log = probe.stop()
    with load.lock:
        load.log.update(log)
        for answer, n in probe.answers.items():
            load.answers[answer] = load.answers.get(answer, 0) + n
        for kind, message in probe.error_messages.items():
            load.error_messages.setdefault(kind, message)
    load.errors += probe.errors


def outage_deliveries(records, outages, log):
    """For each outage (a dict: killed shard, unix time of the kill, seconds without master, the
    probes' prefixes): the deliveries answered while the shard had no master, those of each
    shard after the first OUTAGE_MARGIN_S, the longest time without any delivery, the enqueue
    probe's jobs acknowledged meanwhile (past the margin too: batches of enqueues sent before the
    kill may be answered just after it), the due probe's delivered meanwhile (`log`: the
    producers' key -> Enqueue), and how long after the promotion each shard delivered again."""
    ok = sorted((r["t_end"], r["id"]) for r in records
                if r["status"] == 200 and r["listener"] == "main" and "cbj" not in r)
    times = [t for t, _ in ok]
    out = []
    for outage in outages:
        killed_at, seconds = outage["killed_at"], outage["seconds"]
        ended = killed_at + seconds
        i, j = bisect.bisect_left(times, killed_at), bisect.bisect_right(times, ended)
        inside = ok[i:j]
        later = Counter(placement_shard(job_id, F24_SHARDS) for t, job_id in inside
                        if t >= killed_at + OUTAGE_MARGIN_S)
        edges = [killed_at] + [t for t, _ in inside] + [ended]
        resumed = {}
        for t, job_id in ok[j:]:
            resumed.setdefault(str(placement_shard(job_id, F24_SHARDS)), round(t - ended, 2))
            if len(resumed) == F24_SHARDS:
                break
        acks = [e.acked_at for k, e in log.items()
                if k.startswith(outage["enqueue_probe"] + "-") and e.acked_at]
        due_acked = sum(1 for k, e in log.items()
                        if k.startswith(outage["due_probe"] + "-") and e.outcome == "ok")
        due_inside = sum(1 for _, job_id in inside
                         if job_id.startswith(outage["due_probe"] + "-"))
        out.append({"shard": outage["shard"], "seconds": round(seconds, 1),
                    "deliveries": len(inside),
                    "per_s": round(len(inside) / max(seconds, 1e-9), 1),
                    "per_shard_after_margin": {str(k): later.get(k, 0)
                                               for k in range(F24_SHARDS)},
                    "longest_pause_s": round(max(b - a for a, b in zip(edges, edges[1:])), 2),
                    "enqueue_probe_acked": len(acks),
                    "enqueue_probe_acked_in_outage": sum(
                        killed_at + OUTAGE_MARGIN_S <= t <= ended for t in acks),
                    "due_probe_acked": due_acked,
                    "due_probe_delivered_in_outage": due_inside,
                    "shard_delivered_again_s_after_promotion": dict(sorted(resumed.items()))})
    return out


def f24_kill_shard_master(s):
    """The queue spread over three shards (`taskq shards webhook 3`, before any load), one on
    each master; kill -9 the master of one shard (1 or 2 at random, then the other in turn)
    under load. A sharded queue is there to use every master, so losing one must stop only that
    shard: while its slot has no master the other two shards go on taking and delivering jobs,
    and once its replica took over the shard resumes; nothing acknowledged is lost, and every
    shard completes jobs.

    The load's producers soon all wait on enqueues placed on the dead shard (each retries its
    job until the shard is back), so two probes look at the other shards, both placing their
    jobs there by the placement hash of their ids. The API's side: an enqueue probe (PROBE_RATE
    a second during the outage), some of whose enqueues must be acknowledged while the shard has
    no master, past the outage's first OUTAGE_MARGIN_S. The workers' side: a due probe
    (DUE_PROBES jobs acknowledged before the kill, due during the outage); each of the other
    shards must deliver jobs in the outage past its first OUTAGE_MARGIN_S (jobs claimed since
    the kill). Both probes' jobs join the checker's history.
    In flight at each kill: the jobs active on every shard then (read from Redis: the API lists
    the home shard's only), plus, as in F17, the deliveries of the second before it."""
    with s.cluster("F24", redis_cluster=True) as c:
        c.start(workers=3, concurrency=16, shards=F24_SHARDS)
        tags = shard_tags(c)
        slots = [c.redis.keyslot(f"taskq:{{{tag}}}:wait") for tag in tags]
        masters = [c.redis.master_of(slot).port for slot in slots]
        load = start_load(c, "f24", s.pick(300, 500), retry_for=40.0)
        first = random.choice((1, 2))
        outages, kills, recent_deliveries = [], [], 0
        for n in range(s.pick(1, 3)):
            shard = first if n % 2 == 0 else 3 - first
            time.sleep(s.pick(4, 8))
            kill_at = time.time() + 1.0  # the due probe is enqueued in the meantime
            due_probe = enqueue_due_probe(c, f"f24-due{n}", shard, kill_at)
            take_over(load, due_probe)
            time.sleep(max(kill_at - time.time(), 0))
            recent_deliveries += c.sink.stats(after=time.time() - 1.0)["ok_after"]
            active = [i for tag in tags for i in
                      shard_command(c, tag, "ZRANGE", "active", 0, -1).split()]
            probe = Producer(c.api.port, f"f24-live{n}", PROBE_RATE, load.make_job, threads=4,
                             retry_for=40.0,
                             accept=lambda key, dead=shard:
                             placement_shard(key, F24_SHARDS) != dead)
            c.record_fault(f"kill -9 the master of shard {shard}", active)
            victim = c.redis.master_of(slots[shard]).port
            probe.start()
            killed_at = time.time()
            try:
                without_master, settled = c.redis.kill_master(slots[shard])
            finally:
                take_over(load, probe)
            outages.append({"shard": shard, "killed_at": killed_at, "seconds": without_master,
                            "enqueue_probe": probe.prefix, "due_probe": due_probe.prefix})
            kills.append({"shard": shard, "master": victim,
                          "seconds_without_master": round(without_master, 1),
                          "seconds_to_settle": round(settled, 1)})
        time.sleep(s.pick(4, 6))
        result = finish(c, load, drain_timeout=90)
        result["in_flight_at_fault"] += recent_deliveries
        completed = [int(shard_command(c, tag, "HGET", "meta", "completed") or 0)
                     for tag in tags]
        windows = outage_deliveries(c.sink.records(), outages, load.log)
        result.update(shard_tags=tags, shard_slots=slots, shard_masters=masters,
                      distinct_masters=len(set(masters)) == F24_SHARDS, kills=kills,
                      outages=windows, completed_per_shard=completed)
        if len(tags) != F24_SHARDS:
            result["violations"].append(f"the queue has {len(tags)} shards, not {F24_SHARDS}")
        if not result["distinct_masters"]:
            result["violations"].append(f"the shards' slots {slots} are served by masters "
                                        f"{masters}, not three distinct ones")
        for window in windows:
            idle = [k for k, count in window["per_shard_after_margin"].items()
                    if int(k) != window["shard"] and count == 0]
            if idle:
                result["violations"].append(
                    f"the workers delivered no job of shard(s) {idle} while shard "
                    f"{window['shard']} had no master ({window['seconds']} s; the due probe had "
                    f"{window['due_probe_acked']} jobs due on the other shards meanwhile)")
            # The API's group commit answers each enqueue alone (Client::EnqueueEach): a shard
            # without master fails only the enqueues placed on it.
            acked = window["enqueue_probe_acked_in_outage"]
            result.setdefault("api_acks_on_other_shards_in_outage", []).append(acked)
            if acked == 0 and window["seconds"] >= OUTAGE_MARGIN_S + 1.0:
                result["violations"].append(
                    f"the API acknowledged none of the enqueues placed on the other shards while "
                    f"shard {window['shard']} had no master ({window['seconds']} s)")
        for k, count in enumerate(completed):
            if count <= 0:
                result["violations"].append(f"shard {k} ({tags[k]}) completed no job")
        # The per-shard counts rest on placement_shard: each job must be on the shard it names.
        sample = sorted(k for k, e in load.log.items() if e.outcome == "ok")[::97][:30]
        misplaced = [k for k in sample if shard_command(
            c, tags[placement_shard(k, F24_SHARDS)], "HEXISTS", "jobs", k) != "1"]
        result["placement_checked"] = len(sample)
        if misplaced:
            result["violations"].append(f"jobs not on the shard placement_shard names (the "
                                        f"per-shard counts are wrong): {misplaced[:5]}")
        return result
