#!/usr/bin/env bash
# Runs the dashboard's browser tests (every *.test.mjs here, one file at a time: each starts its
# own stack).
# Usage: run_tests.sh TASKQ_BINARY [ARTIFACTS_DIR [TEST_WORKER_BINARY]]
# Exit 77 (ctest: SKIP_RETURN_CODE) only when Debian's chromium or the npm packages are missing;
# scripts/bootstrap installs both. With TASKQ_REQUIRE_BROWSER=1 (set by .ci/run) a missing piece
# fails instead, so CI cannot pass by skipping.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export TASKQ_BINARY=${1:?usage: run_tests.sh TASKQ_BINARY [ARTIFACTS_DIR]}
export TASKQ_ARTIFACTS=${2:-$(dirname "$TASKQ_BINARY")/dashboard-artifacts}
# taskq_test_worker (tests/system/test_worker_main.cc): its "stubborn" handler overruns timeouts.
export TASKQ_TEST_WORKER=${3:-$(dirname "$TASKQ_BINARY")/tests/taskq_test_worker}
skip() {
  echo "SKIP: $1"
  [ "${TASKQ_REQUIRE_BROWSER:-0}" = 1 ] && { echo "TASKQ_REQUIRE_BROWSER=1: failing instead"; exit 1; }
  exit 77
}
if [ ! -x /usr/bin/chromium ]; then
  skip "/usr/bin/chromium is missing (scripts/bootstrap installs it)"
fi
if ! command -v node >/dev/null || [ ! -d "$here/node_modules/playwright-core" ]; then
  skip "node or $here/node_modules is missing (scripts/bootstrap runs npm ci there)"
fi
rm -rf "$TASKQ_ARTIFACTS"  # no screenshots of an older run
cd "$here"
exec node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
