/**
 * The guard every local Command of ours runs its script under (the Command's `interpreter`), so
 * that a cancelled `pulumi up` stops what the script started and leaves no credentials behind.
 *
 * On a cancel (Ctrl-C, `pulumi cancel`, a timeout) pulumi-resource-command SIGKILLs the one
 * process it started (`exec.CommandContext`), which no trap can catch; the processes that process
 * started would go on (a `docker buildx build` would still push) and its temporary files would
 * stay. The guard therefore:
 *
 * 1. keeps per-run state on a tmpfs (`/dev/shm/pulumi-buildx-<uid>/run-<pid>-<start time>`, else
 *    `$XDG_RUNTIME_DIR`, else `$TMPDIR`), exported as `PULUMI_BUILDX_RUN_DIR`, where the scripts
 *    put their work directory (and with it the registry login, `DOCKER_CONFIG`);
 * 2. first removes the run directories of runs that are no longer alive: a directory is tied to
 *    its run by the guard's pid and that process's start time, so a live concurrent run (Pulumi
 *    runs independent resources in parallel) is never touched, even if a pid is reused;
 * 3. runs the script in a process group of its own;
 * 4. starts a watchdog that holds the read end of a pipe only the guard writes to: when the guard
 *    is gone, however it died (SIGKILL included), the watchdog reads end-of-file, kills the
 *    script's whole process group and removes the run directory. It releases the Command's
 *    stdout/stderr first, so the provider is not kept waiting for it;
 * 5. on SIGINT, SIGTERM or SIGHUP forwards SIGTERM to the script's group (buildx cancels the build
 *    and BuildKit the solve), and SIGKILL 10 s later if anything is still there.
 *
 * The script itself is the guard's `$1`: pulumi-resource-command appends the command to the
 * interpreter's arguments.
 */

/** The guard, as bash. Its `$1` is the script to run. */
export const GUARD_SCRIPT = `set -u
start_of() { local s f; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0; read -ra f <<<"\${s##*) }"; printf '%s' "\${f[19]:-}"; }
if [ -d /dev/shm ] && [ -w /dev/shm ]; then root=/dev/shm; else root="\${XDG_RUNTIME_DIR:-\${TMPDIR:-/tmp}}"; fi
root="$root/pulumi-buildx-$(id -u)"
mkdir -p -- "$root" && chmod 700 -- "$root" || exit 1
for dead in "$root"/run-*; do
  [ -d "$dead" ] || continue
  id=\${dead##*/run-}
  if [ "$(start_of "\${id%%-*}")" != "\${id#*-}" ]; then rm -rf -- "$dead"; fi
done
run="$root/run-$$-$(start_of $$)"
mkdir -m 700 -- "$run" || exit 1
export PULUMI_BUILDX_RUN_DIR="$run"
set -m
/bin/bash -c "$1" <&0 &
child=$!
set +m
exec 3> >(exec >/dev/null 2>&1; trap '' INT TERM HUP; cat; kill -KILL -- "-$child"; rm -rf -- "$run")
# shellcheck disable=SC2317 # called by the trap below
stop() {
  kill -TERM -- "-$child" 2>/dev/null
  (i=0; while kill -0 -- "-$child" 2>/dev/null && [ "$i" -lt 20 ]; do sleep 0.5; i=$((i + 1)); done; kill -KILL -- "-$child" 2>/dev/null) 3>&- >/dev/null 2>&1 &
}
trap stop INT TERM HUP
while :; do
  wait "$child"; rc=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$rc"
`;

/** The name the guard runs as (its `$0`), shown by `ps`. */
export const GUARD_NAME = "pulumi-buildx-guard";

/** The `interpreter` of every local Command of ours: the guard, then the script as its `$1`. */
export const GUARDED_BASH: string[] = ["/bin/bash", "-c", GUARD_SCRIPT, GUARD_NAME];

/**
 * The first line of a script that needs a private work directory: inside the guard's run directory
 * (a tmpfs) when there is one, else in `$TMPDIR` (a script run by hand). The script removes it
 * itself on exit; the guard's watchdog removes the run directory whatever happens.
 */
export const WORK_DIR_LINE = 'work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"';
