/**
 * Runs every benchmark module in sequence, prints a table of ratios and writes
 * `bench/.work/results.json`. Benchmarks measure; they never fail on a missed goal.
 *
 *     npm run bench                        # everything, full size
 *     BENCH_SMALL=1 npm run bench          # smaller inputs, for a quick run
 *     BENCH_ONLY=context-hash npm run bench
 *
 * To add a benchmark: write `bench/<name>.ts` exporting `run(): Promise<BenchResult[]>` and add
 * it to {@link BENCHMARKS}.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** One measurement: the subject's time against a baseline's, taken in the same run. */
export interface BenchResult {
    /** What was measured, e.g. `hashContext vs tar | sha256sum (whole dir)`. */
    name: string;
    /** Median wall time of the baseline, in milliseconds. */
    baselineMs: number;
    /** Median wall time of the subject, in milliseconds. */
    subjectMs: number;
    /** `subjectMs / baselineMs`: below 1 means the subject is faster. */
    ratio: number;
    /** The ratio the subject should stay at or under, if there is a goal. */
    goal?: number;
    /** Sizes, settings, anything needed to read the numbers. */
    notes?: string;
}

/** What a benchmark module exports. */
export interface BenchModule {
    run(): Promise<BenchResult[]>;
}

/**
 * Every benchmark, run in this order. Loaded lazily, so that modules can import the helpers
 * below without an import cycle.
 */
export const BENCHMARKS: { name: string; load: () => Promise<BenchModule> }[] = [
    { name: "context-hash", load: () => import("./context-hash") },
    { name: "e2e-image", load: () => import("./e2e-image") },
    { name: "builder", load: () => import("./builder") },
    { name: "per-platform-cache", load: () => import("./per-platform-cache") },
];

/** Where benchmarks keep generated inputs and results (gitignored). */
export const WORK_DIR = path.join(__dirname, ".work");

/** Whether to use the smaller inputs (`BENCH_SMALL=1`). */
export function benchSmall(): boolean {
    return process.env.BENCH_SMALL === "1" || process.env.BENCH_SMALL === "true";
}

/** The median of some timings (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
    if (values.length === 0) {
        throw new RangeError("median of no values");
    }
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function formatTable(rows: { module: string; result: BenchResult }[]): string {
    const header = ["benchmark", "baseline ms", "subject ms", "ratio", "goal", "met"];
    const lines = rows.map(({ module, result: r }) => [
        `${module}: ${r.name}`,
        r.baselineMs.toFixed(0),
        r.subjectMs.toFixed(0),
        `${r.ratio.toFixed(2)}x`,
        r.goal === undefined ? "-" : `<= ${r.goal}x`,
        r.goal === undefined ? "-" : r.ratio <= r.goal ? "yes" : "NO",
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)].join("\n");
}

async function main(): Promise<void> {
    const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
    const selected = BENCHMARKS.filter((b) => only === undefined || only.includes(b.name));
    if (selected.length === 0) {
        throw new Error(
            `BENCH_ONLY=${JSON.stringify(process.env.BENCH_ONLY)} matches no benchmark: expected some of ${BENCHMARKS.map((b) => b.name).join(", ")}`,
        );
    }
    const rows: { module: string; result: BenchResult }[] = [];
    let failed = false;
    for (const bench of selected) {
        console.log(`== ${bench.name}`);
        try {
            const module = await bench.load();
            for (const result of await module.run()) {
                rows.push({ module: bench.name, result });
                if (result.notes !== undefined) {
                    console.log(`   ${result.name}: ${result.notes}`);
                }
            }
        } catch (err) {
            failed = true;
            console.error(`benchmark ${bench.name} failed:`, err);
        }
    }
    console.log(`\n${formatTable(rows)}\n`);
    fs.mkdirSync(WORK_DIR, { recursive: true });
    const file = path.join(WORK_DIR, "results.json");
    const report = {
        date: new Date().toISOString(),
        node: process.version,
        platform: `${os.platform()}/${os.arch()}`,
        cpus: os.availableParallelism(),
        loadavg: os.loadavg(),
        small: benchSmall(),
        results: rows.map(({ module, result }) => ({ module, ...result })),
    };
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`results written to ${path.relative(process.cwd(), file)}`);
    if (failed) {
        process.exitCode = 1;
    }
}

if (require.main === module) {
    // Exit explicitly: the Pulumi runtime used by the end-to-end benchmarks keeps handles open.
    main().then(
        () => process.exit(),
        (err) => {
            console.error(err);
            process.exit(1);
        },
    );
}
