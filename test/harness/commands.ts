import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runProcess, trimNewline } from "./process";

/**
 * Honest stand-ins for the pulumi-command provider's resources: they really run the command,
 * the way the provider does, and fail the way it does.
 */

export type OutputSink = (resource: string, stream: "stdout" | "stderr", text: string) => void;

export class CommandFailed extends Error {
    constructor(
        readonly resource: string,
        readonly command: string,
        readonly exitCode: number | null,
        readonly stdout: string,
        readonly stderr: string,
    ) {
        // Same shape as the provider's error: the exit status, the command, then its output.
        // (Not a `code` property: Pulumi reads `err.code` as a gRPC status, and 1 means CANCELLED.)
        super(`${resource}: exit status ${exitCode}: running ${JSON.stringify(command)}:\n${stdout}${stderr}`);
    }
}

export interface LocalCommandInputs {
    command: string;
    interpreter?: string[];
    dir?: string;
    environment?: Record<string, string>;
    stdin?: string;
    /** Extra variables the provider adds (PULUMI_COMMAND_STDOUT on delete). */
    extraEnv?: Record<string, string>;
}

/** `command:local:Command`: runs `interpreter + [command]` in `dir` with the provider's environment plus `environment`. */
export async function runLocal(resource: string, inp: LocalCommandInputs, sink: OutputSink): Promise<{ stdout: string; stderr: string }> {
    const interpreter = inp.interpreter && inp.interpreter.length > 0 ? inp.interpreter : ["/bin/sh", "-c"];
    const env: Record<string, string> = { ...(process.env as Record<string, string>), ...(inp.environment ?? {}), ...(inp.extraEnv ?? {}) };
    const result = await runProcess({
        argv: [...interpreter, inp.command],
        cwd: inp.dir,
        env,
        stdin: inp.stdin,
        onOutput: (stream, text) => sink(resource, stream, text),
    });
    if (result.code !== 0) {
        throw new CommandFailed(resource, inp.command, result.code, result.stdout, result.stderr);
    }
    return { stdout: trimNewline(result.stdout), stderr: trimNewline(result.stderr) };
}

export interface SshConnection {
    host: string;
    port?: number;
    user?: string;
    privateKey?: string;
    password?: string;
    /** The expected host key (`ssh-ed25519 AAAA…`); without it, like the provider, any key is accepted. */
    hostKey?: string;
}

export interface RemoteCommandInputs {
    connection: SshConnection;
    command: string;
    environment?: Record<string, string>;
    stdin?: string;
    extraEnv?: Record<string, string>;
}

/**
 * `command:remote:Command`: runs the command over a real SSH connection. Like the provider, it
 * sends `environment` with SSH `setenv` requests (`SendEnv`), so the server must `AcceptEnv` them;
 * the values never appear on a command line.
 */
export async function runRemote(resource: string, inp: RemoteCommandInputs, sink: OutputSink): Promise<{ stdout: string; stderr: string }> {
    const conn = inp.connection;
    if (!conn.privateKey) {
        throw new Error(`${resource}: the test harness supports key-based SSH only (connection.privateKey)`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-ssh-"));
    const keyFile = path.join(dir, "key");
    fs.writeFileSync(keyFile, conn.privateKey.endsWith("\n") ? conn.privateKey : `${conn.privateKey}\n`, { mode: 0o600 });
    const env = { ...(inp.environment ?? {}), ...(inp.extraEnv ?? {}) };
    try {
        const argv = [
            "ssh",
            "-i",
            keyFile,
            "-p",
            String(conn.port ?? 22),
            "-o",
            "BatchMode=yes",
            ...hostKeyOptions(resource, conn, dir),
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=10",
            ...Object.keys(env).flatMap((k) => ["-o", `SendEnv=${k}`]),
            `${conn.user ?? "root"}@${conn.host}`,
            inp.command,
        ];
        const result = await runProcess({
            argv,
            env: { ...(process.env as Record<string, string>), ...env },
            stdin: inp.stdin,
            onOutput: (stream, text) => sink(resource, stream, text),
        });
        if (
            result.code === 255 &&
            conn.hostKey !== undefined &&
            /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|no matching host key type/.test(result.stderr)
        ) {
            // The provider's error (ssh.FixedHostKey in a retried dial): no session was opened.
            throw new Error(`${resource}: Dial: ssh: handshake failed: ssh: host key mismatch`);
        }
        if (result.code !== 0) {
            throw new CommandFailed(resource, inp.command, result.code, result.stdout, result.stderr);
        }
        return { stdout: trimNewline(result.stdout), stderr: trimNewline(result.stderr) };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * The provider's host-key rule (`remote/connection.go`): with `hostKey` (authorized_keys form),
 * only that key, of that algorithm, is accepted (`ssh.FixedHostKey`, `HostKeyAlgorithms`), and
 * a key that does not parse fails before dialling; without it, any key is.
 */
function hostKeyOptions(resource: string, conn: SshConnection, dir: string): string[] {
    if (conn.hostKey === undefined) {
        return ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
    }
    const m = /^\s*([a-z0-9@.-]+) ([A-Za-z0-9+/]+={0,3})(\s.*)?$/.exec(conn.hostKey);
    if (m === null || Buffer.from(m[2], "base64").length < 16) {
        throw new Error(`${resource}: failed to parse host key: ssh: no key found`);
    }
    const knownHosts = path.join(dir, "known_hosts");
    const port = conn.port ?? 22;
    fs.writeFileSync(knownHosts, `${port === 22 ? conn.host : `[${conn.host}]:${port}`} ${m[1]} ${m[2]}\n`);
    return [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        `HostKeyAlgorithms=${m[1]}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
    ];
}
