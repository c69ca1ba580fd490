#!/usr/bin/env bash
# The CPU an idle local run uses: starts `local --in-memory` on a free port, waits until it
# answers, and with no client connected reads the process's user + system time (all its
# threads: /proc/PID/stat fields 14 and 15) at the start and at the end of the window.
# Prints the share of one core; exits 1 if it is over the threshold. Builds nothing.
#
# Usage: scripts/idle-cpu.sh [SECONDS] [THRESHOLD_PERCENT]   (defaults 60 and 1)
#   LOCAL_BIN   the binary (default: ${CARGO_TARGET_DIR:-target}/debug/local)
#   IDLE_SECONDS, IDLE_THRESHOLD   the same as the arguments
set -euo pipefail
seconds="${1:-${IDLE_SECONDS:-60}}"
threshold="${2:-${IDLE_THRESHOLD:-1}}"
bin="${LOCAL_BIN:-${CARGO_TARGET_DIR:-target}/debug/local}"
[ -x "$bin" ] || { echo "no executable at $bin: cargo build -p local first, or set LOCAL_BIN" >&2; exit 2; }
[ -r /proc/self/stat ] || { echo "no /proc: this script reads Linux's process times" >&2; exit 2; }

out=$(mktemp)
"$bin" --in-memory --port 0 >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT

url=""
for _ in $(seq 1 200); do
  url=$(sed -n 's/^hitpoints is listening on //p' "$out")
  # python3, not curl: not every machine has curl, and no proxy may stand in between.
  if [ -n "$url" ] && python3 -c 'import sys, urllib.request
urllib.request.build_opener(urllib.request.ProxyHandler({})).open(sys.argv[1], timeout=1)' \
    "$url/characters?limit=1" 2>/dev/null; then break; fi
  kill -0 "$pid" 2>/dev/null || { echo "the local run exited:" >&2; cat "$out" >&2; exit 2; }
  url=""
  sleep 0.1
done
[ -n "$url" ] || { echo "the local run did not answer within 20 s" >&2; exit 2; }
# Past the start-up, the first request and the followers' back-off to its longest before counting.
sleep 3

ticks() {
  # Fields after "pid (comm) " start at field 3: utime and stime are the 12th and 13th there.
  local stat
  stat=$(cat "/proc/$pid/stat")
  echo "${stat##*) }" | awk '{ print $12 + $13 }'
}
now() { date +%s.%N; }

t0=$(now); c0=$(ticks)
sleep "$seconds"
t1=$(now); c1=$(ticks)
hz=$(getconf CLK_TCK)

awk -v c="$((c1 - c0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v max="$threshold" -v bin="$bin" 'BEGIN {
  pct = 100 * (c / hz) / (t1 - t0)
  printf "idle local run (%s): %.2f%% of a core over %.1f s (%.2f s CPU, threshold %s%%)\n", bin, pct, t1 - t0, c / hz, max
  exit (pct > max) ? 1 : 0
}'
