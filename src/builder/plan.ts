/**
 * The create and delete scripts of a Builder: pure, from plain values to bash scripts.
 * TLS private keys and certificates never reach this module; the scripts read them from the
 * environment variables named by `tlsEnvNames`.
 */
import { join, quote } from "../shell";
import { BuilderDriver } from "./args";
import { tlsDriverOptWords, tlsRootAssignment, writeTlsLines } from "./tls-files";
import { endpointProblem } from "./validate";

/** One node with its Outputs resolved. */
export interface PlannedNode {
    name: string;
    /** Undefined for the local engine (docker-container only). */
    endpoint?: string;
    platforms: string[];
    driverOpts: Record<string, string>;
    /** Present for a remote node with TLS; the PEM contents come from the environment. */
    tls?: { serverName?: string };
}

export interface BuilderPlanInput {
    name: string;
    driver: BuilderDriver;
    nodes: PlannedNode[];
    buildkitdFlags?: string;
    buildkitdConfig?: string;
    bootstrap: boolean;
    use: boolean;
}

/**
 * One field of buildx's CSV-parsed `--driver-opt` value: quoted when it holds a comma or a quote,
 * so a value such as `env.NO_PROXY=a,b` stays one option.
 */
export function csvField(field: string): string {
    return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** How a node is named in progress and error messages. */
export function describeNode(node: PlannedNode): string {
    return `${node.name} (${node.endpoint ?? "the current docker context"})`;
}

/**
 * The `docker buildx create` command line of node `i`: the first node creates the instance, the
 * others are appended. TLS file options are shell words that expand `$tls_root`.
 */
export function createCommand(p: BuilderPlanInput, i: number): string {
    const node = p.nodes[i];
    const argv = ["docker", "buildx", "create"];
    if (i > 0) argv.push("--append");
    argv.push("--name", p.name, "--driver", p.driver, "--node", node.name);
    if (node.platforms.length > 0) argv.push("--platform", node.platforms.join(","));
    for (const [k, v] of Object.entries(node.driverOpts)) argv.push("--driver-opt", csvField(`${k}=${v}`));
    if (node.tls?.serverName) argv.push("--driver-opt", csvField(`servername=${node.tls.serverName}`));
    if (p.buildkitdFlags !== undefined) argv.push("--buildkitd-flags", p.buildkitdFlags);
    const words = [join(argv)];
    if (node.tls) words.push(...tlsDriverOptWords(node.name));
    if (p.buildkitdConfig !== undefined) words.push('--buildkitd-config "$work/buildkitd.toml"');
    if (node.endpoint !== undefined) words.push(quote(node.endpoint));
    return words.join(" ");
}

/**
 * A create script for arguments found invalid only once their Outputs resolved: it creates
 * nothing and fails with the message, so `up` stops at this resource saying what is wrong.
 */
export function planInvalid(message: string): string {
    return ["set -euo pipefail", `echo ${quote(message)} >&2`, "exit 1"].join("\n") + "\n";
}

function resolvedProblems(p: BuilderPlanInput): string | undefined {
    const problems: string[] = [];
    p.nodes.forEach((node, i) => {
        const reason = endpointProblem(p.driver, node.endpoint, node.tls !== undefined);
        if (reason !== undefined) problems.push(`nodes[${i}].endpoint (node "${node.name}"): ${reason}`);
    });
    return problems.length > 0 ? `Builder "${p.name}" has invalid arguments:\n${problems.map((x) => `  - ${x}`).join("\n")}` : undefined;
}

/** Shell function shared by both scripts: 0 if the instance exists, 1 if not, exit on any other error. */
const BUILDER_EXISTS = [
    "builder_exists() {",
    '  local err',
    '  if err="$(docker buildx inspect "$name" 2>&1 >/dev/null)"; then return 0; fi',
    "  case \"$err\" in *'no builder'*'found'*) return 1 ;; esac",
    '  printf \'%s\\n\' "$err" >&2',
    '  echo "pulumi-buildx: cannot tell whether builder $name exists (docker buildx inspect failed)" >&2',
    "  exit 1",
    "}",
    "remove_builder() {",
    '  if ! docker buildx rm "$name" >&2; then',
    '    echo "pulumi-buildx: buildx could not stop every node of $name (is one unreachable?); removing the instance and leaving those daemons" >&2',
    '    docker buildx rm --keep-daemon "$name" >&2',
    "  fi",
    "}",
];

/**
 * The create script:
 * 1. a private work directory; an EXIT trap that, on failure, removes the half-made instance and
 *    its TLS directory, so nothing is left half-appended;
 * 2. replace an instance of the same name (a crashed earlier run) and its TLS directory;
 * 3. write each remote node's PEM files (from the environment) into `pulumi-tls/<name>/<node>/`;
 * 4. create the first node, append the others; with `bootstrap`, start each node right after
 *    adding it, so a failure names that node, its endpoint and buildx's error;
 * 5. `use` if asked, then print `docker buildx inspect` on stdout (parsed into outputs).
 * Everything else goes to stderr (the Pulumi log).
 */
export function planCreate(p: BuilderPlanInput): string {
    const invalid = resolvedProblems(p);
    if (invalid !== undefined) return planInvalid(invalid);
    const lines: string[] = [
        "set -euo pipefail",
        `name=${quote(p.name)}`,
        tlsRootAssignment(p.name),
        'work="$(mktemp -d "${TMPDIR:-/tmp}/pulumi-buildx.XXXXXX")"',
        "finished=0",
        "on_exit() {",
        "  local rc=$?",
        '  if [ "$finished" != 1 ]; then',
        '    echo "pulumi-buildx: removing the half-made builder $name" >&2',
        '    docker buildx rm "$name" >/dev/null 2>&1 || docker buildx rm --keep-daemon "$name" >/dev/null 2>&1 || true',
        '    rm -rf "$tls_root"',
        "  fi",
        '  rm -rf "$work"',
        '  exit "$rc"',
        "}",
        "trap on_exit EXIT",
        ...BUILDER_EXISTS,
        "# node_step NODE WHAT CMD...: run a buildx step for NODE; on failure say which node, where, and buildx's error.",
        "node_step() {",
        '  local node="$1" what="$2" reason',
        "  shift 2",
        '  if "$@" >"$work/out" 2>"$work/err"; then cat "$work/err" >&2; return 0; fi',
        '  cat "$work/err" >&2',
        "  reason=\"$(grep '^ERROR:' \"$work/err\" | tail -n 1 | sed 's/^ERROR: *//')\"",
        '  [ -n "$reason" ] || reason="$(tail -n 1 "$work/err")"',
    ];
    if (p.driver === "remote") {
        // A remote node that does not answer only says "context deadline exceeded"; buildx du
        // asks the daemons directly and says why (refused certificate, no route, ...).
        lines.push(
            '  if [ "$what" = "bootstrap" ]; then',
            "    local why",
            "    why=\"$(timeout 30 docker buildx du --builder \"$name\" 2>&1 >/dev/null | grep '^ERROR:' | tail -n 1 | sed 's/^ERROR: *//' || true)\"",
            '    [ -z "$why" ] || reason="$reason ($why)"',
            "  fi",
        );
    }
    lines.push(
        '  echo "pulumi-buildx: node $node of builder $name failed to $what: $reason" >&2',
        "  exit 1",
        "}",
        "case \"$tls_root\" in *,*|*'\"'*) echo \"pulumi-buildx: buildx cannot take TLS files under $tls_root (a comma or quote in the path)\" >&2; exit 1 ;; esac",
        "if builder_exists; then",
        '  echo "pulumi-buildx: replacing the existing builder instance $name" >&2',
        "  remove_builder",
        "fi",
        'rm -rf "$tls_root"',
    );
    if (p.nodes.some((n) => n.tls !== undefined)) {
        lines.push("umask 077");
        p.nodes.forEach((node, i) => {
            if (node.tls !== undefined) lines.push(...writeTlsLines(node.name, i));
        });
    }
    if (p.buildkitdConfig !== undefined) {
        lines.push(`printf '%s' ${quote(p.buildkitdConfig)} > "$work/buildkitd.toml"`);
    }
    p.nodes.forEach((node, i) => {
        const label = describeNode(node);
        lines.push(
            `echo ${quote(`pulumi-buildx: ${i === 0 ? "creating builder " + p.name + " with" : "appending"} node ${label}`)} >&2`,
            `node_step ${quote(label)} ${quote(i === 0 ? "be created" : "be appended")} ${createCommand(p, i)}`,
        );
        if (p.bootstrap) lines.push(`node_step ${quote(label)} bootstrap docker buildx inspect --bootstrap "$name"`);
    });
    if (p.use) lines.push('docker buildx use "$name" >&2');
    lines.push('docker buildx inspect "$name" > "$work/inspect.txt"', "finished=1", 'cat "$work/inspect.txt"');
    return lines.join("\n") + "\n";
}

/**
 * The delete script: `docker buildx rm` (tolerating an instance that is already gone; if a node
 * cannot be reached, the instance is removed and its daemon left), then the TLS directory.
 */
export function planDelete(name: string): string {
    const lines = [
        "set -euo pipefail",
        `name=${quote(name)}`,
        tlsRootAssignment(name),
        ...BUILDER_EXISTS,
        "if builder_exists; then",
        '  echo "pulumi-buildx: removing builder $name" >&2',
        "  remove_builder",
        "else",
        '  echo "pulumi-buildx: builder $name is already gone" >&2',
        "fi",
        'rm -rf "$tls_root"',
    ];
    return lines.join("\n") + "\n";
}
