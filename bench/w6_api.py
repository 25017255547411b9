#!/usr/bin/python3
"""W6 of bench/README.md: POST /api/jobs over HTTP/1.1 keep-alive from wrk on loopback,
64 connections, 30 s, against `taskq api` and a redis-server of its own (AOF off, no worker).
Prints one JSON object: w6_requests_per_s, w6_p99_ms and the checks behind them. Every 2xx must
be a job that exists afterwards: the jobs in Redis are counted and must be at least the 2xx
answers wrk saw (requests still in flight when wrk stops may add jobs it did not count).

    w6_api.py --taskq build/taskq [--duration 30] [--connections 64] [--threads 2]
"""
import argparse
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def wait_for(url, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--taskq", required=True)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--api-threads", type=int, default=1)
    args = parser.parse_args()

    script = __file__.rsplit("/", 1)[0] + "/w6_post_job.lua"
    redis_port, api_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="taskq-w6-") as tmp:
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL)
        api = None
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                ping = subprocess.run(["redis-cli", "-p", str(redis_port), "PING"],
                                      capture_output=True, text=True)
                if ping.stdout.strip() == "PONG":
                    break
                time.sleep(0.05)
            api = subprocess.Popen(
                [args.taskq, "--redis-url", f"redis://127.0.0.1:{redis_port}", "--log-level",
                 "warn", "api", "--listen", f"127.0.0.1:{api_port}", "--dashboard-listen", "",
                 "--api-threads", str(args.api_threads)])
            wait_for(f"http://127.0.0.1:{api_port}/healthz")
            print(f"w6: wrk -t{args.threads} -c{args.connections} -d{args.duration}s",
                  file=sys.stderr)
            out = subprocess.run(
                ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
                 "-s", script, f"http://127.0.0.1:{api_port}/api/jobs"],
                capture_output=True, text=True, check=True).stdout
            match = re.search(r"W6RESULT (\{.*\})", out)
            if not match:
                raise RuntimeError("wrk printed no summary:\n" + out)
            result = json.loads(match.group(1))
            time.sleep(0.5)  # let requests in flight at wrk's stop finish
            jobs = int(redis_cli(redis_port, "LLEN", "taskq:{email}:wait"))
        finally:
            if api:
                api.terminate()
                api.wait(15)
            redis.terminate()
            redis.wait(10)
    ok_answers = result["requests"] - result["non_2xx"]
    report = {
        "w6_requests_per_s": round(result["requests"] / (result["duration_us"] / 1e6)),
        "w6_p50_ms": round(result["p50_us"] / 1000, 3),
        "w6_p99_ms": round(result["p99_us"] / 1000, 3),
        "w6_non_2xx": result["non_2xx"],
        "w6_socket_errors": result["socket_errors"],
        "w6_2xx_answers": ok_answers,
        "w6_jobs_in_redis": jobs,
        "w6_every_2xx_is_a_job": jobs >= ok_answers,
    }
    print(json.dumps(report))
    return 0 if report["w6_every_2xx_is_a_job"] and result["non_2xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
