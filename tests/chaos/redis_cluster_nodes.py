"""A Redis Cluster of 3 masters and 3 replicas for the cluster scenarios (F16-F18, F24): real
redis-servers on loopback ports in a scenario's process group, and the faults done to them: a
manual failover, a kill -9 of a master (its replica takes over; the node comes back as a replica),
and moving a slot from one master to another while clients use it.

Acknowledged enqueues must survive losing a master, so the URL asks for ?wait_replicas=1: the API
acknowledges a job only once a replica has it.
"""
import os
import socket
import subprocess
import time

from processes import wait_until

NODES = 6
# Short, so that a killed master is failed over within seconds (a replica waits about this long,
# then holds its election).
NODE_TIMEOUT_MS = 2000


def port_pair_is_free(port):
    """The port and its cluster bus port (port + 10000)."""
    for p in (port, port + 10000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def free_port_pair():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55000 and port_pair_is_free(port):
            return port


def cli(port, *args, timeout=10):
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout).stdout.strip()


class Node:
    """One line of CLUSTER NODES."""

    def __init__(self, line):
        fields = line.split()
        self.id = fields[0]
        self.port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
        self.flags = fields[2].split(",")
        self.master_id = fields[3] if fields[3] != "-" else None
        self.connected = fields[7] == "connected"
        self.slots = []
        for part in fields[8:]:
            if part.startswith("["):
                continue  # a slot being moved
            low, _, high = part.partition("-")
            self.slots.append((int(low), int(high or low)))

    @property
    def is_master(self):
        return "master" in self.flags and "fail" not in self.flags

    def serves(self, slot):
        return any(low <= slot <= high for low, high in self.slots)


