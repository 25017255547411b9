#!/usr/bin/python3
"""Tests of the Python client against a running taskq, from source (PYTHONPATH: no install):
a real redis-server, `taskq api` and `taskq worker` (the built-in email handler writing to its
outbox), through tests/system/api_fixtures.py.

    test_client.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "system"))

import api_fixtures as fx  # noqa: E402
from api_fixtures import Api, Redis, wait_until  # noqa: E402
from taskq_client import TaskqClient, TaskqError  # noqa: E402


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.data_dir = tempfile.mkdtemp(prefix="taskq-python-client-")
        cls.api = Api(cls.redis.url)
        cls.worker = subprocess.Popen(
            [fx.TASKQ, "--redis-url", cls.redis.url, "worker", "--queues", "email=2",
             "--data-dir", cls.data_dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.client = TaskqClient(f"http://127.0.0.1:{cls.api.port}")

    @classmethod
    def tearDownClass(cls):
        cls.worker.terminate()
        cls.worker.wait(30)
        cls.api.stop()
        cls.redis.stop()
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    def test_the_readmes_example_enqueues_the_quick_start_job_and_it_completes(self):
        job = self.client.enqueue("email", {"to": "user@example.com", "subject": "Hello"})
        self.assertEqual((job["queue"], job["state"], job["created"]), ("email", "waiting", True))
        done = self.client.wait(job["id"], queue=job["queue"], timeout_ms=15000)
        self.assertEqual(done["state"], "completed", done)
        self.assertEqual(done["result"]["delivery"], "outbox")
        with open(done["result"]["path"], encoding="utf-8") as f:
            self.assertIn("Subject: Hello", f.read())
        self.assertEqual(self.client.get_job(job["id"])["id"], job["id"])
        self.assertIn("email", [q["name"] for q in self.client.queues()])

    def test_options_idempotency_and_trace_reach_the_api(self):
        trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        first = self.client.enqueue("email", {"to": "a@example.com", "subject": "Later"},
                                    delay_ms=600000, priority=-3, idempotency_key="py-order-1",
                                    traceparent=trace)
        self.assertEqual((first["id"], first["state"]), ("py-order-1", "delayed"))
        again = self.client.enqueue("email", {"to": "a@example.com", "subject": "Later"},
                                    delay_ms=600000, priority=-3, idempotency_key="py-order-1")
        self.assertFalse(again["created"])
        stored = self.client.get_job("py-order-1", queue="email")
        self.assertEqual((stored["priority"], stored["options"]["traceparent"]), (-3, trace))
        self.assertEqual(self.client.promote("py-order-1", queue="email")["state"], "waiting")
        self.assertEqual(self.client.wait("py-order-1", timeout_ms=15000)["state"], "completed")
        bulk = self.client.enqueue_bulk([{"type": "email", "data": {"to": "b@example.com",
                                                                    "subject": str(i)}}
                                         for i in range(3)])
        self.assertEqual([b["created"] for b in bulk], [True, True, True])

    def test_errors_carry_the_status_code_and_field(self):
        with self.assertRaises(TaskqError) as refused:
            self.client.enqueue("email", {"to": "not an address", "subject": "x"})
        self.assertEqual((refused.exception.status, refused.exception.code),
                         (422, "invalid_field"))
        self.assertEqual(refused.exception.field, "data.to")
        self.assertTrue(refused.exception.message)
        self.assertEqual(refused.exception.errors,
                         [{"field": "data.to", "detail": refused.exception.message}])
        with self.assertRaises(TaskqError) as missing:
            self.client.get_job("no-such-job", queue="email")
        self.assertEqual(missing.exception.status, 404)
        with self.assertRaises(TaskqError) as unknown:
            self.client.pause("no-such-queue")
        self.assertEqual((unknown.exception.status, unknown.exception.field), (404, "queue"))
        self.client.enqueue("email", {"to": "c@example.com", "subject": "x"}, delay_ms=600000)
        self.assertEqual(self.client.pause("email")["paused"], True)
        self.assertEqual(self.client.resume("email")["paused"], False)


if __name__ == "__main__":
    fx.main()
