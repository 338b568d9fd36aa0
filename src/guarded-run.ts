/**
 * Runs a rendered script the way pulumi-resource-command runs a local Command of ours: the guard
 * (`GUARDED_BASH`) with the script as its last argument, the process environment plus `env`,
 * and `stdin` on standard input. For entry points that run outside a Pulumi program
 * (`buildImage`); a cancel (`signal`) sends SIGTERM to the guard, which stops the script's whole
 * process group as it does for a cancelled `pulumi up`.
 */
import { spawn } from "child_process";
import { GUARDED_BASH } from "./guard";

export interface GuardedRunOptions {
    /** Added to `process.env`; secrets travel here, never in the script. */
    env: Record<string, string>;
    /** Written to the script's standard input, then closed. Default: nothing (closed at once). */
    stdin?: string;
    /** Each line the script prints on stderr (and on stdout, except lines starting with `hideStdoutPrefix`). */
    onOutput?: (line: string) => void;
    /** Stdout lines starting with this are not given to `onOutput` (the machine-readable result line). */
    hideStdoutPrefix?: string;
    /** Aborting sends SIGTERM to the guard; a signal that is already aborted starts nothing (`GuardedRunAborted`). */
    signal?: AbortSignal;
}

/** Raised when the script exits non-zero; carries its stderr's last lines in the message. */
export class GuardedRunFailed extends Error {
    constructor(
        message: string,
        public readonly exitCode: number | null,
        public readonly stderr: string,
    ) {
        super(message);
        this.name = "GuardedRunFailed";
    }
}

/** Raised instead of starting anything when the `signal` was already aborted. `cause` is the signal's reason. */
export class GuardedRunAborted extends Error {
    constructor(what: string, reason: unknown) {
        super(`${what}: aborted before it started; nothing ran`, { cause: reason });
        this.name = "AbortError";
    }
}

/** Runs `script` under the guard; resolves to its stdout when it exits 0. */
export function runGuarded(what: string, script: string, opts: GuardedRunOptions): Promise<string> {
    return new Promise((resolve, reject) => {
        // An abort listener never fires for a signal that is already aborted: refuse before spawning.
        if (opts.signal?.aborted) return reject(new GuardedRunAborted(what, opts.signal.reason));
        const child = spawn(GUARDED_BASH[0], [...GUARDED_BASH.slice(1), script], {
            env: { ...process.env, ...opts.env },
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        const lines = (stream: "stdout" | "stderr") => {
            let pending = "";
            return (chunk: Buffer) => {
                const text = chunk.toString("utf8");
                if (stream === "stdout") stdout += text;
                else stderr += text;
                pending += text;
                const parts = pending.split("\n");
                pending = parts.pop() ?? "";
                for (const line of parts) {
                    if (stream === "stdout" && opts.hideStdoutPrefix !== undefined && line.startsWith(opts.hideStdoutPrefix)) continue;
                    opts.onOutput?.(line);
                }
            };
        };
        child.stdout.on("data", lines("stdout"));
        child.stderr.on("data", lines("stderr"));
        child.stdin.on("error", () => undefined); // the script may exit without reading stdin
        child.stdin.end(opts.stdin ?? "");
        const abort = () => child.kill("SIGTERM");
        opts.signal?.addEventListener("abort", abort, { once: true });
        child.on("error", (err) => reject(new Error(`${what}: could not start bash: ${err.message}`)));
        child.on("close", (code, signal) => {
            opts.signal?.removeEventListener("abort", abort);
            if (code === 0) return resolve(stdout);
            const tail = stderr.trimEnd().split("\n").slice(-20).join("\n");
            const how = signal !== null ? `was stopped by ${signal}` : `exited with code ${code}`;
            reject(new GuardedRunFailed(`${what} ${how}${opts.signal?.aborted ? " (aborted)" : ""}:\n${tail}`, code, stderr));
        });
    });
}
