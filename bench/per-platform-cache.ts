/**
 * Per-platform registry cache (issue 15): a rebuild on builders made fresh (empty BuildKit state,
 * as a CI runner's or an hour-old EC2 node's) whose last step changed, with `perPlatform` and a
 * registry cache, against the same rebuild with no cache, alternating, in the same run. The
 * Dockerfile's expensive step is a CPU loop that stays cacheable (its inputs do not change).
 * Goal: at most 0.3x. Also measured: how many platforms found the expensive step cached, with
 * `perPlatform` and with one two-node builder sharing one cache ref (buildx#1044).
 *
 * Builders: linux/amd64 in this machine's engine, linux/arm64 in node2's engine over ssh://
 * (docker-container driver, both QEMU-free for amd64 and emulated for arm64 on this x86-64 host).
 *
 *     BENCH_ONLY=per-platform-cache npm run bench      (needs `scripts/test-env.sh up`)
 */
import * as fs from "fs";
import * as path from "path";
import { MultiPlatformImage } from "../src";
import { MultiPlatformImageArgs } from "../src/image/args";
import { Harness, loadTestEnv, runProgram, unwrap } from "../test/harness";
import { freshBuilders, removeBuilders, stepsNotRun } from "../test/harness/fresh-builders";
import { BenchResult, benchSmall, median, WORK_DIR } from "./index";

export async function run(): Promise<BenchResult[]> {
    const env = loadTestEnv();
    const small = benchSmall();
    const rounds = small ? 1 : 3;
    // The busybox loop: amd64 native; arm64 under QEMU is ~9x slower, so it gets a ninth.
    const loops = small ? 400_000 : 3_000_000;
    const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
    const names = { amd: `bench-ppc-amd-${suffix}`, arm: `bench-ppc-arm-${suffix}`, multi: `bench-ppc-multi-${suffix}` };
    const ctx = path.join(WORK_DIR, "per-platform-cache-ctx");
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(
        path.join(ctx, "Dockerfile"),
        [
            `FROM ${env.baseImage}`,
            "ARG TARGETARCH",
            "ARG LOOPS",
            "ARG SEED",
            'RUN echo "expensive $SEED" && n=$LOOPS; if [ "$TARGETARCH" = arm64 ]; then n=$((LOOPS / 9)); fi; i=0; while [ $i -lt $n ]; do i=$((i+1)); done; echo "$i" > /work.txt',
            "ARG LAST",
            'RUN echo "$LAST" > /last.txt',
            "",
        ].join("\n"),
    );
    const cacheRef = `${env.registry.host}/bench/per-platform-cache-${suffix}:c`;
    const multiCacheRef = `${env.registry.host}/bench/per-platform-cache-multi-${suffix}:c`;
    const seed = `seed-${suffix}`;
    let n = 0;

    /** One `up` of the image on fresh builders: its wall time and the platforms that skipped the expensive step. */
    const build = async (mode: "per-platform cached" | "per-platform no cache" | "multi-node cached", populate = false) => {
        await freshBuilders(env, await harnessFor("builders"), names, mode === "multi-node cached" ? ["multi"] : ["amd", "arm"]);
        const h = await harnessFor("image");
        const ref = mode === "multi-node cached" ? multiCacheRef : cacheRef;
        const cache: Partial<MultiPlatformImageArgs> =
            mode === "per-platform no cache" ? {} : { cacheFrom: [{ type: "registry", ref }], cacheTo: [{ type: "registry", ref, mode: "max" }] };
        const placement: Partial<MultiPlatformImageArgs> =
            mode === "multi-node cached" ? { builder: names.multi } : { platformBuilders: { "linux/amd64": names.amd, "linux/arm64": names.arm } };
        const t0 = process.hrtime.bigint();
        const { result, errors } = await runProgram(
            h,
            () =>
                new MultiPlatformImage("bench", {
                    context: ctx,
                    platforms: ["linux/amd64", "linux/arm64"],
                    tags: [`${env.registry.host}/bench/per-platform-cache:${suffix}-${n}`],
                    buildArgs: { LOOPS: String(loops), SEED: seed, LAST: populate ? "first" : `last-${n++}` },
                    ...cache,
                    ...placement,
                }),
        );
        if (errors.length > 0) throw errors[0];
        await unwrap(result!.digest);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        // Each build child's own log (step numbers repeat across children).
        const logOf = (resource: string) =>
            h.logs
                .filter((l) => l.stream === "stderr" && l.resource === resource)
                .map((l) => l.text)
                .join("");
        const children = mode === "multi-node cached" ? ["bench-build"] : ["bench-build-linux-amd64", "bench-build-linux-arm64"];
        const cached = children.flatMap((c) => stepsNotRun(logOf(c), "expensive").map((p) => (p === "(single)" ? c.replace("bench-build-", "") : p)));
        h.dispose();
        return { ms, cached };
    };
    let current: Harness | undefined;
    const harnessFor = async (project: string) => {
        current?.dispose();
        current = new Harness();
        await current.install(`bench-${project}`, "per-platform-cache");
        return current;
    };

    try {
        // Fill both caches once (not timed).
        await build("per-platform cached", true);
        await build("multi-node cached", true);
        const cachedMs: number[] = [];
        const uncachedMs: number[] = [];
        const multiMs: number[] = [];
        const hits = { perPlatform: [] as number[], multi: [] as number[] };
        for (let round = 0; round < rounds; round++) {
            const cached = await build("per-platform cached");
            cachedMs.push(cached.ms);
            hits.perPlatform.push(cached.cached.length);
            uncachedMs.push((await build("per-platform no cache")).ms);
            const multi = await build("multi-node cached");
            multiMs.push(multi.ms);
            hits.multi.push(multi.cached.length);
        }
        const baselineMs = median(uncachedMs);
        const subjectMs = median(cachedMs);
        const common = `amd64 ${loops} loops, arm64 ${Math.floor(loops / 9)} (QEMU); builders made fresh before every build (not timed); median of ${rounds}`;
        return [
            {
                name: "rebuild on fresh builders: perPlatform + registry cache vs no cache",
                baselineMs,
                subjectMs,
                ratio: subjectMs / baselineMs,
                goal: 0.3,
                notes: `${common}; cached runs ${cachedMs.map((m) => m.toFixed(0)).join("/")} ms, uncached ${uncachedMs.map((m) => m.toFixed(0)).join("/")} ms`,
            },
            {
                name: "platforms that hit the cache: perPlatform vs one two-node builder (buildx#1044)",
                baselineMs: median(multiMs),
                subjectMs,
                ratio: subjectMs / median(multiMs),
                notes: `perPlatform: ${hits.perPlatform.join("/")} of 2 platforms per round; one two-node builder with one cache ref: ${hits.multi.join("/")} of 2; times are the cached rebuilds`,
            },
        ];
    } finally {
        current?.dispose();
        removeBuilders(names);
    }
}
