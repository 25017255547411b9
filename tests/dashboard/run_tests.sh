#!/usr/bin/env bash
# Runs the dashboard's browser tests (dashboard.test.mjs). Usage: run_tests.sh TASKQ_BINARY [ARTIFACTS_DIR]
# Exit 77 (ctest: SKIP_RETURN_CODE) only when Debian's chromium or the npm packages are missing;
# scripts/bootstrap installs both, so CI never skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export TASKQ_BINARY=${1:?usage: run_tests.sh TASKQ_BINARY [ARTIFACTS_DIR]}
export TASKQ_ARTIFACTS=${2:-$(dirname "$TASKQ_BINARY")/dashboard-artifacts}
if [ ! -x /usr/bin/chromium ]; then
  echo "SKIP: /usr/bin/chromium is missing (scripts/bootstrap installs it)"
  exit 77
fi
if ! command -v node >/dev/null || [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "SKIP: node or $here/node_modules is missing (scripts/bootstrap runs npm ci there)"
  exit 77
fi
cd "$here"
exec node --test --test-reporter=spec dashboard.test.mjs
