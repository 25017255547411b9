#!/usr/bin/env bash
# Lints the OpenAPI document a real `taskq api` serves with Redocly CLI (recommended-strict, see
# redocly.yaml). Usage: lint.sh TASKQ_BINARY. Exit 0: no problem; 1: problems (printed).
# The document needs no Redis: the API starts against an address where none listens.
set -euo pipefail
bin=${1:?usage: lint.sh TASKQ_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$api" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" --redis-url redis://127.0.0.1:1 api --listen "127.0.0.1:$port" --dashboard-listen "" \
  >"$work/api.log" 2>&1 &
api=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/api/openapi.json" -o "$work/openapi.json" && break
  sleep 0.1
done
[ -s "$work/openapi.json" ] || { echo "FAIL: no document from taskq api"; cat "$work/api.log"; exit 1; }
cd "$here"
node_modules/.bin/redocly lint "$work/openapi.json" --config redocly.yaml --format=stylish \
  2>&1 | grep -v -e '^ *║' -e '^ *╔' -e '^ *╚' -e '^$'
