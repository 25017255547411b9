#!/usr/bin/python3
"""The checker's rules on small histories: python3 tests/chaos/checker_test.py"""
import unittest

from checker import check_total_queue, violations


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
