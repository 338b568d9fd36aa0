/**
 * The create and delete scripts of a Builder: pure, from plain values to typed shell plans.
 * TLS private keys and certificates never reach this module; the scripts read them from the
 * environment variables named by `tlsEnvNames`.
 */
import { argv, Argv, bash, bashLines, csvValue, joined, Line, resultLine, sh, shellVar, ShellPlan, Word } from "../shell";
import { tlsDriverOptWords, tlsEnvNames, TLS_ROOT_ASSIGNMENT, writeTlsLines } from "./tls-files";
import { WORK_DIR_LINE } from "../guard";
import { ValidatedBuilderArgs } from "./validate";

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

/** A validated builder with its nodes' Outputs resolved: everything the scripts are made from. */
export type BuilderPlanInput = ValidatedBuilderArgs<PlannedNode>;

/** Prefix of the create script's one result line: `{"inspect": base64 of docker buildx inspect}`. */
export const BUILDER_RESULT_MARKER = "pulumi-buildx-builder-result ";

/** How a node is named in progress and error messages. */
export function describeNode(node: PlannedNode): string {
    return `${node.name} (${node.endpoint ?? "the current docker context"})`;
}

/**
 * The `docker buildx create` argument vector of node `i`: the first node creates the instance,
 * the others are appended. Each `--driver-opt` is one CSV field (buildx reads it with Go's
 * `encoding/csv`), so `env.NO_PROXY=a,b` stays one option. The endpoint comes after `--`.
 */
export function createCommand(p: BuilderPlanInput, i: number): Argv {
    const node = p.nodes[i];
    const words: Word[] = ["docker", "buildx", "create"];
    if (i > 0) words.push("--append");
    words.push("--name", p.name, "--driver", p.driver, "--node", node.name);
    if (node.platforms.length > 0) words.push("--platform", node.platforms.join(","));
    for (const [k, v] of Object.entries(node.driverOpts)) words.push("--driver-opt", csvValue([`${k}=${v}`]));
    if (node.tls?.serverName) words.push("--driver-opt", csvValue([`servername=${node.tls.serverName}`]));
    if (p.buildkitdFlags !== undefined) words.push("--buildkitd-flags", p.buildkitdFlags);
    if (node.tls) words.push(...tlsDriverOptWords(node.name));
    if (p.buildkitdConfig !== undefined) words.push("--buildkitd-config", joined(shellVar("work"), "/buildkitd.toml"));
    if (node.endpoint !== undefined) words.push("--", node.endpoint);
    return argv(...words);
}

/** Shell function shared by both scripts: 0 if the instance exists, 1 if not, exit on any other error. */
const BUILDER_EXISTS = bashLines(
    "builder_exists() {",
    "  local err",
    '  if err="$(docker buildx inspect "$name" 2>&1 >/dev/null)"; then return 0; fi',
    "  case \"$err\" in *'no builder'*'found'*) return 1 ;; esac",
    "  printf '%s\\n' \"$err\" >&2",
    '  echo "pulumi-buildx: cannot tell whether builder $name exists (docker buildx inspect failed)" >&2',
    "  exit 1",
    "}",
    "remove_builder() {",
    '  if ! docker buildx rm "$name" >&2; then',
    '    echo "pulumi-buildx: buildx could not stop every node of $name (is one unreachable?); removing the instance and leaving those daemons" >&2',
    '    docker buildx rm --keep-daemon "$name" >&2',
    "  fi",
    "}",
);

/**
 * The create script:
 * 1. a private work directory; an EXIT trap that, on failure, removes the half-made instance and
 *    its TLS directory, so nothing is left half-appended;
 * 2. replace an instance of the same name (a crashed earlier run) and its TLS directory;
 * 3. write each remote node's PEM files (from the environment) into `pulumi-tls/<name>/<node>/`;
 * 4. create the first node, append the others; with `bootstrap`, start each node right after
 *    adding it, so a failure names that node, its endpoint and buildx's error;
 * 5. `use` if asked, then print `docker buildx inspect` in the one result line on stdout (parsed into outputs).
 * Everything else goes to stderr (the Pulumi log).
 */
