"""The one launcher of the chaos suite's child processes: redis-server, the taskq roles and our own
Python helpers (sink, proxy).

Every child is registered with a ProcessGroup, which kills whatever still runs when the scenario
ends, however it ends. Children are also tied to this process with PR_SET_PDEATHSIG, so a chaos
run that is itself killed -9 leaves nothing behind. Because Linux delivers that signal when the
*thread* that forked the child exits, children are only ever started from the main thread.
"""
import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL("libc.so.6", use_errno=True)

# Paths libfaketime lives at on Debian (package libfaketime); MT for multi-threaded programs.
FAKETIME_LIBS = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1")


def free_port():
    """A port nobody listens on now. Redis and our helpers bind it at once; a race with another
    program is possible but rare, and shows as a start failure, not as a wrong result."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def clean_environment(extra=None):
    """The environment of a child: ours without TASKQ_* (a developer's settings must not change
    a scenario), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKQ_")}
    env.update(extra or {})
    return env


class Child:
    """One child process with its log file."""

    def __init__(self, name, argv, log_path, cwd, env=None, stdin=None, stdout=None):
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("children are started from the main thread only (PDEATHSIG)")
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            argv, cwd=cwd, env=env or clean_environment(), stdin=stdin,
            stdout=stdout if stdout is not None else self.log, stderr=self.log,
            preexec_fn=_die_with_parent)
        self.started = time.time()
        self.stopped_by_us = False  # an exit we did not cause is a crash

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            if sig in (signal.SIGKILL, signal.SIGTERM):
                self.stopped_by_us = True
            os.kill(self.proc.pid, sig)

    def kill9(self):
        self.signal(signal.SIGKILL)
        self.proc.wait(10)

    def crashed(self):
        """The exit code when the process ended without our asking, else None."""
        code = self.proc.poll()
        return code if code is not None and not self.stopped_by_us else None

    def terminate(self, timeout):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code and the seconds it took."""
        started = time.monotonic()
        if self.alive():
            self.signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode, time.monotonic() - started

    def close(self):
        if self.alive():
            self.signal(signal.SIGKILL)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                stream.close()
        self.log.close()

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class ProcessGroup:
    """Every child of one scenario; close() kills those still running, in reverse start order."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.children = []

    def start(self, name, argv, env=None, stdin=None, stdout=None, cwd=None):
        log_path = os.path.join(self.workdir, f"{name}.log")
        child = Child(name, argv, log_path, cwd or self.workdir, env, stdin, stdout)
        self.children.append(child)
        return child

    def crashes(self):
        """One line per child that ended by itself: its name, exit code and last log lines."""
        out = []
        for child in self.children:
            code = child.crashed()
            if code is not None:
                tail = " | ".join(child.log_text().strip().splitlines()[-3:])
                out.append(f"{child.name} exited by itself with {code}: {tail[-600:]}")
        return out

    def close(self):
        for child in reversed(self.children):
            child.close()


