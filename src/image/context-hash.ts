/**
 * The content hash of a Docker build context: what decides whether an image must be rebuilt.
 *
 * The hash covers exactly the files a BuildKit build can `COPY`/`ADD` from a local context
 * directory, after `.dockerignore`, and only the properties of them that do not change with a
 * fresh checkout:
 *
 * - relative paths (POSIX separators), sorted by their UTF-8 bytes;
 * - the entry type: directory (empty ones too), regular file, symlink, FIFO, socket, device;
 * - file contents (SHA-256 of each file) and sizes;
 * - symlink targets, as stored (symlinks are never followed);
 * - of the mode, only the owner-execute bit of regular files (as git records it).
 *
 * Not covered: mtimes, owners, and all other mode bits, which depend on the umask, the
 * checkout tool and the clock. (BuildKit's `COPY` does keep the other mode bits and mtimes, so a
 * `chmod g-r` alone will not trigger a rebuild; that is the price of a hash that settles.)
 *
 * Which ignore file applies, as BuildKit's Dockerfile frontend decides it
 * (moby/buildkit `frontend/dockerui/config.go`):
 * 1. `opts.ignoreFile` if given;
 * 2. else `<Dockerfile>.dockerignore` next to the Dockerfile (e.g. `app.Dockerfile.dockerignore`),
 *    if it exists, even if empty; it *replaces* the root `.dockerignore`, it is not merged;
 * 3. else `<context>/.dockerignore` if it exists;
 * 4. else nothing is ignored.
 *
 * The Dockerfile and the ignore file get no special treatment: like every other path they are
 * in the hash when they are in the context and not ignored, and out of it when ignored. That is
 * what `COPY` sees: BuildKit reads the Dockerfile and the ignore file through a separate channel
 * and applies the patterns to everything else, and even the classic builder, which sends an
 * ignored Dockerfile along, strips it before `COPY`. So the Dockerfile's own text is **not**
 * reliably in this hash; whoever fingerprints a build must hash it separately.
 *
 * Matching uses `@balena/dockerignore` (a port of Docker's matcher), case-sensitively as Docker
 * does, with two adjustments towards current BuildKit (moby/patternmatcher): the regexp
 * characters `+ ( ) | { }` are literal (balena copies the 2020 matcher, which let them through to
 * the regexp), and a `#` that does not start the line is a literal, not a comment.
 *
 * The walk skips work without changing the result (a property test checks this against
 * matching every path): an excluded directory is not read at all when no `!` exception could
 * re-include anything below it, as BuildKit also does; and below a directory where no pattern
 * could match anything differently from the directory itself, paths are not matched one by one.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { setImmediate as yieldToEventLoop } from "timers/promises";
import ignore from "@balena/dockerignore";
import { BATCH_FILES, FILE_RECORD_BYTES, FileHashPool, HashJob, defaultWorkerCount } from "./context-hash-worker";

/** Options of {@link hashContext} and {@link listContext}. */
export interface HashContextOptions {
    /**
     * Path of the Dockerfile; only used to find the Dockerfile-specific ignore file
     * `<dockerfile>.dockerignore` beside it. A relative path is resolved against the current
     * directory, as `docker buildx build --file` does. Default: `<contextDir>/Dockerfile`.
     * Equivalent to Docker's `--file` flag.
     */
    dockerfile?: string;
    /**
     * Path of an ignore file to use instead of both `<dockerfile>.dockerignore` and
     * `<contextDir>/.dockerignore` (relative to the current directory). It must exist.
     * Default: whichever of those two BuildKit would use.
     */
    ignoreFile?: string;
    /**
     * Worker threads to hash file contents with, besides the calling thread; `0` hashes on the
     * calling thread only. Workers start only for contexts of more than a few hundred files.
     * Does not change the result. Default: one fewer than the available cores, at most 3.
     */
    concurrency?: number;
}

/** The type of an entry in a build context. */
export type ContextEntryKind = "file" | "dir" | "symlink" | "fifo" | "socket" | "char-device" | "block-device";

/** One path in a build context, as {@link listContext} reports it. */
export interface ContextEntry {
    /** Path relative to the context directory, with `/` separators. */
    path: string;
    kind: ContextEntryKind;
}

/** One line of an ignore file, as Docker reads it. */
export interface IgnoreRule {
    /** The cleaned pattern: no leading `!` or `/`, no trailing `/`, `.`/`..` resolved. */
    pattern: string;
    /** The line started with `!`: paths it matches are re-included. */
    exception: boolean;
}

