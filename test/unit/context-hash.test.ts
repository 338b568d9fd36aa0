import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import ignore from "@balena/dockerignore";
import fc from "fast-check";
import * as ts from "typescript";
import {
    ContextEntry,
    ContextHashError,
    IgnoreRule,
    hashContext,
    hashContextWithPool,
    listContext,
    mayMatchBelow,
    parseIgnoreFile,
} from "../../src/image/context-hash";
import { FILE_RECORD_BYTES, FileHashError, FileHashPool, hashFiles, workerEntry } from "../../src/image/context-hash-worker";

/** A tree to create: path → file contents, or a symlink, an executable file, or an empty directory. */
type Spec = Record<string, string | { exec: string } | { symlink: string } | { dir: true }>;

const tempDirs: string[] = [];

function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "context-hash-"));
    tempDirs.push(dir);
    return dir;
}

/** Creates `spec` under a new temp dir with the given umask, as a fresh checkout would. */
function makeTree(spec: Spec, umask = 0o022): string {
    const root = tempDir();
    const old = process.umask(umask);
    try {
        for (const [rel, what] of Object.entries(spec)) {
            const abs = path.join(root, rel);
            fs.mkdirSync(path.dirname(abs), { recursive: true });
            if (typeof what === "string") {
                fs.writeFileSync(abs, what);
            } else if ("exec" in what) {
                fs.writeFileSync(abs, what.exec, { mode: 0o777 });
            } else if ("symlink" in what) {
                fs.symlinkSync(what.symlink, abs);
            } else {
                fs.mkdirSync(abs, { recursive: true });
            }
        }
    } finally {
        process.umask(old);
    }
    return root;
}

/** Every path under `root` (not following symlinks). */
function allPaths(root: string): string[] {
    const out: string[] = [];
    const visit = (rel: string) => {
        for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
            const r = rel === "" ? d.name : `${rel}/${d.name}`;
            out.push(r);
            if (d.isDirectory()) visit(r);
        }
    };
    visit("");
    return out;
}

function setMtimes(root: string, when: Date): void {
    for (const rel of allPaths(root)) {
        fs.lutimesSync(path.join(root, rel), when, when);
    }
}

function modeOf(file: string): number {
    return fs.lstatSync(file).mode & 0o7777;
}

const BASE: Spec = {
    Dockerfile: "FROM scratch\nCOPY . /app\n",
    ".dockerignore": "# build junk\nnode_modules\n**/*.log\n/tmp\n!tmp/keep.txt\n",
    "src/main.ts": "console.log('hi');\n",
    "src/util/strings.ts": "export const a = 1;\n",
    "bin/run.sh": { exec: "#!/bin/sh\necho run\n" },
    "assets/logo.svg": "<svg/>",
    "assets/empty": { dir: true },
    "link-to-main": { symlink: "src/main.ts" },
    "node_modules/left-pad/index.js": "module.exports = 1;\n",
    "src/debug.log": "noise\n",
    "tmp/scratch.txt": "scratch\n",
    "tmp/keep.txt": "keep\n",
};