class RedisServer:
    """A redis-server on a fixed loopback port and directory, so that a restart after kill -9
    comes back where clients expect it, with the same append-only file."""

    def __init__(self, group, appendfsync=None):
        self.group = group
        self.port = free_port()
        self.dir = os.path.join(group.workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.appendfsync = appendfsync  # None: no persistence at all
        self.child = None
        self.starts = 0

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        persistence = (["--appendonly", "yes", "--appendfsync", self.appendfsync]
                       if self.appendfsync else ["--appendonly", "no"])
        self.starts += 1
        self.child = self.group.start(
            f"redis-{self.starts}",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", self.dir, "--maxmemory-policy", "noeviction", *persistence])
        if not wait_until(lambda: self.ping() or not self.child.alive(), 20):
            raise RuntimeError("redis-server did not start")
        if not self.child.alive():
            raise RuntimeError("redis-server exited: " + self.child.log_text()[-2000:])

    def ping(self):
        """True once Redis answers and has loaded its data (LOADING is not an answer)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill9(self):
        self.child.kill9()

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *map(str, args)],
                              capture_output=True, text=True, timeout=10).stdout.strip()

    def on_master_of(self, key, *args):
        """As RedisClusterNodes.on_master_of: one server serves every key (F25's shards)."""
        return self.cli(*args)

    def info(self, section):
        fields = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value
        return fields


class Taskq:
    """Builds command lines for the taskq binary; roles are started through a ProcessGroup."""

    def __init__(self, binary):
        self.binary = binary

    def argv(self, redis_url, role, *flags):
        return [self.binary, "--redis-url", redis_url, "--log-level", "info", role, *flags]


class ApiProcess:
    """`taskq api` on a fixed loopback port (restarts come back on it), without a dashboard."""

    def __init__(self, group, taskq, redis_url, flags=()):
        self.group = group
        self.taskq = taskq
        self.redis_url = redis_url
        self.flags = list(flags)
        self.port = free_port()
        self.child = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.child = self.group.start(
            f"api-{self.starts}",
            self.taskq.argv(self.redis_url, "api", "--listen", f"127.0.0.1:{self.port}",
                            "--dashboard-listen", "", "--api-threads", "2",
                            "--request-timeout-ms", "10000", *self.flags))
        healthy = wait_until(lambda: self.healthy() or not self.child.alive(), 20)
        if not healthy or not self.child.alive():
            raise RuntimeError("taskq api did not start: " + self.child.log_text()[-2000:])

    def healthy(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            return ok
        except OSError:
            return False


class WorkerProcess:
    """`taskq worker` for the queues its flags name. Its Redis URL may point at a proxy link."""

    def __init__(self, group, taskq, index, redis_url, flags, env=None):
        self.group = group
        self.taskq = taskq
        self.index = index
        self.redis_url = redis_url
        self.flags = flags
        self.env = env
        self.child = None
        self.starts = 0
        self.data_dir = os.path.join(group.workdir, f"worker-{index}")
        os.makedirs(self.data_dir, exist_ok=True)

    @property
    def name(self):
        return f"worker-{self.index}"

    def start(self):
        self.starts += 1
        self.child = self.group.start(
            f"{self.name}.{self.starts}",
            self.taskq.argv(self.redis_url, "worker", "--data-dir", self.data_dir, *self.flags),
            env=clean_environment(self.env))

    def wait_running(self, timeout=20):
        """Until its log says it runs (it waits for Redis first, and says so)."""
        ok = wait_until(lambda: "worker running on" in self.child.log_text()
                        or not self.child.alive(), timeout)
        if not ok or not self.child.alive():
            raise RuntimeError(f"{self.name} did not start: " + self.child.log_text()[-2000:])


class StubbornWorkerProcess(WorkerProcess):
    """The test worker (tests/system/test_worker_main.cc) for the webhook queue: its `webhook`
    handler ignores stop requests and the attempt's deadline, so a slow target makes attempts
    overrun their timeout. Its recovery pass runs every 100 ms."""

    def __init__(self, group, binary, index, redis_url, concurrency, lease_ms, grace_ms,
                 max_stalls, secret, isolation="thread"):
        super().__init__(group, None, index, redis_url, [])
        idle_poll_ms = 5000  # the worker's default
        self.argv = [binary, redis_url, f"webhook={concurrency}:{isolation}", str(lease_ms),
                     str(grace_ms), str(idle_poll_ms), str(max_stalls)]
        self.secret = secret

    def start(self):
        self.starts += 1
        self.child = self.group.start(
            f"{self.name}.{self.starts}", self.argv,
            env=clean_environment({"TASKQ_TEST_STUBBORN_WEBHOOK_SECRET": self.secret}))

    def wait_running(self, timeout=20):
        ok = wait_until(lambda: "ready" in self.child.log_text() or not self.child.alive(),
                        timeout)
        if not ok or not self.child.alive():
            raise RuntimeError(f"{self.name} did not start: " + self.child.log_text()[-2000:])


class SchedulerProcess:
    """`taskq scheduler`; its token (from its log) is how the leader key names it."""

    def __init__(self, group, taskq, index, redis_url, flags):
        self.group = group
        self.taskq = taskq
        self.index = index
        self.redis_url = redis_url
        self.flags = flags
        self.child = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.child = self.group.start(f"scheduler-{self.index}.{self.starts}",
                                      self.taskq.argv(self.redis_url, "scheduler", *self.flags))

    def token(self, timeout=20):
        def find():
            for line in self.child.log_text().splitlines():
                if "scheduler " in line and " running on " in line:
                    return line.split("scheduler ", 1)[1].split(" running on ", 1)[0]
            return None
        token = wait_until(find, timeout)
        if not token:
            raise RuntimeError("scheduler did not start: " + self.child.log_text()[-2000:])
        return token


def faketime_env(offset):
    """Environment that runs a program with its wall clock shifted by `offset` (e.g. "+30s")
    through libfaketime, preloaded directly: the `faketime` wrapper forks and would take the
    signals meant for the program."""
    for path in FAKETIME_LIBS:
        if os.path.exists(path):
            return {"LD_PRELOAD": path, "FAKETIME": offset, "FAKETIME_NO_CACHE": "1"}
    raise RuntimeError("libfaketime is not installed (apt-get install faketime)")


def python_helper(script):
    """argv prefix that runs one of the suite's helper scripts with the system Python."""
    return ["/usr/bin/python3", "-u", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   script)]


def copy_binary(binary, into):
    """A private copy of a binary (taskq, the test worker): the build directory may be rebuilt
    while a run restarts processes, and a half-written binary must not be what a restart
    executes."""
    target = os.path.join(into, os.path.basename(binary))
    shutil.copy2(binary, target)
    return target
