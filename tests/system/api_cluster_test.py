#!/usr/bin/python3
"""System tests of taskq on a Redis Cluster, run as api_fixtures.py describes, on the local
cluster of 3 masters and 3 replicas that CTest starts as a fixture (tests/testing/redis_cluster.py;
its directory is in TASKQ_TEST_CLUSTER).

The README's quick start through a redis+cluster:// URL: `taskq up` (API, dashboard, workers and
scheduler) runs the email job, the dashboard's live events arrive, a schedule fires, and the
command line reads the cluster. And the quick start on a cluster that speaks TLS only
(rediss+cluster://), which the test starts itself.

    api_cluster_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import api_fixtures as fx
from api_fixtures import Redis, documented_acl_rules, free_port, listening_ports, wait_until


def cluster_nodes():
    """The fixture cluster's "127.0.0.1:PORT" nodes; None outside ctest."""
    directory = os.environ.get("TASKQ_TEST_CLUSTER")
    if not directory:
        return None
    with open(os.path.join(directory, "nodes")) as f:
        return [line.strip() for line in f if line.strip()]


def cluster_url(auth=""):
    nodes = cluster_nodes()
    return None if nodes is None else "redis+cluster://" + auth + ",".join(nodes[:2])


def node_cli(node, *args):
    return subprocess.run(["redis-cli", "-p", node.rsplit(":", 1)[1], *args],
                          capture_output=True, text=True, timeout=10).stdout


class UpOnACluster:
    """`taskq up` on the cluster `self.url` names, with `self.global_flags` and `self.up_flags`."""
    global_flags = ()
    up_flags = ()

    def start_up(self):
        self.data_dir = tempfile.mkdtemp(prefix="taskq-up-cluster-")
        self.log = open(os.path.join(self.data_dir, "up.log"), "w")
        self.up = subprocess.Popen(
            [fx.TASKQ, "--redis-url", self.url, *self.global_flags, "up", "--data-dir",
             self.data_dir, "--listen", "127.0.0.1:0", "--dashboard-listen", "127.0.0.1:0",
             *self.up_flags],
            stdout=self.log, stderr=subprocess.STDOUT)

        def ready():
            port = listening_ports(self.log.name)[0]
            if port is None:
                return False
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/readyz")
                return conn.getresponse().status == 200
            except OSError:
                return False
            finally:
                conn.close()
        if not wait_until(ready, timeout=30):
            with open(self.log.name) as f:
                self.fail("taskq up did not become ready: " + f.read()[-2000:])
        self.api_port, self.dashboard_port = listening_ports(self.log.name)[:2]

    def stop_up(self):
        if hasattr(self, "up"):
            self.up.terminate()
            self.assertEqual(self.up.wait(30), 0)
            self.log.close()
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=30)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            conn.close()

    def run_the_quick_start_email(self):
        """The README's curl; the job completes into the outbox. Returns the job."""
        result = subprocess.run(
            ["curl", "-s", "-X", "POST", f"http://localhost:{self.api_port}/api/jobs", "-H",
             "Content-Type: application/json", "-d",
             '{"type": "email", "data": {"to": "user@example.com", "subject": "Hello"}}'],
            capture_output=True, text=True, check=True)
        created = json.loads(result.stdout)
        self.assertEqual(created["state"], "waiting", created)
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=30)
        conn.request("GET", created["links"]["wait"] + "&timeout_ms=10000")
        job = json.loads(conn.getresponse().read())
        conn.close()
        self.assertEqual(job["state"], "completed", job)
        self.assertEqual(job["result"]["delivery"], "outbox")
        with open(job["result"]["path"], encoding="utf-8") as f:
            message = f.read()
        self.assertIn("To: user@example.com", message)
        self.assertIn("Subject: Hello", message)
        return job


