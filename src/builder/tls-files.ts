/**
 * Where a builder keeps the TLS files of its remote nodes, and the shell lines that write them.
 * Pure: the PEM contents never pass through here; the lines read them from environment
 * variables (set from secrets) with the shell's builtin `printf`, so they are never on a
 * command line or in a command string.
 */
import * as os from "os";
import * as path from "path";
import { bash, csvValue, joined, Joined, Line, sh, shellVar, Word } from "../shell";

/** The files of one node, inside its directory. */
export const TLS_FILES = { ca: "ca.pem", cert: "cert.pem", key: "key.pem" } as const;

/** Environment variables that carry node `i`'s PEM contents into the create script. */
export function tlsEnvNames(i: number): { ca: string; cert: string; key: string } {
    return { ca: `PULUMI_BUILDX_NODE_${i}_TLS_CA`, cert: `PULUMI_BUILDX_NODE_${i}_TLS_CERT`, key: `PULUMI_BUILDX_NODE_${i}_TLS_KEY` };
}

/**
 * Shell assignment of `tls_root`: `pulumi-tls/<builder>` in buildx's own config directory
 * (`$BUILDX_CONFIG`, else `$DOCKER_CONFIG/buildx`, else `~/.docker/buildx`), where buildx keeps
 * the instance that refers to these files. Reads the builder name from `$name`.
 */
export const TLS_ROOT_ASSIGNMENT = bash('tls_root="${BUILDX_CONFIG:-${DOCKER_CONFIG:-$HOME/.docker}/buildx}/pulumi-tls/$name"');

/** The same directory, computed in TypeScript (for tests and tooling). */
export function tlsDirectory(builder: string, env: NodeJS.ProcessEnv = process.env): string {
    const buildxConfig = env.BUILDX_CONFIG || path.join(env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), ".docker"), "buildx");
    return path.join(buildxConfig, "pulumi-tls", builder);
}

const tlsRoot = shellVar("tls_root");

/** The path of one of node `node`'s files, as a shell word under `$tls_root`. */
function tlsFile(node: string, part?: keyof typeof TLS_FILES): Joined {
    return joined(tlsRoot, part === undefined ? `/${node}` : `/${node}/${TLS_FILES[part]}`);
}

/** Lines that create node `i`'s private directory (0700) and write its three files (0600). */
export function writeTlsLines(node: string, i: number): Line[] {
    const env = tlsEnvNames(i);
    return [
        sh`mkdir -p -- ${tlsFile(node)}`,
        sh`chmod 700 -- ${tlsRoot} ${tlsFile(node)}`,
        ...(["ca", "cert", "key"] as const).map((part) => sh`printf '%s\\n' ${shellVar(env[part])} > ${tlsFile(node, part)}`),
    ];
}

/**
 * `--driver-opt` words pointing buildx at the node's files. Each is a CSV field built from
 * `$tls_root`, which the create script refuses when it holds `,` or `"` (it cannot be quoted here).
 */
export function tlsDriverOptWords(node: string): Word[] {
    return (["ca", "cert", "key"] as const).flatMap((part) => {
        const opt = part === "ca" ? "cacert" : part;
        return ["--driver-opt", csvValue([joined(`${opt}=`, ...tlsFile(node, part).parts)])];
    });
}
