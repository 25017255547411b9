#!/usr/bin/python3
"""The checker's rules on small histories: python3 tests/chaos/checker_test.py"""
import unittest

from checker import check_batches, check_callbacks, check_flows, check_total_queue, violations


class TotalQueueTest(unittest.TestCase):
    def test_every_acknowledged_job_delivered_once_is_clean(self):
        r = check_total_queue({"a": "ok", "b": "ok"}, ["a", "b"])
        self.assertEqual((r["acked"], r["lost"], r["unexpected"], r["duplicated"]), (2, 0, 0, 0))

    def test_an_acknowledged_job_never_delivered_is_lost(self):
        r = check_total_queue({"a": "ok", "b": "ok"}, ["a"])
        self.assertEqual(r["lost"], 1)
        self.assertEqual(r["samples"]["lost"], ["b"])

    def test_an_unknown_enqueue_may_run_or_not(self):
        r = check_total_queue({"a": "unknown", "b": "unknown"}, ["a"])
        self.assertEqual((r["lost"], r["unexpected"], r["recovered"]), (0, 0, 1))

    def test_a_delivery_nobody_enqueued_is_unexpected(self):
        self.assertEqual(check_total_queue({"a": "ok"}, ["a", "zz"])["unexpected"], 1)

    def test_a_refused_enqueue_that_ran_is_unexpected(self):
        self.assertEqual(check_total_queue({"a": "refused"}, ["a"])["unexpected"], 1)

    def test_duplicates_count_distinct_ids(self):
        r = check_total_queue({"a": "ok", "b": "ok"}, ["a", "a", "a", "b"])
        self.assertEqual((r["duplicated"], r["deliveries"]), (1, 4))


class BatchesTest(unittest.TestCase):
    @staticmethod
    def request(job, t, t_end, status=200):
        return {"id": job, "t": t, "t_end": t_end, "status": status, "listener": "main"}

    @staticmethod
    def batch(outcome="ok", failing=False):
        return {"outcome": outcome, "members": ["k.0", "k.1"], "failing": failing,
                "on_complete": "k.on_complete", "on_success": "k.on_success"}

    def members(self, status_1=200):
        return [self.request("k.0", 1, 2), self.request("k.1", 1, 3, status_1)]

    def test_callbacks_after_every_member_are_clean(self):
        r = check_batches({"k": self.batch()}, self.members() + [
            self.request("k.on_complete", 4, 5), self.request("k.on_success", 4, 5)])
        self.assertEqual((r["batch_callbacks_lost"], r["batch_callbacks_early"],
                          r["batch_callbacks_forbidden"], r["batch_callbacks_twice"]),
                         (0, 0, 0, 0))

    def test_a_callback_never_run_is_lost(self):
        r = check_batches({"k": self.batch()},
                          self.members() + [self.request("k.on_success", 4, 5)])
        self.assertEqual(r["batch_callbacks_lost"], 1)
        self.assertEqual(r["batch_samples"]["lost"], ["k.on_complete"])

    def test_a_callback_before_a_members_answer_is_early(self):
        r = check_batches({"k": self.batch()}, self.members() + [
            self.request("k.on_complete", 2.5, 5), self.request("k.on_success", 4, 5)])
        self.assertEqual(r["batch_callbacks_early"], 1)

    def test_on_success_after_a_failing_member_is_forbidden(self):
        r = check_batches({"k": self.batch(failing=True)}, self.members(500) + [
            self.request("k.on_complete", 4, 5), self.request("k.on_success", 4, 5)])
        self.assertEqual((r["batch_callbacks_forbidden"], r["batch_callbacks_lost"]), (1, 0))

    def test_an_unknown_submission_may_have_run_or_not(self):
        r = check_batches({"k": self.batch("unknown")}, [])
        self.assertEqual(r["batch_callbacks_lost"], 0)

    def test_a_callback_run_twice_is_counted(self):
        r = check_batches({"k": self.batch()}, self.members() + [
            self.request("k.on_complete", 4, 5), self.request("k.on_complete", 6, 7),
            self.request("k.on_success", 4, 5)])
        self.assertEqual(r["batch_callbacks_twice"], 1)


