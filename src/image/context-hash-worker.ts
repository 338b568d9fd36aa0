/**
 * Content hashing of the regular files of a build context, for `context-hash.ts`: on the calling
 * thread, or spread over a few worker threads when the context is large enough to pay for them.
 * Files are hashed in batches by `hashFiles` (hash-files.ts, where the record layout is), on both
 * sides: the workers run the compiled `context-hash-thread.js` beside this file (see `workerEntry`).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { setImmediate as yieldToEventLoop } from "timers/promises";
import { Worker } from "worker_threads";
import { CLAIMED_BY_CALLER, hashFiles, SCRATCH_BYTES, UNCLAIMED, WORKER_READY } from "./hash-files";

/** The event a worker emits here once it has said WORKER_READY. */
const READY = "pulumi-buildx-ready";

export { FILE_RECORD_BYTES, FLAG_EXECUTABLE, hashFiles } from "./hash-files";

/** Modules a worker loads: the entry first, then what it imports (all in this directory). */
const WORKER_MODULES = ["context-hash-thread", "hash-files"];

let transpiled: string | undefined;

/**
 * The worker's entry file: the compiled `context-hash-thread.js` beside this module (from
 * `dist/`). When this module is itself TypeScript run by ts-node (tests, benchmarks), the worker's
 * modules are compiled to JavaScript once per process into a private temporary directory (ts-node
 * inside each worker would add about 150 ms of start-up and compete for the cores).
 */
export function workerEntry(): string {
    if (path.extname(__filename) !== ".ts") return path.join(__dirname, `${WORKER_MODULES[0]}.js`);
    if (transpiled === undefined) {
        // Only reached under ts-node, which has loaded TypeScript already.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ts: typeof import("typescript") = require("typescript");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-buildx-hash-worker-"));
        for (const name of WORKER_MODULES) {
            const source = fs.readFileSync(path.join(__dirname, `${name}.ts`), "utf8");
            const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
            fs.writeFileSync(path.join(dir, `${name}.js`), ts.transpileModule(source, { compilerOptions: options }).outputText);
        }
        process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
        transpiled = path.join(dir, `${WORKER_MODULES[0]}.js`);
    }
    return transpiled;
}

/** Files hashed per batch (one message to a worker and back). */
export const BATCH_FILES = 64;

/**
 * A pool starts its workers only once the calling thread has spent this long hashing: a worker
 * takes about 40-60 ms to start, so smaller contexts are done before one could help.
 */
export const WORKER_SPAWN_AFTER_MS = 20;

/**
 * At most this many worker threads, whatever the core count: the walk on the calling thread is
 * serial, so more would mostly wait. (Only one worker, on 2 cores, has been measured.)
 */
export const MAX_WORKERS = 3;

/** Batches a worker may hold at once: enough that it never waits for the busy calling thread. */
const MAX_IN_FLIGHT_PER_WORKER = 4;

/**
 * The default number of worker threads: one fewer than the cores this process may use (the
 * calling thread walks the directory tree and hashes too), at most {@link MAX_WORKERS}.
 */
export function defaultWorkerCount(): number {
    return Math.max(0, Math.min(MAX_WORKERS, os.availableParallelism() - 1));
}

/** A batch of files and what to do with their records. */
export interface HashJob {
    /** Absolute paths of regular files. */
    readonly paths: string[];
    /** Receives one record per path, in order (see the module comment for the layout). */
    done(records: Buffer): void;
}

/** Why a file could not be hashed. */
export class FileHashError extends Error {
    constructor(
        /** The absolute path of the file. */
        readonly path: string,
        /** The system error code, e.g. `EACCES`, when there was one. */
        readonly code: string | undefined,
        reason: string,
    ) {
        super(`cannot hash ${JSON.stringify(path)}: ${reason}`);
        this.name = "FileHashError";
    }
}

/** A batch sent to a worker, with the flag that says who hashes it. */
interface SentJob {
    readonly job: HashJob;
    /** One Int32 in shared memory: {@link UNCLAIMED}, then claimed by the worker or the caller. */
    readonly claim: Int32Array;
}

