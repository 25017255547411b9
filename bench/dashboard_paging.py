#!/usr/bin/python3
"""The dashboard on a big queue: how long its requests take when one queue holds N waiting jobs
(1,000,000 by default), through the dashboard's own origin (BASE/api/..., with a session), as
the page makes them. A redis-server and `taskq api` of its own; the jobs are seeded with
POST /api/jobs/bulk, half at priority 0 (the wait LIST) and half at priority 5 (the priority
ZSET), so pages are read from both.

Prints one JSON object of median milliseconds over `--repeat` requests each: the overview
(GET /api/queues), the first, middle and last page of 50 waiting jobs, the first page in
reverse order, and a search by data field that scans 10,000 jobs (the page's bounded scan).

    dashboard_paging.py --taskq build/taskq [--jobs 1000000] [--repeat 20]
"""
import argparse
import http.client
import json
import socket
import statistics
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookie = None

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None,
                          headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        return json.loads(payload)


def median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--taskq", required=True)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    redis_port, api_port, dash_port = free_port(), free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="taskq-dash-bench-")
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL)
    api = None
    try:
        time.sleep(0.3)
        api = subprocess.Popen(
            [args.taskq, "--redis-url", f"redis://127.0.0.1:{redis_port}", "--log-level", "warn",
             "api", "--listen", f"127.0.0.1:{api_port}", "--dashboard-listen",
             f"127.0.0.1:{dash_port}", "--max-bulk", "10000", "--job-types", "mail"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                Http(api_port).call("GET", "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

        seeding = Http(api_port)
        started = time.monotonic()
        batch = 10000
        for first in range(0, args.jobs, batch):
            jobs = [{"type": "mail", "queue": "big", "priority": 0 if (first + i) % 2 else 5,
                     "data": {"to": f"user{first + i}@example.com", "n": first + i}}
                    for i in range(min(batch, args.jobs - first))]
            seeding.call("POST", "/api/jobs/bulk", {"jobs": jobs})
        seed_s = time.monotonic() - started

        page = Http(dash_port)
        page.call("GET", "/admin/queues/session")
        base = "/admin/queues/api/queues/big/jobs?state=waiting&limit=50"
        target = f"user{args.jobs // 3}@example.com"
        report = {
            "jobs": args.jobs,
            "seed_s": round(seed_s, 1),
            "overview_ms": median_ms(lambda: page.call("GET", "/admin/queues/api/queues"),
                                     args.repeat),
            "first_page_ms": median_ms(lambda: page.call("GET", base), args.repeat),
            "middle_page_ms": median_ms(
                lambda: page.call("GET", f"{base}&cursor={args.jobs // 2}"), args.repeat),
            "last_page_ms": median_ms(
                lambda: page.call("GET", f"{base}&cursor={args.jobs - 50}"), args.repeat),
            "reverse_first_page_ms": median_ms(lambda: page.call("GET", f"{base}&reverse=true"),
                                               args.repeat),
            "search_scan_10000_ms": median_ms(
                lambda: page.call("GET", f"{base}&field=to&value={target}&scan=10000"),
                max(3, args.repeat // 4)),
        }
        counts = page.call("GET", "/admin/queues/api/queues")["queues"][0]["counts"]
        if counts["waiting"] != args.jobs:
            raise RuntimeError(f"seeded {args.jobs} jobs, the queue holds {counts['waiting']}")
        last = page.call("GET", f"{base}&cursor={args.jobs - 50}")
        if len(last["jobs"]) != 50:
            raise RuntimeError(f"the last page holds {len(last['jobs'])} jobs, not 50")
        print(json.dumps(report))
    finally:
        if api:
            api.terminate()
            api.wait(15)
        redis.terminate()
        redis.wait(15)


if __name__ == "__main__":
    main()
