/**
 * The entry point of a context-hash worker thread (see `FileHashPool` in context-hash-worker.ts),
 * loaded from its compiled file. It answers `{ id, paths, claim }` with `{ id, records }` or
 * `{ id, error }`, or not at all if the caller claimed the batch first.
 */
import { parentPort } from "worker_threads";
import { CLAIMED_BY_WORKER, hashFiles, SCRATCH_BYTES, UNCLAIMED, WORKER_READY } from "./hash-files";

const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);

parentPort?.on("message", (job: { id: number; paths: string[]; claim: Int32Array }) => {
    if (Atomics.compareExchange(job.claim, 0, UNCLAIMED, CLAIMED_BY_WORKER) !== UNCLAIMED) return;
    try {
        const records = hashFiles(job.paths, scratch);
        parentPort?.postMessage({ id: job.id, records }, [records.buffer as ArrayBuffer]);
    } catch (err) {
        const e = err as { message?: unknown; path?: unknown; code?: unknown };
        parentPort?.postMessage({ id: job.id, error: { message: String(e?.message ?? err), path: e?.path, code: e?.code } });
    }
});

parentPort?.postMessage(WORKER_READY);
