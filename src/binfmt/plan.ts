/**
 * The scripts a Binfmt runs: pure, from validated plain values and what earlier steps reported to
 * typed shell plans. They drive an installer image with the tonistiigi/binfmt contract through
 * `docker run --privileged` on the Docker host named by DOCKER_HOST (set by the component through
 * the command's environment, never here). Bash only runs the CLI calls in order and prints one
 * JSON result line; what to install and whether it worked is decided in TypeScript (decide.ts).
 */
import { WORK_DIR_LINE } from "../guard";
import { PlatformString } from "../platform";
import { argv, bash, bashLines, Line, resultLine, sh, ShellPlan } from "../shell";
import type { InstallOutcome } from "./decide";

/** Prefix of the one stdout line of every Binfmt script: `{"report": BASE64}` or `{"added": …, "report": …}`. */
export const BINFMT_RESULT_MARKER = "pulumi-buildx-binfmt-result ";

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

function installer(image: string, ...args: string[]) {
    return argv("docker", "run", "--privileged", "--rm", "--network", "none", image, ...args);
}

function prelude(): Line[] {
    return [...bashLines("set -euo pipefail", "export LC_ALL=C", WORK_DIR_LINE), bash(`trap 'rm -rf -- "$work"' EXIT`)];
}

/**
 * Runs the installer (with `args`), its JSON report to a file and its log to stderr, and prints
 * the report as the result line; TypeScript parses it (`parseStepReport`).
 */
function reportLines(image: string, args: string[]): Line[] {
    return [sh`${installer(image, ...args)} > "$work/report.json"`, resultLine(BINFMT_RESULT_MARKER, { report: '"$work/report.json"' })];
}

/** Step 1, the probe: the installer's report of what the host runs already (`docker run … IMAGE`). */
export function planProbe(image: string): ShellPlan {
    const lines = [...prelude(), bash("echo 'pulumi-buildx: binfmt: reading what the Docker host runs already' >&2"), ...reportLines(image, [])];
    return { lines, env: {} };
}

/**
 * Step 2, the registration: `--install` the architectures TypeScript chose from the probe
 * (`archsToInstall`), or nothing when the host runs every requested platform already (the
 * install is idempotent, and a native platform is never emulated); then the result line holds
 * the installer's report afterwards, or no report when nothing ran.
 */
export function planRegister(image: string, install: readonly string[] | "all", requested: readonly PlatformString[] | "all"): ShellPlan {
    const lines = prelude();
    if (install === "all") {
        lines.push(
            bash("echo 'pulumi-buildx: binfmt: installing every emulator the installer carries (--install all)' >&2"),
            ...reportLines(image, ["--install", "all"]),
        );
    } else if (install.length === 0) {
        const platforms = requested === "all" ? "every platform" : requested.join(", ");
        lines.push(
            sh`echo ${`pulumi-buildx: binfmt: the host runs ${platforms} already; nothing to install`} >&2`,
            sh`printf '%s\\n' ${`${BINFMT_RESULT_MARKER}{}`}`,
        );
    } else {
        const list = install.join(",");
        lines.push(sh`echo ${`pulumi-buildx: binfmt: installing ${list}`} >&2`, ...reportLines(image, ["--install", list]));
    }
    return { lines, env: {} };
}

function literalResult(fields: Record<string, string>): Line {
    const encoded = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")]));
    return sh`printf '%s\\n' ${BINFMT_RESULT_MARKER + JSON.stringify(encoded)}`;
}

/**
 * Step 3, the install resource, from the outcome TypeScript computed (`installOutcome`):
 * - every requested platform runs: print the result (`added`, the report after) on the result
 *   line (with uninstallOnDelete its delete is `planUninstall` of `ownedEmulators(outcome)`);
 * - some still cannot run: with `rollback` (uninstallOnDelete) first remove what this run added,
 *   then fail naming them, with the installer's log, so the resource is not created.
 */
export function planInstall(image: string, outcome: InstallOutcome, rollback: boolean): ShellPlan {
    const lines = prelude();
    if (outcome.missing.length === 0) {
        lines.push(literalResult({ added: JSON.stringify(outcome.added), report: JSON.stringify(outcome.after) }));
        return { lines, env: {} };
    }
    const log = outcome.log.trimEnd();
    if (log !== "") lines.push(sh`printf '%s\\n' ${`pulumi-buildx: binfmt: the installer printed: ${log}`} >&2`);
    if (rollback && outcome.added.length > 0) {
        const added = outcome.added.join(",");
        lines.push(
            sh`echo ${`pulumi-buildx: binfmt: removing the emulators this install registered: ${added}`} >&2`,
            sh`${installer(image, "--uninstall", added)} >&2 || true`,
        );
    }
    const missing = outcome.missing.join(" ");
    const runs = outcome.after.supported.join(" ");
    lines.push(
        sh`echo ${`pulumi-buildx: binfmt: after the install the host still cannot run ${missing}; the installer reports it runs: ${runs}.`} >&2`,
        bash(
            "echo 'pulumi-buildx: binfmt: the installer log above says why. Usual causes: the kernel has no binfmt_misc, " +
                "the Docker host cannot run --privileged containers, or a broken emulator with the same name is registered already " +
                "(remove it with --uninstall NAME).' >&2",
        ),
        bash("exit 1"),
    );
    return { lines, env: {} };
}

/**
 * The delete of `uninstallOnDelete`: `--uninstall` exactly the emulators the install registered,
 * then fail if the installer's report still lists one of them. (A delete has no TypeScript step
 * after it, so this one look at the report, for each quoted name, stays in bash.)
 */
export function planUninstall(image: string, added: readonly string[]): ShellPlan {
    const lines = prelude();
    if (added.length === 0) {
        lines.push(bash("echo 'pulumi-buildx: binfmt: this resource registered no emulators; nothing to remove' >&2"));
        return { lines, env: {} };
    }
    const list = added.join(",");
    lines.push(
        sh`echo ${`pulumi-buildx: binfmt: removing the emulators this resource registered: ${list}`} >&2`,
        sh`${installer(image, "--uninstall", list)} > "$work/report.json"`,
        bash("left=()"),
        ...added.map((name) => sh`grep -qF -e ${`"${name}"`} "$work/report.json" && left+=(${name})`),
        bash('if [ "${#left[@]}" -gt 0 ]; then'),
        bash('  echo "pulumi-buildx: binfmt: still registered after --uninstall: ${left[*]}" >&2'),
        bash("  exit 1"),
        bash("fi"),
    );
    return { lines, env: {} };
}
