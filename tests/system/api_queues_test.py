#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

Queues over the HTTP API: pause, limits, groups, lists, filters, order, remove, batch
actions, workers and rates.

    api_queues_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import socket
import time
import unittest

import api_fixtures as fx
from api_fixtures import wait_until, Redis, Api, Worker


class QueuesTest(fx.SharedApiTestCase):
    # --- queues ---------------------------------------------------------------------------

    def test_pause_holds_jobs_until_resume(self):
        self.post_job({"type": "sleep", "queue": "sleep", "data": {"ms": 1}})
        self.assertEqual(self.api.request("POST", "/api/queues/sleep/pause")[0], 200)
        try:
            _, body, _ = self.post_job({"type": "sleep", "data": {"ms": 1}})
            time.sleep(0.3)
            self.assertEqual(self.state_of(body["id"]), "waiting")
            queue = self.api.request("GET", "/api/queues/sleep")[1]
            self.assertTrue(queue["paused"])
            self.assertGreaterEqual(queue["counts"]["waiting"], 1)
            self.assertIsNotNone(queue["oldest_waiting_age_ms"])
        finally:
            self.assertEqual(self.api.request("POST", "/api/queues/sleep/resume")[0], 200)
        self.assertTrue(wait_until(lambda: self.state_of(body["id"]) == "completed"))

    def test_limits_are_stored_returned_and_obeyed(self):
        status, body, _ = self.api.request("GET", "/api/queues/sleep/limits")
        no_group = {"rate": None, "concurrency": None, "field": None}
        self.assertEqual((status, body), (200, {"queue": "sleep", "rate": None,
                                                "concurrency": None, "group": no_group,
                                                "priority_aging_ms": None, "max_length": None}))
        status, body, _ = self.api.request(
            "PUT", "/api/queues/sleep/limits", {"rate": {"max": 50, "window_ms": 2000},
                                                "concurrency": 1})
        self.assertEqual(status, 200, body)
        try:
            status, body, _ = self.api.request("GET", "/api/queues/sleep/limits")
            self.assertEqual(body, {"queue": "sleep", "rate": {"max": 50, "window_ms": 2000},
                                    "concurrency": 1, "group": no_group,
                                    "priority_aging_ms": None, "max_length": None})
            ids = [self.post_job({"type": "sleep", "data": {"ms": 150}})[1]["id"]
                   for _ in range(3)]
            most_active = 0

            def finished():
                nonlocal most_active
                queue = self.api.request("GET", "/api/queues/sleep")[1]
                most_active = max(most_active, queue["counts"]["active"])
                return all(self.state_of(i) == "completed" for i in ids)
            self.assertTrue(wait_until(finished))
            self.assertEqual(most_active, 1)
        finally:
            status, body, _ = self.api.request("PUT", "/api/queues/sleep/limits", {})
        self.assertEqual(body, {"queue": "sleep", "rate": None, "concurrency": None,
                                "group": no_group, "priority_aging_ms": None, "max_length": None})

    def test_max_length_refuses_enqueues_with_429_and_writes_nothing(self):
        status, body, _ = self.api.request("PUT", "/api/queues/backlog/limits", {"max_length": 2})
        self.assertEqual((status, body["max_length"]), (200, 2))
        try:
            for n in range(2):
                status, _, _ = self.post_job({"type": "sleep", "queue": "backlog",
                                              "job_id": f"b{n}", "delay_ms": 600000})
                self.assertEqual(status, 201)
            status, error, headers = self.api.request("POST", "/api/jobs", {
                "type": "sleep", "queue": "backlog", "job_id": "b2"})
            self.assertEqual((status, error["code"]), (429, "queue_full"), error)
            self.assertEqual(headers.get("Retry-After"), "1")
            self.assertIn("2 of 2", error["detail"])
            self.assertEqual(self.api.request("GET", "/api/jobs/b2?queue=backlog")[0], 404)
            status, _, _ = self.api.request("POST", "/api/jobs/bulk", {"jobs": [
                {"type": "sleep", "queue": "backlog"}]})
            self.assertEqual(status, 429)
            # An id that exists adds nothing: the retry of an accepted enqueue is answered.
            status, body, _ = self.api.request("POST", "/api/jobs", {
                "type": "sleep", "queue": "backlog", "job_id": "b1", "delay_ms": 600000})
            self.assertEqual((status, body["created"]), (200, False))
            status, error, _ = self.api.request("PUT", "/api/queues/backlog/limits",
                                                {"max_length": 0})
            self.assertEqual((status, error["field"]), (422, "max_length"))
        finally:
            self.api.request("PUT", "/api/queues/backlog/limits", {})
            for n in range(2):
                self.api.request("POST", f"/api/jobs/b{n}/remove?queue=backlog")
        status, _, _ = self.post_job({"type": "sleep", "queue": "backlog", "delay_ms": 600000})
        self.assertEqual(status, 201)

    def test_a_lifo_job_runs_before_those_already_waiting(self):
        self.assertEqual(self.api.request("PUT", "/api/queues/lifo/limits", {})[0], 200)  # known
        self.assertEqual(self.api.request("POST", "/api/queues/lifo/pause")[0], 200)
        try:
            ids = [self.post_job({"type": "sleep", "queue": "lifo"})[1]["id"] for _ in range(2)]
            status, last, _ = self.post_job({"type": "sleep", "queue": "lifo", "lifo": True})
            self.assertEqual(status, 201)
            page = self.api.request("GET", "/api/queues/lifo/jobs?state=waiting")[1]
            self.assertEqual([j["id"] for j in page["jobs"]], [last["id"]] + ids)
            self.assertTrue(page["jobs"][0]["options"]["lifo"])
            status, error, _ = self.api.request("POST", "/api/jobs", {
                "type": "sleep", "queue": "lifo", "lifo": "yes"})
            self.assertEqual((status, error["field"]), (422, "lifo"))
        finally:
            self.api.request("POST", "/api/queues/lifo/resume")

    def test_pause_and_resume_every_queue_at_once(self):
        status, body, _ = self.api.request("POST", "/api/pause")
        try:
            self.assertEqual((status, body["paused"]), (200, True))
            self.assertGreaterEqual(body["changed"], 1)
            queues = self.api.request("GET", "/api/queues")[1]["queues"]
            self.assertTrue(queues and all(q["paused"] for q in queues), queues)
            _, job, _ = self.post_job({"type": "sleep", "data": {"ms": 1}})
            time.sleep(0.3)
            self.assertEqual(self.state_of(job["id"]), "waiting")
            self.assertEqual(self.api.request("POST", "/api/pause")[1]["changed"], 0)
        finally:
            status, body, _ = self.api.request("POST", "/api/resume")
        self.assertEqual((status, body["paused"]), (200, False))
        self.assertGreaterEqual(body["changed"], 1)
        self.assertTrue(wait_until(lambda: self.state_of(job["id"]) == "completed"))

    def test_group_is_stored_shown_and_checked(self):
        status, body, _ = self.post_job({"type": "hold", "group": "tenant-7", "data": {}})
        self.assertEqual(status, 201, body)
        self.assertEqual(self.get_job(body["id"])[1]["group"], "tenant-7")
        self.assertNotIn("group", self.get_job(self.post_job({"type": "hold"})[1]["id"])[1])
        for group in ["", "x" * 129, "tab\there", 7]:
            status, error, _ = self.post_job({"type": "hold", "group": group})
            self.assertEqual(status, 422, group)
            self.assertEqual(error["field"], "group", group)

    def test_bad_limits_name_the_field(self):
        cases = [({"rate": {"max": 0}}, "rate.max"),
                 ({"rate": {"window_ms": 1000}}, "rate.max"),
                 ({"rate": {"max": 5, "window_ms": 86400001}}, "rate.window_ms"),
                 ({"rate": {"max": 5, "per": "s"}}, "rate.per"),
                 ({"rate": 5}, "rate"),
                 ({"concurrency": -1}, "concurrency"),
                 ({"concurrency": 1.5}, "concurrency"),
                 ({"burst": 3}, "burst"),
                 ({"group": {"rate": {"max": 0}}}, "group.rate.max"),
                 ({"group": {"concurrency": 0}}, "group.concurrency"),
                 ({"group": {"field": ""}}, "group.field"),
                 ({"group": {"by": "x"}}, "group.by"),
                 ({"group": []}, "group"),
                 ({"priority_aging_ms": 0}, "priority_aging_ms")]
        for body, field in cases:
            status, error, _ = self.api.request("PUT", "/api/queues/sleep/limits", body)
            self.assertEqual(status, 422, body)
            self.assertEqual(error["field"], field, body)
        # One answer names every invalid field.
        status, error, _ = self.api.request("PUT", "/api/queues/sleep/limits", {
            "rate": {"max": 0, "window_ms": 1000}, "concurrency": -1,
            "group": {"field": "", "by": "x"}})
        self.assertEqual(status, 422, error)
        self.assertEqual([e["field"] for e in error["errors"]],
                         ["rate.max", "concurrency", "group.field", "group.by"])
        self.assertEqual(error["field"], "rate.max")
        status, error, _ = self.api.request("PUT", "/api/queues/sleep/limits", raw=b"{nope")
        self.assertEqual((status, error["code"]), (400, "malformed_json"))
        self.assertEqual(self.api.request("GET", "/api/queues/sleep/limits")[1]["rate"], None)

    def test_queue_list_and_job_pages(self):
        for i in range(5):
            self.post_job({"type": "hold", "queue": "pages", "delay_ms": 600000,
                           "job_id": f"p{i}", "data": {}})
        status, listing, _ = self.api.request("GET", "/api/queues")
        self.assertEqual(status, 200)
        pages = [q for q in listing["queues"] if q["name"] == "pages"]
        self.assertEqual(pages[0]["counts"]["delayed"], 5)
        seen, cursor = [], ""
        while True:
            status, page, _ = self.api.request(
                "GET", f"/api/queues/pages/jobs?state=delayed&limit=2{cursor}")
            self.assertEqual(status, 200, page)
            seen += [j["id"] for j in page["jobs"]]
            if page["next_cursor"] is None:
                break
            cursor = "&cursor=" + page["next_cursor"]
        self.assertEqual(sorted(seen), [f"p{i}" for i in range(5)])
        # The same pages by following Link: rel="next" alone; the last page has none.
        linked, path = [], "/api/queues/pages/jobs?state=delayed&limit=2&cursor=0"
        while path:
            status, page, headers = self.api.request("GET", path)
            self.assertEqual(status, 200, page)
            linked += [j["id"] for j in page["jobs"]]
            link = headers.get("Link")
            if page["next_cursor"] is None:
                self.assertIsNone(link)
                path = None
            else:
                self.assertRegex(link, r'^<[^>]+>; rel="next"$')
                path = link[1:link.index(">")]
                self.assertIn("cursor=" + page["next_cursor"], path)
                self.assertEqual(path.count("cursor="), 1)
        self.assertEqual(linked, seen)
        self.assertEqual(self.api.request("GET", "/api/queues/nosuchqueue")[0], 404)
        status, error, _ = self.api.request("GET", "/api/queues/pages/jobs?state=lost")
        self.assertEqual((status, error["field"]), (422, "state"))
        status, error, _ = self.api.request("GET", "/api/queues/pages/jobs?limit=0")
        self.assertEqual((status, error["field"]), (422, "limit"))

    def test_sorted_state_cursors_survive_jobs_coming_and_going(self):
        # Delayed jobs page after the last one listed: removing it, or adding a job before the
        # cursor, shifts nothing (an offset would skip k2 here, or list k1 twice).
        run_at = "2100-01-01T00:00:00Z"
        self.enqueue_held("keyed", [{"job_id": f"k{i}", "run_at": run_at} for i in range(6)])
        first = self.jobs_page("keyed", "state=delayed&limit=2")
        self.assertEqual([j["id"] for j in first["jobs"]], ["k0", "k1"])
        cursor = first["next_cursor"]
        self.assertRegex(cursor, r"^k[A-Za-z0-9_-]+$")  # opaque and URL-safe
        self.assertEqual(self.api.request("DELETE", "/api/jobs/k1?queue=keyed")[0], 200)
        self.enqueue_held("keyed", [{"job_id": "k00", "run_at": run_at},   # before the cursor
                                    {"job_id": "k1a", "run_at": run_at}])  # right after it
        seen = []
        while cursor is not None:
            page = self.jobs_page("keyed", f"state=delayed&limit=2&cursor={cursor}")
            seen += [j["id"] for j in page["jobs"]]
            cursor = page["next_cursor"]
        self.assertEqual(seen, ["k1a", "k2", "k3", "k4", "k5"])
        # A filtered scan goes on after the last job examined, by key as well.
        page = self.jobs_page("keyed", "state=delayed&type=hold&scan=3")
        self.assertEqual([j["id"] for j in page["jobs"]], ["k0", "k00", "k1a"])
        self.assertEqual(self.api.request("DELETE", "/api/jobs/k1a?queue=keyed")[0], 200)
        page = self.jobs_page("keyed", f"state=delayed&type=hold&cursor={page['next_cursor']}")
        self.assertEqual([j["id"] for j in page["jobs"]], ["k2", "k3", "k4", "k5"])
        # A number is an offset, in any state.
        self.assertEqual([j["id"] for j in self.jobs_page("keyed", "state=delayed&cursor=4")
                          ["jobs"]], ["k4", "k5"])
        for query in ("state=delayed&cursor=knot-a-key!", "state=delayed&cursor=-3",
                      f"state=waiting&cursor={first['next_cursor']}"):
            status, error, _ = self.api.request("GET", f"/api/queues/keyed/jobs?{query}")
            self.assertEqual((status, error["field"]), (422, "cursor"), query)

    # --- filters, order, remove and batch actions (the dashboard's queue view) -------------

    def jobs_page(self, queue, query):
        status, page, _ = self.api.request("GET", f"/api/queues/{queue}/jobs?{query}")
        self.assertEqual(status, 200, page)
        return page

    def ids_of(self, queue, query):
        return [j["id"] for j in self.jobs_page(queue, query)["jobs"]]

    def enqueue_held(self, queue, specs):
        """Jobs in a queue no worker serves, so they stay where they are put."""
        jobs = [{"queue": queue, "type": "hold", **spec} for spec in specs]
        status, result, _ = self.api.request("POST", "/api/jobs/bulk", {"jobs": jobs})
        self.assertEqual(status, 201, result)

    def test_job_filters_by_type_data_field_and_error(self):
        self.enqueue_held("flt", [
            {"job_id": "f0", "data": {"to": "a@x.org", "customer": {"email": "c@x.org"}}},
            {"job_id": "f1", "type": "sleep", "data": {"to": "b@x.org", "n": 42, "ok": True}},
            {"job_id": "f2", "data": {"to": "a@x.org", "n": "42", "tags": ["x"]}},
            {"job_id": "f3", "type": "fail", "data": {"customer": {"email": "d@x.org"}}}])
        self.assertEqual(self.ids_of("flt", "type=sleep"), ["f1"])
        self.assertEqual(self.ids_of("flt", "type=hold"), ["f0", "f2"])
        self.assertEqual(self.ids_of("flt", "field=to&value=a@x.org"), ["f0", "f2"])
        self.assertEqual(self.ids_of("flt", "field=data.to&value=a@x.org&type=hold"),
                         ["f0", "f2"])
        self.assertEqual(self.ids_of("flt", "field=customer.email&value=d@x.org"), ["f3"])
        # A string field equals the text; another value's compact JSON does.
        self.assertEqual(self.ids_of("flt", "field=n&value=42"), ["f1", "f2"])
        self.assertEqual(self.ids_of("flt", "field=ok&value=true"), ["f1"])
        self.assertEqual(self.ids_of("flt", "field=tags&value=%5B%22x%22%5D"), ["f2"])
        self.assertEqual(self.ids_of("flt", "field=customer&value=%7B%22email%22%3A%22c%40x.org%22%7D"),
                         ["f0"])
        self.assertEqual(self.ids_of("flt", "field=missing&value=1"), [])
        page = self.jobs_page("flt", "type=sleep")
        self.assertEqual((page["scanned"], page["next_cursor"]), (4, None))
        self.assertNotIn("scanned", self.jobs_page("flt", "limit=2"))  # no filter: as before
        # The latest error, case-insensitively ("boom" from the worker's fail handler).
        ids = [self.post_job({"type": "fail", "max_attempts": 1, "data": {}})[1]["id"]
               for _ in range(2)]
        for job_id in ids:
            self.assertTrue(wait_until(lambda: self.state_of(job_id) == "dead"))
        found = self.ids_of("fail", "state=dead&error=OO&limit=1000")
        self.assertTrue(set(ids) <= set(found), found)
        self.assertEqual(self.ids_of("fail", "state=dead&error=no-such-error"), [])
        self.assertEqual(self.ids_of("flt", "error=boom"), [])  # no error at all: no match

    def test_job_filter_scan_is_bounded_and_the_cursor_continues(self):
        self.enqueue_held("scan", [{"job_id": f"s{i:02}", "data": {"even": i % 2 == 0}}
                                   for i in range(25)])
        page = self.jobs_page("scan", "field=even&value=true&scan=10")
        self.assertEqual([j["id"] for j in page["jobs"]], ["s00", "s02", "s04", "s06", "s08"])
        self.assertEqual((page["scanned"], page["next_cursor"]), (10, "10"))
        # Stopping at `limit` matches: the cursor is right after the last match.
        page = self.jobs_page("scan", "field=even&value=true&limit=2")
        self.assertEqual([j["id"] for j in page["jobs"]], ["s00", "s02"])
        self.assertEqual((page["scanned"], page["next_cursor"]), (3, "3"))
        seen, cursor, pages = [], "0", 0
        while cursor is not None:
            page = self.jobs_page("scan", f"field=even&value=true&scan=7&cursor={cursor}")
            self.assertLessEqual(page["scanned"], 7)
            seen += [j["id"] for j in page["jobs"]]
            cursor, pages = page["next_cursor"], pages + 1
        self.assertEqual(seen, [f"s{i:02}" for i in range(0, 25, 2)])
        self.assertEqual(pages, 4)  # 7 + 7 + 7 + 4
        page = self.jobs_page("scan", "field=even&value=false&reverse=true&limit=3")
        self.assertEqual([j["id"] for j in page["jobs"]], ["s23", "s21", "s19"])

    def test_reverse_order_of_waiting_and_finished_jobs(self):
        self.enqueue_held("rev", [{"job_id": "r-low", "priority": 5},
                                  {"job_id": "r-a"}, {"job_id": "r-b"},
                                  {"job_id": "r-urgent", "priority": -5},
                                  {"job_id": "r-g1", "group": "acme"},
                                  {"job_id": "r-g2", "group": "acme"},
                                  {"job_id": "r-h1", "group": "zeta"}])
        forward = self.ids_of("rev", "limit=1000")
        self.assertEqual(forward, ["r-urgent", "r-a", "r-b", "r-low", "r-g1", "r-g2", "r-h1"])
        self.assertEqual(self.ids_of("rev", "reverse=true&limit=1000"), forward[::-1])
        self.assertEqual(self.ids_of("rev", "reverse=false"), forward)
        paged, cursor = [], "0"
        while cursor is not None:
            page = self.jobs_page("rev", f"reverse=true&limit=2&cursor={cursor}")
            paged += [j["id"] for j in page["jobs"]]
            cursor = page["next_cursor"]
        self.assertEqual(paged, forward[::-1])
        for queue, state, body in (("fail", "dead", {"type": "fail", "max_attempts": 1}),
                                   ("sleep", "completed", {"type": "sleep", "data": {"ms": 1}})):
            ids = [self.post_job(body)[1]["id"] for _ in range(3)]
            for job_id in ids:
                self.assertTrue(wait_until(lambda: self.state_of(job_id) == state))
            newest_first = self.ids_of(queue, f"state={state}&limit=1000")
            oldest_first = self.ids_of(queue, f"state={state}&limit=1000&reverse=true")
            self.assertEqual(oldest_first, newest_first[::-1])
            # The three just finished come last (in the order they finished, which the worker's
            # concurrency leaves open).
            self.assertEqual(sorted(oldest_first[-3:]), sorted(ids))
            self.assertEqual(self.ids_of(queue, f"state={state}&limit=1&reverse=true"),
                             oldest_first[:1])

    def test_remove_any_job_but_a_running_one(self):
        self.enqueue_held("rm", [{"job_id": "rm1"}, {"job_id": "rm2", "delay_ms": 600000}])
        for job_id in ("rm1", "rm2"):
            status, result, _ = self.api.request("POST", f"/api/jobs/{job_id}/remove?queue=rm")
            self.assertEqual((status, result),
                             (200, {"id": job_id, "queue": "rm", "outcome": "removed"}))
            self.assertEqual(self.get_job(job_id)[0], 404)
        status, error, _ = self.api.request("POST", "/api/jobs/rm1/remove?queue=rm")
        self.assertEqual((status, error["field"]), (404, "id"))
        status, error, _ = self.api.request("POST", "/api/jobs/bad%20id/remove")
        self.assertEqual((status, error["field"]), (422, "job_id"))
        _, dead, _ = self.post_job({"type": "fail", "max_attempts": 1})
        self.assertTrue(wait_until(lambda: self.state_of(dead["id"]) == "dead"))
        self.assertEqual(self.api.request("POST", f"/api/jobs/{dead['id']}/remove")[0], 200)
        _, running, _ = self.post_job({"type": "sleep", "data": {"ms": 20000}})
        self.assertTrue(wait_until(lambda: self.state_of(running["id"]) == "active"))
        status, error, _ = self.api.request("POST", f"/api/jobs/{running['id']}/remove")
        self.assertEqual((status, error["code"]), (409, "conflict"))
        self.assertIn("cancel", error["detail"])
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{running['id']}")[0], 202)
        self.assertTrue(wait_until(lambda: self.state_of(running["id"]) == "dead"))

    def test_batch_actions_do_each_job_and_report_the_others(self):
        self.enqueue_held("act", [{"job_id": "w1"}, {"job_id": "d1", "delay_ms": 600000},
                                  {"job_id": "d2", "delay_ms": 600000}])
        self.enqueue_held("other", [{"job_id": "x1"}])

        def act(action, ids):
            status, result, _ = self.api.request("POST", "/api/queues/act/jobs/actions",
                                                 {"action": action, "ids": ids})
            self.assertEqual(status, 200, result)
            self.assertEqual((result["queue"], result["action"]), ("act", action))
            return result["done"], {f["id"]: f["code"] for f in result["failed"]}

        done, failed = act("promote", ["d1", "w1", "nope", "x1", "d2"])
        self.assertEqual(done, ["d1", "d2"])
        self.assertEqual(failed, {"w1": "conflict", "nope": "not_found", "x1": "not_found"})
        self.assertEqual(self.state_of("d1"), "waiting")
        self.assertEqual(act("retry", ["w1"]), ([], {"w1": "conflict"}))
        self.assertEqual(act("cancel", ["w1", "w1"]), (["w1"], {"w1": "not_found"}))
        self.assertEqual(act("remove", ["d1", "d2"]), (["d1", "d2"], {}))
        self.assertEqual(self.get_job("x1")[0], 200)  # another queue's job is untouched
        _, result, _ = self.api.request("POST", "/api/queues/act/jobs/actions",
                                        {"action": "remove", "ids": ["gone"]})
        self.assertEqual(result["failed"][0]["message"], "no job with id 'gone'")
        # Dead jobs of the fail queue go back to waiting (the worker fails them again).
        ids = [self.post_job({"type": "fail", "max_attempts": 1})[1]["id"] for _ in range(2)]
        for job_id in ids:
            self.assertTrue(wait_until(lambda: self.state_of(job_id) == "dead"))
        status, result, _ = self.api.request("POST", "/api/queues/fail/jobs/actions",
                                             {"action": "retry", "ids": ids})
        self.assertEqual((status, result["done"], result["failed"]), (200, ids, []))
        status, error, _ = self.api.request("POST", "/api/queues/nosuchqueue/jobs/actions",
                                            {"action": "retry", "ids": ["a"]})
        self.assertEqual((status, error["field"]), (404, "queue"))

    def test_bad_batch_actions_are_422_naming_the_field(self):
        cases = [({"ids": ["a"]}, "action"), ({"action": "retry"}, "ids"),
                 ({"action": "explode", "ids": ["a"]}, "action"),
                 ({"action": 3, "ids": ["a"]}, "action"),
                 ({"action": "retry", "ids": []}, "ids"),
                 ({"action": "retry", "ids": "a"}, "ids"),
                 ({"action": "retry", "ids": [f"j{i}" for i in range(1001)]}, "ids"),
                 ({"action": "retry", "ids": ["a", "b", "c", "bad id"]}, "ids[3]"),
                 ({"action": "retry", "ids": ["a", 7]}, "ids[1]"),
                 ({"action": "retry", "ids": ["a"], "all": True}, "all"),
                 ([1], "(body)")]
        for body, field in cases:
            status, error, _ = self.api.request("POST", "/api/queues/fail/jobs/actions", body)
            self.assertEqual((status, error["field"]), (422, field), body)
        status, _, _ = self.api.request("POST", "/api/queues/fail/jobs/actions", raw="{")
        self.assertEqual(status, 400)

    def test_bad_list_filters_are_422_naming_the_parameter(self):
        self.enqueue_held("flt422", [{"job_id": "z"}])
        cases = [("field=to", "value"), ("value=x", "field"), ("error=" + "e" * 257, "error"),
                 ("field=to&value=" + "v" * 257, "value"), ("field=a.b.c.d.e.f.g.h.i&value=1",
                                                           "field"),
                 ("field=a..b&value=1", "field"), ("field=data.&value=1", "field"),
                 ("type=bad%20type", "type"), ("scan=0&type=hold", "scan"),
                 ("scan=50001&type=hold", "scan"), ("reverse=yes", "reverse")]
        for query, field in cases:
            status, error, _ = self.api.request("GET", f"/api/queues/flt422/jobs?{query}")
            self.assertEqual((status, error["field"]), (422, field), query)
        # At the limits it is fine.
        self.jobs_page("flt422", "field=a.b.c.d.e.f.g.h&value=" + "v" * 256 + "&scan=50000")

    def test_workers_are_listed_with_their_queues_until_they_stop(self):
        status, body, _ = self.api.request("GET", "/api/workers")
        self.assertEqual(status, 200)
        mine = [w for w in body["workers"] if w["pid"] == self.worker.proc.pid]
        self.assertEqual(len(mine), 1, body)
        queues = {q["queue"]: q["concurrency"] for q in mine[0]["queues"]}
        self.assertEqual(queues, {"sleep": 4, "fail": 2, "echo": 1, "stubborn": 1})
        self.assertEqual(set(mine[0]["job_types"]),
                         {"sleep", "fail", "echo", "stubborn", "misbehave", "gather", "step",
                          "tally"})
        self.assertLess(mine[0]["heartbeat_age_ms"], 15000)
        self.assertEqual(mine[0]["host"], socket.gethostname())
        extra = Worker(self.redis.url, "extraq=3")
        try:
            self.post_job({"type": "hold", "queue": "extraq", "delay_ms": 600000, "data": {}})
            queue = self.api.request("GET", "/api/queues/extraq")[1]
            self.assertEqual(queue["workers"], 1)
        finally:
            extra.stop()
        pids = [w["pid"] for w in self.api.request("GET", "/api/workers")[1]["workers"]]
        self.assertNotIn(extra.proc.pid, pids)  # a clean stop removes it at once
        self.assertIn(self.worker.proc.pid, pids)
        self.assertEqual(self.api.request("GET", "/api/queues/extraq")[1]["workers"], 0)


