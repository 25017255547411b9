"""The Redis Cluster scenarios (F16-F18, F24) and the sharded queue's (F25): the usual producer load
of webhook jobs through the API and three workers, on a cluster of 3 masters and 3 replicas
(redis_cluster_nodes.py), while the master serving the queue fails over, is killed, or hands the
queue's slot to another master; F24 spreads the queue over three shards on the three masters and
kills the master of one shard. F25 spreads it over three shards on one redis-server, limits its
concurrency, and kills workers while the limit's shares move between the shards.

The API's URL asks for ?wait_replicas=1, so an acknowledged enqueue is on a replica too: a master
lost a moment after the acknowledgement loses no job. What a worker did just before a master was
killed may be lost with it (replication is asynchronous): a completion lost so runs the job again,
so the jobs delivered in the second before a kill count as in flight, as F3b counts them.
"""
import bisect
import random
import threading
import time
from collections import Counter
from datetime import datetime, timezone

from scenarios import RECOVER_INTERVAL_S, finish, kill_worker, start_load
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


F25_SHARDS = 3
F25_LIMIT = 12  # the queue's concurrency, C; the workers have 3 x 16 slots
F25_JOB_MS = 200  # so C slots run at most C * 5 jobs a second
# Jobs enqueued a second: about 20% more than C slots can run, so a backlog builds and the limit
# binds. F25_BUSY_SHARE of them on the busy shard: every key placed there is enqueued, and one
# in F25_OTHERS_EVERY of the others (2/3 x 1/8 = 1/12 of the keys, against 1/3: 80%).
F25_RATE = 72
F25_OTHERS_EVERY = 8
F25_ACCEPTED = 1 / 3 + 2 / 3 / F25_OTHERS_EVERY  # of the keys
F25_BUSY_SHARE = (1 / 3) / F25_ACCEPTED
F25_SAMPLE_EVERY_S = 0.1
# Every shard's share (meta.cc) and its active jobs, read in one script: a snapshot of one
# instant, as no reading shard after shard could be while a share moves (one Redis serves them
# all, so a script may touch keys of every tag).
F25_SNAPSHOT = ("local out = {} for i = 1, #KEYS, 2 do "
                "out[#out + 1] = tonumber(redis.call('HGET', KEYS[i], 'cc') or '0') "
                "out[#out + 1] = redis.call('ZCARD', KEYS[i + 1]) end return out")


class ShareSampler:
    """Samples every shard's share and active jobs every F25_SAMPLE_EVERY_S, atomically, in a
    thread; `samples` holds (unix time, [cc per shard], [active per shard])."""

    def __init__(self, c, tags):
        self.c = c
        self.keys = [key for tag in tags
                     for key in (f"taskq:{{{tag}}}:meta", f"taskq:{{{tag}}}:active")]
        self.samples = []
        self.errors = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="share-sampler", daemon=True)

    def snapshot(self):
        """(cc per shard, active per shard) now, or None when Redis did not answer."""
        answer = self.c.redis.cli("EVAL", F25_SNAPSHOT, len(self.keys), *self.keys).split()
        try:
            values = [int(v) for v in answer]
        except ValueError:
            return None
        if len(values) != len(self.keys):
            return None
        return values[0::2], values[1::2]

    def run(self):
        while not self.stopping.wait(F25_SAMPLE_EVERY_S):
            snapshot = self.snapshot()
            if snapshot is None:
                self.errors += 1
            else:
                self.samples.append((time.time(), *snapshot))

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(10)
        return self.samples


def most_running_at_sink(records, since):
    """The most requests of the load's jobs open at the sink at once (each from arrival to
    answer or abandonment), from `since`: a lower bound of the jobs active at that moment, each
    request lying inside its job's time in active."""
    edges = []
    for r in records:
        if (r["listener"] == "main" and "cbj" not in r and r["t"] >= since
                and r["status"] in (200, "abandoned")):
            edges += [(r["t"], 1), (r["t_end"], -1)]
    most = running = 0
    for _, step in sorted(edges):  # at one instant, an end (-1) sorts before a start
        running += step
        most = max(most, running)
    return most


