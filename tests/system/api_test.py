#!/usr/bin/python3
"""Runs every system test of the HTTP API (api_fixtures.py says how they work), or those that
unittest's arguments pick:

    api_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [-k NAME]
"""
import api_fixtures

MODULES = ["api_jobs_test", "api_queues_test", "api_http_test", "api_redis_test",
           "api_auth_test", "api_cli_test", "api_types_test", "api_schedules_test",
           "api_isolation_test", "api_flows_test"]

if __name__ == "__main__":
    api_fixtures.main(MODULES)