class ShardsTest(unittest.TestCase):
    """/api/queues/{queue}/shards: a queue spread over shards, changed while empty, read as one
    queue with a breakdown per shard."""

    def test_a_queue_is_spread_shown_per_shard_and_refused_while_jobs_wait(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "sleep")
        worker = None
        try:
            # An unsharded queue adds no series (and no HELP or TYPE line) to the scrape. (Before
            # sq is first read: a backend keeps the layout it read for a few seconds.)
            plain = {"type": "sleep", "queue": "plainq", "data": {"ms": 0}}
            self.assertEqual(api.request("POST", "/api/jobs", plain)[0], 201)
            metrics = api.request("GET", "/metrics")[1].decode()
            self.assertIn('taskq_jobs{queue="plainq",state="waiting"} 1', metrics)
            self.assertNotIn("taskq_queue_shard", metrics)
            status, body, _ = api.request("GET", "/api/queues/sq/shards")
            self.assertEqual(status, 200, body)
            self.assertEqual((body["shards"], body["version"]), (1, 0))
            self.assertEqual([s["tag"] for s in body["breakdown"]], ["sq"])
            self.assertEqual(body["breakdown"][0]["master"], None)  # one redis-server
            for bad, field in (({"shards": 0}, "shards"), ({"shards": 33}, "shards"),
                               ({"shards": "3"}, "shards"), ({}, "shards"),
                               ({"shards": 2, "n": 1}, "n")):
                status, error, _ = api.request("PUT", "/api/queues/sq/shards", bad)
                self.assertEqual(status, 422, (bad, error))
                self.assertIn(field, str(error), bad)
            status, body, _ = api.request("PUT", "/api/queues/sq/shards", {"shards": 3})
            self.assertEqual(status, 200, body)
            self.assertEqual((body["shards"], body["version"]), (3, 1))
            tags = [s["tag"] for s in body["breakdown"]]
            self.assertEqual(tags[0], "sq")
            self.assertTrue(tags[1].startswith("sq#1.") and tags[2].startswith("sq#2."), tags)
            for i in range(30):
                job = {"type": "sleep", "queue": "sq", "data": {"ms": 0}}
                self.assertEqual(api.request("POST", "/api/jobs", job)[0], 201)
            body = api.request("GET", "/api/queues/sq/shards")[1]
            waiting = [s["counts"]["waiting"] for s in body["breakdown"]]
            self.assertEqual(sum(waiting), 30)
            self.assertEqual(len([n for n in waiting if n > 0]), 3, waiting)
            self.assertEqual([s["master"] for s in body["breakdown"]], [None] * 3)
            queue = api.request("GET", "/api/queues/sq")[1]
            self.assertEqual((queue["shards"], queue["counts"]["waiting"]), (3, 30))
            # Per shard in /metrics: each shard's jobs by state, and how many shards. The scrape
            # before the change counted sq as one shard; counts check the layout they used
            # against the home shard's version, so this one counts all three at once.
            lines = api.request("GET", "/metrics")[1].decode().splitlines()
            self.assertIn('taskq_queue_shards{queue="sq"} 3', lines)
            for shard, n in enumerate(waiting):
                for state in ("waiting", "delayed", "active", "retrying", "dead"):
                    self.assertIn('taskq_queue_shard_jobs{queue="sq",shard="%d",state="%s"} %d'
                                  % (shard, state, n if state == "waiting" else 0), lines)
            shard_series = [line for line in lines
                            if line.startswith("taskq_queue_shard_jobs{")]
            self.assertEqual(len(shard_series), 3 * 5, shard_series)
            for name, kind in (("taskq_queue_shards", "gauge"),
                               ("taskq_queue_shard_jobs", "gauge")):
                self.assertEqual(lines.count("# TYPE %s %s" % (name, kind)), 1, name)
                self.assertEqual(len([line for line in lines
                                      if line.startswith("# HELP %s " % name)]), 1, name)
            status, error, _ = api.request("PUT", "/api/queues/sq/shards", {"shards": 2})
            self.assertEqual(status, 409, error)
            self.assertIn("NOTEMPTY waiting", error["detail"])
            status, error, _ = api.request("PUT", "/api/queues/sq/limits", {"concurrency": 2})
            self.assertEqual((status, error["field"]), (422, "concurrency"), error)
            status, body, _ = api.request("PUT", "/api/queues/sq/limits", {"concurrency": 6})
            self.assertEqual((status, body["concurrency"]), (200, 6), body)
            worker = Worker(redis.url, "sq=3")
            self.assertTrue(wait_until(
                lambda: api.request("GET", "/api/queues/sq")[1]["counts"]["completed"] == 30,
                timeout=30))
            body = api.request("GET", "/api/queues/sq/shards")[1]
            self.assertEqual([s["counts"]["completed"] for s in body["breakdown"]], waiting)
        finally:
            if worker:
                worker.stop()
            api.stop()
            redis.stop()


