"""The Redis Cluster scenarios (F16-F18): the usual producer load of webhook jobs through the API
and three workers, on a cluster of 3 masters and 3 replicas (redis_cluster_nodes.py), while the
master serving the queue fails over, is killed, or hands the queue's slot to another master.

The API's URL asks for ?wait_replicas=1, so an acknowledged enqueue is on a replica too: a master
lost a moment after the acknowledgement loses no job. What a worker did just before a master was
killed may be lost with it (replication is asynchronous): a completion lost so runs the job again,
so the jobs delivered in the second before a kill count as in flight, as F3b counts them.
"""
import time

from scenarios import finish, start_load
from workload import QUEUE

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
