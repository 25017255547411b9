#!/usr/bin/env bash
# Checks the Prometheus alerting rules (deploy/prometheus/taskq-alerts.yml): `promtool check
# rules` (syntax, PromQL, templates) and `promtool test rules` on their unit tests
# (taskq-alerts.test.yml: each alert fires on the series it is meant for, and not otherwise).
# Exit 77 (ctest: SKIP_RETURN_CODE) only when promtool is missing; scripts/bootstrap installs it
# (Debian package prometheus). With TASKQ_REQUIRE_PROMTOOL=1 (set by .ci/run) a missing promtool
# fails instead, so CI cannot pass by skipping.
set -euo pipefail
rules_dir=$(cd "$(dirname "$0")/../../deploy/prometheus" && pwd)
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool is missing (scripts/bootstrap installs the Debian package prometheus)"
  [ "${TASKQ_REQUIRE_PROMTOOL:-0}" = 1 ] && { echo "TASKQ_REQUIRE_PROMTOOL=1: failing instead"; exit 1; }
  exit 77
fi
cd "$rules_dir"
promtool check rules taskq-alerts.yml
promtool test rules taskq-alerts.test.yml
