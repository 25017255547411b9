#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

Batches (docs/workflows.md, "Batches"): independent jobs in one queue, with an on_complete
callback that runs once every member settled and an on_success callback that runs once every
member completed. The test worker's "tally" returns the counts its batch gave it
(JobContext::batch); the queue "batchesp" runs it in handler processes.

    api_batches_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import itertools
import json
import subprocess
import unittest

import api_fixtures as fx
from api_fixtures import Api, Redis, Worker, wait_until

QUEUE = "batches"           # served by the test worker
PROCESS_QUEUE = "batchesp"  # served by the test worker, each handler in a handler process
IDLE_QUEUE = "parked"       # served by nobody: members stay waiting, callbacks held

_keys = itertools.count(1)


def new_key(prefix="b"):
    return f"{prefix}{next(_keys)}"


def job(type_, queue=QUEUE, **fields):
    return {"type": type_, "queue": queue, "data": fields.pop("data", {}), **fields}


class BatchesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.api = Api(cls.redis.url, "--job-types", "sleep,fail,echo,tally",
                      "--max-batch-jobs", "50", "--max-batch-total", "60")
        cls.worker = Worker(cls.redis.url, f"{QUEUE}=8,{PROCESS_QUEUE}=2:process")

    @classmethod
    def tearDownClass(cls):
        cls.worker.stop()
        cls.api.stop()
        cls.redis.stop()

    # --- helpers ---

    def post(self, path, body, headers=None):
        return self.api.request("POST", path, body,
                                {"Content-Type": "application/json", **(headers or {})})

    def submit(self, body, headers=None):
        return self.post("/api/batches", body, headers)

    def batch(self, batch_id):
        status, body, _ = self.api.request("GET", f"/api/batches/{batch_id}")
        self.assertEqual(status, 200, body)
        return body

    def finished_batch(self, batch_id, timeout=20):
        done = wait_until(lambda: (lambda b: b if b["state"] == "finished" else None)(
            self.batch(batch_id)), timeout=timeout)
        self.assertTrue(done, self.batch(batch_id))
        return done

    def job(self, job_id, queue=QUEUE):
        status, body, _ = self.api.request("GET", f"/api/jobs/{job_id}?queue={queue}")
        self.assertEqual(status, 200, body)
        return body

    def settled_job(self, job_id, queue=QUEUE):
        done = wait_until(lambda: (lambda j: j if j["state"] in ("completed", "dead") else None)(
            self.job(job_id, queue)), timeout=20)
        self.assertTrue(done, self.job(job_id, queue))
        return done

    # --- tests ---

    def test_both_callbacks_run_once_after_every_member_and_see_the_counts(self):
        key = new_key()
        batch_id = f"{QUEUE}:{key}"
        status, body, headers = self.submit({
            "batch_id": key, "jobs": [job("sleep", data={"ms": 10 * (i % 4)}) for i in range(20)],
            "on_complete": job("tally"), "on_success": job("tally")})
        self.assertEqual(status, 201, body)
        self.assertEqual((body["id"], body["queue"], body["created"]), (batch_id, QUEUE, True))
        self.assertEqual(headers["Location"], f"/api/batches/{batch_id}")
        self.assertEqual([j["id"] for j in body["jobs"]], [f"{key}.{i}" for i in range(20)])
        self.assertEqual(body["on_complete"], {"id": f"{key}.on_complete"})
        self.assertEqual(body["on_success"], {"id": f"{key}.on_success"})

        batch = self.finished_batch(batch_id)
        self.assertEqual((batch["total"], batch["pending"], batch["completed"], batch["dead"]),
                         (20, 0, 20, 0))
        self.assertFalse(batch["cancelled"])
        self.assertIsNotNone(batch["finished_ms"])
        members = [self.job(f"{key}.{i}") for i in range(20)]
        last_member = max(m["finished_ms"] for m in members)
        for ref in ("on_complete", "on_success"):
            callback = self.settled_job(f"{key}.{ref}")
            self.assertEqual(callback["state"], "completed", ref)
            self.assertEqual(callback["attempts"], 1, ref)  # ran exactly once
            self.assertGreaterEqual(callback["started_ms"], last_member, ref)
            self.assertEqual(callback["result"],
                             {"batch": {"id": batch_id, "total": 20, "completed": 20, "dead": 0}})
            self.assertEqual(callback["batch"], {"id": batch_id, "role": ref,
                                                 "links": {"batch": f"/api/batches/{batch_id}"}})
            self.assertNotIn("flow", callback)
        self.assertEqual(members[3]["batch"]["role"], "member")
        batch = self.batch(batch_id)
        self.assertEqual(batch["on_complete"],
                         {"id": f"{key}.on_complete", "state": "completed", "cancelled": False})
        self.assertEqual(batch["on_success"]["state"], "completed")

    def test_a_dead_member_cancels_on_success_and_on_complete_counts_it(self):
        key = new_key()
        batch_id = f"{QUEUE}:{key}"
        status, body, _ = self.submit({
            "batch_id": key,
            "jobs": [job("echo"), job("fail", max_attempts=1), job("echo")],
            "on_complete": job("tally"), "on_success": job("tally")})
        self.assertEqual(status, 201, body)
        batch = self.finished_batch(batch_id)
        self.assertEqual((batch["total"], batch["completed"], batch["dead"]), (3, 2, 1))
        self.assertEqual((batch["on_success"]["state"], batch["on_success"]["cancelled"]),
                         ("dead", True))
        on_success = self.job(f"{key}.on_success")
        self.assertEqual(on_success["error"], f"cancelled: batch job {key}.1 died")
        self.assertNotIn("started_ms", on_success)  # never ran
        on_complete = self.settled_job(f"{key}.on_complete")
        self.assertEqual(on_complete["state"], "completed")
        self.assertEqual(on_complete["result"]["batch"],
                         {"id": batch_id, "total": 3, "completed": 2, "dead": 1})

    def test_a_callback_in_a_handler_process_reads_its_counts(self):
        key = new_key("p")
        batch_id = f"{PROCESS_QUEUE}:{key}"
        status, body, _ = self.submit({"batch_id": key,
                                       "jobs": [job("echo", PROCESS_QUEUE) for _ in range(3)],
                                       "on_complete": job("tally", PROCESS_QUEUE)})
        self.assertEqual(status, 201, body)
        self.finished_batch(batch_id)
        on_complete = self.settled_job(f"{key}.on_complete", PROCESS_QUEUE)
        self.assertEqual(on_complete["result"]["batch"],
                         {"id": batch_id, "total": 3, "completed": 3, "dead": 0})

    def test_an_open_batch_takes_additions_and_runs_its_callbacks_once_closed(self):
        key = new_key()
        batch_id = f"{QUEUE}:{key}"
        status, body, _ = self.submit({"batch_id": key, "open": True, "jobs": [job("echo")],
                                       "on_complete": job("tally")})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["state"], "open")
        self.settled_job(f"{key}.0")
        self.assertEqual(self.batch(batch_id)["state"], "open")

        path = f"/api/batches/{batch_id}/jobs"
        status, added, _ = self.post(path, {"addition_id": "more", "jobs": [job("echo")] * 2})
        self.assertEqual(status, 201, added)
        self.assertEqual(added["addition_id"], "more")
        self.assertEqual([j["id"] for j in added["jobs"]], [f"{key}.more-0", f"{key}.more-1"])
        # The same addition again adds nothing.
        status, again, _ = self.post(path, {"addition_id": "more", "jobs": [job("echo")] * 2})
        self.assertEqual((status, again["created"]), (200, False), again)
        # An Idempotency-Key names the addition; without either, one is generated.
        status, keyed, _ = self.post(path, {"jobs": [job("echo")]}, {"Idempotency-Key": "k1"})
        self.assertEqual((status, keyed["addition_id"]), (201, "k1"), keyed)
        status, generated, _ = self.post(path, {"jobs": [job("echo")]})
        self.assertEqual(status, 201, generated)
        self.assertRegex(generated["addition_id"], r"^[0-9A-Z]{20}$")
        for added_job in added["jobs"] + keyed["jobs"] + generated["jobs"]:
            self.settled_job(added_job["id"])
        self.assertEqual(self.job(f"{key}.on_complete")["state"], "held")  # waits for the close

        status, body, _ = self.post(f"/api/batches/{batch_id}/close", None)
        self.assertEqual((status, body), (200, {"id": batch_id, "outcome": "closed"}))
        batch = self.finished_batch(batch_id)
        self.assertEqual((batch["total"], batch["completed"]), (5, 5))
        on_complete = self.settled_job(f"{key}.on_complete")
        self.assertEqual(on_complete["result"]["batch"]["total"], 5)
        status, body, _ = self.post(f"/api/batches/{batch_id}/close", None)
        self.assertEqual((status, body["outcome"]), (200, "already_closed"))
        # Finished: no more additions.
        status, body, _ = self.post(path, {"jobs": [job("echo")]})
        self.assertEqual((status, body["code"]), (409, "batch_finished"), body)
        self.assertEqual(self.batch(batch_id)["total"], 5)

    def test_the_same_idempotency_key_answers_200_with_the_batch(self):
        key = new_key("idem-")
        body = {"jobs": [job("echo", IDLE_QUEUE)] * 3, "on_complete": job("tally", IDLE_QUEUE)}
        status, first, _ = self.submit(body, {"Idempotency-Key": key})
        self.assertEqual(status, 201, first)
        self.assertEqual(first["id"], f"{IDLE_QUEUE}:{key}")
        status, again, _ = self.submit(body, {"Idempotency-Key": key})
        self.assertEqual(status, 200, again)
        self.assertFalse(again["created"])
        self.assertEqual([j["id"] for j in again["jobs"]], [j["id"] for j in first["jobs"]])
        self.assertEqual(self.batch(first["id"])["total"], 3)

    def test_delete_cancels_the_members_and_the_callbacks(self):
        key = new_key()
        batch_id = f"{IDLE_QUEUE}:{key}"
        status, body, _ = self.submit({"batch_id": key, "jobs": [job("echo", IDLE_QUEUE)] * 2,
                                       "on_complete": job("tally", IDLE_QUEUE),
                                       "on_success": job("tally", IDLE_QUEUE)})
        self.assertEqual(status, 201, body)
        self.assertEqual(self.batch(batch_id)["state"], "running")
        status, body, _ = self.api.request("DELETE", f"/api/batches/{batch_id}")
        self.assertEqual((status, body), (200, {"id": batch_id, "outcome": "cancelled"}))
        batch = self.batch(batch_id)
        self.assertEqual((batch["state"], batch["cancelled"], batch["dead"]),
                         ("finished", True, 2))
        for ref in ("on_complete", "on_success"):
            self.assertEqual((batch[ref]["state"], batch[ref]["cancelled"]), ("dead", True))
        for ref in ("0", "1"):
            self.assertEqual(self.job(f"{key}.{ref}", IDLE_QUEUE)["state"], "dead")
        status, body, _ = self.api.request("DELETE", f"/api/batches/{batch_id}")
        self.assertEqual((status, body["code"]), (409, "batch_finished"), body)
        status, body, _ = self.post(f"/api/batches/{batch_id}/jobs",
                                    {"jobs": [job("echo", IDLE_QUEUE)]})
        self.assertEqual((status, body["code"]), (409, "batch_finished"), body)

    def test_an_unknown_batch_is_404(self):
        unknown = f"{QUEUE}:no-such-batch"
        for method, path, body in (("GET", f"/api/batches/{unknown}", None),
                                   ("DELETE", f"/api/batches/{unknown}", None),
                                   ("POST", f"/api/batches/{unknown}/close", None),
                                   ("POST", f"/api/batches/{unknown}/jobs",
                                    {"jobs": [job("echo")]})):
            status, answer, _ = self.api.request(method, path, body)
            self.assertEqual(status, 404, (method, path, answer))
        status, body, _ = self.api.request("GET", "/api/batches/not-a-batch-id")
        self.assertEqual((status, body["field"]), (422, "id"))
        # A flow is not a batch.
        flow_key = new_key("flow")
        status, body, _ = self.post("/api/flows", {"flow_id": flow_key, "jobs": [
            {"ref": "root", "type": "echo", "queue": IDLE_QUEUE}]})
        self.assertEqual(status, 201, body)
        self.assertEqual(self.api.request("GET", f"/api/batches/{IDLE_QUEUE}:{flow_key}")[0], 404)
        status, body, _ = self.submit({"batch_id": flow_key, "jobs": [job("echo", IDLE_QUEUE)]})
        self.assertEqual(status, 409, body)

    def test_every_invalid_field_is_named_with_its_rule(self):
        def fields(body):
            status, answer, _ = self.submit(body)
            self.assertEqual(status, 422, answer)
            return {e["field"]: e["detail"] for e in answer["errors"]}

        errors = fields({"jobs": [job("echo"), job("echo"), job("echo"), job("echo", IDLE_QUEUE)],
                         "on_success": job("echo", job_id="mine")})
        self.assertEqual(set(errors), {"jobs[3].queue", "on_success.job_id"})
        self.assertIn("every job of a batch must be in one queue", errors["jobs[3].queue"])
        errors = fields({"jobs": [job("echo")] * 51})
        self.assertEqual(set(errors), {"jobs"})
        self.assertIn("at most 50", errors["jobs"])
        errors = fields({"batch_id": "a.b", "jobs": [job("echo", unique=True), {"data": {}}],
                         "open": "yes", "retention_ms": -5, "colour": "red"})
        self.assertEqual(set(errors), {"batch_id", "jobs[1].type", "open", "retention_ms",
                                       "colour"})
        self.assertEqual(set(fields({"jobs": []})), {"jobs"})
        self.assertEqual(set(fields({"jobs": [job("no-such-type")]})), {"jobs[0].type"})
        # Nothing was written: no batch took those ids.
        self.assertEqual(self.api.request("GET", f"/api/batches/{QUEUE}:a")[0], 404)
        status, body, _ = self.submit(None, {})
        self.assertIn(status, (400, 422), body)

        # An addition: its jobs go to the batch's queue; the total stays under its cap (60).
        key = new_key()
        batch_id = f"{IDLE_QUEUE}:{key}"
        status, body, _ = self.submit({"batch_id": key, "open": True,
                                       "jobs": [job("echo", IDLE_QUEUE)] * 40})
        self.assertEqual(status, 201, body)
        path = f"/api/batches/{batch_id}/jobs"
        status, body, _ = self.post(path, {"jobs": [job("echo", IDLE_QUEUE), job("echo")]})
        self.assertEqual((status, body["field"]), (422, "jobs[1].queue"), body)
        status, body, _ = self.post(path, {"jobs": [job("echo", IDLE_QUEUE)] * 21})
        self.assertEqual((status, body["field"]), (422, "jobs"), body)
        self.assertIn("a batch holds at most 60", body["detail"])
        status, body, _ = self.post(path, {"jobs": [job("echo", IDLE_QUEUE)] * 20})
        self.assertEqual(status, 201, body)
        self.assertEqual(self.batch(batch_id)["total"], 60)

    def test_the_cli_creates_adds_closes_shows_and_cancels_a_batch(self):
        key = new_key("cli-")
        batch_id = f"{IDLE_QUEUE}:{key}"

        def taskq(*args, stdin=None, ok=True):
            result = subprocess.run([fx.TASKQ, "--redis-url", self.redis.url, *args],
                                    input=stdin, capture_output=True, text=True, timeout=30)
            if not ok:
                self.assertEqual(result.returncode, 1, result.stdout)
                return result.stderr
            self.assertEqual(result.returncode, 0, result.stderr)
            return json.loads(result.stdout)

        created = taskq("batches", "create", "-", stdin=json.dumps({
            "batch_id": key, "open": True, "jobs": [job("echo", IDLE_QUEUE)],
            "on_complete": job("tally", IDLE_QUEUE)}))
        self.assertEqual((created["id"], created["created"], created["state"]),
                         (batch_id, True, "open"))
        added = taskq("batches", "add", batch_id, "-", stdin=json.dumps({
            "addition_id": "a1", "jobs": [job("echo", IDLE_QUEUE)] * 2}))
        self.assertEqual([j["id"] for j in added["jobs"]], [f"{key}.a1-0", f"{key}.a1-1"])
        self.assertEqual(taskq("batches", "close", batch_id),
                         {"id": batch_id, "outcome": "closed"})
        shown = taskq("batches", "show", batch_id)
        self.assertEqual((shown["state"], shown["total"], shown["pending"]), ("running", 3, 3))
        self.assertEqual(taskq("batches", "cancel", batch_id),
                         {"id": batch_id, "outcome": "cancelled"})
        self.assertEqual(self.batch(batch_id)["state"], "finished")
        self.assertIn("has finished", taskq("batches", "cancel", batch_id, ok=False))
        self.assertIn("no batch", taskq("batches", "show", f"{IDLE_QUEUE}:none", ok=False))
        self.assertIn("jobs[0].queue", taskq("batches", "add", batch_id, "-", ok=False,
                                             stdin=json.dumps({"jobs": [job("echo")]})))


if __name__ == "__main__":
    fx.main()