class QueueRatesTest(unittest.TestCase):
    """per_minute and mean_wait_ms of /api/queues, from samples this API process takes."""

    def test_rates_and_the_mean_wait_of_jobs_that_started(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "sleep")
        worker = None
        try:
            for _ in range(5):
                job = {"type": "sleep", "queue": "rq", "data": {"ms": 0}}
                self.assertEqual(api.request("POST", "/api/jobs", job)[0], 201)
            first = api.request("GET", "/api/queues/rq")[1]  # the first sample
            self.assertIsNone(first["per_minute"])
            self.assertIsNone(first["mean_wait_ms"])
            time.sleep(1.2)  # every job waits at least this long
            worker = Worker(redis.url, "rq=2")

            def rated():
                queue = api.request("GET", "/api/queues/rq")[1]
                done = queue["counts"]["completed"] == 5 and queue["mean_wait_ms"] is not None
                return queue if done else None
            queue = wait_until(rated, timeout=30, interval=0.5)
            self.assertIsNotNone(queue, "no rate after 30 s")
            self.assertGreater(queue["per_minute"]["processed"], 0)
            self.assertEqual(queue["per_minute"]["failed"], 0)
            self.assertGreaterEqual(queue["mean_wait_ms"], 1000)
        finally:
            if worker:
                worker.stop()
            api.stop()
            redis.stop()


