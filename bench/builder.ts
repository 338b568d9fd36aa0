/**
 * Builder benchmark: the same CPU-bound two-platform build (linux/amd64 + linux/arm64) on a
 * two-node remote builder (node1 pinned to amd64, node2 to arm64) against a one-node builder
 * (node1 builds both), in the same run, alternating, no cache (a fresh build arg each time).
 *
 * Read the numbers with the machine in mind: both test nodes are network namespaces on the same
 * 2-core x86-64 host, so node2 has no CPUs of its own and no native arm64: it runs arm64 under
 * QEMU exactly as node1 would. Two cases:
 * - "equal work": the same shell loop for both platforms. arm64 under QEMU is ~9x slower and is
 *   the critical path on either builder, so splitting buys little here. On real hardware node2
 *   would be a native arm64 machine and this is where the big win is (no emulation at all).
 * - "balanced work": the arm64 loop is cut so both platforms take about the same CPU time; this
 *   isolates what two daemons on shared cores give over one daemon that already builds both
 *   platforms in parallel (expected: about nothing).
 *
 *     BENCH_ONLY=builder npm run bench      (needs `scripts/test-env.sh up`)
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Builder } from "../src/builder/component";
import { Harness, unwrap } from "../test/harness/harness";
import { loadTestEnv, TestNode } from "../test/harness/testenv";
import { BenchResult, benchSmall, median, WORK_DIR } from "./index";

const PLATFORMS = "linux/amd64,linux/arm64";

function tlsOf(node: TestNode) {
    return { ca: fs.readFileSync(node.tls.ca, "utf8"), cert: fs.readFileSync(node.tls.cert, "utf8"), key: fs.readFileSync(node.tls.key, "utf8") };
}

/** One timed build; throws with buildx's output if it fails. */
function timedBuild(builder: string, ctx: string, tag: string, args: Record<string, string>): number {
    const argv = ["buildx", "build", "--builder", builder, "--platform", PLATFORMS, "--provenance=false", "--push", "-t", tag, "--progress", "plain"];
    for (const [k, v] of Object.entries(args)) argv.push("--build-arg", `${k}=${v}`);
    argv.push(ctx);
    const start = process.hrtime.bigint();
    const r = spawnSync("docker", argv, { encoding: "utf8", timeout: 15 * 60_000 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`build on ${builder} failed (${r.status}):\n${(r.stderr ?? "").slice(-3000)}`);
    return ms;
}

export async function run(): Promise<BenchResult[]> {
    const env = loadTestEnv();
    const [node1, node2] = env.nodes;
    const small = benchSmall();
    const rounds = small ? 1 : 3;
    const loops = small ? 100_000 : 300_000;
    const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;

    const ctx = path.join(WORK_DIR, "builder-ctx");
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(
        path.join(ctx, "Dockerfile"),
        [
            `FROM ${env.baseImage}`,
            "ARG TARGETARCH",
            "ARG AMD64_LOOPS",
            "ARG ARM64_LOOPS",
            "ARG NONCE",
            'RUN n=$AMD64_LOOPS; if [ "$TARGETARCH" = arm64 ]; then n=$ARM64_LOOPS; fi; i=0; while [ $i -lt $n ]; do i=$((i+1)); done; echo "$NONCE $TARGETARCH $i" > /work.txt',
            "",
        ].join("\n"),
    );

    const harness = new Harness();
    await harness.install("bench", "builder");
    const two = new Builder("two", {
        name: `bench-two-${suffix}`,
        driver: "remote",
        nodes: [
            { name: "amd", endpoint: node1.buildkitEndpoint, platforms: ["linux/amd64"], tls: tlsOf(node1) },
            { name: "arm", endpoint: node2.buildkitEndpoint, platforms: ["linux/arm64"], tls: tlsOf(node2) },
        ],
    });
    const one = new Builder("one", {
        name: `bench-one-${suffix}`,
        driver: "remote",
        nodes: [{ name: "both", endpoint: node1.buildkitEndpoint, platforms: ["linux/amd64", "linux/arm64"], tls: tlsOf(node1) }],
    });
    try {
        const [twoName, oneName] = await Promise.all([unwrap(two.name), unwrap(one.name)]);
        const tag = `${env.registry.host}/bench/builder:${suffix}`;
        const cases = [
            { label: "equal work", arm64Loops: loops },
            // QEMU runs this busybox loop ~9x slower than native (measured on this machine).
            { label: "balanced work", arm64Loops: Math.round(loops / 9) },
        ];
        const results: BenchResult[] = [];
        let n = 0;
        // Warm up: pull the base image onto both nodes once, so neither side pays for it.
        timedBuild(twoName, ctx, tag, { AMD64_LOOPS: "1", ARM64_LOOPS: "1", NONCE: `warm-${suffix}` });
        timedBuild(oneName, ctx, tag, { AMD64_LOOPS: "1", ARM64_LOOPS: "1", NONCE: `warm1-${suffix}` });
        for (const c of cases) {
            const oneMs: number[] = [];
            const twoMs: number[] = [];
            for (let round = 0; round < rounds; round++) {
                const args = () => ({ AMD64_LOOPS: String(loops), ARM64_LOOPS: String(c.arm64Loops), NONCE: `${suffix}-${n++}` });
                oneMs.push(timedBuild(oneName, ctx, tag, args()));
                twoMs.push(timedBuild(twoName, ctx, tag, args()));
            }
            const baselineMs = median(oneMs);
            const subjectMs = median(twoMs);
            const speedup = baselineMs / subjectMs;
            console.log(`   builder ${c.label}: one node ${baselineMs.toFixed(0)} ms, two nodes ${subjectMs.toFixed(0)} ms, speed-up ${speedup.toFixed(2)}x`);
            results.push({
                name: `two-node vs one-node builder, ${c.label}`,
                baselineMs,
                subjectMs,
                ratio: subjectMs / baselineMs,
                notes:
                    `speed-up ${speedup.toFixed(2)}x; amd64 ${loops} loops, arm64 ${c.arm64Loops} loops (QEMU on both builders); ` +
                    `median of ${rounds}, alternating; both nodes share the host's ${os.availableParallelism()} cores`,
            });
        }
        return results;
    } finally {
        await harness.destroy();
        harness.dispose();
    }
}
