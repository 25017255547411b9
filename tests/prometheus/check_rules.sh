#!/usr/bin/env bash
# Checks the Prometheus alerting rules (deploy/prometheus/taskq-alerts.yml): their names and
# severities are those GET /api/alerts serves (src/api/alerts.cc), `promtool check rules`
# (syntax, PromQL, templates) and `promtool test rules` on their unit tests
# (taskq-alerts.test.yml: each alert fires on the series it is meant for, and not otherwise).
# Exit 77 (ctest: SKIP_RETURN_CODE) only when promtool is missing; scripts/bootstrap installs it
# (Debian package prometheus). With TASKQ_REQUIRE_PROMTOOL=1 (set by .ci/run) a missing promtool
# fails instead, so CI cannot pass by skipping.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rules_dir=$root/deploy/prometheus

# GET /api/alerts (src/api/alerts.cc) serves the same rules: the same names and severities. Those
# listed here it alone serves: they read what no metric carries (TaskqShardsShareMaster: the
# master serving each shard, from the cluster's slot map; docs/alerts.md).
api_only='TaskqShardsShareMaster warning'
served=$(grep -o '{"Taskq[A-Za-z]*", "[a-z]*"' "$root/src/api/alerts.cc" | tr -d '{",' |
  grep -vxF "$api_only" | sort)
shipped=$(awk '/- alert:/ { name = $3 } /severity:/ { print name, $2 }' "$rules_dir/taskq-alerts.yml" | sort)
if [ -z "$served" ] || [ "$served" != "$shipped" ]; then
  printf 'FAIL: the rules differ from those of /api/alerts\n  served:\n%s\n  shipped:\n%s\n' \
    "$served" "$shipped" >&2
  exit 1
fi
echo "the rules are those of /api/alerts: $(echo "$shipped" | wc -l) names and severities match"
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool is missing (scripts/bootstrap installs the Debian package prometheus)"
  [ "${TASKQ_REQUIRE_PROMTOOL:-0}" = 1 ] && { echo "TASKQ_REQUIRE_PROMTOOL=1: failing instead"; exit 1; }
  exit 77
fi
cd "$rules_dir"
promtool check rules taskq-alerts.yml
promtool test rules taskq-alerts.test.yml