class QueueHistoryTest(unittest.TestCase):
    """/api/queues/{queue}/history and /api/history, from the samples workers record in Redis."""

    def test_history_counts_each_bucket_and_outlives_the_api(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "sleep,fail")
        # Two recorders of one-second buckets: still one sample per bucket.
        workers = [Worker(redis.url, "hq=2", env={"TASKQ_HISTORY_BUCKET_MS": "1000"})
                   for _ in range(2)]
        try:
            history = lambda: api.request("GET", "/api/queues/hq/history?minutes=1")[1]
            # The workers registered the queue: samples are taken before any job, and later
            # rows count from them.
            self.assertTrue(wait_until(lambda: len(history()["minutes"]) >= 2, timeout=10))
            for i in range(6):
                job = {"type": "sleep", "queue": "hq", "data": {"ms": 0}}
                self.assertEqual(api.request("POST", "/api/jobs", job)[0], 201)
                time.sleep(0.3)
            for _ in range(2):
                job = {"type": "fail", "queue": "hq", "data": {}, "max_attempts": 1}
                self.assertEqual(api.request("POST", "/api/jobs", job)[0], 201)

            def settled():
                body = history()
                rows = body["minutes"]
                known = [r for r in rows if r["processed"] is not None]
                done = (sum(r["processed"] for r in known) >= 6 and
                        sum(r["dead"] for r in known) >= 2)
                return body if done else None
            body = wait_until(settled, timeout=20, interval=0.5)
            self.assertIsNotNone(body, history())
            rows = body["minutes"]
            starts = [r["t"] for r in rows]
            self.assertEqual(starts, sorted(set(starts)))  # one row per bucket, oldest first
            self.assertTrue(all(t % 1000 == 0 for t in starts))
            self.assertGreaterEqual(rows[0]["t"], body["now_ms"] - 60000)
            known = [r for r in rows if r["processed"] is not None]
            # The counts of the buckets add up to what happened after the first sample: six
            # completions, two attempts failed, two jobs dead, eight created.
            self.assertEqual(sum(r["processed"] for r in known), 6, rows)
            self.assertEqual(sum(r["failed"] for r in known), 2, rows)
            self.assertEqual(sum(r["dead"] for r in known), 2, rows)
            self.assertEqual(sum(r["enqueued"] for r in known), 8, rows)
            self.assertTrue(any(r["processed"] > 0 for r in known[1:]) or len(known) == 1)
            everything = api.request("GET", "/api/history?minutes=1")[1]
            self.assertNotIn("queue", everything)
            self.assertEqual(
                sum(r["processed"] or 0 for r in everything["minutes"] if r["t"] in starts),
                sum(r["processed"] or 0 for r in rows))

            # The alerts: the two dead jobs of the last ten minutes, and jobs nobody serves.
            api_jobs = {"type": "fail", "queue": "unserved", "data": {}}
            self.assertEqual(api.request("POST", "/api/jobs", api_jobs)[0], 201)
            status, alerts, _ = api.request("GET", "/api/alerts")
            self.assertEqual(status, 200)
            by_name = {(a["name"], a["queue"]): a for a in alerts["alerts"]}
            dead = by_name[("TaskqDeadLetterGrowing", "hq")]
            self.assertEqual((dead["severity"], dead["value"], dead["schedule"]),
                             ("warning", 2, None))
            unserved = by_name[("TaskqQueueWithoutWorkers", "unserved")]
            self.assertEqual((unserved["severity"], unserved["value"]), ("critical", 1))
            self.assertIn("no live worker", unserved["summary"])
            self.assertNotIn(("TaskqQueueWithoutWorkers", "hq"), by_name)
            self.assertEqual(alerts["alerts"][0]["severity"], "critical")  # critical first

            # A new API process reads the same past: nothing lives in the one that served it.
            api.stop()
            api = Api(redis.url, "--job-types", "sleep,fail", "--alert-oldest-waiting-s", "1")
            again = api.request("GET", "/api/queues/hq/history?minutes=1")[1]["minutes"]
            self.assertTrue(set(starts) <= {r["t"] for r in again})
            # Its thresholds are its own: the unserved job is past a 1 s wait.
            def old_enough():
                alerts = api.request("GET", "/api/alerts")[1]
                return alerts if any(a["name"] == "TaskqOldestWaitingTooOld" and
                                     a["queue"] == "unserved" for a in alerts["alerts"]) else None
            alerts = wait_until(old_enough, timeout=10, interval=0.3)
            self.assertIsNotNone(alerts)
            self.assertEqual(alerts["thresholds"], {"dead_window_minutes": 10,
                                                    "oldest_waiting_s": 1, "schedule_late_s": 60})
            self.assertNotIn("TaskqOldestWaitingTooOld", [a["name"] for a in alerts["alerts"]
                                                          if a["queue"] == "hq"])

            for path in ("/api/queues/hq/history?minutes=0",
                         "/api/queues/hq/history?minutes=10081", "/api/history?minutes=x"):
                status, error, _ = api.request("GET", path)
                self.assertEqual(status, 422, path)
                self.assertEqual(error["field"], "minutes")
            self.assertEqual(api.request("GET", "/api/queues/nosuch/history")[0], 404)
        finally:
            for w in workers:
                w.stop()
            api.stop()
            redis.stop()


if __name__ == "__main__":
    fx.main()
