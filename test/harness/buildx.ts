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

/**
 * Removes the builder instance `name` if one is there, and says so. For tests whose program creates
 * a builder with a fixed name: a run killed midway (its stack state in a temporary directory that
 * is gone) leaves that instance behind, and the next run would count it as "already there".
 * Returns whether one was removed.
 */
export function removeLeftoverBuilder(name: string): boolean {
    if (!buildxNames().includes(name)) return false;
    console.log(`      (removing builder ${name}, left by an earlier run that was killed)`);
    const r = run(["docker", "buildx", "rm", "--force", "--", name]);
    assert.strictEqual(r.code, 0, `docker buildx rm ${name}: ${r.stderr}`);
    assert.ok(!buildxNames().includes(name), `builder ${name} is still listed after docker buildx rm`);
    return true;
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

/** The files (and server name) a `buildctl` client reaches an mTLS node with; `cert`/`key` left out for a client without one. */
export interface BuildctlTls {
    ca: string;
    cert?: string;
    key?: string;
    serverName?: string;
}

/** `buildctl --addr ADDR` with the mTLS flags of `tls`, then `command`: the one argv the tests reach a node with. */
export function buildctlArgv(addr: string, tls: BuildctlTls, ...command: string[]): string[] {
    const words = ["buildctl", "--addr", addr];
    if (tls.serverName !== undefined) words.push("--tlsservername", tls.serverName);
    words.push("--tlscacert", tls.ca);
    if (tls.cert !== undefined) words.push("--tlscert", tls.cert);
    if (tls.key !== undefined) words.push("--tlskey", tls.key);
    return [...words, ...command];
}

/** Build records on a node, through buildctl with the client certificate: platform and result per build. */
export function buildHistory(node: TestNode): HistoryRecord[] {
    const [cmd, ...args] = buildctlArgv(node.buildkitEndpoint, node.tls, "debug", "histories", "--format", "{{json .}}");
    const out = execFileSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
    return parseHistories(out);
}
