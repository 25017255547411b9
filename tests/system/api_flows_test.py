#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

Flows (docs/workflows.md): a tree of jobs, each parent held until its children have settled, then
run with their outcomes (the test worker's "gather" returns them as its result); in one queue, or
across queues.

    api_flows_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import itertools
import json
import subprocess
import unittest

import api_fixtures as fx
from api_fixtures import Api, Redis, Worker, wait_until

QUEUE = "flows"        # served by the test worker
PROCESS_QUEUE = "flows-isolated"  # served by the test worker, its handlers in handler processes
IDLE_QUEUE = "parked"  # served by nobody: its leaves stay waiting, its parents held
OTHER_QUEUE = "flows-b"  # served by a second test worker, for flows across queues

_keys = itertools.count(1)


def new_key(prefix="f"):
    return f"{prefix}{next(_keys)}"


def job(ref, type_, parent=None, queue=QUEUE, **fields):
    out = {"ref": ref, "type": type_, "queue": queue, "data": fields.pop("data", {})}
    if parent is not None:
        out["parent"] = parent
    out.update(fields)
    return out


class FlowsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.api = Api(cls.redis.url, "--job-types", "sleep,fail,echo,gather,step,hold",
                      "--max-wait-ms", "5000")
        cls.worker = Worker(cls.redis.url, f"{QUEUE}=4,{PROCESS_QUEUE}=2:process")
        # Another process: what crosses queues goes through Redis, never through one worker.
        cls.other_worker = Worker(cls.redis.url, f"{OTHER_QUEUE}=2")

    @classmethod
    def tearDownClass(cls):
        cls.other_worker.stop()
        cls.worker.stop()
        cls.api.stop()
        cls.redis.stop()

    # --- helpers ---

    def submit(self, body, headers=None):
        return self.api.request("POST", "/api/flows", body,
                                {"Content-Type": "application/json", **(headers or {})})

    def flow(self, flow_id):
        status, body, _ = self.api.request("GET", f"/api/flows/{flow_id}")
        self.assertEqual(status, 200, body)
        return body

    def finished_flow(self, flow_id, timeout=20):
        done = wait_until(lambda: (lambda f: f if f["state"] != "running" else None)(
            self.flow(flow_id)), timeout=timeout)
        self.assertTrue(done, self.flow(flow_id))
        return done

    def job(self, job_id, queue=QUEUE):
        status, body, _ = self.api.request("GET", f"/api/jobs/{job_id}?queue={queue}")
        self.assertEqual(status, 200, body)
        return body

    def by_ref(self, flow):
        return {j["ref"]: j for j in flow["jobs"]}

    # --- tests ---

    def test_three_levels_run_children_before_parents_and_the_root_reads_their_results(self):
        key = new_key()
        status, body, headers = self.submit({"flow_id": key, "jobs": [
            job("root", "gather"),
            job("mid", "gather", "root"),
            job("a", "echo", "mid", data={"n": 1}),
            job("b", "sleep", "mid", data={"ms": 200}),
            job("c", "echo", "root", data={"n": 3}),
        ]})
        self.assertEqual(status, 201, body)
        flow_id = f"{QUEUE}:{key}"
        self.assertEqual(body["id"], flow_id)
        self.assertTrue(body["created"])
        self.assertEqual(headers["Location"], f"/api/flows/{flow_id}")
        self.assertEqual([j["ref"] for j in body["jobs"]], ["root", "mid", "a", "b", "c"])
        self.assertEqual([j["id"] for j in body["jobs"]],
                         [f"{key}.{r}" for r in ("root", "mid", "a", "b", "c")])
        states = {j["ref"]: j["state"] for j in body["jobs"]}
        self.assertEqual((states["root"], states["mid"]), ("held", "held"))

        flow = self.finished_flow(flow_id)
        self.assertEqual(flow["state"], "completed")
        self.assertIsNotNone(flow["finished_ms"])
        jobs = self.by_ref(flow)
        self.assertEqual({r: j["state"] for r, j in jobs.items()},
                         {r: "completed" for r in ("root", "mid", "a", "b", "c")})
        self.assertEqual(jobs["root"]["parent"], None)
        self.assertEqual(jobs["mid"]["parent"], "root")
        self.assertEqual(jobs["root"]["children"]["state"], "released")
        self.assertEqual((jobs["root"]["children"]["total"], jobs["root"]["children"]["completed"],
                          jobs["root"]["children"]["pending"]), (2, 2, 0))
        self.assertNotIn("children", jobs["a"])

        # Every parent started after each of its children finished.
        full = {r: self.job(j["id"]) for r, j in jobs.items()}
        for child, parent in (("a", "mid"), ("b", "mid"), ("mid", "root"), ("c", "root")):
            self.assertLessEqual(full[child]["finished_ms"], full[parent]["started_ms"],
                                 (child, parent))
        # The root read its children's results: c's data (echoed) and mid's own gathering.
        root_children = {c["ref"]: c for c in full["root"]["result"]["children"]}
        self.assertEqual(set(root_children), {"mid", "c"})
        self.assertTrue(root_children["c"]["completed"])
        self.assertEqual(root_children["c"]["id"], f"{key}.c")
        self.assertEqual(root_children["c"]["value"], {"n": 3})
        mid_children = {c["ref"]: c["value"] for c in root_children["mid"]["value"]["children"]}
        self.assertEqual(mid_children["a"], {"n": 1})
        self.assertEqual(mid_children["b"], {"pid": self.worker.proc.pid})
        # Each job names its place in the flow.
        self.assertEqual(full["mid"]["flow"], {
            "id": flow_id, "ref": "mid", "parent": "root", "on_failure": "fail",
            "has_children": True, "links": {"flow": f"/api/flows/{flow_id}"}})
        self.assertFalse(full["a"]["flow"]["has_children"])
        self.assertNotIn("flow", self.api.request("POST", "/api/jobs", {"type": "echo"})[1])

    def test_each_step_of_a_chain_reads_the_result_of_the_step_before(self):
        # The test worker's "step" returns {"step": data.step, "saw": previous_result()}; in a
        # handler process previous_result() reads the children of the job frame.
        for queue in (QUEUE, PROCESS_QUEUE):
            with self.subTest(queue=queue):
                key = new_key("chain-")
                status, body, _ = self.submit({"flow_id": key, "chain": [
                    {"type": "step", "queue": queue, "data": {"step": "A"}},
                    {"type": "step", "queue": queue, "data": {"step": "B"}},
                    {"type": "step", "queue": queue, "data": {"step": "C"}}]})
                self.assertEqual(status, 201, body)
                self.assertEqual(self.finished_flow(f"{queue}:{key}")["state"], "completed")
                a, b, c = (self.job(f"{key}.step{n}", queue)["result"] for n in (1, 2, 3))
                self.assertEqual(a, {"step": "A", "saw": None})
                self.assertEqual(b, {"step": "B", "saw": {"step": "A", "saw": None}})
                self.assertEqual(c, {"step": "C", "saw": b})
        _, isolated, _ = self.api.request("GET", f"/api/queues/{PROCESS_QUEUE}")
        self.assertGreaterEqual(isolated["handler_processes"]["started"], 1, isolated)

    def test_a_failing_child_cancels_its_parent_and_the_root(self):
        key = new_key()
        status, body, _ = self.submit({"flow_id": key, "jobs": [
            job("root", "gather"),
            job("mid", "gather", "root"),
            job("bad", "fail", "mid"),
            job("slow", "sleep", "root", data={"ms": 100}),
        ]})
        self.assertEqual(status, 201, body)
        flow = self.finished_flow(f"{QUEUE}:{key}")
        self.assertEqual(flow["state"], "dead")
        jobs = self.by_ref(flow)
        self.assertEqual((jobs["mid"]["state"], jobs["mid"]["cancelled"]), ("dead", True))
        self.assertEqual((jobs["root"]["state"], jobs["root"]["cancelled"]), ("dead", True))
        self.assertEqual(jobs["mid"]["children"]["state"], "failed")
        self.assertEqual(jobs["bad"]["state"], "dead")
        self.assertEqual(self.job(f"{key}.mid")["error"], f"cancelled: child {key}.bad failed")
        self.assertEqual(self.job(f"{key}.root")["error"], f"cancelled: child {key}.mid failed")
        # Neither parent ran: a parent that never started has no start time.
        self.assertNotIn("started_ms", self.job(f"{key}.root"))

    def test_continue_shows_the_error_and_ignore_leaves_the_child_out(self):
        key = new_key()
        status, body, _ = self.submit({"flow_id": key, "jobs": [
            job("root", "gather"),
            job("ok", "echo", "root", data={"v": "fine"}),
            job("cont", "fail", "root", on_failure="continue"),
            job("ign", "fail", "root", on_failure="ignore"),
        ]})
        self.assertEqual(status, 201, body)
        flow = self.finished_flow(f"{QUEUE}:{key}")
        self.assertEqual(flow["state"], "completed")
        jobs = self.by_ref(flow)
        self.assertEqual((jobs["cont"]["state"], jobs["ign"]["state"]), ("dead", "dead"))
        self.assertEqual(jobs["cont"]["on_failure"], "continue")
        self.assertEqual((jobs["root"]["children"]["completed"], jobs["root"]["children"]["dead"]),
                         (1, 2))
        seen = {c["ref"]: c for c in self.job(f"{key}.root")["result"]["children"]}
        self.assertEqual(set(seen), {"ok", "cont"})
        self.assertTrue(seen["ok"]["completed"])
        self.assertEqual(seen["ok"]["value"], {"v": "fine"})
        self.assertFalse(seen["cont"]["completed"])
        self.assertIn("boom", json.dumps(seen["cont"]["value"]))

    def test_delete_cancels_the_held_and_waiting_jobs_and_keeps_them(self):
        key = new_key()
        status, body, _ = self.submit({"flow_id": key, "jobs": [
            job("root", "gather", queue=IDLE_QUEUE),
            job("mid", "gather", "root", queue=IDLE_QUEUE),
            job("leaf", "echo", "mid", queue=IDLE_QUEUE),
            job("later", "echo", "root", queue=IDLE_QUEUE, delay_ms=600000),
        ]})
        self.assertEqual(status, 201, body)
        self.assertEqual({j["ref"]: j["state"] for j in body["jobs"]},
                         {"root": "held", "mid": "held", "leaf": "waiting", "later": "delayed"})
        flow_id = f"{IDLE_QUEUE}:{key}"
        # Held parents are listed, counted and measured like any state.
        status, page, _ = self.api.request("GET", f"/api/queues/{IDLE_QUEUE}/jobs?state=held")
        self.assertEqual(status, 200, page)
        self.assertTrue({f"{key}.root", f"{key}.mid"} <= {j["id"] for j in page["jobs"]})
        _, queue, _ = self.api.request("GET", f"/api/queues/{IDLE_QUEUE}")
        self.assertGreaterEqual(queue["counts"]["held"], 2)
        _, metrics, _ = self.api.request("GET", "/metrics")
        self.assertRegex(metrics.decode(), rf'taskq_jobs{{queue="{IDLE_QUEUE}",state="held"}} [1-9]')

        status, body, _ = self.api.request("DELETE", f"/api/flows/{flow_id}")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"id": flow_id, "outcome": "cancelled"})
        flow = self.flow(flow_id)
        self.assertEqual(flow["state"], "dead")
        for ref, j in self.by_ref(flow).items():
            self.assertEqual((j["state"], j["cancelled"]), ("dead", True), ref)
            self.assertEqual(self.job(j["id"], IDLE_QUEUE)["state"], "dead")  # not deleted
        status, body, _ = self.api.request("DELETE", f"/api/flows/{flow_id}")
        self.assertEqual(status, 409, body)

    def test_the_same_idempotency_key_answers_200_with_the_flow(self):
        key = new_key("idem-")
        tree = {"jobs": [job("root", "gather", queue=IDLE_QUEUE),
                         job("a", "echo", "root", queue=IDLE_QUEUE)]}
        status, first, _ = self.submit(tree, {"Idempotency-Key": key})
        self.assertEqual(status, 201, first)
        status, again, _ = self.submit(tree, {"Idempotency-Key": key})
        self.assertEqual(status, 200, again)
        self.assertFalse(again["created"])
        self.assertEqual(again["id"], first["id"])
        self.assertEqual([j["id"] for j in again["jobs"]], [j["id"] for j in first["jobs"]])
        # The same key with another tree is not a retry.
        other = {"jobs": [job("root", "gather", queue=IDLE_QUEUE),
                          job("b", "echo", "root", queue=IDLE_QUEUE)]}
        status, body, _ = self.submit(other, {"Idempotency-Key": key})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["field"], "Idempotency-Key")
        self.assertEqual(len(self.flow(first["id"])["jobs"]), 2)

    def test_a_job_id_taken_outside_the_flow_is_a_conflict(self):
        key = new_key()
        status, body, _ = self.api.request(
            "POST", "/api/jobs", {"type": "echo", "queue": IDLE_QUEUE, "job_id": f"{key}.a"})
        self.assertEqual(status, 201, body)
        status, body, _ = self.submit({"flow_id": key, "jobs": [
            job("root", "gather", queue=IDLE_QUEUE), job("a", "echo", "root", queue=IDLE_QUEUE)]})
        self.assertEqual(status, 409, body)
        self.assertEqual(self.api.request("GET", f"/api/flows/{IDLE_QUEUE}:{key}")[0], 404)

    def test_a_flow_across_queues_runs_each_job_in_its_queue_and_parents_after_children(self):
        # root (flows) <- {mid (flows-b) <- {a (flows), b (flows-b)}, c (flows-b)}
        key = new_key("xq-")
        status, body, _ = self.submit({"flow_id": key, "jobs": [
            job("root", "gather"),
            job("mid", "gather", "root", queue=OTHER_QUEUE),
            job("a", "echo", "mid", data={"n": 1}),
            job("b", "echo", "mid", queue=OTHER_QUEUE, data={"n": 2}),
            job("c", "echo", "root", queue=OTHER_QUEUE, data={"n": 3}),
        ]})
        self.assertEqual(status, 201, body)
        flow_id = f"{QUEUE}:{key}"  # the root's queue holds the flow
        self.assertEqual((body["id"], body["queue"]), (flow_id, QUEUE))
        self.assertEqual({j["ref"]: j["queue"] for j in body["jobs"]},
                         {"root": QUEUE, "mid": OTHER_QUEUE, "a": QUEUE, "b": OTHER_QUEUE,
                          "c": OTHER_QUEUE})
        flow = self.finished_flow(flow_id)
        self.assertEqual(flow["state"], "completed")
        jobs = self.by_ref(flow)
        self.assertEqual({r: (j["state"], j["queue"]) for r, j in jobs.items()},
                         {"root": ("completed", QUEUE), "mid": ("completed", OTHER_QUEUE),
                          "a": ("completed", QUEUE), "b": ("completed", OTHER_QUEUE),
                          "c": ("completed", OTHER_QUEUE)})
        self.assertEqual(jobs["mid"]["links"]["job"], f"/api/jobs/{key}.mid?queue={OTHER_QUEUE}")
        full = {r: self.job(j["id"], j["queue"]) for r, j in jobs.items()}
        for child, parent in (("a", "mid"), ("b", "mid"), ("mid", "root"), ("c", "root")):
            self.assertLessEqual(full[child]["finished_ms"], full[parent]["started_ms"],
                                 (child, parent))
        # mid ran in the other queue and read its children's results from the flow's queue.
        self.assertEqual(full["mid"]["queue"], OTHER_QUEUE)
        mid_children = {c["ref"]: c["value"] for c in full["mid"]["result"]["children"]}
        self.assertEqual(mid_children, {"a": {"n": 1}, "b": {"n": 2}})
        root_children = {c["ref"]: c for c in full["root"]["result"]["children"]}
        self.assertEqual(root_children["c"]["value"], {"n": 3})
        self.assertEqual(root_children["mid"]["value"]["children"],
                         full["mid"]["result"]["children"])
        self.assertEqual(full["b"]["flow"]["id"], flow_id)

    def test_a_chain_across_queues_passes_each_result_on(self):
        key = new_key("xchain-")
        status, body, _ = self.submit({"flow_id": key, "chain": [
            {"type": "step", "queue": OTHER_QUEUE, "data": {"step": "A"}},
            {"type": "step", "queue": QUEUE, "data": {"step": "B"}},
            {"type": "step", "queue": OTHER_QUEUE, "data": {"step": "C"}}]})
        self.assertEqual(status, 201, body)
        flow_id = f"{OTHER_QUEUE}:{key}"  # the last step is the root
        self.assertEqual(self.finished_flow(flow_id)["state"], "completed")
        a = self.job(f"{key}.step1", OTHER_QUEUE)["result"]
        b = self.job(f"{key}.step2", QUEUE)["result"]
        c = self.job(f"{key}.step3", OTHER_QUEUE)["result"]
        self.assertEqual(a, {"step": "A", "saw": None})
        self.assertEqual(b, {"step": "B", "saw": a})
        self.assertEqual(c, {"step": "C", "saw": b})

    def test_a_failure_in_another_queue_fails_the_parent_and_a_retry_revives_it(self):
        key = new_key("xfail-")
        status, body, _ = self.submit({"flow_id": key, "jobs": [
            job("root", "gather"),
            job("bad", "fail", "root", queue=OTHER_QUEUE)]})
        self.assertEqual(status, 201, body)
        flow_id = f"{QUEUE}:{key}"
        flow = self.finished_flow(flow_id)
        self.assertEqual(flow["state"], "dead")
        jobs = self.by_ref(flow)
        self.assertEqual((jobs["root"]["state"], jobs["root"]["cancelled"]), ("dead", True))
        self.assertEqual(jobs["bad"]["state"], "dead")
        self.assertEqual(self.job(f"{key}.root")["error"], f"cancelled: child {key}.bad failed")
        # Retried from the other queue's dead letters: the root is held again.
        status, body, _ = self.api.request(
            "POST", f"/api/jobs/{key}.bad/retry?queue={OTHER_QUEUE}")
        self.assertIn(status, (200, 202), body)
        # The retry is counted in the flow's queue: the root is revived (held), then failed
        # again by the child's second death. Its error history shows both failures.
        self.assertTrue(wait_until(lambda: len([
            e for e in self.job(f"{key}.root")["errors"]
            if e["message"] == f"cancelled: child {key}.bad failed"]) == 2),
            self.job(f"{key}.root"))
        self.assertEqual(self.finished_flow(flow_id)["state"], "dead")

    def test_cancelling_a_flow_cancels_its_jobs_in_other_queues(self):
        key = new_key("xcancel-")
        status, body, _ = self.submit({"flow_id": key, "jobs": [
            job("root", "gather"),
            job("mid", "gather", "root", queue=IDLE_QUEUE),
            job("a", "echo", "mid", queue=IDLE_QUEUE),
            job("b", "echo", "root", queue=IDLE_QUEUE)]})
        self.assertEqual(status, 201, body)
        flow_id = f"{QUEUE}:{key}"
        # The leaves reach the idle queue (the flow's queue's worker relays them); mid is parked.
        self.assertTrue(wait_until(lambda: all(
            self.by_ref(self.flow(flow_id))[r]["state"] == "waiting" for r in ("a", "b"))),
            self.flow(flow_id))
        self.assertEqual(self.by_ref(self.flow(flow_id))["mid"]["state"], "held")
        status, body, _ = self.api.request("DELETE", f"/api/flows/{flow_id}")
        self.assertEqual(status, 200, body)
        self.assertTrue(wait_until(lambda: all(
            (j["state"], j["cancelled"]) == ("dead", True)
            for j in self.flow(flow_id)["jobs"])), self.flow(flow_id))

    def test_retention_ms_sets_how_long_a_finished_flow_is_kept(self):
        key = new_key("kept-")
        status, body, _ = self.submit({"flow_id": key, "retention_ms": 300, "jobs": [
            job("root", "gather"), job("a", "echo", "root")]})
        self.assertEqual(status, 201, body)
        flow_id = f"{QUEUE}:{key}"
        self.assertEqual(self.finished_flow(flow_id)["state"], "completed")
        # The record expires 300 ms after the root finished; the jobs stay (their own retention).
        self.assertTrue(wait_until(
            lambda: self.api.request("GET", f"/api/flows/{flow_id}")[0] == 404, timeout=10))
        self.assertEqual(self.job(f"{key}.root")["state"], "completed")
        status, body, _ = self.submit({"retention_ms": -5, "jobs": [job("root", "gather")]})
        self.assertEqual((status, body["field"]), (422, "retention_ms"), body)

    def test_an_unknown_flow_is_404(self):
        for method in ("GET", "DELETE"):
            status, body, _ = self.api.request(method, f"/api/flows/{QUEUE}:no-such-flow")
            self.assertEqual(status, 404, (method, body))
        status, body, _ = self.api.request("GET", "/api/flows/not-a-flow-id")
        self.assertEqual((status, body["field"]), (422, "id"))

    def test_the_cli_submits_shows_and_cancels_a_flow(self):
        key = new_key("cli-")
        body = json.dumps({"flow_id": key, "jobs": [
            job("root", "gather", queue=IDLE_QUEUE), job("a", "echo", "root", queue=IDLE_QUEUE)]})

        def taskq(*args, stdin=None):
            result = subprocess.run([fx.TASKQ, "--redis-url", self.redis.url, *args],
                                    input=stdin, capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 0, result.stderr)
            return json.loads(result.stdout)

        def held_ids():
            listed = taskq("--output", "json", "jobs", IDLE_QUEUE, "--state", "held")
            return {j["id"] for j in listed}

        submitted = taskq("flows", "submit", "-", stdin=body)
        flow_id = f"{IDLE_QUEUE}:{key}"
        self.assertEqual((submitted["id"], submitted["created"]), (flow_id, True))
        shown = taskq("flows", "show", flow_id)
        self.assertEqual({j["ref"]: j["state"] for j in shown["jobs"]},
                         {"root": "held", "a": "waiting"})
        self.assertIn(f"{key}.root", held_ids())
        self.assertEqual(taskq("flows", "cancel", flow_id), {"id": flow_id, "outcome": "cancelled"})
        self.assertEqual(self.flow(flow_id)["state"], "dead")
        self.assertNotIn(f"{key}.root", held_ids())  # dead now
        # A second cancel is refused: the root has finished.
        again = subprocess.run([fx.TASKQ, "--redis-url", self.redis.url, "flows", "cancel",
                                flow_id], capture_output=True, text=True, timeout=30)
        self.assertEqual(again.returncode, 1)
        self.assertIn("has finished", again.stderr)


if __name__ == "__main__":
    fx.main()
