/**
 * The guard every local Command runs under (src/guard.ts), run for real: bash, signals, /proc.
 * Each test polls for what it waits for (no fixed sleeps), so a busy machine only makes it slower.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { GUARD_SCRIPT, GUARDED_BASH, WORK_DIR_LINE } from "../../src/guard";
import { expectGolden } from "../harness/golden";

const ROOT = `/dev/shm/pulumi-buildx-${process.getuid!()}`;

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!check()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

/** Pids of processes whose environment has `marker`. */
function withMarker(marker: string): number[] {
    return fs
        .readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
            try {
                return fs.readFileSync(`/proc/${p}/environ`).includes(marker);
            } catch {
                return false;
            }
        })
        .map(Number);
}

/** Starts `script` under the guard as pulumi-resource-command would (piped output, own env). */
function guarded(script: string, env: Record<string, string> = {}, stdin?: string) {
    const child = spawn(GUARDED_BASH[0], [...GUARDED_BASH.slice(1), script], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    if (stdin !== undefined) child.stdin.end(stdin);
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    return { child, exited, output: () => out };
}

describe("guard (the interpreter of every local Command)", function () {
    this.timeout(60_000);
    const marker = (name: string) => `GUARD_TEST_${name}_${process.pid}_${Date.now()}`;

    it("is golden and shellcheck-clean", function () {
        expectGolden("guard.sh", GUARD_SCRIPT);
        const sc = spawnSync("shellcheck", ["-s", "bash", "-"], { input: GUARD_SCRIPT, encoding: "utf8" });
        assert.strictEqual(sc.status, 0, sc.stdout);
    });

    it("passes stdin, output and the exit code through, and gives the script a private run directory on tmpfs that it removes", async () => {
        const run = guarded(`cat; ${WORK_DIR_LINE}; echo "work=$work"; stat -c %a "$PULUMI_BUILDX_RUN_DIR"; exit 7`, {}, "from stdin\n");
        assert.strictEqual(await run.exited, 7);
        const out = run.output();
        assert.match(out, /^from stdin\n/);
        const work = /work=(\S+)/.exec(out)![1];
        assert.ok(work.startsWith(`${ROOT}/run-`), work);
        assert.match(out, /\n700\n/);
        await until("the run directory to go", () => !fs.existsSync(path.dirname(work)));
    });

    it("SIGKILL of the guard: the script's whole process group is killed and the run directory removed, within seconds", async () => {
        const m = marker("KILL");
        const run = guarded(`echo "dir=$PULUMI_BUILDX_RUN_DIR"; echo secret > "$PULUMI_BUILDX_RUN_DIR/login"; sleep 300 & sleep 301 & echo started; wait`, {
            [m]: "1",
        });
        await until("the script to start", () => run.output().includes("started"));
        const dir = /dir=(\S+)/.exec(run.output())![1];
        assert.ok(fs.existsSync(path.join(dir, "login")));
        run.child.kill("SIGKILL");
        await run.exited; // the provider's pipes close: nothing of the run holds them
        await until("every process of the run to stop", () => withMarker(m).length === 0, 5_000);
        await until("the run directory to go", () => !fs.existsSync(dir), 5_000);
    });

    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        it(`${signal} to the guard stops the script promptly (not after it finishes) and cleans up`, async () => {
            const m = marker(signal);
            const run = guarded(`echo "dir=$PULUMI_BUILDX_RUN_DIR"; sleep 300 & echo started; wait`, { [m]: "1" });
            await until("the script to start", () => run.output().includes("started"));
            const dir = /dir=(\S+)/.exec(run.output())![1];
            const sent = Date.now();
            run.child.kill(signal);
            assert.notStrictEqual(await run.exited, 0);
            assert.ok(Date.now() - sent < 15_000, "the guard waited for the script instead of stopping it");
            await until("every process of the run to stop", () => withMarker(m).length === 0, 15_000);
            await until("the run directory to go", () => !fs.existsSync(dir), 5_000);
        });
    }

    it("removes what dead runs left, and never a live concurrent run's directory", async () => {
        fs.mkdirSync(ROOT, { recursive: true, mode: 0o700 });
        // A dead run: a pid that exists but started at another time (our own pid, a made-up start time).
        const dead = path.join(ROOT, `run-${process.pid}-1`);
        fs.mkdirSync(dead);
        fs.writeFileSync(path.join(dead, "config.json"), "{}");
        const live = guarded(`echo "dir=$PULUMI_BUILDX_RUN_DIR"; echo started; sleep 300`);
        await until("the live run to start", () => live.output().includes("started"));
        const liveDir = /dir=(\S+)/.exec(live.output())![1];
        assert.ok(!fs.existsSync(dead), "a dead run's directory survived the next run");

        const next = guarded("true");
        assert.strictEqual(await next.exited, 0);
        assert.ok(fs.existsSync(liveDir), "a live run's directory was removed by another run");
        live.child.kill("SIGKILL");
        await until("the live run's directory to go", () => !fs.existsSync(liveDir));
    });
});
