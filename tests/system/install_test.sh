#!/usr/bin/env bash
# Installs this build of taskq into a temporary prefix, builds examples/custom_handler against it
# with find_package(taskq), and runs it against a real redis-server on a free port.
set -euo pipefail
build_dir=$1
source_dir=$2
tmp=$(mktemp -d)
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
cmake --install "$build_dir" --prefix "$tmp/prefix" >/dev/null
cmake -S "$source_dir/examples/custom_handler" -B "$tmp/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
ninja -C "$tmp/example" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --dir "$tmp" --logfile "$tmp/redis.log" >/dev/null
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
output=$("$tmp/example/custom_handler" "redis://127.0.0.1:$port")
echo "$output"
[ "$(echo "$output" | grep -c 'completed: {"greeted":{"name":')" -eq 3 ]
