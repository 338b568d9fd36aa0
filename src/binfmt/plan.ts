/**
 * The scripts a Binfmt runs: pure, from validated plain values to typed shell plans. They drive an installer
 * image with the tonistiigi/binfmt contract through `docker run --privileged` on the Docker host
 * named by DOCKER_HOST (set by the component through the command's environment, never here).
 */
import { PlatformString } from "../platform";
import { bash, bashLines, Line, lineJoin, sh, ShellPlan } from "../shell";
import { ValidatedBinfmtArgs } from "./validate";

/** Prefix of the stdout line listing the emulators this install registered (comma-separated). */
export const ADDED_MARKER = "pulumi-buildx-binfmt-added ";
/** Prefix of the stdout line carrying the installer's JSON report after the install, on one line. */
export const REPORT_MARKER = "pulumi-buildx-binfmt-report ";

export interface BinfmtPlan {
    /** Installs what is missing, checks the result and prints the markers. */
    create: ShellPlan;
    /** Removes what `create` registered (from PULUMI_COMMAND_STDOUT); only with uninstallOnDelete. */
    delete?: ShellPlan;
}

/** The installer's name for the architecture of a platform (tonistiigi/binfmt `configs` keys). */
export function installerArch(platform: PlatformString): string {
    switch (platform) {
        case "linux/amd64":
            return "amd64";
        case "linux/arm64":
            return "arm64";
        case "linux/arm/v7":
        case "linux/arm/v6":
            return "arm";
        case "linux/386":
            return "386";
        case "linux/ppc64le":
            return "ppc64le";
        case "linux/s390x":
            return "s390x";
        case "linux/riscv64":
            return "riscv64";
        default: {
            const never: never = platform;
            throw new Error(`no installer architecture for ${JSON.stringify(never)}`);
        }
    }
}

/** Groups platforms by installer architecture, keeping first-seen order. */
export function archGroups(platforms: readonly PlatformString[]): { arch: string; platforms: PlatformString[] }[] {
    const groups: { arch: string; platforms: PlatformString[] }[] = [];
    for (const p of platforms) {
        const arch = installerArch(p);
        const group = groups.find((g) => g.arch === arch);
        if (group) group.platforms.push(p);
        else groups.push({ arch, platforms: [p] });
    }
    return groups;
}

// Shell helpers shared by both scripts. `report` prints the installer's JSON on one line and
// fails if there is none; `has REPORT PLATFORM` looks for the quoted platform (only `supported`
// holds strings with a slash); `list REPORT FIELD` prints the strings of one array field, one a line
// (nothing for `null`, which the installer prints when no emulator is registered).
const HELPERS = bash(String.raw`installer() { docker run --privileged --rm --network none "$image" "$@"; }
report() {
  local out
  out="$(installer "$@" | tr -d '\n')" || return
  case "$out" in
    *'"supported"'*) printf '%s' "$out" ;;
    *) echo "pulumi-buildx: binfmt: $image printed no JSON report ({\"supported\": [...], \"emulators\": [...]}) on stdout: it does not follow the tonistiigi/binfmt contract" >&2; return 1 ;;
  esac
}
has() { case "$1" in *"\"$2\""*) return 0 ;; esac; return 1; }
list() { sed -n "s/.*\"$2\": *\[\([^]]*\)\].*/\1/p" <<<"$1" | tr ',' '\n' | sed 's/^ *"//; s/" *$//' | grep -v '^$' || true; }`);

function prelude(image: string): Line[] {
    return [...bashLines("set -euo pipefail", "export LC_ALL=C"), sh`image=${image}`, HELPERS];
}

/** `has "$before" P… || want+=(ARCH)`: the group's architecture is wanted unless the report lists every one of its platforms. */
function wantUnlessRunsAll(group: { arch: string; platforms: readonly PlatformString[] }): Line {
    const tests = lineJoin(
        group.platforms.map((p) => sh`has "$before" ${p}`),
        " && ",
    );
    const condition = group.platforms.length === 1 ? tests : lineJoin([bash("{ "), tests, bash("; }")], "");
    return lineJoin([condition, sh` || want+=(${group.arch})`], "");
}