def share_history(samples, since, until):
    """Per shard: the least, most and mean share over the samples from `since` to `until`, and
    how many times the shares changed then."""
    inside = [cc for t, cc, _ in samples if since <= t <= until]
    if not inside:
        return {"samples": 0}
    shards = list(zip(*inside))
    return {"samples": len(inside),
            "changes": sum(1 for a, b in zip(inside, inside[1:]) if a != b),
            "min": [min(s) for s in shards], "max": [max(s) for s in shards],
            "mean": [round(sum(s) / len(s), 1) for s in shards]}


def balances_started(c, tags):
    """How many balances of the queue's shares have taken a token (home meta.cbn)."""
    return int(shard_command(c, tags[0], "HGET", "meta", "cbn") or 0)


def f25_shares_under_worker_kills(s):
    """The queue spread over three shards on one redis-server, its concurrency limited to
    F25_LIMIT through the API, three workers with 16 slots each (so the limit binds), jobs of
    F25_JOB_MS landing 80% on one shard (by the placement hash of their ids), then on another
    from halfway: every worker's balance (share_move.lua) must move the shares to the busy shard
    and back again while kill -9 hits a random worker every 2 s, as F1 does, and may cut a
    balance short between its lowering and its raising.

    The promise checked, from atomic snapshots of every shard's share (meta.cc) and active jobs
    every F25_SAMPLE_EVERY_S: the jobs active on all shards together never exceed the limit (a
    killed worker's jobs stay active until their leases expire, so this counts more than runs:
    conservative), nor those of one shard its share; the shares never add up to more than the
    limit, nor is any below 1; after the drain and a few balances they add up to the limit again
    (a cut-short balance loses no slot for good); and each busy shard held more than an even
    split of the limit at some sample while it was busy (the shares moved, twice). From outside
    too: the sink never had more than the limit of the load's requests open at once."""
    lease_ms = 2000
    with s.cluster("F25") as c:
        c.start(workers=3, concurrency=16, lease_ms=lease_ms, max_stalls=50, shards=F25_SHARDS)
        tags = shard_tags(c)
        status, limits = c.client.request("PUT", f"/api/queues/{QUEUE}/limits",
                                          {"concurrency": F25_LIMIT})
        if status != 200 or (limits or {}).get("concurrency") != F25_LIMIT:
            raise RuntimeError(f"PUT limits answered {status} {limits}")
        sampler = ShareSampler(c, tags)
        first_shares = sampler.snapshot()
        busy = [0, random.choice((1, 2))]  # shard 0 first, then one of the others
        phase = [0]

        def accept(key):
            return (placement_shard(key, F25_SHARDS) == busy[phase[0]]
                    or int(key.rsplit("-", 1)[1]) % F25_OTHERS_EVERY == 0)

        load = Producer(c.api.port, "f25", F25_RATE / F25_ACCEPTED,
                        lambda key: webhook_job(c.sink.url, key, query=f"ms={F25_JOB_MS}"),
                        accept=accept)
        sampler.start()
        load_started = time.time()
        load.start()
        switch_at = None
        phase_seconds = s.pick(10, 30)
        end = time.monotonic() + 2 * phase_seconds
        while time.monotonic() < end:
            time.sleep(2)
            if switch_at is None and time.monotonic() >= end - phase_seconds:
                phase[0], switch_at = 1, time.time()
            # In flight: the jobs active on every shard (the API lists the home shard's only).
            kill_worker(c, random.randrange(len(c.workers)),
                        [i for tag in tags for i in
                         shard_command(c, tag, "ZRANGE", "active", 0, -1).split()])
        load_stopped = time.time()
        result = finish(c, load, drain_timeout=2 * lease_ms / 1000 + 60)
        drained_at = time.time()
        # Every worker balances every recover interval, and a balance hands out what a cut-short
        # one freed and never gave: once each of the three has balanced since the drain (or three
        # intervals passed), the shares must add up to the limit again.
        balances_at_drain = balances_started(c, tags)
        settle_by = time.monotonic() + 3 * RECOVER_INTERVAL_S + 2
        while (time.monotonic() < settle_by
               and balances_started(c, tags) < balances_at_drain + len(c.workers)):
            time.sleep(0.5)
        time.sleep(2 * F25_SAMPLE_EVERY_S)
        samples = sampler.stop()
        settled = round(time.time() - drained_at, 1)

        records = c.sink.records()
        active_sums = [sum(active) for _, _, active in samples]
        share_sums = [sum(cc) for _, cc, _ in samples]
        over_share = [(round(t - load_started, 1), cc, active) for t, cc, active in samples
                      if any(a > share for a, share in zip(active, cc))]
        short = [(a < F25_LIMIT) for a in share_sums]
        spells = sum(1 for i, low in enumerate(short)
                     if low and i + 1 < len(short) and short[i + 1]
                     and (i == 0 or not short[i - 1]))
        phases = [(busy[0], load_started, switch_at or load_stopped),
                  (busy[1], switch_at or load_stopped, drained_at)]
        busy_most = [max((cc[shard] for t, cc, _ in samples if since <= t <= until), default=0)
                     for shard, since, until in phases]
        balances = balances_started(c, tags)
        final = samples[-1][1] if samples else []
        result.update(
            shard_tags=tags, limit=F25_LIMIT, job_ms=F25_JOB_MS,
            busy_share=round(F25_BUSY_SHARE, 2), busy_shards=busy,
            switch_after_s=round(switch_at - load_started, 1) if switch_at else None,
            first_shares=first_shares[0] if first_shares else None,
            share_samples=len(samples), sample_errors=sampler.errors,
            max_active_sum=max(active_sums, default=0), max_share_sum=max(share_sums, default=0),
            min_share=min((min(cc) for _, cc, _ in samples), default=0),
            max_running_at_sink=most_running_at_sink(records, load_started),
            samples_below_limit=sum(short), spells_below_limit=spells,
            busy_shard_max_share=busy_most, balances_started=balances,
            balances_after_drain=balances - balances_at_drain,
            shares_phase1=share_history(samples, *phases[0][1:]),
            shares_phase2=share_history(samples, *phases[1][1:]),
            final_shares=final, seconds_after_drain=settled)
        v = result["violations"]
        if first_shares is None or sum(first_shares[0]) != F25_LIMIT:
            v.append(f"the shares before the load were {first_shares}, not {F25_LIMIT} in all")
        if not samples or sampler.errors > len(samples) // 10:
            v.append(f"{len(samples)} samples, {sampler.errors} failed reads")
        if result["max_active_sum"] > F25_LIMIT:
            worst = max(samples, key=lambda x: sum(x[2]))
            v.append(f"{result['max_active_sum']} jobs active at once on the queue, limit "
                     f"{F25_LIMIT}: at {worst[0] - load_started:.1f} s, shares {worst[1]}, "
                     f"active {worst[2]}")
        if over_share:
            v.append(f"{len(over_share)} samples with a shard running more than its share, "
                     f"first (s, shares, active): {over_share[0]}")
        if result["max_share_sum"] > F25_LIMIT:
            worst = max(samples, key=lambda x: sum(x[1]))
            v.append(f"the shares added up to {result['max_share_sum']} > {F25_LIMIT}: at "
                     f"{worst[0] - load_started:.1f} s, {worst[1]}")
        if result["min_share"] < 1:
            v.append(f"a share fell to {result['min_share']} (below 1)")
        if result["balances_after_drain"] == 0:
            v.append(f"no balance ran in the {settled} s after the drain")
        if sum(final) != F25_LIMIT:
            v.append(f"the shares add up to {sum(final)} ({final}), not {F25_LIMIT}, "
                     f"{settled} s after the drain: slots lost")
        if result["max_running_at_sink"] > F25_LIMIT:
            v.append(f"the sink had {result['max_running_at_sink']} requests open at once, "
                     f"limit {F25_LIMIT}")
        if result["max_active_sum"] < F25_LIMIT:
            v.append(f"at most {result['max_active_sum']} jobs active at once: the limit never "
                     f"bound (not exercised)")
        even = F25_LIMIT // F25_SHARDS
        for (shard, _, _), most in zip(phases, busy_most):
            if most <= even:
                v.append(f"shard {shard} held at most {most} slots while busy, no more than an "
                         f"even split ({even}): the shares did not move")
        return result
