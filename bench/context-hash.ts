/**
 * Benchmark: `hashContext` against `tar -c … | sha256sum` over the same build context, both timed
 * in the same run, alternately, after one warm-up each (so both read from a warm page cache:
 * dropping caches needs root and is unreliable in containers).
 *
 * The context is generated once and cached under `bench/.work/context-hash/`: 20,000 files of
 * about 200 MB (2,000 files / 20 MB with `BENCH_SMALL=1`) in nested directories, with a
 * `.dockerignore` that excludes whole directories (pruned), patterns at any depth, and has an
 * exception (`!logs/keep`).
 *
 * Baselines:
 * - `tar -cf - -C <dir> . | sha256sum`: the usual comparison, and the one the 0.8x goal is
 *   stated against. It reads the ignored files too (about 30% of the bytes here), which
 *   `hashContext` skips: that is part of what the ignore file is for.
 * - `tar --no-recursion -T <list>` of exactly the entries `hashContext` covers: the strict,
 *   same-bytes comparison, reported alongside.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { hashContext, listContext } from "../src/image/context-hash";
import { defaultWorkerCount } from "../src/image/context-hash-worker";
import { quote } from "../src/shell";
import { BenchResult, WORK_DIR, benchSmall, median } from "./index";

/** How big a generated context is. */
export interface ContextSize {
    files: number;
    bytes: number;
}

/** The size the goal is about. */
export const FULL_SIZE: ContextSize = { files: 20_000, bytes: 200_000_000 };
/** `BENCH_SMALL=1`. */
export const SMALL_SIZE: ContextSize = { files: 2_000, bytes: 20_000_000 };

/** Timed rounds per side, after one warm-up; medians are reported. */
const ROUNDS = 3;
/** hashContext must take at most this fraction of the tar pipeline's time. */
const GOAL = 0.8;
/** Bump to regenerate cached contexts when the generator changes. */
const GENERATOR_VERSION = 1;

/** The generated context's ignore file. */
export const DOCKERIGNORE = `# Dependencies and VCS data: excluded whole; no exception reaches them, so never read
node_modules
.git
# Editor and tool leftovers, at any depth
**/*.tmp
**/*.swp
# Logs, except those shipped in the image
logs
!logs/keep
# Source maps of the build output
build/**/*.map
`;

/** Top-level directories and their share of the files. */
const TOP_DIRS: [string, number][] = [
    ["src", 34],
    ["assets", 18],
    ["vendor", 10],
    ["docs", 8],
    ["node_modules", 14],
    [".git", 6],
    ["logs", 6],
    ["build", 4],
];

/** A small deterministic PRNG (mulberry32), so a given size always generates the same tree. */
function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

interface Generated extends ContextSize {
    version: number;
    /** Actual totals on disk. */
    writtenFiles: number;
    writtenBytes: number;
}

/** Writes a context of about `size` into `dir` (which must not exist). */
function generate(dir: string, size: ContextSize): Generated {
    const random = prng(size.files * 31 + size.bytes);
    // Incompressible, deterministic content: AES-CTR keystream.
    const pool = crypto.createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16, 0)).update(Buffer.alloc(8 << 20));
    const rawSizes = Array.from({ length: size.files }, () => {
        const r = random();
        return r < 0.7 ? 200 + random() * 4_000 : r < 0.95 ? 4_000 + random() * 40_000 : 40_000 + random() * 800_000;
    });
    const scale = size.bytes / rawSizes.reduce((a, b) => a + b, 0);
    const totalWeight = TOP_DIRS.reduce((n, [, w]) => n + w, 0);
    const pickTop = () => {
        let r = random() * totalWeight;
        for (const [name, weight] of TOP_DIRS) {
            if ((r -= weight) < 0) return name;
        }
        return TOP_DIRS[0][0];
    };
    const made = new Set<string>();
    const mkdir = (d: string) => {
        if (!made.has(d)) {
            fs.mkdirSync(d, { recursive: true });
            made.add(d);
        }
    };
    let writtenBytes = 0;
    const written: string[] = [];
    for (let i = 0; i < size.files; i++) {
        const top = pickTop();
        const sub = top === "logs" && random() < 0.125 ? "keep" : `m${Math.floor(random() * 16)}`;
        const rel = `${top}/${sub}/n${Math.floor(random() * 8)}`;
        const r = random();
        const ext = r < 0.03 ? "tmp" : r < 0.04 ? "swp" : top === "build" ? (random() < 0.5 ? "map" : "js") : ["ts", "js", "json", "png", "txt"][i % 5];
        const file = path.join(dir, rel, `f${i}.${ext}`);
        const bytes = Math.max(1, Math.round(rawSizes[i] * scale));
        const at = Math.floor(random() * (pool.length - bytes));
        mkdir(path.dirname(file));
        fs.writeFileSync(file, pool.subarray(at, at + bytes), { mode: random() < 0.01 ? 0o755 : 0o644 });
        writtenBytes += bytes;
        written.push(path.relative(dir, file));
    }
    for (let i = 0; i < 20; i++) {
        const target = written[Math.floor(random() * written.length)];
        fs.symlinkSync(path.relative(path.join(dir, "src"), path.join(dir, target)), path.join(dir, "src", `link${i}`));
    }
    for (let i = 0; i < 10; i++) {
        mkdir(path.join(dir, "assets", `empty${i}`));
    }
    fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\nCOPY . /app\n");
    fs.writeFileSync(path.join(dir, ".dockerignore"), DOCKERIGNORE);
    return { version: GENERATOR_VERSION, ...size, writtenFiles: size.files + 2, writtenBytes };
}

