import { spawn } from "child_process";

export interface RunOptions {
    argv: string[];
    cwd?: string;
    env?: Record<string, string>;
    stdin?: string;
    /** Called with each chunk of output as it arrives (the provider streams output to the engine log). */
    onOutput?: (stream: "stdout" | "stderr", text: string) => void;
}

export interface RunResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

/** Runs a process to completion, collecting and streaming its output. Never rejects on exit codes. */
export function runProcess(opts: RunOptions): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(opts.argv[0], opts.argv.slice(1), {
            cwd: opts.cwd,
            env: opts.env,
            stdio: ["pipe", "pipe", "pipe"],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => {
            out.push(b);
            opts.onOutput?.("stdout", b.toString());
        });
        child.stderr.on("data", (b: Buffer) => {
            err.push(b);
            opts.onOutput?.("stderr", b.toString());
        });
        child.on("error", reject);
        child.on("close", (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.stdin ?? "");
    });
}

/** The command provider trims one trailing newline from stdout and stderr. */
export function trimNewline(s: string): string {
    return s.replace(/\r?\n$/, "");
}
