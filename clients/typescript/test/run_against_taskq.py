#!/usr/bin/python3
"""Runs the TypeScript client's tests (npm test: tsc, then node --test) against a real
redis-server, `taskq api` and `taskq worker` (email to its outbox), through
tests/system/api_fixtures.py.

    run_against_taskq.py --taskq build/taskq --worker build/tests/taskq_test_worker
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "system"))

import api_fixtures as fx  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--taskq", required=True)
    parser.add_argument("--worker", required=True)
    args = parser.parse_args()
    fx.TASKQ, fx.TEST_WORKER = os.path.abspath(args.taskq), os.path.abspath(args.worker)
    redis = fx.Redis()
    data_dir = tempfile.mkdtemp(prefix="taskq-ts-client-")
    api = worker = None
    try:
        api = fx.Api(redis.url)
        worker = subprocess.Popen(
            [fx.TASKQ, "--redis-url", redis.url, "worker", "--queues", "email=2", "--data-dir",
             data_dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = dict(os.environ, TASKQ_API_URL=f"http://127.0.0.1:{api.port}")
        root = os.path.join(HERE, "..")
        build = subprocess.run(["node_modules/.bin/tsc", "-p", "."], cwd=root)
        if build.returncode != 0:
            return build.returncode
        return subprocess.run(["node", "--test", "--test-concurrency=1", "dist/test/"], cwd=root,
                              env=env).returncode
    finally:
        if worker:
            worker.terminate()
            worker.wait(30)
        if api:
            api.stop()
        redis.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
