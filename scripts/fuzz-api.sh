#!/usr/bin/env bash
# Fuzzes the HTTP API against its own document: starts the local run (in memory, a port of its
# own) and runs schemathesis on openapi.json with every check, a fixed seed and at least 50
# examples per operation. Needs `cargo build -p local` and schemathesis on PATH
# (.ci/constraints.txt pins it). Usage: scripts/fuzz-api.sh [seed] [examples per operation]
set -euo pipefail
cd "$(dirname "$0")/.."
seed="${1:-20261207}"
examples="${2:-50}"
bin="${HITPOINTS_LOCAL_BIN:-target/debug/local}"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" --in-memory --port "$port" >/tmp/hitpoints-fuzz-local.log 2>&1 &
local_pid=$!
trap 'kill "$local_pid" 2>/dev/null || true' EXIT
# A long poll (GET /events?wait=10) is held up to 10 s: a response may take that long.
# Up within 10 s, or say why not (curl is not on every machine: python3 asks instead).
ready() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "http://127.0.0.1:$port/openapi.json" 2>/dev/null
}
for _ in $(seq 100); do
  ready && break
  kill -0 "$local_pid" 2>/dev/null || break
  sleep 0.1
done
if ! ready; then
  echo "the local run did not start:"; cat /tmp/hitpoints-fuzz-local.log; exit 1
fi
# Our own check beside schemathesis's: .ci/fuzz_checks.py.
SCHEMATHESIS_HOOKS=.ci/fuzz_checks.py \
schemathesis --config-file .ci/schemathesis.toml run openapi.json \
  --url "http://127.0.0.1:$port" --checks all --max-examples "$examples" --seed "$seed" \
  --generation-database none --request-timeout 15 --max-response-time 12 --no-color \
  --report junit --report-dir target/fuzz-api
