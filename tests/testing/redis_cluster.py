#!/usr/bin/python3
"""A local Redis Cluster for tests: 3 masters and 3 replicas, real redis-servers on loopback
ports, made with `redis-cli --cluster create`. Starting one takes seconds, so the tests share
one per test run: CTest starts it as a fixture (tests/CMakeLists.txt, label `cluster`) and stops
it after the last test that needs it.

    redis_cluster.py start DIR   # starts it in DIR; exits 0 once every node says cluster_state:ok
    redis_cluster.py stop DIR    # stops the servers a start in DIR left running

A start writes DIR/nodes (one `127.0.0.1:PORT` per line; the first three were made masters) and
DIR/pids. Each server runs in its own session, so that it outlives the start command; stop (or a
later start in the same DIR) ends them.
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

NODES = 6
START_TIMEOUT_S = 60


def port_is_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port_pair():
    """A port whose cluster bus port (port + 10000) is free too."""
    while True:
        port = random.randint(20000, 55000)
        if port_is_free(port) and port_is_free(port + 10000):
            return port


def cli(port, *args, timeout=10):
    run = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                         timeout=timeout)
    return run.stdout.strip()


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def started_here(pid, directory):
    """Whether `pid` is a redis-server this script started in `directory` (a pid in a stale
    file may since belong to another program). Each server works in a directory of its own
    below `directory` (--dir); its command line says nothing, as Redis rewrites its title."""
    try:
        return os.readlink(f"/proc/{pid}/cwd").startswith(directory + os.sep)
    except OSError:
        return False


def stop(directory):
    pids = os.path.join(directory, "pids")
    if not os.path.exists(pids):
        return
    with open(pids) as f:
        for line in f:
            try:
                if started_here(int(line), directory):
                    os.kill(int(line), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
    os.remove(pids)


# A long node timeout: on a loaded machine a slow node must not be failed over mid-test.
def start_server(directory, port):
    node_dir = os.path.join(directory, str(port))
    os.makedirs(node_dir)
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
         "--cluster-config-file", os.path.join(node_dir, "nodes.conf"),
         "--cluster-node-timeout", "10000", "--save", "", "--appendonly", "no",
         "--maxmemory-policy", "noeviction", "--dir", node_dir, "--daemonize", "no",
         "--logfile", os.path.join(node_dir, "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    # Ready once the server on the port is this child: another test's server may have taken
    # the port first, and this one then exits.
    own = f"process_id:{proc.pid}"
    if wait_until(lambda: proc.poll() is not None or own in cli(port, "INFO", "server"), 10) and \
            proc.poll() is None:
        return proc
    proc.kill()
    return None


def start(directory):
    stop(directory)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    ports, procs = [], []
    while len(ports) < NODES:
        port = free_port_pair()
        proc = start_server(directory, port)
        if proc is None:  # the port was taken meanwhile: another one
            shutil.rmtree(os.path.join(directory, str(port)), ignore_errors=True)
            continue
        ports.append(port)
        procs.append(proc)
        with open(os.path.join(directory, "pids"), "a") as f:
            f.write(f"{proc.pid}\n")
    create = subprocess.run(
        ["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
         "--cluster-replicas", "1", "--cluster-yes"], capture_output=True, text=True, timeout=60)
    if create.returncode != 0:
        sys.exit("redis-cli --cluster create failed:\n" + create.stdout + create.stderr)

    def ready():
        # Every node sees the same settled cluster: all slots served, three masters and three
        # replicas, every link up, every replica in sync (CLUSTER SHARDS says "online").
        for port in ports:
            info = cli(port, "CLUSTER", "INFO")
            if "cluster_state:ok" not in info or f"cluster_known_nodes:{NODES}" not in info:
                return False
            flags = [line.split()[2] for line in cli(port, "CLUSTER", "NODES").splitlines()]
            if sum("master" in f for f in flags) != NODES // 2 or \
                    sum("slave" in f for f in flags) != NODES // 2:
                return False
            if cli(port, "CLUSTER", "SHARDS").splitlines().count("online") != NODES:
                return False
        return True

    if not wait_until(ready, START_TIMEOUT_S):
        sys.exit("the cluster did not settle (cluster_state:ok, 3 masters and 3 replicas in "
                 "sync) on every node")
    with open(os.path.join(directory, "nodes"), "w") as f:
        f.writelines(f"127.0.0.1:{p}\n" for p in ports)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit(__doc__)
    directory = os.path.abspath(sys.argv[2])
    if sys.argv[1] == "start":
        start(directory)
    else:
        stop(directory)


if __name__ == "__main__":
    main()
