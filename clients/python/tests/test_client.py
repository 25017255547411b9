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

    def refusal(self, call, *args, **kwargs):
        """The TaskqError that call(*args, **kwargs) raises."""
        with self.assertRaises(TaskqError) as refused:
            call(*args, **kwargs)
        return refused.exception

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

    def test_a_flow_is_submitted_read_and_its_parent_runs_after_its_children(self):
        def mail(ref, parent=None, **fields):
            job = {"ref": ref, "type": "email", "data": {"to": f"{ref}@example.com",
                                                         "subject": ref}, **fields}
            if parent is not None:
                job["parent"] = parent
            return job

        submitted = self.client.submit_flow(
            [mail("digest"), mail("eu", "digest"), mail("us", "digest", on_failure="continue")],
            idempotency_key="py-flow-1")
        self.assertEqual((submitted["id"], submitted["created"]), ("email:py-flow-1", True))
        self.assertEqual([j["id"] for j in submitted["jobs"]],
                         ["py-flow-1.digest", "py-flow-1.eu", "py-flow-1.us"])
        self.assertEqual(submitted["jobs"][0]["state"], "held")
        again = self.client.submit_flow([mail("digest"), mail("eu", "digest"),
                                         mail("us", "digest", on_failure="continue")],
                                        idempotency_key="py-flow-1")
        self.assertFalse(again["created"])

        root = self.client.wait("py-flow-1.digest", queue="email", timeout_ms=15000)
        self.assertEqual(root["state"], "completed", root)
        flow = self.client.get_flow(submitted["id"])
        self.assertEqual(flow["state"], "completed")
        jobs = {j["ref"]: j for j in flow["jobs"]}
        self.assertEqual((jobs["us"]["parent"], jobs["us"]["on_failure"]), ("digest", "continue"))
        self.assertEqual(jobs["digest"]["children"]["completed"], 2)
        children_done = max(self.client.get_job(f"py-flow-1.{r}")["finished_ms"]
                            for r in ("eu", "us"))
        self.assertLessEqual(children_done, root["started_ms"])

    def test_a_chain_runs_in_order_and_a_flow_is_cancelled(self):
        steps = [{"type": "email", "data": {"to": "c@example.com", "subject": str(n)}}
                 for n in (1, 2)]
        chain = self.client.submit_flow(chain=steps, flow_id="py-chain")
        self.assertEqual([j["ref"] for j in chain["jobs"]], ["step1", "step2"])
        last = self.client.wait("py-chain.step2", queue="email", timeout_ms=15000)
        self.assertEqual(last["state"], "completed", last)
        self.assertLessEqual(self.client.get_job("py-chain.step1")["finished_ms"],
                             last["started_ms"])

        # Paused, the queue leaves the flow waiting until it is cancelled.
        self.client.pause("email")
        try:
            held = self.client.submit_flow([
                {"ref": "root", "type": "email", "data": {"to": "p@example.com", "subject": "r"}},
                {"ref": "leaf", "parent": "root", "type": "email",
                 "data": {"to": "p@example.com", "subject": "l"}}], flow_id="py-held")
            self.assertEqual(self.client.cancel_flow(held["id"]),
                             {"id": "email:py-held", "outcome": "cancelled"})
        finally:
            self.client.resume("email")
        flow = self.client.get_flow("email:py-held")
        self.assertEqual(flow["state"], "dead")
        self.assertEqual({j["ref"]: (j["state"], j["cancelled"]) for j in flow["jobs"]},
                         {"root": ("dead", True), "leaf": ("dead", True)})
        with self.assertRaises(TaskqError) as finished:
            self.client.cancel_flow("email:py-held")
        self.assertEqual(finished.exception.status, 409)
        with self.assertRaises(TaskqError) as missing:
            self.client.get_flow("email:no-such-flow")
        self.assertEqual(missing.exception.status, 404)

    def test_an_open_batch_takes_additions_and_runs_its_callback_once_closed(self):
        def mail(subject):
            return {"type": "email", "data": {"to": "feed@example.com", "subject": subject}}

        submitted = self.client.submit_batch([mail("page 0")], on_complete=mail("summary"),
                                             batch_id="py-feed", open=True)
        self.assertEqual((submitted["id"], submitted["queue"], submitted["state"],
                          submitted["created"]), ("email:py-feed", "email", "open", True))
        self.assertEqual(submitted["jobs"], [{"id": "py-feed.0"}])
        self.assertEqual(submitted["on_complete"], {"id": "py-feed.on_complete"})
        self.assertIsNone(submitted["on_success"])
        self.assertFalse(self.client.submit_batch([mail("page 0")], batch_id="py-feed",
                                                  open=True)["created"])

        added = self.client.add_to_batch("email:py-feed", [mail("page 1"), mail("page 2")],
                                         addition_id="more")
        self.assertEqual((added["addition_id"], added["created"]), ("more", True))
        self.assertEqual([j["id"] for j in added["jobs"]], ["py-feed.more-0", "py-feed.more-1"])
        self.assertFalse(self.client.add_to_batch("email:py-feed", [mail("page 1")],
                                                  addition_id="more")["created"])
        for member in ("py-feed.0", "py-feed.more-0", "py-feed.more-1"):
            self.assertEqual(self.client.wait(member, queue="email", timeout_ms=15000)["state"],
                             "completed")

        # Every member has completed, but an open batch holds its callback until the close.
        batch = self.client.get_batch("email:py-feed")
        self.assertEqual((batch["state"], batch["total"], batch["pending"], batch["completed"],
                          batch["dead"]), ("open", 3, 0, 3, 0))
        self.assertEqual(batch["on_complete"]["state"], "held")
        self.assertEqual(self.client.get_job("py-feed.0", queue="email")["batch"]["role"],
                         "member")

        self.assertEqual(self.client.close_batch("email:py-feed"),
                         {"id": "email:py-feed", "outcome": "closed"})
        callback = self.client.wait("py-feed.on_complete", queue="email", timeout_ms=15000)
        self.assertEqual(callback["state"], "completed", callback)
        self.assertEqual(callback["batch"]["role"], "on_complete")
        batch = self.client.get_batch("email:py-feed")
        self.assertEqual((batch["state"], batch["cancelled"]), ("finished", False))
        self.assertIsNotNone(batch["finished_ms"])
        self.assertEqual(batch["on_complete"]["state"], "completed")
        self.assertEqual(self.client.close_batch("email:py-feed")["outcome"], "already_closed")
        finished = self.refusal(self.client.add_to_batch, "email:py-feed", [mail("late")])
        self.assertEqual((finished.status, finished.code), (409, "batch_finished"))

    def test_a_batch_is_cancelled_and_its_errors_name_the_field(self):
        # Delayed, the members wait until the batch is cancelled.
        mail = {"type": "email", "data": {"to": "b@example.com", "subject": "member"},
                "delay_ms": 600000}
        submitted = self.client.submit_batch(
            [mail, mail], on_success={"type": "email", "data": {"to": "b@example.com",
                                                                "subject": "all sent"}},
            idempotency_key="py-cancelled")
        self.assertEqual((submitted["id"], submitted["state"]), ("email:py-cancelled", "running"))
        self.assertEqual(self.client.cancel_batch(submitted["id"]),
                         {"id": "email:py-cancelled", "outcome": "cancelled"})
        batch = self.client.get_batch("email:py-cancelled")
        self.assertEqual((batch["state"], batch["cancelled"], batch["total"], batch["dead"]),
                         ("finished", True, 2, 2))
        self.assertEqual((batch["on_success"]["state"], batch["on_success"]["cancelled"]),
                         ("dead", True))
        self.assertIsNone(batch["on_complete"])
        again = self.refusal(self.client.cancel_batch, "email:py-cancelled")
        self.assertEqual((again.status, again.code), (409, "batch_finished"))

        self.assertEqual(self.refusal(self.client.get_batch, "email:no-such-batch").status, 404)
        self.assertEqual(self.refusal(self.client.close_batch, "email:no-such-batch").status, 404)
        elsewhere = self.refusal(self.client.submit_batch, [mail, {**mail, "queue": "other"}],
                                 batch_id="py-refused")
        self.assertEqual((elsewhere.status, elsewhere.code, elsewhere.field),
                         (422, "invalid_field", "jobs[1].queue"))
        self.assertEqual(self.refusal(self.client.get_batch, "email:py-refused").status, 404,
                         "a refused batch writes nothing")


if __name__ == "__main__":
    fx.main()
