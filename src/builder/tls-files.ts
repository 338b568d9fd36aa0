/**
 * Where a builder keeps the TLS files of its remote nodes, and the shell lines that write them.
 * Pure: the PEM contents never pass through here; the lines read them from environment
 * variables (set from secrets) with the shell's builtin `printf`, so they are never on a
 * command line or in a command string.
 */
import * as os from "os";
import * as path from "path";
import { quote } from "../shell";

/** The files of one node, inside its directory. */
export const TLS_FILES = { ca: "ca.pem", cert: "cert.pem", key: "key.pem" } as const;

/** Environment variables that carry node `i`'s PEM contents into the create script. */
export function tlsEnvNames(i: number): { ca: string; cert: string; key: string } {
    return { ca: `PULUMI_BUILDX_NODE_${i}_TLS_CA`, cert: `PULUMI_BUILDX_NODE_${i}_TLS_CERT`, key: `PULUMI_BUILDX_NODE_${i}_TLS_KEY` };
}

/**
 * Shell assignment of `tls_root`: `pulumi-tls/<builder>` in buildx's own config directory
 * (`$BUILDX_CONFIG`, else `$DOCKER_CONFIG/buildx`, else `~/.docker/buildx`), where buildx keeps
 * the instance that refers to these files.
 */
export function tlsRootAssignment(builder: string): string {
    return `tls_root="\${BUILDX_CONFIG:-\${DOCKER_CONFIG:-$HOME/.docker}/buildx}"/pulumi-tls/${quote(builder)}`;
}

/** The same directory, computed in TypeScript (for tests and tooling). */
export function tlsDirectory(builder: string, env: NodeJS.ProcessEnv = process.env): string {
    const buildxConfig = env.BUILDX_CONFIG || path.join(env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), ".docker"), "buildx");
    return path.join(buildxConfig, "pulumi-tls", builder);
}

/** Lines that create node `i`'s private directory (0700) and write its three files (0600). */
export function writeTlsLines(node: string, i: number): string[] {
    const env = tlsEnvNames(i);
    const dir = `"$tls_root"/${quote(node)}`;
    return [
        `mkdir -p ${dir}`,
        `chmod 700 "$tls_root" ${dir}`,
        `printf '%s\\n' "\${${env.ca}}" > ${dir}/${TLS_FILES.ca}`,
        `printf '%s\\n' "\${${env.cert}}" > ${dir}/${TLS_FILES.cert}`,
        `printf '%s\\n' "\${${env.key}}" > ${dir}/${TLS_FILES.key}`,
    ];
}

/** `--driver-opt` words pointing buildx at the node's files (`$tls_root` is expanded by the shell). */
export function tlsDriverOptWords(node: string): string[] {
    return (["ca", "cert", "key"] as const).map((part) => {
        const opt = part === "ca" ? "cacert" : part;
        return `--driver-opt "${opt}=$tls_root/"${quote(`${node}/${TLS_FILES[part]}`)}`;
    });
}
