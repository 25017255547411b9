#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

Schedules over the HTTP API, and a real scheduler firing one.

    api_schedules_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import datetime
import subprocess
import time
import unittest

import api_fixtures as fx
from api_fixtures import wait_until, Redis, Api


class ScheduleApiTest(unittest.TestCase):
    """/api/schedules against a real Redis, and a real `taskq scheduler` firing a schedule."""

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.api = Api(cls.redis.url, "--job-types", "tick")

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        cls.redis.stop()

    def req(self, method, path, body=None):
        status, payload, _ = self.api.request(method, path, body)
        return status, payload

    def test_crud_and_the_next_ten_fire_times(self):
        from zoneinfo import ZoneInfo
        status, created, headers = self.api.request("POST", "/api/schedules", {
            "id": "daily", "cron": "0 3 * * *", "tz": "Europe/Berlin", "type": "tick",
            "data": {"n": 1}, "options": {"priority": 5}})
        self.assertEqual(status, 201, created)
        self.assertEqual(headers["Location"], "/api/schedules/daily")
        self.assertEqual(created["status"], "active")
        self.assertEqual(created["queue"], "tick")
        self.assertEqual(created["options"]["priority"], 5)
        self.assertIsNone(created["last_run"])
        times = created["next_fire_times"]
        self.assertEqual(len(times), 10)
        self.assertEqual(times[0], created["next_fire_ms"])
        self.assertGreater(times[0], time.time() * 1000)
        self.assertEqual(times, sorted(set(times)))
        berlin = ZoneInfo("Europe/Berlin")
        for t in times:  # 03:00 local on ten consecutive days, whatever the UTC offset
            local = datetime.datetime.fromtimestamp(t / 1000, berlin)
            self.assertEqual((local.hour, local.minute, local.second), (3, 0, 0), local)
        days = [datetime.datetime.fromtimestamp(t / 1000, berlin).date() for t in times]
        self.assertEqual([(b - a).days for a, b in zip(days, days[1:])], [1] * 9)

        status, conflict = self.req("POST", "/api/schedules",
                                    {"id": "daily", "cron": "@hourly", "type": "tick"})
        self.assertEqual(status, 409, conflict)
        self.assertEqual(conflict["field"], "id")
        status, listed = self.req("GET", "/api/schedules")
        self.assertEqual(status, 200)
        self.assertIn("daily", [s["id"] for s in listed["schedules"]])

        status, replaced = self.req("PUT", "/api/schedules/daily",
                                    {"cron": "0 4 * * *", "tz": "Europe/Berlin", "type": "tick"})
        self.assertEqual(status, 200, replaced)
        self.assertEqual(replaced["cron"], "0 4 * * *")
        local = datetime.datetime.fromtimestamp(replaced["next_fire_ms"] / 1000, berlin)
        self.assertEqual(local.hour, 4)
        status, fresh = self.req("PUT", "/api/schedules/hourly", {"cron": "@hourly", "type": "tick"})
        self.assertEqual(status, 201, fresh)
        status, mismatch = self.req("PUT", "/api/schedules/hourly",
                                    {"id": "other", "cron": "@hourly", "type": "tick"})
        self.assertEqual((status, mismatch["field"]), (422, "id"))

        status, paused = self.req("POST", "/api/schedules/daily/pause")
        self.assertEqual((status, paused), (200, {"id": "daily", "paused": True, "changed": True}))
        self.assertEqual(self.req("GET", "/api/schedules/daily")[1]["status"], "paused")
        status, resumed = self.req("POST", "/api/schedules/daily/resume")
        self.assertEqual((status, resumed["changed"]), (200, True))
        self.assertEqual(self.req("GET", "/api/schedules/daily")[1]["status"], "active")

        self.assertEqual(self.req("DELETE", "/api/schedules/daily")[0], 200)
        status, missing = self.req("GET", "/api/schedules/daily")
        self.assertEqual((status, missing["field"]), (404, "id"))
        self.assertEqual(self.req("DELETE", "/api/schedules/daily")[0], 404)
        self.assertEqual(self.req("POST", "/api/schedules/daily/pause")[0], 404)

    def test_invalid_definitions_name_the_field(self):
        status, body = self.req("POST", "/api/schedules",
                                {"id": "bad", "cron": "0 25 * * *", "type": "tick"})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["field"], "cron")
        self.assertRegex(body["detail"], r"^position \d+: ")
        cases = [
            ({"id": "bad", "cron": "@daily", "tz": "Mars/Base", "type": "tick"}, "tz"),
            ({"id": "bad", "cron": "@daily", "type": "nope"}, "type"),
            ({"id": "bad", "cron": "@daily", "type": "tick", "every": 1}, "every"),
            ({"id": "bad", "cron": "@daily", "type": "tick", "missed": {"catch_up": 0}},
             "missed.catch_up"),
            ({"id": "bad", "cron": "@daily", "type": "tick", "options": {"max_attempts": 0}},
             "options.max_attempts"),
            ({"id": "b d", "cron": "@daily", "type": "tick"}, "id"),
        ]
        for definition, field in cases:
            status, body = self.req("POST", "/api/schedules", definition)
            self.assertEqual((status, body["field"]), (422, field), body)
        # One answer names every invalid field, the job type's check among them.
        status, body = self.req("POST", "/api/schedules", {
            "id": "bad", "cron": "0 25 * * *", "tz": "Mars/Base", "type": "tick",
            "options": {"max_attempts": 0}})
        self.assertEqual(status, 422, body)
        self.assertEqual([e["field"] for e in body["errors"]],
                         ["options.max_attempts", "cron", "tz"])
        status, body = self.req("PUT", "/api/schedules/bad", {"cron": "nope", "type": "nope"})
        self.assertEqual(status, 422, body)
        self.assertEqual([e["field"] for e in body["errors"]], ["cron", "type"])
        self.assertIn("unknown job type", body["errors"][1]["detail"])
        status, _, _ = self.api.request("POST", "/api/schedules", raw=b"{not json")
        self.assertEqual(status, 400)
        self.assertEqual(self.req("GET", "/api/schedules/bad")[0], 404)  # nothing was stored

    def test_run_now_enqueues_one_job_without_advancing_the_schedule(self):
        status, created = self.req("POST", "/api/schedules",
                                   {"id": "yearly", "cron": "@yearly", "type": "tick"})
        self.assertEqual(status, 201, created)
        status, run = self.req("POST", "/api/schedules/yearly/run")
        self.assertEqual(status, 201, run)
        status, job = self.req("GET", f"/api/jobs/{run['id']}?queue=tick")
        self.assertEqual(status, 200, job)
        self.assertEqual(job["schedule"]["id"], "yearly")
        self.assertGreater(job["schedule"]["fire_time_ms"], 0)
        status, after = self.req("GET", "/api/schedules/yearly")
        self.assertEqual((after["runs"], after["next_fire_ms"]), (0, created["next_fire_ms"]))
        self.assertEqual(self.req("POST", "/api/schedules/none/run")[0], 404)

    def test_openapi_lists_the_schedule_routes(self):
        status, doc = self.req("GET", "/api/openapi.json")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(doc["paths"]["/api/schedules/{id}"]), ["delete", "get", "put"])
        self.assertIn("post", doc["paths"]["/api/schedules/{id}/run"])

    def test_a_scheduler_fires_the_schedule_and_the_last_run_shows_its_job(self):
        scheduler = subprocess.Popen(
            [fx.TASKQ, "--redis-url", self.redis.url, "--log-level", "warn", "scheduler",
             "--scheduler-tick-ms", "100"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            status, created = self.req("POST", "/api/schedules", {
                "id": "every-second", "cron": "* * * * * *", "type": "tick"})
            self.assertEqual(status, 201, created)
            self.assertTrue(wait_until(
                lambda: self.req("GET", "/api/schedules/every-second")[1]["last_run"], 10))
            schedule = self.req("GET", "/api/schedules/every-second")[1]
            last = schedule["last_run"]
            self.assertEqual(last["job_id"], f"s:every-second:{last['fire_time_ms']}")
            self.assertEqual(last["job_state"], "waiting")
            self.assertGreaterEqual(schedule["runs"], 1)
            status, job = self.req("GET", f"/api/jobs/{last['job_id']}?queue=tick")
            self.assertEqual(status, 200, job)
            self.assertEqual(job["schedule"], {"id": "every-second",
                                               "fire_time_ms": last["fire_time_ms"]})
            listing = subprocess.run([fx.TASKQ, "--redis-url", self.redis.url, "schedules"],
                                     capture_output=True, text=True, timeout=30)
            self.assertEqual(listing.returncode, 0, listing.stderr)
            row = [l for l in listing.stdout.splitlines() if l.startswith("every-second")][0]
            self.assertIn("* * * * * *", row)
            self.assertIn("active", row)
        finally:
            self.req("DELETE", "/api/schedules/every-second")
            scheduler.terminate()
            self.assertEqual(scheduler.wait(15), 0)

    def test_a_schedule_nobody_fires_is_late_and_its_missed_fire_times_are_counted(self):
        status, created = self.req("POST", "/api/schedules", {
            "id": "unattended", "cron": "* * * * * *", "type": "tick"})
        self.assertEqual(status, 201, created)
        scheduler = None
        try:
            self.assertEqual(created["missed_runs"], 0)
            # No scheduler runs: the next fire time falls behind, in the JSON and in /metrics.
            self.assertTrue(wait_until(
                lambda: self.req("GET", "/api/schedules/unattended")[1]["late_ms"] >= 2500, 10))

            def metric(name):
                body = self.api.request("GET", "/metrics")[1].decode()
                line = f'{name}{{schedule="unattended"}} '
                values = [l[len(line):] for l in body.splitlines() if l.startswith(line)]
                return float(values[0]) if values else None
            self.assertGreaterEqual(metric("taskq_schedule_late_seconds"), 2.5)
            self.assertEqual(metric("taskq_schedule_missed_total"), 0)
            # A scheduler with a 1 s grace passes over the fire times more than 1 s late.
            scheduler = subprocess.Popen(
                [fx.TASKQ, "--redis-url", self.redis.url, "--log-level", "warn", "scheduler",
                 "--scheduler-tick-ms", "100", "--scheduler-grace-ms", "1000"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.assertTrue(wait_until(
                lambda: self.req("GET", "/api/schedules/unattended")[1]["runs"] >= 1, 10))
            schedule = self.req("GET", "/api/schedules/unattended")[1]
            self.assertGreaterEqual(schedule["missed_runs"], 1, schedule)
            self.assertLess(schedule["late_ms"], 1000, schedule)
            self.assertEqual(metric("taskq_schedule_missed_total"), schedule["missed_runs"])
            self.assertGreaterEqual(metric("taskq_schedule_fires_total"), 1)
            # Paused: not late, whatever its next fire time.
            self.assertEqual(self.req("POST", "/api/schedules/unattended/pause")[0], 200)
            self.assertEqual(self.req("GET", "/api/schedules/unattended")[1]["late_ms"], 0)
        finally:
            self.req("DELETE", "/api/schedules/unattended")
            if scheduler:
                scheduler.terminate()
                self.assertEqual(scheduler.wait(15), 0)


if __name__ == "__main__":
    fx.main()