/** Which ignore rules apply to a context, and where they came from. */
export interface IgnoreSource {
    /** Absolute path of the ignore file, or `undefined` if there is none. */
    file: string | undefined;
    rules: IgnoreRule[];
}

/** Why a context cannot be hashed: a missing directory, an unreadable file, a bad pattern. */
export class ContextHashError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ContextHashError";
    }
}

/** The first bytes hashed; bump the version when the encoding below changes. */
const HASH_HEADER = Buffer.from("pulumi-buildx/context-hash/v1\0", "utf8");

/** The one-byte type tag that starts each entry's record in the hashed stream. */
const KIND_TAGS: Record<ContextEntryKind, number> = {
    dir: 0x44, // D
    file: 0x46, // F
    symlink: 0x4c, // L
    fifo: 0x50, // P
    socket: 0x53, // S
    "char-device": 0x43, // C
    "block-device": 0x42, // B
};

/**
 * Hashes the build context in `contextDir` (see the module comment for exactly what is covered)
 * and returns `"sha256:<64 hex digits>"`.
 *
 * The stream hashed is a header, then one record per entry in byte order of the paths:
 * a type tag byte, the path's length (uint32 BE) and UTF-8 bytes, then for a file a flag byte
 * (1 = owner-executable), its size (uint64 BE) and SHA-256; for a symlink the target's length
 * (uint32 BE) and bytes; nothing more for the other types. Every field is fixed-size or
 * length-prefixed, so distinct contexts give distinct streams.
 *
 * Throws a {@link ContextHashError} naming the path when `contextDir` is missing or not a
 * directory, when the ignore file is unreadable or has an invalid pattern, or when a file in the
 * context cannot be read.
 */
export async function hashContext(contextDir: string, opts: HashContextOptions = {}): Promise<string> {
    const pool = new FileHashPool(workerCount(opts.concurrency));
    try {
        return await hashContextWithPool(contextDir, opts, pool);
    } finally {
        await pool.close();
    }
}

/**
 * {@link hashContext} with a pool that the caller creates and closes: for tests and benchmarks
 * that start workers early or check who hashed what. `opts.concurrency` is ignored.
 */
export async function hashContextWithPool(contextDir: string, opts: HashContextOptions, pool: FileHashPool): Promise<string> {
    const root = checkContextDir(contextDir);
    const filter = new ContextFilter(resolveIgnoreRules(root, opts));
    const entries: HashedEntry[] = [];
    let batch: FileEntry[] = [];
    const flush = () => {
        const files = batch;
        batch = [];
        const job: HashJob = {
            paths: files.map((f) => f.absPath),
            done(records) {
                for (let i = 0; i < files.length; i++) {
                    files[i].record = records.subarray(i * FILE_RECORD_BYTES, (i + 1) * FILE_RECORD_BYTES);
                }
            },
        };
        pool.submit(job);
    };
    try {
        await walkContext(root, filter, {
            entry(relPath, kind, absPath) {
                const key = Buffer.from(relPath, "utf8");
                switch (kind) {
                    case "file": {
                        const file: FileEntry = { kind, key, absPath, record: undefined };
                        entries.push(file);
                        batch.push(file);
                        if (batch.length < BATCH_FILES) {
                            return false;
                        }
                        flush();
                        return true;
                    }
                    case "symlink":
                        entries.push({ kind, key, target: readLink(absPath) });
                        return false;
                    case "dir":
                    case "fifo":
                    case "socket":
                    case "char-device":
                    case "block-device":
                        entries.push({ kind, key });
                        return false;
                    default:
                        return assertNever(kind);
                }
            },
        });
        if (batch.length > 0) {
            flush();
        }
        await pool.drain();
    } catch (err) {
        throw err instanceof ContextHashError ? err : new ContextHashError(`build context ${JSON.stringify(root)}: ${(err as Error).message}`);
    }
    entries.sort((a, b) => Buffer.compare(a.key, b.key));
    return `sha256:${digestEntries(entries)}`;
}

/**
 * The entries {@link hashContext} covers, sorted by path bytes: what `COPY . /dst` would see.
 * For tests, debugging ("why did my image rebuild?") and the benchmark.
 */