function installLines(platforms: PlatformString[] | "all"): Line[] {
    if (platforms === "all") {
        return bashLines(
            "echo 'pulumi-buildx: binfmt: installing every emulator the installer carries (--install all)' >&2",
            'after="$(report --install all)"',
        );
    }
    return [
        bash("want=()"),
        ...archGroups(platforms).map(wantUnlessRunsAll),
        bash('if [ "${#want[@]}" -eq 0 ]; then'),
        sh`  echo ${`pulumi-buildx: binfmt: the host runs ${platforms.join(", ")} already; nothing to install`} >&2`,
        ...bashLines(
            '  after="$before"',
            "else",
            `  install="$(IFS=,; printf '%s' "\${want[*]}")"`,
            '  echo "pulumi-buildx: binfmt: installing $install" >&2',
            '  after="$(report --install "$install")"',
            "fi",
        ),
    ];
}

function checkLines(platforms: PlatformString[] | "all", rollback: boolean): Line[] {
    if (platforms === "all") return [];
    const lines = [bash("missing=()"), ...platforms.map((p) => sh`has "$after" ${p} || missing+=(${p})`), bash('if [ "${#missing[@]}" -gt 0 ]; then')];
    if (rollback) {
        lines.push(
            ...bashLines(
                '  if [ -n "$added" ]; then',
                '    echo "pulumi-buildx: binfmt: removing the emulators this install registered: $added" >&2',
                '    installer --uninstall "$added" >&2 || true',
                "  fi",
            ),
        );
    }
    lines.push(
        ...bashLines(
            '  echo "pulumi-buildx: binfmt: after the install the host still cannot run ${missing[*]}; the installer reports it runs: $(list "$after" supported | paste -sd\' \' -)." >&2',
            "  echo 'pulumi-buildx: binfmt: the installer log above says why. Usual causes: the kernel has no binfmt_misc, the Docker host cannot run --privileged containers, or a broken emulator with the same name is registered already (remove it with --uninstall NAME).' >&2",
            "  exit 1",
            "fi",
        ),
    );
    return lines;
}

/**
 * The install script:
 * 1. read the installer's report of what the host runs already (`docker run … IMAGE`);
 * 2. `--install` the architectures of the requested platforms the host cannot run yet (nothing
 *    if it runs them all: the install is idempotent, and a native platform is never emulated);
 * 3. compare the emulators before and after: what was added is printed after ADDED_MARKER, which
 *    the delete script reads back from PULUMI_COMMAND_STDOUT;
 * 4. fail, naming them, if a requested platform is still not supported (with uninstallOnDelete,
 *    first remove what this run added), else print the report after REPORT_MARKER.
 */
export function planBinfmt(v: ValidatedBinfmtArgs): BinfmtPlan {
    const lines = [
        ...prelude(v.image),
        bash("echo 'pulumi-buildx: binfmt: reading what the Docker host runs already' >&2"),
        bash('before="$(report)"'),
        ...installLines(v.platforms),
        bash(`added="$(comm -13 <(list "$before" emulators | sort) <(list "$after" emulators | sort) | paste -sd, -)"`),
        ...checkLines(v.platforms, v.uninstallOnDelete),
        sh`printf '%s%s\\n' ${ADDED_MARKER} "$added"`,
        sh`printf '%s%s\\n' ${REPORT_MARKER} "$after"`,
    ];
    return { create: { lines, env: {} }, delete: v.uninstallOnDelete ? planUninstall(v.image) : undefined };
}

/**
 * The delete script of `uninstallOnDelete`: `--uninstall` exactly the emulators the install
 * registered (read from its stdout, which the command provider passes as PULUMI_COMMAND_STDOUT),
 * then check that none of them is still registered.
 */
export function planUninstall(image: string): ShellPlan {
    const lines = [
        ...prelude(image),
        sh`added="$(printf '%s\\n' "\${PULUMI_COMMAND_STDOUT:-}" | sed -n ${`s/^${ADDED_MARKER}//p`} | tail -n 1)"`,
        ...bashLines(
            'if [ -z "$added" ]; then',
            "  echo 'pulumi-buildx: binfmt: this resource registered no emulators; nothing to remove' >&2",
            "  exit 0",
            "fi",
            'echo "pulumi-buildx: binfmt: removing the emulators this resource registered: $added" >&2',
            'after="$(report --uninstall "$added")"',
            `left="$(comm -12 <(tr ',' '\\n' <<<"$added" | sort) <(list "$after" emulators | sort) | paste -sd' ' -)"`,
            'if [ -n "$left" ]; then',
            '  echo "pulumi-buildx: binfmt: still registered after --uninstall: $left" >&2',
            "  exit 1",
            "fi",
        ),
    ];
    return { lines, env: {} };
}