class RedisClusterNodes:
    def __init__(self, group):
        self.group = group
        self.ports = []
        self.children = {}  # port -> Child
        self.starts = {}

    @property
    def url(self):
        seeds = ",".join(f"127.0.0.1:{p}" for p in self.ports[:3])
        return f"redis+cluster://{seeds}/?wait_replicas=1&wait_timeout_ms=2000"

    def start(self):
        while len(self.ports) < NODES:
            port = free_port_pair()
            if port not in self.ports:
                self.ports.append(port)
        for port in self.ports:
            self.start_node(port)
        create = subprocess.run(
            ["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
             "--cluster-replicas", "1", "--cluster-yes"], capture_output=True, text=True,
            timeout=60)
        if create.returncode != 0:
            raise RuntimeError("redis-cli --cluster create failed: " + create.stdout[-2000:])
        if not wait_until(self.settled, 60):
            raise RuntimeError("the cluster did not settle")

    def start_node(self, port):
        node_dir = os.path.join(self.group.workdir, f"redis-{port}")
        os.makedirs(node_dir, exist_ok=True)
        self.starts[port] = self.starts.get(port, 0) + 1
        self.children[port] = self.group.start(
            f"redis-{port}-{self.starts[port]}",
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled",
             "yes", "--cluster-config-file", os.path.join(node_dir, "nodes.conf"),
             "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--save", "", "--appendonly", "no",
             "--maxmemory-policy", "noeviction", "--dir", node_dir])
        if not wait_until(lambda: cli(port, "PING") == "PONG", 20):
            raise RuntimeError(f"redis-server on {port} did not start")

    def nodes(self, port=None):
        """The cluster as `port` (else the first node that answers) sees it."""
        for p in [port] if port else self.ports:
            lines = cli(p, "CLUSTER", "NODES").splitlines()
            if lines and not lines[0].startswith(("ERR", "Could not")):
                return [Node(line) for line in lines]
        return []

    def settled(self):
        """Every node up, every slot served, three masters each with a replica in sync."""
        for port in self.ports:
            if "cluster_state:ok" not in cli(port, "CLUSTER", "INFO"):
                return False
            if cli(port, "CLUSTER", "SHARDS").splitlines().count("online") != NODES:
                return False
        nodes = self.nodes()
        return len(nodes) == NODES and all(n.connected for n in nodes) and \
            sum(n.is_master for n in nodes) == NODES // 2

    def keyslot(self, key):
        return int(cli(self.ports[0], "CLUSTER", "KEYSLOT", key))

    def master_of(self, slot):
        for node in self.nodes():
            if node.is_master and node.serves(slot):
                return node
        return None

    def on_master_of(self, key, *args):
        """Runs `args` (a command about `key`) on the master serving key's slot; its answer."""
        master = self.master_of(self.keyslot(key))
        if master is None:
            raise RuntimeError(f"no master serves the slot of {key}")
        return cli(master.port, *args)

    def replica_of(self, master):
        for node in self.nodes():
            if node.master_id == master.id and "slave" in node.flags:
                return node
        return None

    def failover(self, slot):
        """CLUSTER FAILOVER on the replica of the slot's master: the two swap roles, with no
        write lost (the replica catches up first). Returns the new master's port."""
        master = self.master_of(slot)
        replica = self.replica_of(master)
        if cli(replica.port, "CLUSTER", "FAILOVER") != "OK":
            raise RuntimeError("CLUSTER FAILOVER refused")
        if not wait_until(lambda: (self.master_of(slot) or master).port == replica.port, 30):
            raise RuntimeError("the failover did not happen")
        return replica.port

    def kill_master(self, slot):
        """kill -9 the slot's master; once its replica serves the slot, starts the node again
        (it comes back as the new master's replica). Returns (seconds without a master,
        seconds until the cluster settled again)."""
        master = self.master_of(slot)
        killed_at = time.monotonic()
        self.children[master.port].kill9()
        promoted = wait_until(
            lambda: (self.master_of(slot) or master).port != master.port, 60)
        if not promoted:
            raise RuntimeError("no replica took over the killed master's slots")
        without_master = time.monotonic() - killed_at
        self.start_node(master.port)
        if not wait_until(self.settled, 60):
            raise RuntimeError("the cluster did not settle after the killed master came back")
        return without_master, time.monotonic() - killed_at

    def move_slot(self, slot, to_port=None):
        """Moves `slot` to another master (to_port, else the next one) as redis-cli --cluster
        reshard does: IMPORTING on the target, MIGRATING on the source, the keys moved with
        MIGRATE, then the slot given to the target on every master. All keys go in one MIGRATE
        (see docs/scaling.md: a queue's keys move together). Returns (keys moved, seconds)."""
        nodes = self.nodes()
        source = next(n for n in nodes if n.is_master and n.serves(slot))
        masters = [n for n in nodes if n.is_master]
        target = next(n for n in masters if n.port == to_port) if to_port else \
            masters[(masters.index(source) + 1) % len(masters)]
        began = time.monotonic()
        if cli(target.port, "CLUSTER", "SETSLOT", slot, "IMPORTING", source.id) != "OK" or \
                cli(source.port, "CLUSTER", "SETSLOT", slot, "MIGRATING", target.id) != "OK":
            raise RuntimeError("CLUSTER SETSLOT refused")
        moved = 0
        while True:
            keys = cli(source.port, "CLUSTER", "GETKEYSINSLOT", slot, 100000).split()
            if not keys:
                break
            reply = cli(source.port, "MIGRATE", "127.0.0.1", target.port, "", 0, 10000,
                        "REPLACE", "KEYS", *keys, timeout=60)
            if reply not in ("OK", "NOKEY"):
                raise RuntimeError(f"MIGRATE failed: {reply}")
            moved += len(keys)
        for node in [target] + [n for n in masters if n.id != target.id]:
            cli(node.port, "CLUSTER", "SETSLOT", slot, "NODE", target.id)
        if not wait_until(lambda: (self.master_of(slot) or source).port == target.port, 30):
            raise RuntimeError("the slot did not move")
        return moved, time.monotonic() - began
