/**
 * Content hashing of the regular files of a build context, for `context-hash.ts`: on the calling
 * thread, or spread over a few worker threads when the context is large enough to pay for them.
 *
 * Files are hashed in batches. A batch's result is one fixed-size record per file:
 *
 * | bytes | field                                                              |
 * | ----- | ------------------------------------------------------------------ |
 * | 1     | flags: {@link FLAG_EXECUTABLE} if the owner-execute bit was set    |
 * | 8     | size in bytes, unsigned big-endian                                 |
 * | 32    | SHA-256 of the contents                                            |
 *
 * The same function, {@link hashFiles}, runs on both sides: workers are started from its source
 * text (`eval` workers), so there is no separate worker file to locate or compile, and this works
 * the same under ts-node and from `dist/`.
 */
import * as os from "os";
import { setImmediate as yieldToEventLoop } from "timers/promises";
import { Worker } from "worker_threads";

/** Bytes per file in a batch result: flags (1), size (8), SHA-256 (32). */
export const FILE_RECORD_BYTES = 41;

/** Flag bit in a record: the file's owner-execute bit (`0o100`) is set. */
export const FLAG_EXECUTABLE = 1;

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

/** Read buffer size per thread. */
const SCRATCH_BYTES = 1 << 20;

/**
 * The default number of worker threads: one fewer than the cores this process may use (the
 * calling thread walks the directory tree and hashes too), at most {@link MAX_WORKERS}.
 */
export function defaultWorkerCount(): number {
    return Math.max(0, Math.min(MAX_WORKERS, os.availableParallelism() - 1));
}

/**
 * Hashes the regular files at the absolute `paths` and returns one {@link FILE_RECORD_BYTES}-byte
 * record per path, in order. Symlinks are not followed (the walk hands over regular files only;
 * one replaced by a symlink since fails with ELOOP rather than being read through).
 *
 * Throws an `Error` with `path` (and `code` when the system gave one) set to the offending file.
 *
 * Must stay self-contained (no imports, no module-level names): its source text is what the
 * worker threads run. (So a coverage tool that rewrites source, like nyc, breaks the workers;
 * V8-based coverage such as c8 does not.)
 */
export function hashFiles(paths: readonly string[], scratch: Buffer): Buffer {
    // require, not import: this function's source text is what the worker threads run (see above).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs: typeof import("fs") = require("fs");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto: typeof import("crypto") = require("crypto");
    const RECORD_BYTES = 41;
    const OWNER_EXECUTE = 0o100;
    // O_NONBLOCK: a file swapped for a FIFO since the walk must not block the open.
    const flags = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
    const records = Buffer.allocUnsafeSlow(paths.length * RECORD_BYTES);
    for (let i = 0; i < paths.length; i++) {
        const path = paths[i];
        const at = i * RECORD_BYTES;
        let fd = -1;
        try {
            fd = fs.openSync(path, flags);
            const stat = fs.fstatSync(fd);
            if (!stat.isFile()) {
                throw new Error("was a regular file but no longer is (did the context change while it was hashed?)");
            }
            const hash = crypto.createHash("sha256");
            // Read exactly the size fstat reported: saves the read that would only confirm EOF.
            let size = 0;
            let n = 0;
            while (size < stat.size && (n = fs.readSync(fd, scratch, 0, Math.min(scratch.length, stat.size - size), null)) > 0) {
                hash.update(scratch.subarray(0, n));
                size += n;
            }
            records[at] = stat.mode & OWNER_EXECUTE ? 1 : 0;
            records.writeUInt32BE(Math.floor(size / 0x1_0000_0000), at + 1);
            records.writeUInt32BE(size >>> 0, at + 5);
            hash.digest().copy(records, at + 9);
        } catch (err) {
            const e = err instanceof Error ? err : new Error(String(err));
            throw Object.assign(new Error(e.message), { path, code: (e as NodeJS.ErrnoException).code });
        } finally {
            if (fd >= 0) {
                fs.closeSync(fd);
            }
        }
    }
    return records;
}

/** A claim flag's states: a batch is hashed by whoever moves it from UNCLAIMED first. */
const UNCLAIMED = 0;
const CLAIMED_BY_WORKER = 1;
const CLAIMED_BY_CALLER = 2;

/**
 * Source text of a worker. It answers `{ id, paths, claim }` with `{ id, records }` or
 * `{ id, error }`, or not at all if the caller claimed the batch first (see {@link FileHashPool}).
 */
function workerSource(): string {
    return [
        `"use strict";`,
        `const { parentPort } = require("worker_threads");`,
        `const hashFiles = ${hashFiles.toString()};`,
        `const scratch = Buffer.allocUnsafeSlow(${SCRATCH_BYTES});`,
        `parentPort.on("message", (job) => {`,
        `    if (Atomics.compareExchange(job.claim, 0, ${UNCLAIMED}, ${CLAIMED_BY_WORKER}) !== ${UNCLAIMED}) {`,
        `        return;`,
        `    }`,
        `    let reply;`,
        `    try {`,
        `        const records = hashFiles(job.paths, scratch);`,
        `        parentPort.postMessage({ id: job.id, records }, [records.buffer]);`,
        `        return;`,
        `    } catch (e) {`,
        `        reply = { id: job.id, error: { message: String((e && e.message) || e), path: e && e.path, code: e && e.code } };`,
        `    }`,
        `    parentPort.postMessage(reply);`,
        `});`,
    ].join("\n");
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
            this.slots.map((slot) =>
                slot.online || slot.dead ? undefined : new Promise((resolve) => slot.worker.once("online", resolve).once("exit", resolve)),
            ),
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
                // execArgv: [] keeps the worker from inheriting e.g. `-r ts-node/register`, which
                // would make each start-up compile TypeScript; the worker's source is plain JavaScript.
                worker = new Worker(workerSource(), { eval: true, execArgv: [] });
            } catch {
                return;
            }
            const slot: WorkerSlot = { worker, inFlight: new Map(), online: false, dead: false };
            worker.on("online", () => {
                slot.online = true;
                this.pump();
            });
            worker.on("message", (msg: WorkerReply) => this.onReply(slot, msg));
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
