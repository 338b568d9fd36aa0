/**
 * End-to-end overhead of MultiPlatformImage: the resource, run through the test harness (which
 * really runs its build script), against the plain `docker buildx build --push` it wraps, on the
 * same context with a warm cache, alternating, in the same run. Needs the test environment
 * (`scripts/test-env.sh up`). Goal: at most 1.2x. Both sides print plain progress to a pipe.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { MultiPlatformImage } from "../src";
import { Harness, loadTestEnv, runProgram, unwrap } from "../test/harness";
import { BenchResult, benchSmall, median, WORK_DIR } from "./index";

export async function run(): Promise<BenchResult[]> {
    const env = loadTestEnv();
    const ctx = path.join(WORK_DIR, "e2e-image-context");
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nCOPY payload /payload\nRUN uname -m > /arch.txt\n`);
    fs.mkdirSync(path.join(ctx, "payload"), { recursive: true });
    for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(ctx, "payload", `f${i}.txt`), `file ${i}\n`.repeat(100));
    const platforms = ["linux/amd64", "linux/arm64"];
    const plainTag = `${env.registry.host}/bench/e2e-plain:latest`;
    const resourceTag = `${env.registry.host}/bench/e2e-resource:latest`;

    const plain = () => {
        const t0 = process.hrtime.bigint();
        execFileSync("docker", ["buildx", "build", "--platform", platforms.join(","), "-t", plainTag, "--push", "--progress", "plain", ctx], { stdio: "pipe" });
        return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const resource = async () => {
        const harness = new Harness();
        await harness.install();
        try {
            const t0 = process.hrtime.bigint();
            const { result, errors } = await runProgram(harness, () => new MultiPlatformImage("bench", { context: ctx, platforms, tags: [resourceTag] }));
            if (errors.length > 0) throw errors[0];
            await unwrap(result!.platformDigests);
            return Number(process.hrtime.bigint() - t0) / 1e6;
        } finally {
            harness.dispose();
        }
    };

    // Warm the cache for both, then alternate.
    plain();
    await resource();
    const rounds = benchSmall() ? 3 : 7;
    const plainMs: number[] = [];
    const resourceMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
        plainMs.push(plain());
        resourceMs.push(await resource());
    }
    const baselineMs = median(plainMs);
    const subjectMs = median(resourceMs);
    return [
        {
            name: "MultiPlatformImage (harness) vs docker buildx build --push, warm cache",
            baselineMs,
            subjectMs,
            ratio: subjectMs / baselineMs,
            goal: 1.2,
            notes: `${platforms.join("+")}, 200-file context, ${rounds} alternating rounds, medians; includes context hashing and the registry read-back`,
        },
    ];
}
