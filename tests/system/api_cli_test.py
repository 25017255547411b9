#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

The taskq command line: `taskq up` from a clean checkout, the admin
subcommands, `taskq config`.

    api_cli_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

import api_fixtures as fx
from api_fixtures import free_port, wait_until, Redis, listening_ports, Api, Worker


class QuickStartTest(unittest.TestCase):
    """The README's quick start: `taskq up` (managed redis-server, API, workers) and the curl."""

    def test_quick_start_email_completes_into_the_outbox(self):
        data_dir = tempfile.mkdtemp(prefix="taskq-up-")
        redis_port = free_port()
        log = open(os.path.join(data_dir, "up.log"), "w")
        up = subprocess.Popen(
            [fx.TASKQ, "up", "--data-dir", data_dir, "--redis-port", str(redis_port),
             "--listen", "127.0.0.1:0", "--dashboard-listen", "127.0.0.1:0"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            def ready():
                port = listening_ports(log.name)[0]
                if port is None:
                    return False
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/readyz")
                    return conn.getresponse().status == 200
                except OSError:
                    return False
            self.assertTrue(wait_until(ready, timeout=20), "taskq up did not become ready")
            port = listening_ports(log.name)[0]
            result = subprocess.run(
                ["curl", "-s", "-X", "POST", f"http://localhost:{port}/api/jobs", "-H",
                 "Content-Type: application/json", "-d",
                 '{"type": "email", "data": {"to": "user@example.com", "subject": "Hello"}}'],
                capture_output=True, text=True, check=True)
            created = json.loads(result.stdout)
            self.assertEqual(created["state"], "waiting")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", created["links"]["wait"] + "&timeout_ms=10000")
            job = json.loads(conn.getresponse().read())
            self.assertEqual(job["state"], "completed", job)
            self.assertEqual(job["result"]["delivery"], "outbox")
            path = job["result"]["path"]
            self.assertTrue(path.startswith(os.path.join(data_dir, "outbox")), path)
            message = open(path, encoding="utf-8").read()
            self.assertIn("To: user@example.com", message)
            self.assertIn("Subject: Hello", message)
            with open(log.name) as f:
                self.assertIn("outbox", f.read())  # `taskq up` says where mail goes
            # The managed Redis is the owner's alone: a password (0600, in a 0700 directory),
            # on no command line; without it other local users get nothing.
            redis_dir = os.path.join(data_dir, "redis")
            self.assertEqual(os.stat(redis_dir).st_mode & 0o777, 0o700)
            password_file = os.path.join(redis_dir, "password")
            self.assertEqual(os.stat(password_file).st_mode & 0o777, 0o600)
            password = open(password_file).read().strip()
            self.assertGreaterEqual(len(password), 32)
            noauth = subprocess.run(["redis-cli", "-p", str(redis_port), "DBSIZE"],
                                    capture_output=True, text=True)
            self.assertIn("NOAUTH", noauth.stdout + noauth.stderr)
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        self.assertNotIn(password.encode(), f.read(), pid)
                except OSError:
                    pass
            # The other commands find the password in the data directory.
            stats = subprocess.run([fx.TASKQ, "stats"], capture_output=True, text=True, timeout=20,
                                   env=dict(os.environ, TASKQ_DATA_DIR=data_dir,
                                            TASKQ_REDIS_URL=""))
            # (stats looks on 6379, not this test's port: it must not fail on the password file)
            self.assertNotIn(password, stats.stdout + stats.stderr)
            with open(log.name) as f:
                self.assertNotIn(password, f.read())
        finally:
            up.terminate()
            self.assertEqual(up.wait(30), 0)
            log.close()
        # The managed redis-server was stopped with taskq.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", redis_port), timeout=1).close()
        shutil.rmtree(data_dir, ignore_errors=True)


class CliTest(unittest.TestCase):
    """The commands for people: enqueue, jobs, retry, stats, config."""

    def taskq(self, *args, env=None, check=True):
        result = subprocess.run([fx.TASKQ, *args], capture_output=True, text=True, timeout=30,
                                env={**os.environ, **(env or {})})
        if check:
            self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def test_jobs_and_retry_of_a_dead_job(self):
        redis = Redis()
        worker = Worker(redis.url, "fail=1")
        try:
            out = self.taskq("--redis-url", redis.url, "enqueue", "--type", "fail",
                             "--max-attempts", "1").stdout
            job_id = json.loads(out)["id"]
            def listed():
                return job_id in self.taskq("--redis-url", redis.url, "jobs", "fail", "--state",
                                            "dead").stdout
            self.assertTrue(wait_until(listed))
            lines = self.taskq("--redis-url", redis.url, "jobs", "fail", "--state",
                               "dead").stdout.splitlines()
            row = [line for line in lines if line.startswith(job_id)][0]
            self.assertIn("boom", row)
            out = self.taskq("--redis-url", redis.url, "retry", job_id).stdout
            self.assertEqual(json.loads(out), {"id": job_id, "queue": "fail", "state": "waiting"})
            missing = self.taskq("--redis-url", redis.url, "retry", "no-such-job", check=False)
            self.assertEqual(missing.returncode, 1)
            self.assertIn("no job with id", missing.stderr)
            bad = self.taskq("--redis-url", redis.url, "jobs", "fail", "--state", "lost",
                             check=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("--state", bad.stderr)
            self.assertIn("fail", self.taskq("--redis-url", redis.url, "stats").stdout)
        finally:
            worker.stop()
            redis.stop()

    def test_queue_and_job_actions_match_the_api(self):
        redis = Redis()
        worker = None
        try:
            def run(*args, check=True):
                result = self.taskq("--redis-url", redis.url, *args, check=check)
                return json.loads(result.stdout) if check else result

            later = run("enqueue", "--type", "hold", "--run-at", "2099-01-01T00:00:00Z",
                        "--timeout-ms", "1500", "--backoff", "fixed", "--backoff-ms", "250")
            shown = run("show", later["id"])
            self.assertEqual((shown["state"], shown["queue"]), ("delayed", "hold"))
            self.assertEqual(shown["options"]["timeout_ms"], 1500)
            self.assertEqual(shown["options"]["backoff"]["type"], "fixed")
            self.assertEqual(shown["options"]["backoff"]["delay_ms"], 250)
            self.assertEqual(run("promote", later["id"], "--queue", "hold")["state"], "waiting")
            self.assertEqual(run("show", later["id"])["state"], "waiting")
            refused = run("promote", later["id"], check=False)
            self.assertEqual(refused.returncode, 1)
            self.assertIn("only delayed or retrying", refused.stderr)
            self.assertEqual(run("pause", "hold"), {"queue": "hold", "paused": True,
                                                    "changed": True})
            self.assertTrue(json.loads(self.taskq("--redis-url", redis.url, "enqueue", "--type",
                                                  "hold").stdout)["created"])
            self.assertIn("paused", self.taskq("--redis-url", redis.url, "stats").stdout)
            self.assertEqual(run("resume", "hold")["changed"], True)
            self.assertEqual(run("cancel", later["id"])["outcome"], "removed")
            self.assertEqual(run("show", later["id"], check=False).returncode, 1)
            other = run("enqueue", "--type", "hold", "--unique-key", "once")
            again = run("enqueue", "--type", "hold", "--unique-key", "once")
            self.assertEqual((again["id"], again["created"]), (other["id"], False))
            self.assertEqual(run("remove", other["id"], "--queue", "hold")["outcome"], "removed")
            # Dead jobs: retried by id or the oldest, then cleaned.
            worker = Worker(redis.url, "fail=1")
            dead = [run("enqueue", "--type", "fail", "--max-attempts", "1")["id"]
                    for _ in range(3)]
            self.assertTrue(wait_until(lambda: all(
                run("show", job_id)["state"] == "dead" for job_id in dead), timeout=15))
            worker.stop()
            worker = None
            self.assertEqual(run("retry-dead", "fail", dead[0]), {"queue": "fail", "retried": 1})
            self.assertEqual(run("retry-dead", "fail", "--limit", "1")["retried"], 1)
            self.assertEqual(run("clean", "fail", "--state", "dead"),
                             {"queue": "fail", "state": "dead", "removed": 1})
            bad = run("clean", "fail", "--state", "waiting", check=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("--state", bad.stderr)
            # --output: lists as JSON, records as "name  value" lines.
            stats = json.loads(self.taskq("--redis-url", redis.url, "--output", "json",
                                          "stats").stdout)
            # (two dead jobs were retried, the third cleaned)
            self.assertIn({"queue": "fail", "waiting": 2, "delayed": 0, "active": 0,
                           "retrying": 0, "completed": 0, "dead": 0, "held": 0, "paused": False},
                          stats)
            listed = json.loads(self.taskq("--redis-url", redis.url, "--output", "json", "jobs",
                                           "fail", "--state", "waiting").stdout)
            self.assertEqual(len(listed), 2)
            self.assertIn(dead[0], [j["id"] for j in listed])
            # Paging: the next page's cursor goes to stderr while stdout stays a JSON list.
            for i in range(3):
                run("enqueue", "--type", "hold", "--run-at", f"2099-01-0{i + 2}T00:00:00Z")
            pages, cursor = [], []
            while True:
                result = self.taskq("--redis-url", redis.url, "--output", "json", "jobs", "hold",
                                    "--state", "delayed", "--limit", "2", *cursor)
                pages.append([j["id"] for j in json.loads(result.stdout)])
                more = re.search(r"next page: --cursor (\S+)", result.stderr)
                if not more:
                    break
                cursor = ["--cursor", more.group(1)]
            self.assertEqual([len(page) for page in pages], [2, 1])
            bad = self.taskq("--redis-url", redis.url, "jobs", "hold", "--cursor", "k!",
                             check=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("--cursor", bad.stderr)
            self.assertEqual(json.loads(self.taskq("--redis-url", redis.url, "--output", "json",
                                                   "schedules").stdout), [])
            table = self.taskq("--redis-url", redis.url, "--output", "table", "show",
                               dead[0]).stdout
            self.assertRegex(table, rf"(?m)^id +{dead[0]}$")
            self.assertRegex(table, r"(?m)^state +waiting$")
            self.assertIn("Examples:", self.taskq("enqueue", "--help").stdout)
            self.assertIn("Example:", self.taskq("show", "--help").stdout)
        finally:
            if worker:
                worker.stop()
            redis.stop()

    def test_worker_waits_for_a_redis_that_is_not_up_yet(self):
        port = free_port()
        data = tempfile.mkdtemp(prefix="taskq-wait-")
        worker = subprocess.Popen([fx.TASKQ, "--redis-url", f"redis://127.0.0.1:{port}", "worker",
                                   "--queues", "email=1", "--data-dir", data],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        redis = None
        waiting = None
        try:
            # Redis starts once the worker says it waits (a slow start-up, under ASan on a busy
            # machine, must not find Redis already there).
            first_said = threading.Event()
            lines = []
            def read_first():
                for line in worker.stdout:
                    lines.append(line)
                    if "waiting for Redis" in line:
                        first_said.set()
            first_reader = threading.Thread(target=read_first)
            first_reader.start()
            self.assertTrue(first_said.wait(15), "".join(lines))
            self.assertIsNone(worker.poll(), "the worker gave up instead of waiting")
            redis = Redis(port=port)
            self.assertTrue(wait_until(lambda: redis.cli("HLEN", "taskq:{:workers}") == "1"))
            worker.terminate()
            self.assertEqual(worker.wait(15), 0)
            first_reader.join()
            # A stop signal while it waits ends it at once, cleanly.
            # The signal goes once it says it waits: a signal before main() has blocked it (the
            # loader can be slow on a busy machine) would kill it by default, which is not this.
            waiting = subprocess.Popen([fx.TASKQ, "--redis-url", f"redis://127.0.0.1:{free_port()}",
                                        "worker", "--queues", "email=1", "--data-dir", data],
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            said = threading.Event()
            def read_until_it_waits():
                for line in waiting.stdout:
                    if "waiting for Redis" in line:
                        said.set()
                        return
            reader = threading.Thread(target=read_until_it_waits)
            reader.start()
            self.assertTrue(said.wait(10), "the worker never said it waits for Redis")
            waiting.terminate()
            self.assertEqual(waiting.wait(5), 0)
            reader.join()
            waiting.stdout.close()
        finally:
            for process in (worker, waiting):
                if process and process.poll() is None:
                    process.kill()
            if redis:
                redis.stop()
            shutil.rmtree(data, ignore_errors=True)

    def test_passwords_in_urls_never_reach_the_log(self):
        redis = Redis("--requirepass", "redis-pw-1234")
        data = tempfile.mkdtemp(prefix="taskq-mask-")
        down = f"redis://:redis-pw-1234@127.0.0.1:{free_port()}"
        worker = None
        try:
            for url, line in ((down, "waiting for Redis"),
                              (f"redis://:redis-pw-1234@127.0.0.1:{redis.port}", "worker running")):
                worker = subprocess.Popen(
                    [fx.TASKQ, "--redis-url", url, "worker", "--queues", "email=1", "--data-dir", data,
                     "--smtp-url", "smtp://mailer:smtp-pw-5678@127.0.0.1:1"],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                seen = []
                said = threading.Event()
                def read(process=worker, seen=seen, said=said, line=line):
                    for text in process.stdout:
                        seen.append(text)
                        if line in text:
                            said.set()
                reader = threading.Thread(target=read)
                reader.start()
                self.assertTrue(said.wait(15), "".join(seen))
                worker.terminate()
                self.assertEqual(worker.wait(15), 0)
                reader.join()
                worker.stdout.close()
                log = "".join(seen)
                self.assertNotIn("redis-pw-1234", log)
                self.assertNotIn("smtp-pw-5678", log)
                self.assertIn(":***@127.0.0.1", log)
        finally:
            if worker and worker.poll() is None:
                worker.kill()
            redis.stop()
            shutil.rmtree(data, ignore_errors=True)

    def test_secrets_come_from_files_and_stay_off_the_command_line(self):
        # Docker secrets: TASKQ_..._FILE (or --NAME-file) names a file whose content is the secret,
        # so that it shows in no /proc/PID/cmdline and no environment.
        redis = Redis("--requirepass", "file-pw-2468")
        files = tempfile.mkdtemp(prefix="taskq-secrets-")
        try:
            url_file = os.path.join(files, "redis_url")
            with open(url_file, "w") as f:
                f.write(f"redis://:file-pw-2468@127.0.0.1:{redis.port}\n")
            keys_file = os.path.join(files, "api_keys")
            with open(keys_file, "w") as f:
                f.write("read:read-token-from-a-file\nadmin:admin-token-from-a-file\n")
            api = Api.run(
                [fx.TASKQ, "api", "--listen", "127.0.0.1:0", "--dashboard-listen", ""],
                env=dict(os.environ, TASKQ_REDIS_URL_FILE=url_file, TASKQ_API_KEYS_FILE=keys_file))
            proc = api.proc
            try:
                self.assertTrue(wait_until(lambda: api.request("GET", "/readyz")[0] == 200))
                auth = {"Authorization": "Bearer admin-token-from-a-file"}
                self.assertEqual(api.request("GET", "/api/queues", None, auth)[0], 200)
                self.assertEqual(api.request("GET", "/api/queues")[0], 401)
                with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
                    self.assertNotIn(b"file-pw-2468", f.read())
            finally:
                api.stop()
            # Both ways at once is an error naming the flag; so is a missing file.
            both = self.taskq("--redis-url", redis.url, "--redis-url-file", url_file, "stats",
                              check=False)
            self.assertNotEqual(both.returncode, 0)
            self.assertIn("--redis-url-file", both.stdout + both.stderr)
            missing = self.taskq("--redis-url-file", os.path.join(files, "nope"), "stats",
                                 check=False)
            self.assertNotEqual(missing.returncode, 0)
            self.assertIn("--redis-url-file", missing.stdout + missing.stderr)
        finally:
            redis.stop()
            shutil.rmtree(files, ignore_errors=True)

    def test_shards_are_shown_changed_and_refused_while_jobs_wait(self):
        redis = Redis()
        try:
            url = ("--redis-url", redis.url)
            out = self.taskq(*url, "shards", "email").stdout
            self.assertEqual(json.loads(out), {"queue": "email", "shards": 1})
            out = self.taskq(*url, "shards", "email", "3").stdout
            self.assertEqual(json.loads(out), {"queue": "email", "shards": 3})
            tags = redis.cli("HGET", "taskq:{email}:meta", "stags").split()
            self.assertEqual([t.split(".")[0] for t in tags], ["email#1", "email#2"])
            for i in range(12):
                self.taskq(*url, "enqueue", "--type", "email", "--data",
                           '{"to": "a@example.com", "subject": "s%d"}' % i)
            spread = [int(redis.cli("LLEN", "taskq:{%s}:wait" % tag))
                      for tag in ["email"] + tags]
            self.assertEqual(sum(spread), 12)
            self.assertGreater(sum(1 for n in spread if n > 0), 1)
            bad = self.taskq(*url, "shards", "email", "1", check=False)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("NOTEMPTY waiting", bad.stdout + bad.stderr)
            self.assertEqual(json.loads(self.taskq(*url, "shards", "email").stdout)["shards"], 3)
            bad = self.taskq(*url, "shards", "email", "33", check=False)
            self.assertNotEqual(bad.returncode, 0)
        finally:
            redis.stop()

    def test_limits_are_shown_changed_and_checked(self):
        redis = Redis()
        try:
            url = ("--redis-url", redis.url)
            out = self.taskq(*url, "limits", "email").stdout
            no_group = {"rate": None, "concurrency": None, "field": None}
            self.assertEqual(json.loads(out), {"queue": "email", "rate": None,
                                               "concurrency": None, "group": no_group,
                                               "priority_aging_ms": None, "max_length": None})
            out = self.taskq(*url, "limits", "email", "--rate", "100/1s").stdout
            self.assertEqual(json.loads(out)["rate"], "100/1s")
            out = self.taskq(*url, "limits", "email", "--concurrency", "3").stdout
            self.assertEqual(json.loads(out), {"queue": "email", "rate": "100/1s",  # rate kept
                                               "concurrency": 3, "group": no_group,
                                               "priority_aging_ms": None, "max_length": None})
            out = self.taskq(*url, "limits", "email", "--priority-aging-ms", "250").stdout
            self.assertEqual(json.loads(out)["priority_aging_ms"], 250)
            out = self.taskq(*url, "limits", "email", "--max-length", "5000").stdout
            self.assertEqual(json.loads(out)["max_length"], 5000)
            self.assertEqual(redis.cli("HGET", "taskq:{email}:meta", "ml"), "5000")
            out = self.taskq(*url, "limits", "email", "--group-rate", "5/1m",
                             "--group-concurrency", "2", "--group-field", "tenant").stdout
            self.assertEqual(json.loads(out)["group"], {"rate": "5/1m", "concurrency": 2,
                                                        "field": "tenant"})
            self.assertEqual(redis.cli("HGET", "taskq:{email}:meta", "gf"), "tenant")
            self.assertEqual(redis.cli("HGET", "taskq:{email}:meta", "rl"), "100:1000")
            out = self.taskq(*url, "limits", "email", "--rate", "none").stdout
            self.assertEqual(json.loads(out)["rate"], None)
            bad = self.taskq(*url, "limits", "email", "--rate", "100/1d", check=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("--rate", bad.stderr)
            self.assertEqual(json.loads(self.taskq(*url, "limits", "email").stdout)["concurrency"],
                             3)
        finally:
            redis.stop()

    def test_config_prints_effective_values_with_secrets_masked_and_reads_back(self):
        out = self.taskq("--redis-url", "redis://app:s3cret@db:6379/2", "config",
                         "--smtp-url", "smtp://mailer:m4il-pw@mail:587",
                         "--api-key", "admin:0123456789abcdefghij", "--listen", "0.0.0.0:9000",
                         env={"TASKQ_SMTP_PASSWORD": "hunter2", "TASKQ_QUEUES": "email=9",
                              "TASKQ_WEBHOOK_SECRET": "whsec_c2VjcmV0LWtleS0xMjM0"}).stdout
        self.assertIn('redis-url = "redis://app:***@db:6379/2"', out)
        self.assertIn('smtp-url = "smtp://mailer:***@mail:587"', out)
        self.assertIn('listen = "0.0.0.0:9000"', out)
        self.assertIn('queues = "email=9"', out)
        self.assertIn('max-connections = 1024', out)  # defaults are shown too
        self.assertIn("# webhook-secret", out)
        for secret in ("s3cret", "hunter2", "0123456789abcdefghij", "c2VjcmV0", "m4il-pw"):
            self.assertNotIn(secret, out)
        sentinel = self.taskq("--redis-url", "redis+sentinel://:p4@ssw0rd@s1,s2:26380/mymaster",
                              "config").stdout  # a raw '@' in the password: masked whole
        self.assertIn('redis-url = "redis+sentinel://:***@s1,s2:26380/mymaster"', sentinel)
        self.assertNotIn("ssw0rd", sentinel)
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(out)
        try:
            again = self.taskq("--config", f.name, "config").stdout
            self.assertIn('listen = "0.0.0.0:9000"', again)
            self.assertIn('queues = "email=9"', again)
        finally:
            os.unlink(f.name)

    def test_config_lists_every_flag_up_takes(self):
        help_text = self.taskq("up", "--help").stdout
        flags = set(re.findall(r"^\s+(?:-\w,)?--([a-z][a-z-]*)", help_text, re.M))
        # The secret files' flags (--NAME-file) are printed as the secret they fill.
        flags = {f for f in flags if f != "help" and not f.endswith("-file")}
        self.assertIn("redis-port", flags)
        listed = set(re.findall(r"^(?:# )?([a-z][a-z-]*) =", self.taskq("config").stdout, re.M))
        self.assertEqual(flags - listed, set())

    def test_invalid_configuration_fails_fast_naming_the_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write('[up]\nlease-ms = 5\n')
        try:
            result = self.taskq("--config", f.name, "up", "--redis-url", "redis://127.0.0.1:1",
                                check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("--lease-ms", result.stderr + result.stdout)
            with open(f.name, "w") as g:
                g.write('[up]\nlisten-port = 80\n')
            result = self.taskq("--config", f.name, "config", check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("listen-port", result.stderr + result.stdout)
        finally:
            os.unlink(f.name)
        result = self.taskq("api", "--listen", "nowhere", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("--listen", result.stderr + result.stdout)
        for flag, value in (("--webhook-ports", "80,x"), ("--image-ports", "0"),
                            ("--type-queues", "email=")):
            result = self.taskq("--redis-url", "redis://127.0.0.1:1", "worker", flag, value,
                                check=False)
            self.assertNotEqual(result.returncode, 0, flag)
            self.assertIn(flag, result.stderr + result.stdout)

    def test_version_and_log_levels(self):
        version = self.taskq("--version")
        self.assertRegex(version.stdout.strip(), r"^taskq \d+\.\d+\.\d+$")
        # An unknown level is refused by name; a known one in any case is taken (INFO once
        # silenced every log line, as spdlog reads an unknown name as "off").
        loud = self.taskq("--log-level", "loud", "schedules", check=False)
        self.assertNotEqual(loud.returncode, 0)
        self.assertIn("--log-level", loud.stderr + loud.stdout)
        redis = Redis()
        api = None
        try:
            # The API says where it listens at level info: with INFO read as "off" it would not.
            api = Api.run([fx.TASKQ, "--redis-url", redis.url, "--log-level", "INFO", "api",
                           "--listen", "127.0.0.1:0", "--dashboard-listen", ""])
            self.assertEqual(api.request("GET", "/readyz")[0], 200)
            listed = self.taskq("--redis-url", redis.url, "schedules",
                                env={"TASKQ_LOG_LEVEL": "Debug"})
            self.assertEqual(listed.returncode, 0, listed.stderr)
            api.stop()
            # --log-format json: every line one JSON object, a message with quotes included.
            api = Api.run([fx.TASKQ, "--redis-url", redis.url, "--log-format", "json", "api",
                           "--listen", "127.0.0.1:0", "--dashboard-listen", ""])
            self.assertEqual(api.request("GET", "/readyz")[0], 200)
            with open(api.log.name) as f:
                lines = [json.loads(line) for line in f if line.strip()]
            self.assertTrue(any("API listening on" in line["message"] for line in lines), lines)
            for line in lines:
                self.assertEqual(set(line), {"time", "level", "pid", "message"})
                self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            bad = self.taskq("--log-format", "xml", "schedules", check=False)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("--log-format", bad.stderr + bad.stdout)
        finally:
            if api:
                api.stop()
            redis.stop()


if __name__ == "__main__":
    fx.main()
