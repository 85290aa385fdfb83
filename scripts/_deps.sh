# shellcheck shell=bash
# Sourced by scripts/test.sh, scripts/check.sh and .ci/run (not run directly).
#
# Sets ROOT (the repository root) and BIN (node_modules/.bin), and defines
# ensure_deps: runs `npm install` when a pinned tool is missing or the
# installed tree does not match package.json. The runtimes come from npm
# (packages `deno`, `bun`, `node` 24) so a machine with only Node 20 + npm
# can run everything; the system `node` is never used for tests.
# `npm install`, not `npm ci`: the lockfile omits other platforms' optional
# binaries (see shared/TESTING.md).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/node_modules/.bin"

ensure_deps() {
  local missing=""
  local tool
  for tool in deno bun node tsc; do
    [[ -x "$BIN/$tool" ]] || missing+=" $tool"
  done
  if [[ -z "$missing" ]]; then
    case "$("$BIN/node" --version 2>/dev/null)" in
      v24.*) ;;
      *) missing+=" node(24)" ;;
    esac
  fi
  if [[ -z "$missing" ]] && ! (cd "$ROOT" && npm ls --depth=0 >/dev/null 2>&1); then
    missing+=" (node_modules out of date with package.json)"
  fi
  if [[ -n "$missing" ]]; then
    echo "deps: missing${missing}; running npm install --no-audit --no-fund" >&2
    (cd "$ROOT" && npm install --no-audit --no-fund </dev/null >&2) || {
      echo "deps: npm install failed" >&2
      return 1
    }
  fi
}

# ensure_netns_tools: the namespace phase (scripts/netns.sh) needs `ip`,
# `nft` and `dnsmasq`. When one is missing and this runs as root on a machine
# with apt-get (CI), it runs `apt-get update` once and installs the missing
# ones (iproute2, nftables, dnsmasq-base; no service is started: only
# dnsmasq-base, not dnsmasq). Never fatal: when it cannot install, it says so
# and the netns phase skips with the reason. Tried once per run (the
# environment marks it for child scripts); NETTRACE_NO_APT=1 turns it off.
ensure_netns_tools() {
  [[ -z "${NETTRACE_NETNS_TOOLS_TRIED:-}" ]] || return 0
  export NETTRACE_NETNS_TOOLS_TRIED=1
  [[ "${NETTRACE_NO_APT:-}" != 1 ]] || return 0
  local pkgs=()
  command -v ip >/dev/null 2>&1 || pkgs+=(iproute2)
  command -v nft >/dev/null 2>&1 || pkgs+=(nftables)
  command -v dnsmasq >/dev/null 2>&1 || pkgs+=(dnsmasq-base)
  ((${#pkgs[@]} > 0)) || return 0
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: the netns phase needs ${pkgs[*]}; not root or no apt-get, so it will skip" >&2
    return 0
  fi
  echo "deps: apt-get install ${pkgs[*]} (for the netns phase)" >&2
  if ! {
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive timeout 300 \
        apt-get install -y -q --no-install-recommends "${pkgs[@]}"
  } </dev/null >&2; then
    echo "deps: apt-get failed; the netns phase will skip" >&2
  fi
  return 0
}

# ensure_db_servers: the recipe tests (tests/recipes/) run real npm clients
# against PostgreSQL 15, Redis and MariaDB from Debian (postgresql,
# redis-server, mariadb-server). When one is missing it installs them only
# when CI=true or NETTRACE_APT=1, as root, with apt-get; no system service is
# started (a policy-rc.d that denies starts is put in place for the install
# when none exists; the tests start their own servers on free loopback ports
# with throw-away data directories). Never fatal: otherwise the recipe tests
# skip with a one-line reason. Tried once per run.
ensure_db_servers() {
  [[ -z "${NETTRACE_DB_SERVERS_TRIED:-}" ]] || return 0
  export NETTRACE_DB_SERVERS_TRIED=1
  [[ "${CI:-}" == true || "${NETTRACE_APT:-}" == 1 ]] || return 0
  local pkgs=()
  [[ -x /usr/lib/postgresql/15/bin/postgres ]] || pkgs+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
  [[ -x /usr/sbin/mariadbd ]] || command -v mariadbd >/dev/null 2>&1 || pkgs+=(mariadb-server)
  ((${#pkgs[@]} > 0)) || return 0
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: the recipe tests need ${pkgs[*]}; not root or no apt-get, so they will skip" >&2
    return 0
  fi
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  echo "deps: apt-get install ${pkgs[*]} (for the recipe tests)" >&2
  if ! {
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive timeout 600 \
        apt-get install -y -q --no-install-recommends "${pkgs[@]}"
  } </dev/null >&2; then
    echo "deps: apt-get failed; the recipe tests will skip" >&2
  fi
  ((made_policy)) && rm -f "$policy"
  return 0
}