describe("context hash", function () {
    this.timeout(60_000);

    after(() => {
        for (const dir of tempDirs.splice(0)) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("returns sha256:<64 hex digits>", async () => {
        assert.match(await hashContext(makeTree(BASE)), /^sha256:[0-9a-f]{64}$/);
    });

    describe("is unchanged by what a fresh checkout or an ignored file changes", () => {
        // Each case mutates a copy of BASE; `check` asserts the mutation really touched the disk.
        const cases: { name: string; mutate: (root: string) => void; check: (root: string, base: string) => void }[] = [
            {
                name: "a checkout with umask 077 (no group/other bits anywhere)",
                mutate: () => undefined,
                check: (root, base) => assert.notStrictEqual(modeOf(path.join(root, "bin/run.sh")), modeOf(path.join(base, "bin/run.sh"))),
            },
            {
                name: "touched mtimes (files, dirs, symlinks)",
                mutate: (root) => setMtimes(root, new Date("2001-02-03T04:05:06Z")),
                check: (root, base) =>
                    assert.notStrictEqual(fs.statSync(path.join(root, "src/main.ts")).mtimeMs, fs.statSync(path.join(base, "src/main.ts")).mtimeMs),
            },
            {
                name: "group/other mode bits (chmod 0604 / 0750 / dir 0700)",
                mutate: (root) => {
                    fs.chmodSync(path.join(root, "src/main.ts"), 0o604);
                    fs.chmodSync(path.join(root, "bin/run.sh"), 0o750);
                    fs.chmodSync(path.join(root, "assets/empty"), 0o700);
                },
                check: (root) => assert.strictEqual(modeOf(path.join(root, "src/main.ts")), 0o604),
            },
            {
                name: "an ignored file's content (node_modules)",
                mutate: (root) => fs.writeFileSync(path.join(root, "node_modules/left-pad/index.js"), "changed"),
                check: (root) => assert.strictEqual(fs.readFileSync(path.join(root, "node_modules/left-pad/index.js"), "utf8"), "changed"),
            },
            {
                name: "an ignored file matched by **/*.log",
                mutate: (root) => fs.writeFileSync(path.join(root, "src/debug.log"), "more noise"),
                check: (root) => assert.strictEqual(fs.readFileSync(path.join(root, "src/debug.log"), "utf8"), "more noise"),
            },
            {
                name: "new ignored files and dirs appearing",
                mutate: (root) => {
                    fs.mkdirSync(path.join(root, "node_modules/new-dep/lib"), { recursive: true });
                    fs.writeFileSync(path.join(root, "node_modules/new-dep/lib/x.js"), "x");
                    fs.writeFileSync(path.join(root, "src/util/trace.log"), "t");
                    fs.writeFileSync(path.join(root, "tmp/other.txt"), "o");
                    fs.mkdirSync(path.join(root, "tmp/cache"));
                },
                check: (root) => assert.ok(fs.existsSync(path.join(root, "tmp/cache"))),
            },
        ];
        for (const c of cases) {
            it(c.name, async () => {
                const base = makeTree(BASE, 0o022);
                const copy = makeTree(BASE, c.name.includes("umask 077") ? 0o077 : 0o022);
                c.mutate(copy);
                c.check(copy, base);
                assert.strictEqual(await hashContext(copy), await hashContext(base));
            });
        }
    });

    describe("changes when the context changes", () => {
        const cases: { name: string; mutate: (root: string) => void }[] = [
            { name: "file content (same length)", mutate: (r) => fs.writeFileSync(path.join(r, "src/main.ts"), "console.log('ho');\n") },
            { name: "file renamed", mutate: (r) => fs.renameSync(path.join(r, "src/main.ts"), path.join(r, "src/main2.ts")) },
            { name: "file moved to another dir", mutate: (r) => fs.renameSync(path.join(r, "src/main.ts"), path.join(r, "src/util/main.ts")) },
            { name: "new file", mutate: (r) => fs.writeFileSync(path.join(r, "src/new.ts"), "") },
            { name: "exec bit set", mutate: (r) => fs.chmodSync(path.join(r, "src/main.ts"), 0o744) },
            { name: "exec bit cleared", mutate: (r) => fs.chmodSync(path.join(r, "bin/run.sh"), 0o644) },
            {
                name: "symlink target",
                mutate: (r) => {
                    fs.unlinkSync(path.join(r, "link-to-main"));
                    fs.symlinkSync("src/util/strings.ts", path.join(r, "link-to-main"));
                },
            },
            {
                name: "symlink replaced by a copy of its target",
                mutate: (r) => {
                    fs.unlinkSync(path.join(r, "link-to-main"));
                    fs.copyFileSync(path.join(r, "src/main.ts"), path.join(r, "link-to-main"));
                },
            },
            { name: "new empty dir", mutate: (r) => fs.mkdirSync(path.join(r, "assets/empty2")) },
            { name: "empty dir removed", mutate: (r) => fs.rmdirSync(path.join(r, "assets/empty")) },
            {
                name: "empty dir replaced by an empty file",
                mutate: (r) => {
                    fs.rmdirSync(path.join(r, "assets/empty"));
                    fs.writeFileSync(path.join(r, "assets/empty"), "");
                },
            },
            { name: "the re-included tmp/keep.txt", mutate: (r) => fs.writeFileSync(path.join(r, "tmp/keep.txt"), "kept") },
            { name: "the Dockerfile (in the context, not ignored)", mutate: (r) => fs.appendFileSync(path.join(r, "Dockerfile"), "RUN true\n") },
            { name: ".dockerignore un-ignoring a file", mutate: (r) => fs.appendFileSync(path.join(r, ".dockerignore"), "!src/debug.log\n") },
        ];
        it("for every change, and no two changes collide", async () => {
            const base = await hashContext(makeTree(BASE));
            const seen = new Map<string, string>([[base, "unchanged"]]);
            for (const c of cases) {
                const root = makeTree(BASE);
                c.mutate(root);
                const h = await hashContext(root);
                assert.notStrictEqual(h, base, `${c.name} did not change the hash`);
                assert.ok(!seen.has(h), `${c.name} hashes like ${seen.get(h)}`);
                seen.set(h, c.name);
            }
            assert.strictEqual(seen.size, cases.length + 1);
        });
    });

    describe("encodes unambiguously", () => {
        const pairs: [string, Spec, Spec][] = [
            ["name/content boundary", { a: "bc" }, { ab: "c" }],
            ["two names", { a: "", bc: "" }, { ab: "", c: "" }],
            ["dir/name boundary", { "a/bc": "" }, { "ab/c": "" }],
            ["file vs empty dir", { a: "" }, { a: { dir: true } }],
            ["symlink vs file holding its target", { a: { symlink: "b" } }, { a: "b" }],
            ["symlink target vs name", { a: { symlink: "bc" } }, { "a/bc": "" }],
            // Without length prefixes both would be the bytes "DaDb".
            ["two dirs vs one name containing a type tag", { a: { dir: true }, b: { dir: true } }, { aDb: { dir: true } }],
        ];
        for (const [name, left, right] of pairs) {
            it(name, async () => {
                assert.notStrictEqual(await hashContext(makeTree(left)), await hashContext(makeTree(right)));
            });
        }
    });

    it("matches an independent implementation of the documented encoding", async () => {
        const root = makeTree({ "b.txt": "bee", "a/x": { exec: "#!x" }, "a-z": { symlink: "a/x" }, e: { dir: true }, é: "accent", "😀": "", "！": "" });
        const u32 = (n: number) => {
            const b = Buffer.alloc(4);
            b.writeUInt32BE(n);
            return b;
        };
        const rec = (tag: string, p: string, ...rest: Buffer[]) => Buffer.concat([Buffer.from(tag), u32(Buffer.byteLength(p)), Buffer.from(p), ...rest]);
        const file = (p: string, content: string, exec: boolean) => {
            const size = Buffer.alloc(8);
            size.writeBigUInt64BE(BigInt(Buffer.byteLength(content)));
            return rec("F", p, Buffer.from([exec ? 1 : 0]), size, crypto.createHash("sha256").update(content).digest());
        };
        // Byte order: "a" < "a-z" < "a/x" ('-' 0x2d < '/' 0x2f) < "b.txt" < "e" < "é" (c3 a9) < "！" (ef bc 81) < "😀" (f0 9f 98 80),
        // whereas UTF-16 order would put "😀" (d83d de00) before "！" (ff01).
        const stream = Buffer.concat([
            Buffer.from("pulumi-buildx/context-hash/v1\0"),
            rec("D", "a"),
            rec("L", "a-z", u32(3), Buffer.from("a/x")),
            file("a/x", "#!x", true),
            file("b.txt", "bee", false),
            rec("D", "e"),
            file("é", "accent", false),
            file("！", "", false),
            file("😀", "", false),
        ]);
        assert.strictEqual(await hashContext(root), `sha256:${crypto.createHash("sha256").update(stream).digest("hex")}`);
    });

    it("gives the same hash whether files are hashed by workers or the calling thread", async () => {
        const spec: Spec = { "d1/run": { exec: "#!/bin/sh\n" } };
        for (let i = 0; i < 1500; i++) {
            spec[`d${i % 7}/f${i}.txt`] = i % 100 === 0 ? "x".repeat(300_000) : `file ${i}\n`;
        }
        const root = makeTree(spec);
        const inline = await hashContext(root, { concurrency: 0 });
        for (const workers of [1, 2]) {
            const pool = new FileHashPool(workers);
            try {
                await pool.warmUp(); // so that workers take batches from the first one on
                assert.strictEqual(await hashContextWithPool(root, {}, pool), inline, `${workers} workers`);
                assert.strictEqual(pool.workersStarted, workers);
                assert.ok(pool.workerBatches > 0, `the ${workers} workers hashed nothing`);
            } finally {
                await pool.close();
            }
        }
        assert.strictEqual(await hashContext(root), inline, "default concurrency");
        fs.writeFileSync(path.join(root, "d3/f3.txt"), "changed");
        const pool = new FileHashPool(1);
        try {
            await pool.warmUp();
            assert.notStrictEqual(await hashContextWithPool(root, {}, pool), inline);
        } finally {
            await pool.close();
        }
    });

    describe(".dockerignore semantics (listContext)", () => {
        const paths = async (spec: Spec, opts = {}) => (await listContext(makeTree(spec), opts)).map((e) => e.path);
        const table: { name: string; ignore: string; files: string[]; expected: string[] }[] = [
            {
                name: "! exception re-includes a file in an ignored dir (and its parent dirs)",
                ignore: "logs\n!logs/keep/me.txt\n",
                files: ["logs/a.txt", "logs/keep/me.txt", "logs/keep/not.txt", "logs/other/x.txt", "src/a.txt"],
                expected: ["logs", "logs/keep", "logs/keep/me.txt", "src", "src/a.txt"],
            },
            {
                name: "! exception with a wildcard re-includes at any depth",
                ignore: "docs\n!**/*.md\n",
                files: ["docs/a.md", "docs/deep/b.md", "docs/c.txt", "x.md"],
                expected: ["docs", "docs/a.md", "docs/deep", "docs/deep/b.md", "x.md"],
            },
            {
                name: "the last matching line wins",
                ignore: "*.txt\n!keep*.txt\nkeep-not.txt\n",
                files: ["a.txt", "keep1.txt", "keep-not.txt", "b.md"],
                expected: ["b.md", "keep1.txt"],
            },
            {
                name: "** matches any number of directories",
                ignore: "**/*.log\nsrc/**/gen\n",
                files: ["a.log", "x/b.log", "x/y/c.log", "src/gen/g.ts", "src/a/b/gen/g.ts", "src/a/keep.ts", "gen/ok.ts"],
                expected: ["gen", "gen/ok.ts", "src", "src/a", "src/a/b", "src/a/keep.ts", "x", "x/y"],
            },
            {
                name: "plain names only match at the root; a leading / changes nothing",
                ignore: "build\n/dist\n",
                files: ["build/a", "dist/b", "src/build/c", "src/dist/d"],
                expected: ["src", "src/build", "src/build/c", "src/dist", "src/dist/d"],
            },
            {
                name: "* and ? stop at /",
                ignore: "*/tmp\nfile?.txt\n",
                files: ["a/tmp/x", "a/b/tmp/x", "file1.txt", "file10.txt", "d/file2.txt"],
                expected: ["a", "a/b", "a/b/tmp", "a/b/tmp/x", "d", "d/file2.txt", "file10.txt"],
            },
            {
                name: "comments, blank lines, trailing spaces and trailing slashes",
                ignore: "# a comment\n\n   \nsecret.txt   \ncache/\n",
                files: ["secret.txt", "cache/c", "# a comment", "keep"],
                expected: ["# a comment", "keep"],
            },
            {
                name: "# only starts a comment in the first column",
                ignore: " #hash\n",
                files: ["#hash", "other"],
                expected: ["other"],
            },
            {
                name: "matching is case-sensitive",
                ignore: "README.md\n",
                files: ["README.md", "readme.md"],
                expected: ["readme.md"],
            },
            {
                name: "regexp characters are literal (BuildKit, unlike the 2020 matcher)",
                ignore: "c++\n(a|b)\n{x}\n",
                files: ["c++", "cc", "(a|b)", "a", "{x}", "x"],
                expected: ["a", "cc", "x"],
            },
            {
                name: "the Dockerfile and .dockerignore drop out when they ignore themselves",
                ignore: "Dockerfile\n.dockerignore\n",
                files: ["Dockerfile", "app.txt"],
                expected: ["app.txt"],
            },
            {
                name: "an exception cannot re-include below a later exclusion",
                ignore: "!a/b\na\n",
                files: ["a/b/c", "a/d"],
                expected: [],
            },
        ];
        for (const t of table) {
            it(t.name, async () => {
                const spec: Spec = { ".dockerignore": t.ignore };
                for (const f of t.files) spec[f] = "x";
                const expected = t.ignore.includes(".dockerignore") ? t.expected : [".dockerignore", ...t.expected].sort();
                assert.deepStrictEqual(await paths(spec), expected);
            });
        }

        it("reports each kind of entry", async () => {
            const root = makeTree({ f: "x", d: { dir: true }, l: { symlink: "nowhere" } });
            const list: ContextEntry[] = await listContext(root);
            assert.deepStrictEqual(list, [
                { path: "d", kind: "dir" },
                { path: "f", kind: "file" },
                { path: "l", kind: "symlink" },
            ]);
        });

        it("agrees with matching every path with @balena/dockerignore (no pruning errors)", async () => {
            const segment = fc.constantFrom("a", "b", "c", "*", "?", "**", "a*");
            const line = fc
                .tuple(fc.boolean(), fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 3 }))
                .map(([negate, slash, segs]) => `${negate ? "!" : ""}${slash ? "/" : ""}${segs.join("/")}`);
            const file = fc.array(fc.constantFrom("a", "b", "c", "d"), { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));
            await fc.assert(
                fc.asyncProperty(fc.array(line, { maxLength: 5 }), fc.uniqueArray(file, { maxLength: 12 }), async (lines, files) => {
                    const root = tempDir();
                    for (const f of files) {
                        // A path may be both a file and a parent dir; keep whichever comes first.
                        const abs = path.join(root, f);
                        try {
                            fs.mkdirSync(path.dirname(abs), { recursive: true });
                            fs.writeFileSync(abs, f);
                        } catch {
                            /* a prefix is already a file */
                        }
                    }
                    const ignoreFile = path.join(tempDir(), "ignore");
                    fs.writeFileSync(ignoreFile, lines.join("\n"));
                    const ig = ignore({ ignorecase: false }).add(lines);
                    const all = allPaths(root);
                    const included = all.filter((p) => !ig.ignores(p));
                    // An excluded dir is still sent when something below it is included.
                    const expected = all.filter((p) => included.includes(p) || included.some((q) => q.startsWith(`${p}/`)));
                    const actual = (await listContext(root, { ignoreFile })).map((e) => e.path);
                    assert.deepStrictEqual(
                        actual,
                        expected.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
                    );
                    fs.rmSync(root, { recursive: true, force: true });
                }),
                { numRuns: 150 },
            );
        });
    });

    describe("which ignore file applies", () => {
        const spec: Spec = {
            "a.txt": "a",
            "b.txt": "b",
            "c.txt": "c",
            ".dockerignore": "a.txt\n",
            Dockerfile: "FROM scratch\n",
            "app.Dockerfile": "FROM scratch\n",
            "app.Dockerfile.dockerignore": "b.txt\n",
            "docker/web.Dockerfile": "FROM scratch\n",
            "docker/web.Dockerfile.dockerignore": "c.txt\ndocker\n",
        };
        const files = async (root: string, opts: object) =>
            (await listContext(root, opts)).filter((e) => e.kind === "file" && /^[abc]\.txt$/.test(e.path)).map((e) => e.path);

        const cases: { name: string; opts: (root: string) => object; expected: string[] }[] = [
            { name: "no Dockerfile given: <context>/.dockerignore", opts: () => ({}), expected: ["b.txt", "c.txt"] },
            {
                name: "<Dockerfile>.dockerignore beside the Dockerfile wins",
                opts: (r) => ({ dockerfile: path.join(r, "app.Dockerfile") }),
                expected: ["a.txt", "c.txt"],
            },
            {
                name: "a Dockerfile in a subdirectory uses the ignore file beside it",
                opts: (r) => ({ dockerfile: path.join(r, "docker/web.Dockerfile") }),
                expected: ["a.txt", "b.txt"],
            },
            {
                name: "no <Dockerfile>.dockerignore: falls back to .dockerignore",
                opts: (r) => ({ dockerfile: path.join(r, "Dockerfile") }),
                expected: ["b.txt", "c.txt"],
            },
            {
                name: "ignoreFile overrides both",
                opts: (r) => ({ dockerfile: path.join(r, "app.Dockerfile"), ignoreFile: path.join(r, "docker/web.Dockerfile.dockerignore") }),
                expected: ["a.txt", "b.txt"],
            },
        ];
        for (const c of cases) {
            it(c.name, async () => {
                const root = makeTree(spec);
                assert.deepStrictEqual(await files(root, c.opts(root)), c.expected);
            });
        }

        it("the default Dockerfile's Dockerfile.dockerignore applies without options, even when empty", async () => {
            const root = makeTree({ ...spec, "Dockerfile.dockerignore": "" });
            assert.deepStrictEqual(await files(root, {}), ["a.txt", "b.txt", "c.txt"]);
        });

        it("a relative dockerfile is resolved against the current directory", async () => {
            const root = makeTree(spec);
            const rel = path.relative(process.cwd(), path.join(root, "app.Dockerfile"));
            assert.deepStrictEqual(await files(root, { dockerfile: rel }), ["a.txt", "c.txt"]);
        });

        it("the choice changes the hash", async () => {
            const root = makeTree(spec);
            assert.notStrictEqual(await hashContext(root), await hashContext(root, { dockerfile: path.join(root, "app.Dockerfile") }));
        });
    });

    describe("errors", () => {
        it("names a context directory that does not exist", async () => {
            const missing = path.join(tempDir(), "no-such-dir");
            await assert.rejects(hashContext(missing), (err: Error) => {
                assert.ok(err instanceof ContextHashError);
                assert.match(err.message, /does not exist/);
                assert.ok(err.message.includes(JSON.stringify(missing)), err.message);
                return true;
            });
        });

        it("names a context that is a file", async () => {
            const file = path.join(makeTree({ f: "x" }), "f");
            await assert.rejects(hashContext(file), (err: Error) => {
                assert.match(err.message, /is not a directory/);
                assert.ok(err.message.includes(JSON.stringify(file)), err.message);
                return true;
            });
        });

        it("names an ignoreFile that does not exist", async () => {
            const root = makeTree({ f: "x" });
            const missing = path.join(root, "nope.dockerignore");
            await assert.rejects(hashContext(root, { ignoreFile: missing }), (err: Error) => err.message.includes(JSON.stringify(missing)));
        });

        it("rejects a bare ! like Docker, naming the file and line", async () => {
            const root = makeTree({ ".dockerignore": "a\n!\n", f: "x" });
            await assert.rejects(hashContext(root), /\.dockerignore.*line 2/);
        });

        it("rejects an invalid pattern, naming it", async () => {
            const root = makeTree({ ".dockerignore": "ok\n[z-a\n", f: "x" });
            await assert.rejects(hashContext(root), /pattern "\[z-a" is not valid/);
        });

        it("rejects a bad concurrency, quoting it", async () => {
            await assert.rejects(hashContext(makeTree({ f: "x" }), { concurrency: -1 }), /concurrency -1 is not valid/);
        });

        it("names an unreadable file", async function () {
            if (process.getuid?.() === 0) {
                this.skip(); // root reads anything
            }
            const root = makeTree({ "secret.txt": "x" });
            fs.chmodSync(path.join(root, "secret.txt"), 0o000);
            await assert.rejects(hashContext(root), /secret\.txt/);
        });
    });

    describe("file hashing", () => {
        it("writes flags, size and SHA-256 per file", () => {
            const root = makeTree({ a: "hello", b: { exec: "" } });
            const records = hashFiles([path.join(root, "a"), path.join(root, "b")], Buffer.alloc(3)); // tiny buffer: several reads
            assert.strictEqual(records.length, 2 * FILE_RECORD_BYTES);
            assert.strictEqual(records[0], 0);
            assert.strictEqual(records.readBigUInt64BE(1), 5n);
            assert.strictEqual(records.subarray(9, 41).toString("hex"), crypto.createHash("sha256").update("hello").digest("hex"));
            assert.strictEqual(records[FILE_RECORD_BYTES], 1);
            assert.strictEqual(records.readBigUInt64BE(FILE_RECORD_BYTES + 1), 0n);
        });

        it("hashes every batch exactly once, taking back what a busy worker has not started", async () => {
            const root = makeTree({ small: "s" });
            const big = path.join(root, "big");
            fs.writeFileSync(big, crypto.randomBytes(32 << 20)); // tens of ms per batch
            const paths = [big, path.join(root, "small")];
            const expected = hashFiles(paths, Buffer.alloc(1 << 20));
            const pool = new FileHashPool(1);
            try {
                await pool.warmUp();
                // The worker holds up to 4 batches; it has barely started the first when drain() begins.
                const calls = [0, 0, 0, 0];
                calls.forEach((_, i) =>
                    pool.submit({
                        paths,
                        done: (records) => {
                            calls[i]++;
                            assert.ok(records.equals(expected), `batch ${i} hashed differently`);
                        },
                    }),
                );
                await pool.drain();
                assert.deepStrictEqual(calls, [1, 1, 1, 1]);
                assert.ok(pool.workerBatches < 4, `worker hashed ${pool.workerBatches} of 4: nothing was taken back`);
            } finally {
                await pool.close();
            }
        });

        it("loads the worker from a compiled file: the .js beside the compiled module (as from dist/), compiled once under ts-node", async () => {
            const underTsNode = workerEntry();
            assert.match(underTsNode, /pulumi-buildx-hash-worker-[^/]+\/context-hash-thread\.js$/);
            assert.strictEqual(workerEntry(), underTsNode, "compiled once per process");
            assert.ok(fs.existsSync(path.join(path.dirname(underTsNode), "hash-files.js")));
            // The three modules compiled to JavaScript in a directory of their own, as `npm run build` does.
            const out = fs.mkdtempSync(path.join(os.tmpdir(), "hash-dist-"));
            try {
                for (const name of ["hash-files", "context-hash-thread", "context-hash-worker"]) {
                    const source = fs.readFileSync(path.join(__dirname, "..", "..", "src", "image", `${name}.ts`), "utf8");
                    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
                    fs.writeFileSync(path.join(out, `${name}.js`), js);
                }
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const compiled = require(path.join(out, "context-hash-worker.js")) as typeof import("../../src/image/context-hash-worker");
                assert.strictEqual(compiled.workerEntry(), path.join(out, "context-hash-thread.js"));
                const root = makeTree({});
                fs.writeFileSync(path.join(root, "big"), crypto.randomBytes(8 << 20));
                const paths = [path.join(root, "big")];
                const expected = hashFiles(paths, Buffer.alloc(1 << 20));
                const pool = new compiled.FileHashPool(1);
                try {
                    await pool.warmUp();
                    const hashed: Buffer[] = [];
                    for (let i = 0; i < 8; i++) pool.submit({ paths, done: (r) => hashed.push(r) });
                    await pool.drain();
                    assert.strictEqual(pool.workersStarted, 1);
                    assert.ok(pool.workerBatches > 0, "the compiled worker hashed nothing");
                    assert.strictEqual(hashed.length, 8);
                    for (const r of hashed) assert.ok(r.equals(expected));
                } finally {
                    await pool.close();
                }
            } finally {
                fs.rmSync(out, { recursive: true, force: true });
            }
        });

        for (const workers of [0, 1]) {
            it(`a missing file fails the pool naming it (${workers} workers)`, async () => {
                const root = makeTree({ a: "x" });
                const missing = path.join(root, "gone.txt");
                const pool = new FileHashPool(workers);
                try {
                    if (workers > 0) {
                        await pool.warmUp(); // so that the batch goes to the worker
                    }
                    await assert.rejects(
                        (async () => {
                            pool.submit({ paths: [path.join(root, "a"), missing], done: () => undefined });
                            await pool.drain();
                        })(),
                        (err: Error) => {
                            assert.ok(err instanceof FileHashError, String(err));
                            assert.strictEqual(err.path, missing);
                            assert.strictEqual(err.code, "ENOENT");
                            return true;
                        },
                    );
                    assert.strictEqual(pool.workersStarted, workers);
                } finally {
                    await pool.close();
                }
            });
        }
    });

    describe("pure helpers", () => {
        const parsed: [string, IgnoreRule[]][] = [
            ["\uFEFF# comment after a BOM\r\nb\r\n", [{ pattern: "b", exception: false }]],
            ["# c\n  # not a comment", [{ pattern: "# not a comment", exception: false }]],
            [
                "/abs/\n./x/../y//z\n",
                [
                    { pattern: "abs", exception: false },
                    { pattern: "y/z", exception: false },
                ],
            ],
            ["!  /keep/ ", [{ pattern: "keep", exception: true }]],
            ["/", [{ pattern: "/", exception: false }]],
        ];
        for (const [text, expected] of parsed) {
            it(`parses ${JSON.stringify(text)}`, () => assert.deepStrictEqual(parseIgnoreFile(text), expected));
        }

        const below: [string, string, boolean][] = [
            ["a", "a", false], // everything below a is treated like a
            ["a/b", "a", true],
            ["a/b", "c", false],
            ["a/b", "a/c", false],
            ["a/b", "a/b", false],
            ["*/b", "x", true],
            ["*/b", "x/c", false],
            ["**/b", "x/y/z", true],
            ["a/**", "a", true],
            ["a/**", "b", false],
            ["x*", "x1", false],
            ["a/[bc]/d", "a/q", true], // wildcards are assumed to match
        ];
        for (const [pattern, dir, expected] of below) {
            it(`mayMatchBelow(${pattern}, ${dir}) is ${expected}`, () =>
                assert.strictEqual(mayMatchBelow({ pattern, exception: false }, dir.split("/")), expected));
        }
    });
});