export async function listContext(contextDir: string, opts: HashContextOptions = {}): Promise<ContextEntry[]> {
    const root = checkContextDir(contextDir);
    const filter = new ContextFilter(resolveIgnoreRules(root, opts));
    const entries: { key: Buffer; entry: ContextEntry }[] = [];
    await walkContext(root, filter, {
        entry(relPath, kind) {
            entries.push({ key: Buffer.from(relPath, "utf8"), entry: { path: relPath, kind } });
            return false;
        },
    });
    return entries.sort((a, b) => Buffer.compare(a.key, b.key)).map((e) => e.entry);
}

/**
 * Parses an ignore file the way BuildKit does (moby/patternmatcher `ignorefile.ReadAll`): a
 * leading UTF-8 BOM is dropped; lines starting with `#` are comments; lines are trimmed; blank
 * lines are skipped; a leading `!` marks an exception; patterns are cleaned like Go's
 * `filepath.Clean` and lose a leading `/`.
 *
 * Throws if a line is a bare `!`, which Docker rejects too.
 */
export function parseIgnoreFile(text: string): IgnoreRule[] {
    const rules: IgnoreRule[] = [];
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    lines.forEach((line, index) => {
        if (line.startsWith("#")) {
            return;
        }
        let pattern = line.trim();
        if (pattern === "") {
            return;
        }
        const exception = pattern.startsWith("!");
        if (exception) {
            pattern = pattern.slice(1).trim();
            if (pattern === "") {
                throw new Error(`line ${index + 1}: ${JSON.stringify(line)} is not a valid pattern: expected a pattern after "!"`);
            }
        }
        pattern = cleanPattern(pattern);
        rules.push({ pattern, exception });
    });
    return rules;
}

/**
 * Whether `rule` could match some path strictly below the directory `dirSegments` (its path
 * split at `/`) in a way that it does not already match the directory itself.
 *
 * A pattern also matches everything below a path it matches, so a pattern with no more segments
 * than the directory, and no `**`, treats everything below the directory as it treats the
 * directory. Deeper patterns can only match below it if their leading segments match the
 * directory's. Segments with wildcards are assumed to match (conservative: the answer may be a
 * needless `true`, never a wrong `false`).
 */
export function mayMatchBelow(rule: IgnoreRule, dirSegments: readonly string[]): boolean {
    const segments = rule.pattern.split("/");
    for (let i = 0; i < segments.length; i++) {
        const segment = segments[i];
        if (segment.includes("**") || i === dirSegments.length) {
            return true;
        }
        if (!hasWildcard(segment) && segment !== dirSegments[i]) {
            return false;
        }
    }
    return false;
}

/** Like Go's `filepath.Clean` + `ToSlash` on a POSIX system, then without a leading `/`. */
function cleanPattern(pattern: string): string {
    let cleaned = path.posix.normalize(pattern);
    if (cleaned.length > 1 && cleaned.endsWith("/")) {
        cleaned = cleaned.slice(0, -1);
    }
    if (cleaned.length > 1 && cleaned.startsWith("/")) {
        cleaned = cleaned.slice(1);
    }
    return cleaned;
}

function hasWildcard(segment: string): boolean {
    return /[*?[\]\\^]/.test(segment);
}

/**
 * Rewrites a cleaned pattern for `@balena/dockerignore` so that it means what it means to current
 * BuildKit: escapes `+ ( ) | { }` (literal in BuildKit, regexp syntax in balena) and a leading
 * `#` (a literal there, a comment to balena).
 */
function toBalenaPattern(rule: IgnoreRule): string {
    let out = "";
    const p = rule.pattern;
    for (let i = 0; i < p.length; i++) {
        const ch = p[i];
        if (ch === "\\" && i + 1 < p.length) {
            out += ch + p[i + 1];
            i++;
        } else if ("+()|{}".includes(ch) || (ch === "#" && i === 0)) {
            out += "\\" + ch;
        } else {
            out += ch;
        }
    }
    return (rule.exception ? "!" : "") + out;
}

/** Resolves `contextDir` and checks it is a directory. */
function checkContextDir(contextDir: string): string {
    if (typeof contextDir !== "string" || contextDir === "") {
        throw new ContextHashError(`build context ${JSON.stringify(contextDir)} is not valid: expected the path of a directory`);
    }
    const root = path.resolve(contextDir);
    let stat: fs.Stats;
    try {
        stat = fs.statSync(root);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === "ENOENT" ? "does not exist" : `cannot be read (${(err as Error).message})`;
        throw new ContextHashError(`build context ${JSON.stringify(root)} ${why}: expected an existing directory`);
    }
    if (!stat.isDirectory()) {
        throw new ContextHashError(`build context ${JSON.stringify(root)} is not a directory: expected a directory, not a ${describeType(stat)}`);
    }
    return root;
}