interface WorkerSlot {
    readonly worker: Worker;
    /** Sent and not answered, oldest first. */
    readonly inFlight: Map<number, SentJob>;
    /** Started and ready: until then it gets no batches. */
    online: boolean;
    dead: boolean;
}

interface WorkerReply {
    id: number;
    records?: Uint8Array;
    error?: unknown;
}

function toFileHashError(err: unknown): Error {
    if (err instanceof FileHashError) {
        return err;
    }
    const e = err as { path?: unknown; code?: unknown; message?: unknown };
    if (e && typeof e.path === "string") {
        return new FileHashError(e.path, typeof e.code === "string" ? e.code : undefined, String(e.message));
    }
    return err instanceof Error ? err : new Error(String(err));
}

/**
 * Hashes batches of files with the calling thread and up to `maxWorkers` worker threads.
 *
 * - Work is pulled, not pushed: a worker holds at most a few batches, and a batch no worker can
 *   take at once is hashed by the calling thread in {@link submit}, so the caller's own work
 *   (walking the directory tree) and hashing share the cores.
 * - No waiting on a slow worker at the end: each batch sent to a worker carries a claim flag in
 *   shared memory, and {@link drain} takes back (and hashes itself) every batch a worker has
 *   not started yet; only batches already being hashed are waited for.
 * - Workers are started only once the calling thread has hashed for
 *   {@link WORKER_SPAWN_AFTER_MS}, so small contexts never pay for thread start-up, and get
 *   batches only once they are up.
 * - A worker that fails to start or dies hands its batches back; a file that cannot be read fails
 *   the pool with a {@link FileHashError}.
 *
 * Call {@link drain} to wait for every batch, then {@link close} (always, e.g. in `finally`).
 */
export class FileHashPool {
    private readonly queue: HashJob[] = [];
    private readonly slots: WorkerSlot[] = [];
    private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
    private hashedHereMs = 0;
    private spawned = false;
    private workerBatchCount = 0;
    private nextId = 0;
    private failure: Error | undefined;
    private wake: (() => void) | undefined;

    constructor(
        /** Worker threads to use at most; 0 hashes everything on the calling thread. */
        private readonly maxWorkers: number = defaultWorkerCount(),
        /** Time the calling thread hashes before workers are started. */
        private readonly spawnAfterMs: number = WORKER_SPAWN_AFTER_MS,
    ) {
        if (!Number.isInteger(maxWorkers) || maxWorkers < 0) {
            throw new RangeError(`worker count ${JSON.stringify(maxWorkers)} is not valid: expected an integer >= 0`);
        }
    }

    /** Number of worker threads started so far (for tests and the benchmark). */
    get workersStarted(): number {
        return this.slots.length;
    }

    /** Number of batches hashed by workers rather than the calling thread (for tests and the benchmark). */
    get workerBatches(): number {
        return this.workerBatchCount;
    }

    /**
     * Starts the workers now rather than after {@link WORKER_SPAWN_AFTER_MS}, and resolves
     * once they are ready for work (or have failed to start, in which case the calling thread
     * does their share).
     */
    async warmUp(): Promise<void> {
        this.spawn();
        await Promise.all(
            this.slots.map((slot) => (slot.online || slot.dead ? undefined : new Promise((resolve) => slot.worker.once(READY, resolve).once("exit", resolve)))),
        );
    }

    /**
     * Queues a batch: hands it to a worker with room, or else hashes it right here
     * (synchronously). Throws the first failure seen so far.
     */
    submit(job: HashJob): void {
        this.throwIfFailed();
        this.queue.push(job);
        if (this.hashedHereMs >= this.spawnAfterMs) {
            this.spawn();
        }
        this.pump();
        while (this.queue.length > 0) {
            this.runHere(this.queue.shift()!);
        }
    }

    /** Waits until every submitted batch is hashed; throws the first failure. */
    async drain(): Promise<void> {
        for (;;) {
            this.throwIfFailed();
            const job = this.queue.pop() ?? this.takeBack();
            if (job !== undefined) {
                this.runHere(job);
                this.pump();
                await yieldToEventLoop(); // let worker replies in
                continue;
            }
            if (this.inFlight() === 0) {
                return;
            }
            await new Promise<void>((resolve) => (this.wake = resolve));
        }
    }

