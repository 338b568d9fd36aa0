/**
 * Runs a generated script for real, with a recording fake `docker` (and `rm`, `mv`, `cp`) first
 * on PATH (test/fixtures/fake-cli/record.sh), and reads back every call's argv exactly.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const RECORDER = path.join(__dirname, "..", "fixtures", "fake-cli", "record.sh");
const NAMES = ["docker", "rm", "mv", "cp"];

/** An image index of linux/amd64 (`sha256:aaa…`) and linux/arm64 (`sha256:bbb…`), for `FAKE_CLI_INDEX`. */
export const FAKE_INDEX = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
        {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: `sha256:${"a".repeat(64)}`,
            size: 1,
            platform: { os: "linux", architecture: "amd64" },
        },
        {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: `sha256:${"b".repeat(64)}`,
            size: 1,
            platform: { os: "linux", architecture: "arm64" },
        },
    ],
});

/** One recorded call: the name it was called by, its argv (without the name), and side files. */
export interface FakeCall {
    name: string;
    argv: string[];
    /** What `docker login` read on stdin. */
    stdin?: string;
    /** The Dockerfile `docker buildx build --file` pointed at. */
    dockerfile?: string;
    /** The `--buildkitd-config` file of `docker buildx create`. */
    config?: string;
}

export interface FakeRun {
    code: number | null;
    stdout: string;
    stderr: string;
    calls: FakeCall[];
}

/** A scratch directory with the fake on PATH; `dispose` removes it. */
export class FakeCli {
    readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "fake-cli-"));
    private readonly bin = path.join(this.root, "bin");
    private runs = 0;

    constructor() {
        fs.mkdirSync(this.bin);
        for (const name of NAMES) fs.symlinkSync(RECORDER, path.join(this.bin, name));
    }

    /** Runs `bash -c script` in `cwd` with `env` added and `stdin`, recording every call. */
    run(script: string, opts: { cwd: string; env?: Record<string, string>; stdin?: string }): FakeRun {
        const calls = path.join(this.root, `calls-${this.runs++}`);
        fs.mkdirSync(calls);
        const result = spawnSync("/bin/bash", ["-c", script], {
            cwd: opts.cwd,
            input: opts.stdin ?? "",
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
            env: { PATH: `${this.bin}:/usr/bin:/bin`, HOME: this.root, TMPDIR: this.root, FAKE_CLI_CALLS: calls, ...opts.env },
        });
        return { code: result.status, stdout: result.stdout, stderr: result.stderr, calls: readCalls(calls) };
    }

    dispose(): void {
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

/** The calls recorded in `dir` (a FAKE_CLI_CALLS directory), in order. */
export function readCalls(dir: string): FakeCall[] {
    const side = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined);
    return fs
        .readdirSync(dir)
        .filter((f) => /^\d{4}-[a-z]+$/.test(f))
        .sort()
        .map((f) => {
            const raw = fs.readFileSync(path.join(dir, f), "utf8");
            const argv = raw === "" ? [] : raw.slice(0, -1).split("\0");
            const file = path.join(dir, f);
            return { name: f.slice(5), argv, stdin: side(`${file}.stdin`), dockerfile: side(`${file}.dockerfile`), config: side(`${file}.config`) };
        });
}

/**
 * Splits one comma-separated flag value the way Go's `encoding/csv` reads one record (what
 * buildx does with `--cache-from`, `--cache-to`, `--output`, `--secret`, `--driver-opt`):
 * fields split on `,`; a field that starts with `"` runs to the closing `"`, with `""` for a quote.
 * Throws where Go would fail (a bare `"` in an unquoted field, an unclosed quote).
 */
export function parseCsvRecord(text: string): string[] {
    const fields: string[] = [];
    let i = 0;
    for (;;) {
        let field = "";
        if (text[i] === '"') {
            i++;
            for (;;) {
                if (i >= text.length) throw new Error(`extraneous or missing " in quoted-field: ${JSON.stringify(text)}`);
                if (text[i] === '"') {
                    if (text[i + 1] === '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                field += text[i++];
            }
            if (i < text.length && text[i] !== ",") throw new Error(`extraneous " in field: ${JSON.stringify(text)}`);
        } else {
            while (i < text.length && text[i] !== ",") {
                if (text[i] === '"') throw new Error(`bare " in non-quoted-field: ${JSON.stringify(text)}`);
                if (text[i] === "\n") throw new Error(`a line break ends the record: ${JSON.stringify(text)}`);
                field += text[i++];
            }
        }
        fields.push(field);
        if (i >= text.length) return fields;
        i++; // the comma
    }
}