function describeType(stat: fs.Stats): string {
    if (stat.isFile()) return "regular file";
    if (stat.isFIFO()) return "FIFO";
    if (stat.isSocket()) return "socket";
    if (stat.isCharacterDevice() || stat.isBlockDevice()) return "device";
    return "non-directory";
}

/** Finds the ignore file BuildKit would use (see the module comment) and parses it. */
export function resolveIgnoreRules(root: string, opts: Pick<HashContextOptions, "dockerfile" | "ignoreFile"> = {}): IgnoreSource {
    let file: string | undefined;
    if (opts.ignoreFile !== undefined) {
        file = path.resolve(opts.ignoreFile);
        if (!isFile(file)) {
            throw new ContextHashError(`ignore file ${JSON.stringify(file)} does not exist or is not a file: expected a .dockerignore-format file`);
        }
    } else {
        const dockerfile = opts.dockerfile === undefined ? path.join(root, "Dockerfile") : path.resolve(opts.dockerfile);
        file = [`${dockerfile}.dockerignore`, path.join(root, ".dockerignore")].find(isFile);
    }
    if (file === undefined) {
        return { file, rules: [] };
    }
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new ContextHashError(`ignore file ${JSON.stringify(file)} cannot be read: ${(err as Error).message}`);
    }
    try {
        return { file, rules: parseIgnoreFile(text) };
    } catch (err) {
        throw new ContextHashError(`ignore file ${JSON.stringify(file)}, ${(err as Error).message}`);
    }
}

