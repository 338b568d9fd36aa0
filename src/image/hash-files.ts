/**
 * The file hashing shared by the calling thread and the worker threads of `context-hash-worker.ts`
 * (the workers load `context-hash-thread.ts`, compiled, which imports this module). A batch's
 * result is one fixed-size record per file:
 *
 * | bytes | field                                                              |
 * | ----- | ------------------------------------------------------------------ |
 * | 1     | flags: {@link FLAG_EXECUTABLE} if the owner-execute bit was set    |
 * | 8     | size in bytes, unsigned big-endian                                 |
 * | 32    | SHA-256 of the contents                                            |
 */
import * as crypto from "crypto";
import * as fs from "fs";

/** Bytes per file in a batch result: flags (1), size (8), SHA-256 (32). */
export const FILE_RECORD_BYTES = 41;

/** Flag bit in a record: the file's owner-execute bit (`0o100`) is set. */
export const FLAG_EXECUTABLE = 1;

/** Read buffer size per thread. */
export const SCRATCH_BYTES = 1 << 20;

/**
 * Hashes the regular files at the absolute `paths` and returns one {@link FILE_FILE_RECORD_BYTES}-byte
 * record per path, in order. Symlinks are not followed (the walk hands over regular files only;
 * one replaced by a symlink since fails with ELOOP rather than being read through).
 *
 * Throws an `Error` with `path` (and `code` when the system gave one) set to the offending file.
 */
export function hashFiles(paths: readonly string[], scratch: Buffer): Buffer {
    const OWNER_EXECUTE = 0o100;
    // O_NONBLOCK: a file swapped for a FIFO since the walk must not block the open.
    const flags = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
    const records = Buffer.allocUnsafeSlow(paths.length * FILE_RECORD_BYTES);
    for (let i = 0; i < paths.length; i++) {
        const path = paths[i];
        const at = i * FILE_RECORD_BYTES;
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
            records[at] = stat.mode & OWNER_EXECUTE ? FLAG_EXECUTABLE : 0;
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
export const UNCLAIMED = 0;
export const CLAIMED_BY_WORKER = 1;
export const CLAIMED_BY_CALLER = 2;

/** The first message of a worker thread: its module has loaded and it takes batches. */
export const WORKER_READY = "ready";