export function planCreate(p: BuilderPlanInput): ShellPlan {
    const lines: Line[] = [
        bash("set -euo pipefail"),
        sh`name=${p.name}`,
        TLS_ROOT_ASSIGNMENT,
        ...bashLines(
            WORK_DIR_LINE,
            "finished=0",
            "on_exit() {",
            "  local rc=$?",
            '  if [ "$finished" != 1 ]; then',
            '    echo "pulumi-buildx: removing the half-made builder $name" >&2',
            '    docker buildx rm "$name" >/dev/null 2>&1 || docker buildx rm --keep-daemon "$name" >/dev/null 2>&1 || true',
            '    rm -rf -- "$tls_root"',
            "  fi",
            '  rm -rf -- "$work"',
            '  exit "$rc"',
            "}",
            "trap on_exit EXIT",
        ),
        ...BUILDER_EXISTS,
        ...bashLines(
            "# node_step NODE WHAT CMD...: run a buildx step for NODE; on failure say which node, where, and buildx's error.",
            "node_step() {",
            '  local node="$1" what="$2" reason',
            "  shift 2",
            '  if "$@" >"$work/out" 2>"$work/err"; then cat "$work/err" >&2; return 0; fi',
            '  cat "$work/err" >&2',
            "  reason=\"$(grep '^ERROR:' \"$work/err\" | tail -n 1 | sed 's/^ERROR: *//')\"",
            '  [ -n "$reason" ] || reason="$(tail -n 1 "$work/err")"',
        ),
    ];
    if (p.driver === "remote") {
        // A remote node that does not answer only says "context deadline exceeded"; buildx du
        // asks the daemons directly and says why (refused certificate, no route, ...).
        lines.push(
            ...bashLines(
                '  if [ "$what" = "bootstrap" ]; then',
                "    local why",
                "    why=\"$(timeout 30 docker buildx du --builder \"$name\" 2>&1 >/dev/null | grep '^ERROR:' | tail -n 1 | sed 's/^ERROR: *//' || true)\"",
                '    [ -z "$why" ] || reason="$reason ($why)"',
                "  fi",
            ),
        );
    }
    lines.push(
        ...bashLines(
            '  echo "pulumi-buildx: node $node of builder $name failed to $what: $reason" >&2',
            "  exit 1",
            "}",
            // The TLS --driver-opt fields expand $tls_root, which no CSV quoting in TypeScript can cover.
            "case \"$tls_root\" in *,*|*'\"'*|*$'\\n'*|*$'\\r'*) echo \"pulumi-buildx: buildx cannot take TLS files under $tls_root " +
                '(a comma, quote or line break in the path)" >&2; exit 1 ;; esac',
            "if builder_exists; then",
            '  echo "pulumi-buildx: replacing the existing builder instance $name" >&2',
            "  remove_builder",
            "fi",
            'rm -rf -- "$tls_root"',
        ),
    );
    const env: Record<string, string> = {};
    if (p.nodes.some((n) => n.tls !== undefined)) {
        lines.push(bash("umask 077"));
        p.nodes.forEach((node, i) => {
            if (node.tls === undefined) return;
            lines.push(...writeTlsLines(node.name, i));
            const names = tlsEnvNames(i);
            for (const part of ["ca", "cert", "key"] as const) env[names[part]] = `nodes[${i}].tls.${part}`;
        });
    }
    if (p.buildkitdConfig !== undefined) {
        lines.push(sh`printf '%s' ${p.buildkitdConfig} > "$work/buildkitd.toml"`);
    }
    p.nodes.forEach((node, i) => {
        const label = describeNode(node);
        lines.push(
            sh`echo ${`pulumi-buildx: ${i === 0 ? "creating builder " + p.name + " with" : "appending"} node ${label}`} >&2`,
            sh`node_step ${label} ${i === 0 ? "be created" : "be appended"} ${createCommand(p, i)}`,
        );
        if (p.bootstrap) lines.push(sh`node_step ${label} bootstrap docker buildx inspect --bootstrap "$name"`);
    });
    if (p.use) lines.push(bash('docker buildx use "$name" >&2'));
    lines.push(
        ...bashLines('docker buildx inspect "$name" > "$work/inspect.txt"', "finished=1"),
        resultLine(BUILDER_RESULT_MARKER, { inspect: '"$work/inspect.txt"' }),
    );
    return { lines, env };
}

/**
 * The delete script: `docker buildx rm` (tolerating an instance that is already gone; if a node
 * cannot be reached, the instance is removed and its daemon left), then the TLS directory.
 */
export function planDelete(name: string): ShellPlan {
    const lines = [
        bash("set -euo pipefail"),
        sh`name=${name}`,
        TLS_ROOT_ASSIGNMENT,
        ...BUILDER_EXISTS,
        ...bashLines(
            "if builder_exists; then",
            '  echo "pulumi-buildx: removing builder $name" >&2',
            "  remove_builder",
            "else",
            '  echo "pulumi-buildx: builder $name is already gone" >&2',
            "fi",
            'rm -rf -- "$tls_root"',
        ),
    ];
    return { lines, env: {} };
}
