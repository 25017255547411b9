#!/usr/bin/env bash
# Checks compose.yaml without a Docker engine. Usage: compose_test.sh TASKQ_BINARY [COMPOSE_FILE]
#  1. every taskq service in compose.yaml (one with `build:`, `image: taskq...` or `<<: *taskq`) has
#     a `command:` whose first word is a subcommand that `TASKQ_BINARY --help` lists;
#  2. every published port is bound to 127.0.0.1;
#  3. `docker-compose -f FILE config -q` (or `docker compose ...`) accepts the file.
# Exit 0: all pass. 1: a check failed. 77: checks 1 and 2 passed but no compose tool is installed,
# so check 3 was skipped (ctest: SKIP_RETURN_CODE 77). Debian 12: apt-get install docker-compose.
# The parsing is line-based and expects the layout of compose.yaml: services indented 2 spaces,
# their keys 4, and `command:` as a string, a [flow, list] or a block list.
set -euo pipefail
bin=${1:?usage: compose_test.sh TASKQ_BINARY [COMPOSE_FILE]}
compose_file=${2:-$(cd "$(dirname "$0")/../.." && pwd)/compose.yaml}
[ -f "$compose_file" ] || { echo "FAIL: no $compose_file" >&2; exit 1; }

# 1. Subcommands: CLI11 prints them under "Subcommands:", one per line as "  name   description".
help=$("$bin" --help) || { echo "FAIL: '$bin --help' failed" >&2; exit 1; }
subcommands=$(printf '%s\n' "$help" |
  awk '/^Subcommands:/ { on = 1; next } on && /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }')
[ -n "$subcommands" ] || { echo "FAIL: no subcommands in '$bin --help'" >&2; exit 1; }

# "service first-word-of-command" for each taskq service ("-" when it has no command).
services=$(awk '
  function flush() { if (name != "" && taskq) print name, (cmd == "" ? "-" : cmd); name = "" }
  function first_word(v) { gsub(/^[[:space:]\[]+|["\047]/, "", v); split(v, w, /[[:space:],\]]+/); return w[1] }
  /^services:/ { in_services = 1; next }
  in_services && /^[^[:space:]#]/ { flush(); in_services = 0 }
  !in_services { next }
  /^  [A-Za-z0-9._-]+:[[:space:]]*$/ {
    flush(); name = $1; sub(/:$/, "", name); taskq = 0; cmd = ""; list = 0; next
  }
  name == "" { next }
  /^    (build:|image:[[:space:]]*["\047]?taskq|<<:[[:space:]]*\*taskq)/ { taskq = 1 }
  list && /^[[:space:]]+- / { v = $0; sub(/^[[:space:]]+- /, "", v); cmd = first_word(v); list = 0 }
  /^    command:/ { v = $0; sub(/^    command:[[:space:]]*/, "", v); if (v == "") list = 1; else cmd = first_word(v) }
  END { flush() }
' "$compose_file")
[ -n "$services" ] || { echo "FAIL: no taskq service found in $compose_file" >&2; exit 1; }

failed=0
while read -r service command; do
  if [ "$command" = "-" ]; then
    echo "FAIL: service '$service' has no command: (the image would only print --help)" >&2
    failed=1
  elif grep -qxF -- "$command" <<<"$subcommands"; then
    echo "ok: service '$service' runs 'taskq $command'"
  else
    echo "FAIL: service '$service' runs 'taskq $command'; '$bin --help' lists: ${subcommands//$'\n'/ }" >&2
    failed=1
  fi
done <<<"$services"
[ "$failed" -eq 0 ] || exit 1

# 2. Published ports only on the host's loopback interface ("127.0.0.1:8000:8000"): the services
#    run without credentials by default, and a port published on every interface would serve
#    the whole network.
published=$(awk '
  /^    ports:/ { on = 1; next }
  on && /^      - / { v = $0; sub(/^      - /, "", v); gsub(/["\047]/, "", v); print v; next }
  on && !/^      / { on = 0 }
' "$compose_file")
while read -r port; do
  [ -n "$port" ] || continue
  if [[ "$port" == 127.0.0.1:* ]]; then
    echo "ok: port $port is published on loopback only"
  else
    echo "FAIL: port $port is published beyond loopback (write 127.0.0.1:HOST:CONTAINER)" >&2
    failed=1
  fi
done <<<"$published"
[ "$failed" -eq 0 ] || exit 1

# 3. Schema and interpolation, by the compose tool itself (it needs no engine for `config`).
cd "$(dirname "$compose_file")"
if command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "SKIP: neither docker-compose nor the docker compose plugin is installed; '${compose_file##*/}' not validated"
  exit 77
fi
if ! "${compose[@]}" -f "$compose_file" config -q; then
  echo "FAIL: ${compose[*]} -f $compose_file config -q" >&2
  exit 1
fi
echo "ok: ${compose[*]} -f $compose_file config -q"
