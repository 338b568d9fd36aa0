# shellcheck shell=bash
# Common helpers for scripts/test-env.sh (sourced, never executed directly):
# logging, timed steps, the ERR/EXIT traps, daemons tracked by pid files,
# and apt wrappers.

log() { printf '%s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf 'WARN: %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- steps ---

CURRENT_STEP=""
ERR_REPORTED=0
STEP_TIMES=()

# run_step NAME FUNC [ARGS...]: announce "==> NAME", run FUNC, record its time.
run_step() {
  local name=$1 t0
  shift
  CURRENT_STEP=$name
  log "==> $name"
  t0=$EPOCHREALTIME
  "$@"
  STEP_TIMES+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%7.1fs", b - a }')  $name")
  CURRENT_STEP=""
}

print_step_times() {
  local line
  log "==> step timings"
  for line in "${STEP_TIMES[@]}"; do info "$line"; done
}

# ERR trap: say loudly which step and which command failed (main shell only,
# command substitutions inherit the trap and must stay quiet).
on_err() {
  local rc=$?
  [[ $BASHPID == "$$" ]] || return 0
  ((ERR_REPORTED)) && return 0
  ERR_REPORTED=1
  {
    printf '\n!!! ================================================================\n'
    printf '!!! test-env: step FAILED: %s\n' "${CURRENT_STEP:-<outside any step>}"
    printf '!!! command (exit %s): %s\n' "$rc" "$BASH_COMMAND"
    printf '!!! at %s line %s\n' "${BASH_SOURCE[1]##*/}" "${BASH_LINENO[0]}"
    printf '!!! ================================================================\n'
  } >&2
}

# EXIT trap: same for failures that exit without an ERR (die), plus cleanup.
on_exit() {
  local rc=$?
  cleanup_policy_rc_d
  if ((rc != 0 && ERR_REPORTED == 0)) && [[ -n $CURRENT_STEP ]]; then
    printf '\n!!! test-env: step FAILED: %s (exit %s)\n' "$CURRENT_STEP" "$rc" >&2
  fi
}

# ------------------------------------------------------------- daemons ---

# proc_alive PID: the process exists and is not a zombie.
proc_alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $state && $state != Z ]]
}

# pid_of NAME EXE: print the pid recorded for NAME if that process is alive and
# really runs the executable EXE (guards against reused pids).
pid_of() {
  local pidfile=$RUN_DIR/pids/$1.pid exe=$2 pid
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  proc_alive "$pid" || return 1
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */"$exe"* ]] || return 1
  printf '%s\n' "$pid"
}

# start_daemon NAME EXE CMD...: start CMD in its own session, output to
# $RUN_DIR/logs/NAME.log, pid in $RUN_DIR/pids/NAME.pid. No-op if running.
start_daemon() {
  local name=$1 exe=$2 pid
  shift 2
  if pid=$(pid_of "$name" "$exe"); then
    info "$name already running (pid $pid)"
    return 0
  fi
  mkdir -p "$RUN_DIR/pids" "$RUN_DIR/logs"
  info "starting $name: $*"
  # setsid execs directly (a background job is no process-group leader), so
  # $! is the daemon's own pid; it survives the end of this script.
  setsid "$@" </dev/null >"$RUN_DIR/logs/$name.log" 2>&1 &
  echo "$!" >"$RUN_DIR/pids/$name.pid"
}

# stop_daemon NAME EXE [TIMEOUT]: TERM the recorded process, KILL after TIMEOUT.
stop_daemon() {
  local name=$1 exe=$2 timeout=${3:-20} pid i
  if pid=$(pid_of "$name" "$exe"); then
    info "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      proc_alive "$pid" || break
      sleep 0.1
    done
    if proc_alive "$pid"; then
      warn "$name (pid $pid) did not stop within ${timeout}s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    info "$name not running"
  fi
  rm -f "$RUN_DIR/pids/$name.pid"
}

# wait_daemon NAME EXE TIMEOUT CMD...: wait until CMD succeeds; fail (with the
# tail of the daemon's log) on timeout or if the daemon died.
wait_daemon() {
  local name=$1 exe=$2 timeout=$3 deadline
  shift 3
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    # (not pid_of: right after the start the pid may still run a wrapper
    # such as nsenter or env that is about to exec the daemon)
    if ! proc_alive "$(cat "$RUN_DIR/pids/$name.pid" 2>/dev/null)"; then
      dump_log "$name"
      die "$name exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      dump_log "$name"
      die "$name did not become ready within ${timeout}s (check: $*)"
    fi
    sleep 0.3
  done
  info "$name ready (pid $(pid_of "$name" "$exe"))"
}

# wait_for TIMEOUT CMD...: retry CMD (quietly) until it succeeds or TIMEOUT s pass.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.3
  done
}

dump_log() {
  local f=$RUN_DIR/logs/$1.log
  printf -- '----- last lines of %s -----\n' "$f" >&2
  tail -n 40 "$f" >&2 2>/dev/null || true
  printf -- '----- end of %s -----\n' "$f" >&2
}

# ----------------------------------------------------------------- apt ---

APT_UPDATED=0
POLICY_RC_CREATED=0

# The package scripts must not start system services (sshd, the stock
# registry on :5000, ...) on the host: a policy-rc.d that says "no".
ensure_policy_rc_d() {
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# temporary, from pulumi-buildx test-env.sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
}

cleanup_policy_rc_d() {
  if ((POLICY_RC_CREATED)); then
    rm -f /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=0
  fi
}

pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# apt_install PKG...: install (from the system's own sources) the missing ones.
apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then
    info "already installed: $*"
    return 0
  fi
  if ((APT_UPDATED == 0)); then
    info "apt-get update"
    apt-get -q update
    APT_UPDATED=1
  fi
  info "apt-get install ${missing[*]}"
  ensure_policy_rc_d
  DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 \
    --no-install-recommends install "${missing[@]}"
  cleanup_policy_rc_d
}

# apt_private DIR SUITE ARCHS APT-ARGS...: run apt-get against a private
# sources list / lists / cache under DIR (never touches the system's state).
# ARCHS is a comma-separated list; the first one is the primary architecture.
apt_private() {
  local dir=$1 suite=$2 archs=$3 a
  shift 3
  local -a opts=(
    -q -o APT::Sandbox::User=root -o Debug::NoLocking=1
    -o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
    -o Dir::State::status=/dev/null
    -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false
    -o Acquire::Languages=none
    -o "APT::Architecture=${archs%%,*}"
  )
  for a in ${archs//,/ }; do opts+=(-o "APT::Architectures::=$a"); done
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  printf 'deb [signed-by=%s] %s %s main\n' "$DEBIAN_KEYRING" "$DEBIAN_MIRROR" "$suite" >"$dir/sources.list"
  apt-get "${opts[@]}" "$@"
}