class FlowsTest(unittest.TestCase):
    FLOW = {"must_run": ["k.c", "k.p"], "never_run": [], "children": {"k.p": ["k.c"]}}

    @staticmethod
    def request(job, t, t_end, status=200):
        return {"id": job, "t": t, "t_end": t_end, "status": status, "listener": "main"}

    def flow(self, outcome="ok", **changes):
        return dict(self.FLOW, outcome=outcome, **changes)

    def test_children_then_parent_is_clean(self):
        r = check_flows({"k": self.flow()}, [self.request("k.c", 1, 2), self.request("k.p", 3, 4)])
        self.assertEqual((r["flows_lost"], r["flows_early"], r["flows_forbidden"]), (0, 0, 0))

    def test_a_parent_before_its_childs_answer_is_early(self):
        r = check_flows({"k": self.flow()}, [self.request("k.c", 1, 5), self.request("k.p", 3, 4)])
        self.assertEqual(r["flows_early"], 1)

    def test_a_failed_childs_attempts_count_as_run(self):
        flow = self.flow(must_run=["k.c"], never_run=["k.p"])
        r = check_flows({"k": flow}, [self.request("k.c", 1, 2, status=500)])
        self.assertEqual((r["flows_lost"], r["flows_forbidden"]), (0, 0))

    def test_a_parent_that_must_never_run_and_ran_is_forbidden(self):
        flow = self.flow(must_run=["k.c"], never_run=["k.p"])
        r = check_flows({"k": flow}, [self.request("k.c", 1, 2, 500), self.request("k.p", 3, 4)])
        self.assertEqual(r["flows_forbidden"], 1)

    def test_an_acknowledged_flow_missing_a_job_lost_it(self):
        r = check_flows({"k": self.flow()}, [self.request("k.c", 1, 2)])
        self.assertEqual(r["flows_lost"], 1)

    def test_an_unknown_flow_runs_whole_or_not_at_all(self):
        self.assertEqual(check_flows({"k": self.flow("unknown")}, [])["flows_partial"], 0)
        r = check_flows({"k": self.flow("unknown")}, [self.request("k.c", 1, 2)])
        self.assertEqual((r["flows_partial"], r["flows_lost"]), (1, 0))

    def test_a_refused_flow_that_ran_is_forbidden(self):
        r = check_flows({"k": self.flow("refused")}, [self.request("k.c", 1, 2)])
        self.assertEqual(r["flows_forbidden"], 1)


class CallbacksTest(unittest.TestCase):
    @staticmethod
    def callback(job, webhook_id, t, status=200):
        return {"cbj": job, "id": webhook_id, "t": t, "status": status, "listener": "main"}

    def test_one_callback_per_job_after_it_is_clean(self):
        r = check_callbacks({"a": 1.0, "b": 2.0}, [
            {"id": "a", "k": "a", "t": 0.5, "status": 200, "listener": "main"},
            self.callback("a", "cb:1", 1.5), self.callback("b", "cb:2", 2.5),
            self.callback("b", "cb:2", 2.6)])  # one webhook id delivered twice: at least once
        self.assertEqual((r["callbacks_lost"], r["callbacks_doubled"], r["callbacks_early"],
                          r["callbacks_unexpected"]), (0, 0, 0, 0))
        self.assertEqual(r["callback_ids_delivered_twice"], 1)

    def test_a_missing_callback_is_lost_and_a_failed_request_does_not_count(self):
        r = check_callbacks({"a": 1.0}, [self.callback("a", "cb:1", 2.0, status=500)])
        self.assertEqual(r["callbacks_lost"], 1)
        self.assertEqual(r["callback_samples"]["lost"], ["a"])

    def test_two_callback_jobs_for_one_finish_are_doubled(self):
        r = check_callbacks({"a": 1.0}, [self.callback("a", "cb:1", 2.0),
                                         self.callback("a", "cb:2", 2.0)])
        self.assertEqual(r["callbacks_doubled"], 1)

    def test_a_callback_before_the_job_ran_is_early_and_one_for_no_job_unexpected(self):
        r = check_callbacks({"a": 5.0}, [self.callback("a", "cb:1", 4.0),
                                         self.callback("zz", "cb:9", 6.0)])
        self.assertEqual((r["callbacks_early"], r["callbacks_unexpected"]), (1, 1))


class RulesTest(unittest.TestCase):
    def result(self, **fields):
        base = {"faults": 1, "lost": 0, "unexpected": 0, "duplicated": 0,
                "in_flight_at_fault": 0}
        base.update(fields)
        return base

    def test_clean_result_passes(self):
        self.assertEqual(violations(self.result()), [])

    def test_no_fault_fails(self):
        self.assertTrue(violations(self.result(faults=0)))

    def test_duplicates_within_in_flight_pass_and_beyond_fail(self):
        self.assertEqual(violations(self.result(duplicated=3, in_flight_at_fault=3)), [])
        self.assertTrue(violations(self.result(duplicated=4, in_flight_at_fault=3)))

    def test_loss_fails_unless_only_reported(self):
        self.assertTrue(violations(self.result(lost=1)))
        self.assertEqual(violations(self.result(lost=1), loss_reported_only=True), [])

    def test_scenario_violations_are_kept(self):
        self.assertEqual(violations(self.result(violations=["x"])), ["x"])


if __name__ == "__main__":
    unittest.main()
