#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

The API when Redis goes away or comes back, and against a Redis with ACLs.

    api_redis_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import json
import subprocess
import unittest

import api_fixtures as fx
from api_fixtures import Redis, Api, Worker, CuttingProxy


class RedisDownTest(unittest.TestCase):
    def test_redis_down_gives_503_with_retry_after_and_recovers(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "t")
        try:
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
            redis.proc.kill()
            redis.proc.wait()
            status, error, headers = api.request("POST", "/api/jobs", {"type": "t", "data": {}})
            self.assertEqual((status, error["error"]["code"]), (503, "unavailable"))
            self.assertIn("Retry-After", headers)
            self.assertEqual(api.request("GET", "/readyz")[0], 503)
            self.assertEqual(api.request("GET", "/healthz")[0], 200)
        finally:
            api.stop()
            redis.stop()


    def test_redis_closing_during_a_large_write_leaves_the_api_up(self):
        # Redis' end closes while the API writes a large command: a FIN, then a reset under the
        # API's next write() (EPIPE). Unless the process ignores SIGPIPE, that signal kills it.
        redis = Redis()
        proxy = CuttingProxy(redis.port)
        api = Api(f"redis://127.0.0.1:{proxy.port}", "--job-types", "t",
                  "--max-bulk-body-bytes", str(32 << 20), "--max-bulk", "1000")
        try:
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
            proxy.cut_after_bytes = 1 << 20
            jobs = [{"type": "t", "data": {"pad": "x" * 16000}} for _ in range(1000)]
            status = api.request("POST", "/api/jobs/bulk", {"jobs": jobs})[0]
            self.assertTrue(proxy.cuts > 0, "the proxy never cut a connection")
            self.assertIsNone(api.proc.poll(), f"taskq api exited with {api.proc.returncode}")
            self.assertEqual(status, 503)
            proxy.cut_after_bytes = None
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
        finally:
            api.stop()
            proxy.stop()
            redis.stop()

    def test_redis_out_of_memory_gives_503_with_retry_after_and_recovers(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "t")
        try:
            redis.cli("CONFIG", "SET", "maxmemory", "1")
            status, error, headers = api.request("POST", "/api/jobs", {"type": "t", "data": {}})
            self.assertEqual((status, error["error"]["code"]), (503, "unavailable"), error)
            self.assertIn("out of memory", error["error"]["message"])
            self.assertEqual(headers.get("Retry-After"), "1")
            status, error, _ = api.request(
                "POST", "/api/jobs/bulk", {"jobs": [{"type": "t", "data": {}}] * 3})
            self.assertEqual((status, error["error"]["code"]), (503, "unavailable"), error)
            redis.cli("CONFIG", "SET", "maxmemory", "0")
            self.assertEqual(redis.cli("KEYS", "taskq:*:jobs"), "")  # nothing half-written
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
        finally:
            api.stop()
            redis.stop()


class RedisAclTest(unittest.TestCase):
    def test_acl_user_password_and_database_from_the_url(self):
        redis = Redis("--user", "default", "off", "--user", "app", "on", ">s3cret-pass", "~*",
                      "&*", "+@all")
        try:
            url = f"redis://app:s3cret-pass@127.0.0.1:{redis.port}/3"
            api = Api(url, "--job-types", "sleep")
            worker = Worker(url, "sleep=1")
            try:
                status, body, _ = api.request("POST", "/api/jobs", {"type": "sleep", "data": {}})
                self.assertEqual(status, 201, body)
                status, job, _ = api.request("GET", body["links"]["wait"] + "&timeout_ms=5000")
                self.assertEqual(job["state"], "completed")
                keys = subprocess.run(
                    ["redis-cli", "-p", str(redis.port), "--user", "app", "--pass", "s3cret-pass",
                     "--no-auth-warning", "-n", "3", "HEXISTS", "taskq:{sleep}:jobs", body["id"]],
                    capture_output=True, text=True).stdout.strip()
                self.assertEqual(keys, "1")  # in database 3, as the URL says
            finally:
                worker.stop()
                api.stop()
            wrong = Api(f"redis://app:wrong@127.0.0.1:{redis.port}/3", "--job-types", "sleep")
            try:
                status, error, _ = wrong.request("GET", "/readyz")
                self.assertEqual(status, 503)
                self.assertNotIn("wrong", json.dumps(error))  # the password is not echoed
                # Nor where Redis is, nor what it said: anyone may ask /readyz. The log says it.
                self.assertNotIn(str(redis.port), json.dumps(error))
                self.assertNotIn("127.0.0.1", json.dumps(error))
                with open(wrong.log.name) as f:
                    self.assertIn(f"127.0.0.1:{redis.port}", f.read())
            finally:
                wrong.stop()
        finally:
            redis.stop()


if __name__ == "__main__":
    fx.main()