    /** Stops the workers. Safe to call more than once. */
    async close(): Promise<void> {
        const slots = this.slots.splice(0);
        await Promise.all(
            slots.map((slot) => {
                slot.dead = true;
                return slot.worker.terminate();
            }),
        );
    }

    private inFlight(): number {
        return this.slots.reduce((n, slot) => n + (slot.dead ? 0 : slot.inFlight.size), 0);
    }

    /** Claims the newest batch that a worker holds but has not started, if any. */
    private takeBack(): HashJob | undefined {
        for (const slot of this.slots) {
            for (const [id, sent] of [...slot.inFlight].reverse()) {
                if (Atomics.compareExchange(sent.claim, 0, UNCLAIMED, CLAIMED_BY_CALLER) === UNCLAIMED) {
                    slot.inFlight.delete(id);
                    return sent.job;
                }
            }
        }
        return undefined;
    }

    private throwIfFailed(): void {
        if (this.failure !== undefined) {
            throw this.failure;
        }
    }

    private notify(): void {
        const wake = this.wake;
        this.wake = undefined;
        wake?.();
    }

    private runHere(job: HashJob): void {
        const start = process.hrtime.bigint();
        let records: Buffer;
        try {
            records = hashFiles(job.paths, this.scratch);
        } catch (err) {
            this.failure ??= toFileHashError(err);
            throw this.failure;
        }
        this.hashedHereMs += Number(process.hrtime.bigint() - start) / 1e6;
        job.done(records);
    }

    /** Starts the workers, once. Where threads cannot be started, the calling thread does it all. */
    private spawn(): void {
        if (this.spawned) {
            return;
        }
        this.spawned = true;
        for (let i = 0; i < this.maxWorkers; i++) {
            let worker: Worker;
            try {
                // execArgv: [] keeps the worker from inheriting e.g. `-r ts-node/register`.
                worker = new Worker(workerEntry(), { execArgv: [] });
            } catch {
                return;
            }
            const slot: WorkerSlot = { worker, inFlight: new Map(), online: false, dead: false };
            // Ready once its module has loaded and listens (its first message), not at "online".
            worker.once(READY, () => {
                slot.online = true;
                this.pump();
            });
            worker.on("message", (msg: WorkerReply | typeof WORKER_READY) => (msg === WORKER_READY ? worker.emit(READY) : this.onReply(slot, msg)));
            worker.on("error", () => this.retire(slot));
            worker.on("exit", () => this.retire(slot));
            this.slots.push(slot);
        }
    }

    private onReply(slot: WorkerSlot, msg: WorkerReply): void {
        const sent = slot.inFlight.get(msg.id);
        slot.inFlight.delete(msg.id);
        if (sent !== undefined) {
            if (msg.error !== undefined) {
                this.failure ??= toFileHashError(msg.error);
            } else if (msg.records !== undefined) {
                this.workerBatchCount++;
                try {
                    sent.job.done(Buffer.from(msg.records.buffer, msg.records.byteOffset, msg.records.byteLength));
                } catch (err) {
                    this.failure ??= err instanceof Error ? err : new Error(String(err));
                }
            }
        }
        this.pump();
        this.notify();
    }

    /** A worker failed or exited: the batches it had not finished go back to the queue. */
    private retire(slot: WorkerSlot): void {
        if (slot.dead) {
            return;
        }
        slot.dead = true;
        // A worker that died mid-batch never answers; whatever it claimed is redone here.
        this.queue.unshift(...[...slot.inFlight.values()].map((sent) => sent.job));
        slot.inFlight.clear();
        this.notify();
    }

    /** Hands queued batches to workers that are up and have room. */
    private pump(): void {
        for (const slot of this.slots) {
            while (slot.online && !slot.dead && slot.inFlight.size < MAX_IN_FLIGHT_PER_WORKER && this.queue.length > 0) {
                const job = this.queue.shift()!;
                const id = this.nextId++;
                const claim = new Int32Array(new SharedArrayBuffer(4));
                slot.inFlight.set(id, { job, claim });
                slot.worker.postMessage({ id, paths: job.paths, claim });
            }
        }
    }
}