class ClusterQuickStartTest(UpOnACluster, unittest.TestCase):
    def setUp(self):
        self.url = cluster_url()
        if self.url is None:
            self.skipTest("run under ctest (label cluster), which starts the cluster")
        self.start_up()

    def tearDown(self):
        self.stop_up()

    def test_the_quick_start_email_runs_and_the_dashboard_sees_it_live(self):
        # An open dashboard (loopback, no users) gives a session to whoever asks.
        session = http.client.HTTPConnection("127.0.0.1", self.dashboard_port, timeout=30)
        session.request("GET", "/admin/queues/session")
        answer = session.getresponse()
        answer.read()
        session.close()
        cookie = answer.getheader("Set-Cookie").split(";")[0]
        events = http.client.HTTPConnection("127.0.0.1", self.dashboard_port, timeout=30)
        events.request("GET", "/admin/queues/api/events", headers={"Cookie": cookie})
        stream = events.getresponse()
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.getheader("Content-Type"), "text/event-stream")
        stream.fp.readline()  # "retry: ..." and the snapshot come first

        created = self.run_the_quick_start_email()

        # The live view heard the job complete (the event stream of the email queue's master).
        deadline = time.monotonic() + 20
        seen = ""
        while time.monotonic() < deadline and not (
                created["id"] in seen and '"event":"completed"' in seen):
            seen += stream.fp.readline().decode("utf-8", "replace")
        self.assertIn(created["id"], seen)
        self.assertIn('"event":"completed"', seen)
        events.close()

        # The command line reads the cluster too.
        stats = subprocess.run([fx.TASKQ, "--redis-url", self.url, "stats"], capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(stats.returncode, 0, stats.stderr)
        self.assertIn("email", stats.stdout)

    def test_a_schedule_fires_on_the_cluster(self):
        schedule_id = f"every-second-{os.getpid()}"
        status, created = self.request("POST", "/api/schedules", {
            "id": schedule_id, "cron": "* * * * * *", "type": "email",
            "data": {"to": "user@example.com", "subject": "Tick"}})
        self.assertEqual(status, 201, created)
        try:
            self.assertTrue(wait_until(
                lambda: self.request("GET", f"/api/schedules/{schedule_id}")[1].get("last_run"),
                timeout=15))
            last = self.request("GET", f"/api/schedules/{schedule_id}")[1]["last_run"]
            job_id = last["job_id"]
            self.assertTrue(wait_until(
                lambda: self.request("GET", f"/api/jobs/{job_id}?queue=email")[1].get("state")
                == "completed", timeout=15))
        finally:
            self.assertEqual(self.request("DELETE", f"/api/schedules/{schedule_id}")[0], 200)


class ClusterLeastPrivilegeUserTest(UpOnACluster, unittest.TestCase):
    """The quick start, queue actions and a schedule as the documented ACL user, made on every
    node of the fixture cluster: no node refuses anything (ACL LOG names the user nowhere)."""

    def setUp(self):
        if cluster_nodes() is None:
            self.skipTest("run under ctest (label cluster), which starts the cluster")
        self.user = f"taskq-{os.getpid()}"
        rules = [w.replace("CHANGE-ME", "pw-for-taskq") for w in documented_acl_rules()]
        for node in cluster_nodes():
            self.assertEqual(node_cli(node, "ACL", "SETUSER", self.user, *rules).strip(), "OK")
        self.url = cluster_url(f"{self.user}:pw-for-taskq@")
        self.start_up()

    def tearDown(self):
        self.stop_up()
        for node in cluster_nodes() or []:
            node_cli(node, "ACL", "DELUSER", self.user)

    def test_the_documented_acl_user_runs_the_quick_start_on_every_node(self):
        self.run_the_quick_start_email()
        for method, path, body in (
                ("POST", "/api/queues/email/pause", None),
                ("POST", "/api/queues/email/resume", None),
                ("PUT", "/api/queues/email/limits", {"concurrency": 5}),
                ("GET", "/api/queues", None),
                ("GET", "/api/queues/email/jobs?state=completed", None),
                ("POST", "/api/schedules", {"id": f"acl-{os.getpid()}", "cron": "@daily",
                                            "type": "email", "data": {"to": "a@example.com",
                                                                      "subject": "x"}}),
                ("DELETE", f"/api/schedules/acl-{os.getpid()}", None)):
            status, reply = self.request(method, path, body)
            self.assertIn(status, (200, 201), (method, path, reply))
        for node in cluster_nodes():
            self.assertNotIn(self.user, node_cli(node, "ACL", "LOG"), node)


class TlsClusterQuickStartTest(UpOnACluster, unittest.TestCase):
    """A cluster of 3 masters that speaks TLS only, to clients and between its nodes, and asks
    for client certificates: rediss+cluster:// with the --redis-tls-* flags."""

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="taskq-cluster-certs-")
        script = os.path.join(os.path.dirname(__file__), "..", "testing",
                              "make_test_certificates.sh")
        subprocess.run([script, cls.certs], check=True, timeout=60)
        c = cls.certs
        cls.nodes = []
        try:
            while len(cls.nodes) < 3:
                port = free_port()
                if port > 55000:
                    continue  # its cluster bus port (+10000) must exist
                cls.nodes.append(Redis(
                    "--port", "0", "--tls-port", str(port), "--tls-cert-file", f"{c}/server.pem",
                    "--tls-key-file", f"{c}/server.key", "--tls-ca-cert-file", f"{c}/ca.pem",
                    # the certificate a node shows the others (the server's is for servers only)
                    "--tls-client-cert-file", f"{c}/client.pem", "--tls-client-key-file",
                    f"{c}/client.key", "--tls-cluster", "yes", "--tls-replication", "yes", "--cluster-enabled",
                    "yes", "--cluster-config-file", "nodes.conf"))
                cls.nodes[-1].tls_port = port
            cls.tls_cli = ["redis-cli", "--tls", "--cacert", f"{c}/ca.pem", "--cert",
                           f"{c}/client.pem", "--key", f"{c}/client.key"]
            subprocess.run([*cls.tls_cli, "--cluster", "create",
                            *[f"127.0.0.1:{n.tls_port}" for n in cls.nodes],
                            "--cluster-replicas", "0", "--cluster-yes"],
                           check=True, capture_output=True, timeout=60)

            def settled():
                return all("cluster_state:ok" in subprocess.run(
                    [*cls.tls_cli, "-p", str(n.tls_port), "CLUSTER", "INFO"],
                    capture_output=True, text=True, timeout=10).stdout for n in cls.nodes)
            if not wait_until(settled, timeout=30):
                raise RuntimeError("the TLS cluster did not settle")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for node in cls.nodes:
            node.stop()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def setUp(self):
        c = self.certs
        self.url = f"rediss+cluster://127.0.0.1:{self.nodes[0].tls_port}"
        self.global_flags = ("--redis-tls-ca", f"{c}/ca.pem", "--redis-tls-cert",
                             f"{c}/client.pem", "--redis-tls-key", f"{c}/client.key")
        self.up_flags = ("--queues", "email=2,q0=2,q1=2,q2=2", "--type-queues", "email=*")
        self.start_up()

    def tearDown(self):
        self.stop_up()

    def test_the_quick_start_email_runs_on_every_master_over_tls(self):
        self.run_the_quick_start_email()
        # The email queue lives on one master; q0, q1 and q2 on the three (slots 3387, 7450 and
        # 11641 of the ranges redis-cli gives three masters).
        for queue in ("q0", "q1", "q2"):
            status, created = self.request("POST", "/api/jobs", {
                "type": "email", "queue": queue,
                "data": {"to": "user@example.com", "subject": queue}})
            self.assertEqual(status, 201, created)
        self.assertTrue(wait_until(lambda: all(
            self.request("GET", f"/api/queues/{q}")[1]["counts"]["completed"] == 1
            for q in ("q0", "q1", "q2")), timeout=20))


if __name__ == "__main__":
    fx.main()
