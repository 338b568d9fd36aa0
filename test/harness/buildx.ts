/** Small helpers integration tests share to ask buildx and BuildKit what really happened. */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import { TestNode } from "./testenv";

export interface Ran {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Runs argv synchronously (no shell), with a timeout. */
export function run(argv: string[], env?: NodeJS.ProcessEnv, timeout = 120_000): Ran {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout, env: env ?? process.env });
    return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** The builders buildx lists. */
export function buildxNames(): string[] {
    const r = run(["docker", "buildx", "ls", "--format", "{{.Name}}"]);
    assert.strictEqual(r.code, 0, r.stderr);
    return r.stdout.split("\n").filter((l) => l !== "");
}

export interface HistoryRecord {
    platform: string;
    buildArgs: Record<string, string>;
    resultDigest?: string;
}

/** Build records from `buildctl debug histories --format '{{json .}}'`: platform, build args and result per build. */
export function parseHistories(out: string): HistoryRecord[] {
    return out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l).record)
        .filter((r) => r?.FrontendAttrs)
        .map((r) => ({
            platform: r.FrontendAttrs.platform,
            buildArgs: Object.fromEntries(
                Object.entries(r.FrontendAttrs as Record<string, string>)
                    .filter(([k]) => k.startsWith("build-arg:"))
                    .map(([k, v]) => [k.slice("build-arg:".length), v]),
            ),
            resultDigest: r.Result?.ResultDeprecated?.digest ?? r.Result?.Results?.["0"]?.digest,
        }));
}

/** Platforms of the builds whose build arg MARK was `mark`, in history order. */
export function platformsBuilt(records: HistoryRecord[], mark: string): string[] {
    return records.filter((r) => r.buildArgs.MARK === mark).map((r) => r.platform);
}

/** Build records on a node, through buildctl with the client certificate: platform and result per build. */
export function buildHistory(node: TestNode): HistoryRecord[] {
    const out = execFileSync(
        "buildctl",
        [
            "--addr",
            node.buildkitEndpoint,
            "--tlscacert",
            node.tls.ca,
            "--tlscert",
            node.tls.cert,
            "--tlskey",
            node.tls.key,
            "debug",
            "histories",
            "--format",
            "{{json .}}",
        ],
        { encoding: "utf8", timeout: 60_000 },
    );
    return parseHistories(out);
}