function isFile(file: string): boolean {
    try {
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

/** What the walk knows about a directory: whether it is excluded, and which rules still matter below it. */
interface DirState {
    excluded: boolean;
    /** Rules that may match something below this directory differently from the directory itself. */
    activeRules: readonly IgnoreRule[];
}

/** Docker's exclusion decision for paths in one context, plus what the walk may skip. */
class ContextFilter {
    private readonly matcher: ReturnType<typeof ignore>;

    constructor(readonly source: IgnoreSource) {
        this.matcher = compileRules(source);
    }

    get root(): DirState {
        return { excluded: false, activeRules: this.source.rules };
    }

    /** Whether `relPath`, a child of a directory in `parent` state, is excluded. */
    excluded(relPath: string, parent: DirState): boolean {
        // With no rule active below the parent, every rule treats the child as it treats the parent.
        return parent.activeRules.length === 0 ? parent.excluded : this.matcher.ignores(relPath);
    }

    /** The state of directory `relPath` (a child of `parent`) given whether it is excluded. */
    dirState(relPath: string, parent: DirState, excluded: boolean): DirState {
        if (parent.activeRules.length === 0) {
            return { excluded, activeRules: parent.activeRules };
        }
        const segments = relPath.split("/");
        return { excluded, activeRules: parent.activeRules.filter((rule) => mayMatchBelow(rule, segments)) };
    }

    /** Whether a directory in this state may be skipped entirely: excluded, and no exception can re-include anything in it. */
    prunable(state: DirState): boolean {
        return state.excluded && !state.activeRules.some((rule) => rule.exception);
    }
}

function compileRules(source: IgnoreSource): ReturnType<typeof ignore> {
    const where = `ignore file ${JSON.stringify(source.file)}`;
    const patterns = source.rules.map(toBalenaPattern);
    const matcher = ignore({ ignorecase: false }).add(patterns);
    try {
        matcher.ignores("probe"); // compiles every rule
    } catch {
        for (const [i, pattern] of patterns.entries()) {
            try {
                ignore({ ignorecase: false }).add(pattern).ignores("probe");
            } catch (err) {
                throw new ContextHashError(`${where}: pattern ${JSON.stringify(source.rules[i].pattern)} is not valid (${(err as Error).message})`);
            }
        }
        throw new ContextHashError(`${where}: the patterns cannot be compiled`);
    }
    return matcher;
}

/** Receives each entry of the context; returns `true` when it is a good moment to yield. */
interface WalkSink {
    entry(relPath: string, kind: ContextEntryKind, absPath: string): boolean;
}

/**
 * Walks the context depth-first, reporting every included entry once, in no particular order.
 * An excluded directory is reported if something below it is re-included (BuildKit sends it as
 * the parent of what it contains), and not entered at all if nothing can be.
 */
async function walkContext(root: string, filter: ContextFilter, sink: WalkSink): Promise<void> {
    const visit = async (relDir: string, absDir: string, state: DirState): Promise<boolean> => {
        let dirents: fs.Dirent[];
        try {
            dirents = fs.readdirSync(absDir, { withFileTypes: true });
        } catch (err) {
            // BuildKit skips unreadable directories it would not send anyway.
            if (state.excluded && (err as NodeJS.ErrnoException).code === "EACCES") {
                return false;
            }
            throw new ContextHashError(`cannot read directory ${JSON.stringify(absDir)} in build context ${JSON.stringify(root)}: ${(err as Error).message}`);
        }
        let anyIncluded = false;
        for (const dirent of dirents) {
            const relPath = relDir === "" ? dirent.name : `${relDir}/${dirent.name}`;
            const absPath = `${absDir}${path.sep}${dirent.name}`;
            const excluded = filter.excluded(relPath, state);
            if (dirent.isDirectory()) {
                const child = filter.dirState(relPath, state, excluded);
                if (filter.prunable(child)) {
                    continue;
                }
                if (!excluded) {
                    sink.entry(relPath, "dir", absPath);
                }
                const below = await visit(relPath, absPath, child);
                if (excluded && below) {
                    sink.entry(relPath, "dir", absPath);
                }
                anyIncluded ||= !excluded || below;
            } else if (!excluded) {
                anyIncluded = true;
                if (sink.entry(relPath, kindOf(dirent), absPath)) {
                    await yieldToEventLoop();
                }
            }
        }
        return anyIncluded;
    };
    await visit("", root, filter.root);
}

function kindOf(dirent: fs.Dirent): ContextEntryKind {
    if (dirent.isFile()) return "file";
    if (dirent.isSymbolicLink()) return "symlink";
    if (dirent.isDirectory()) return "dir";
    if (dirent.isFIFO()) return "fifo";
    if (dirent.isSocket()) return "socket";
    if (dirent.isCharacterDevice()) return "char-device";
    return "block-device";
}

function readLink(absPath: string): Buffer {
    try {
        return fs.readlinkSync(absPath, { encoding: "buffer" });
    } catch (err) {
        throw new ContextHashError(`cannot read symlink ${JSON.stringify(absPath)}: ${(err as Error).message}`);
    }
}

interface FileEntry {
    kind: "file";
    key: Buffer;
    absPath: string;
    /** Filled in once hashed: flags, size, SHA-256 (see context-hash-worker.ts). */
    record: Buffer | undefined;
}
type HashedEntry = FileEntry | { kind: "symlink"; key: Buffer; target: Buffer } | { kind: Exclude<ContextEntryKind, "file" | "symlink">; key: Buffer };

/** Hashes the encoded entries, already sorted, to a hex SHA-256 (encoding: see {@link hashContext}). */
function digestEntries(entries: readonly HashedEntry[]): string {
    const hash = crypto.createHash("sha256").update(HASH_HEADER);
    for (const entry of entries) {
        const extra = entry.kind === "file" ? FILE_RECORD_BYTES : entry.kind === "symlink" ? 4 + entry.target.length : 0;
        const out = Buffer.allocUnsafe(5 + entry.key.length + extra);
        out[0] = KIND_TAGS[entry.kind];
        out.writeUInt32BE(entry.key.length, 1);
        entry.key.copy(out, 5);
        const at = 5 + entry.key.length;
        if (entry.kind === "file") {
            if (entry.record === undefined) {
                throw new Error(`internal error: ${JSON.stringify(entry.absPath)} was never hashed`);
            }
            entry.record.copy(out, at);
        } else if (entry.kind === "symlink") {
            out.writeUInt32BE(entry.target.length, at);
            entry.target.copy(out, at + 4);
        }
        hash.update(out);
    }
    return hash.digest("hex");
}

function workerCount(concurrency: number | undefined): number {
    if (concurrency === undefined) {
        return defaultWorkerCount();
    }
    if (!Number.isInteger(concurrency) || concurrency < 0) {
        throw new ContextHashError(`concurrency ${JSON.stringify(concurrency)} is not valid: expected an integer >= 0`);
    }
    return concurrency;
}

function assertNever(value: never): never {
    throw new Error(`unexpected context entry kind ${JSON.stringify(value)}`);
}
