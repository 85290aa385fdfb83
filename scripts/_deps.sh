# shellcheck shell=bash
# Sourced by scripts/test.sh, scripts/check.sh and .ci/run (not run directly).
#
# System packages (apt): the rule for every script. `npm test` changes nothing
# outside the clone unless asked. apt_install_if_allowed WHY PKG... installs
# the given Debian packages only when ALL of these hold:
#   - running as root, with apt-get on PATH,
#   - CI=true (CI sets it; .ci/run exports it) or NETTRACE_APT=1 (opt-in),
#   - NETTRACE_NO_APT is not 1 (opt-out that wins over both).
# Otherwise it prints one line, "deps: <why> needs PKG...; not installing
# (<reason>)", and returns 1, so the caller skips what needed them and says
# so. It never fails the run by itself. `apt-get update` runs at most once per
# run (the environment marks it for child scripts). A phase that needs a tool
# checks with `command -v` first and calls this only for what is missing:
#   command -v nft >/dev/null || apt_install_if_allowed "the netns phase" nftables
#
# Sets ROOT (the repository root) and BIN (node_modules/.bin), and defines
# ensure_deps: runs `npm install` when a pinned tool is missing or the
# installed tree does not match package.json. The runtimes come from npm
# (packages `deno`, `bun`, `node` 24) so a machine with only Node 20 + npm
# can run everything; the system `node` is never used for tests.
# The lockfile holds every platform's optional binaries (as npm writes it on a
# fresh install), so `npm install` on a fresh clone leaves it unchanged and
# `npm ci` works too. undici is pinned to 7.x (Node 24 bundles 7.x; its engines
# field accepts Node >= 20.18.1), so the install under a system Node 20 npm
# prints no EBADENGINE warning.

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

# apt_install_if_allowed WHY PKG...: install PKG... with apt-get when the rule
# above allows it (root, apt-get, CI=true or NETTRACE_APT=1, no
# NETTRACE_NO_APT=1). WHY names who needs them, for the messages. Returns 0
# when the packages were installed, 1 when not (with one line on stderr).
apt_install_if_allowed() {
  local why="$1" reason=""
  shift
  (($# > 0)) || return 0
  if [[ "${NETTRACE_NO_APT:-}" == 1 ]]; then
    reason="NETTRACE_NO_APT=1"
  elif [[ "${CI:-}" != true && "${NETTRACE_APT:-}" != 1 ]]; then
    reason="set NETTRACE_APT=1 to let it run apt-get as root"
  elif [[ "$(id -u)" != 0 ]]; then
    reason="not root"
  elif ! command -v apt-get >/dev/null 2>&1; then
    reason="no apt-get"
  fi
  if [[ -n "$reason" ]]; then
    echo "deps: $why needs $*; not installing ($reason)" >&2
    return 1
  fi
  echo "deps: apt-get install $* (for $why)" >&2
  if [[ -z "${NETTRACE_APT_UPDATED:-}" ]]; then
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q </dev/null >&2 || {
      echo "deps: apt-get update failed; $why will skip" >&2
      return 1
    }
    export NETTRACE_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive timeout 300 \
    apt-get install -y -q --no-install-recommends "$@" </dev/null >&2 || {
    echo "deps: apt-get install failed; $why will skip" >&2
    return 1
  }
}

# ensure_netns_tools: the namespace phase (scripts/netns.sh) needs `ip`,
# `nft` and `dnsmasq`. Installs the missing ones (iproute2, nftables,
# dnsmasq-base; no service is started: only dnsmasq-base, not dnsmasq)
# through apt_install_if_allowed, so only as root under CI=true or
# NETTRACE_APT=1. Never fatal: when it cannot install, the netns phase skips
# and says what it needs. Tried once per run (the environment marks it for
# child scripts).
ensure_netns_tools() {
  [[ -z "${NETTRACE_NETNS_TOOLS_TRIED:-}" ]] || return 0
  export NETTRACE_NETNS_TOOLS_TRIED=1
  local pkgs=()
  command -v ip >/dev/null 2>&1 || pkgs+=(iproute2)
  command -v nft >/dev/null 2>&1 || pkgs+=(nftables)
  command -v dnsmasq >/dev/null 2>&1 || pkgs+=(dnsmasq-base)
  apt_install_if_allowed "the netns phase" "${pkgs[@]}" || true
  return 0
}

# ensure_go_tool: the Go differential check of the netns phase
# (tests/netns/go_diff_test.ts) needs `go` (Debian's golang-go). Heavier than
# the netns tools, so it is installed only when asked for: as root, on a
# machine with apt-get, and with CI=true (.ci/run) or NETTRACE_APT=1;
# otherwise it says why and the check skips with the reason. Never fatal;
# tried once per run; NETTRACE_NO_APT=1 turns it off.
ensure_go_tool() {
  [[ -z "${NETTRACE_GO_TOOL_TRIED:-}" ]] || return 0
  export NETTRACE_GO_TOOL_TRIED=1
  command -v go >/dev/null 2>&1 && return 0
  [[ "${NETTRACE_NO_APT:-}" != 1 ]] || return 0
  if [[ "${CI:-}" != true && "${NETTRACE_APT:-}" != 1 ]]; then
    echo "deps: the Go check needs golang-go; not installing it (set NETTRACE_APT=1, or CI=true)" >&2
    return 0
  fi
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: the Go check needs golang-go; not root or no apt-get, so it will skip" >&2
    return 0
  fi
  echo "deps: apt-get install golang-go (for the Go check of the netns phase)" >&2
  if ! {
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive timeout 600 \
        apt-get install -y -q --no-install-recommends golang-go
  } </dev/null >&2; then
    echo "deps: apt-get failed; the Go check will skip" >&2
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