/** The cached context for `size`, generating it if missing or stale. */
function ensureContext(size: ContextSize): { dir: string; info: Generated } {
    const base = path.join(WORK_DIR, "context-hash", `${size.files}-files`);
    const dir = path.join(base, "context");
    const marker = path.join(base, "generated.json");
    try {
        const info = JSON.parse(fs.readFileSync(marker, "utf8")) as Generated;
        if (info.version === GENERATOR_VERSION && info.files === size.files && info.bytes === size.bytes && fs.existsSync(dir)) {
            return { dir, info };
        }
    } catch {
        // not generated yet
    }
    console.log(`   generating ${size.files} files / ${(size.bytes / 1e6).toFixed(0)} MB in ${path.relative(process.cwd(), dir)} …`);
    fs.rmSync(base, { recursive: true, force: true });
    fs.mkdirSync(base, { recursive: true });
    const info = generate(dir, size);
    fs.writeFileSync(marker, `${JSON.stringify(info, null, 2)}\n`);
    return { dir, info };
}

function elapsedMs(start: bigint): number {
    return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs a shell pipeline (with pipefail) and returns its wall time. */
function timeShell(script: string): number {
    const start = process.hrtime.bigint();
    execFileSync("bash", ["-o", "pipefail", "-c", script], { stdio: ["ignore", "ignore", "inherit"] });
    return elapsedMs(start);
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
    const start = process.hrtime.bigint();
    await fn();
    return elapsedMs(start);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

/** Runs the benchmark; see the module comment. */
export async function run(): Promise<BenchResult[]> {
    const size = benchSmall() ? SMALL_SIZE : FULL_SIZE;
    const { dir, info } = ensureContext(size);

    // What the context holds after .dockerignore, and a NUL-separated list of it for tar.
    const entries = await listContext(dir);
    const contextBytes = entries.filter((e) => e.kind === "file").reduce((n, e) => n + fs.lstatSync(path.join(dir, e.path)).size, 0);
    const contextFiles = entries.filter((e) => e.kind === "file").length;
    const listFile = path.join(path.dirname(dir), "context-entries.nul");
    fs.writeFileSync(listFile, entries.map((e) => `${e.path}\0`).join(""));

    const tarWhole = `tar -cf - -C ${quote(dir)} . | sha256sum >/dev/null`;
    const tarListed = `tar -cf - -C ${quote(dir)} --no-recursion --null -T ${quote(listFile)} | sha256sum >/dev/null`;
    const hashes = new Set<string>();
    const ours = (concurrency?: number) => async () => hashes.add(await hashContext(dir, concurrency === undefined ? {} : { concurrency }));

    const sides: { name: string; time: () => Promise<number> }[] = [
        { name: "tar whole dir", time: async () => timeShell(tarWhole) },
        { name: "hashContext", time: () => timeAsync(ours()) },
        { name: "tar context entries", time: async () => timeShell(tarListed) },
        { name: "hashContext concurrency 0", time: () => timeAsync(ours(0)) },
    ];
    for (const side of sides) {
        await side.time(); // warm-up: page cache, JIT
    }
    const times = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
        for (const side of sides) {
            times.get(side.name)!.push(await side.time());
        }
    }
    const m = (name: string) => median(times.get(name)!);
    const raw = (name: string) =>
        times
            .get(name)!
            .map((t) => t.toFixed(0))
            .join("/");

    const workers = defaultWorkerCount();
    const setting = `${workers} worker thread${workers === 1 ? "" : "s"} + the calling thread`;
    const shape =
        `${info.writtenFiles} files / ${mb(info.writtenBytes)} on disk; ` +
        `context after .dockerignore: ${contextFiles} files / ${mb(contextBytes)} (${entries.length} entries)`;
    const stable = hashes.size === 1 ? `hash stable across ${ROUNDS * 2 + 2} runs` : `HASH UNSTABLE: ${hashes.size} distinct values`;
    const result = (name: string, baseline: string, subject: string, goal: number | undefined, notes: string): BenchResult => ({
        name,
        baselineMs: m(baseline),
        subjectMs: m(subject),
        ratio: m(subject) / m(baseline),
        ...(goal === undefined ? {} : { goal }),
        notes: `${notes}; runs (ms) baseline ${raw(baseline)}, subject ${raw(subject)}`,
    });
    return [
        result("hashContext vs tar|sha256sum of the whole dir", "tar whole dir", "hashContext", GOAL, `${shape}; ${setting}; ${stable}`),
        result("hashContext vs tar|sha256sum of the context's entries only", "tar context entries", "hashContext", GOAL, "same bytes on both sides"),
        result(
            "hashContext single-threaded vs tar|sha256sum of the whole dir",
            "tar whole dir",
            "hashContext concurrency 0",
            undefined,
            "for comparison: concurrency 0",
        ),
    ];
}
