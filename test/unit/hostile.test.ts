/**
 * Hostile-value tables: every input field that reaches a generated script, fed values that
 * could change a command (`$(…)`, backticks, both quotes, a line break, NUL, a leading `-`,
 * `,` `"` `=` for comma-separated flag fields, 1 MB). Each script runs for real with a recording
 * fake `docker` (and `rm`, `mv`, `cp`) first on PATH. Each value either arrives as exactly one
 * argv element (or one CSV field of one, read the way buildx reads it), unchanged, or is refused
 * at construction with a message naming the property.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { BuilderArgs } from "../../src/builder/args";
import { planCreate } from "../../src/builder/plan";
import { tlsDirectory } from "../../src/builder/tls-files";
import { validateBuilderArgs } from "../../src/builder/validate";
import { validateBinfmtArgs } from "../../src/binfmt/validate";
import { MultiPlatformImageArgs } from "../../src/image/args";
import { digestsOfBuild, parseBuildOutput } from "../../src/image/digests";
import { BuildPlanInput, partialDir, planBuild, registryEnvNames, secretEnvName } from "../../src/image/plan";
import { validateImageArgs } from "../../src/image/validate";
import { positionalPath, renderScript } from "../../src/shell";
import { FakeCall, FakeCli, FakeRun, FAKE_INDEX as INDEX, parseCsvRecord } from "../harness/fake-cli";

const HOSTILE: [string, string][] = [
    ["command substitution", "$(touch pwned)"],
    ["backticks", "`touch pwned`"],
    ["single quote", "it's"],
    ["double quote", 'say "hi"'],
    ["line break", "two\nlines"],
    ["NUL", "nul\0byte"],
    ["leading dash", "-v"],
    ["a lone dash", "-"],
    ["an option", "--output=type=local,dest=x"],
    ["CSV comma", "cache,type=registry,ref=evil.example.com/p:latest"],
    ["CSV quote", 'a"b'],
    ["CSV equals", "a=b"],
    ["1 MB", "x".repeat(1 << 20)],
    ["old placeholders", "--file INLINE_DOCKERFILE dest=PARTIAL_DIR,"],
];

/** Refused at construction: the message names the property. */
function refusedNaming(build: () => unknown, property: string): boolean {
    try {
        build();
    } catch (err) {
        const message = (err as Error).message;
        assert.ok(message.includes(`- ${property}:`), `refused, but the message does not name ${property}:\n${message.slice(0, 600)}`);
        return true;
    }
    return false;
}

/** The one call of `docker <sub...>`. */
function dockerCall(run: FakeRun, ...sub: string[]): string[] {
    const found = run.calls.filter((c) => c.name === "docker" && sub.every((s, i) => c.argv[i] === s));
    assert.strictEqual(
        found.length,
        1,
        `expected one docker ${sub.join(" ")} call, got ${found.length}: ${JSON.stringify(run.calls.map((c) => [c.name, ...c.argv.map((a) => a.slice(0, 80))]))}\n${run.stderr.slice(0, 2000)}`,
    );
    return found[0].argv;
}

/** The values given after each `flag` in `argv`. */
function valuesOf(argv: string[], flag: string): string[] {
    return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
}

/**
 * True if `secret` is in any recorded argv element: equal to one, or (long enough not to match
 * by chance, e.g. `-v` inside a random temporary path) inside one.
 */
function onCommandLine(run: FakeRun, secret: string): boolean {
    return run.calls.some((c) => c.argv.some((a) => a === secret || (secret.length >= 4 && a.includes(secret))));
}

/** One `describe` per field, one `it` per hostile value. */
function hostileTable<F extends { property: string }>(fields: F[], test: (field: F, value: string) => void): void {
    for (const field of fields) {
        describe(field.property, () => {
            for (const [label, value] of HOSTILE) it(label, () => test(field, value));
        });
    }
}

function assertNoPwn(dir: string): void {
    assert.ok(!fs.existsSync(path.join(dir, "pwned")), "a value was executed");
}

describe("hostile values reach the CLI as one argv element, or are refused", function () {
    this.timeout(60000);
    let fake: FakeCli;
    let proj: string;
    let index: string;
    beforeEach(() => {
        fake = new FakeCli();
        proj = path.join(fake.root, "proj");
        fs.mkdirSync(path.join(proj, "app"), { recursive: true });
        fs.writeFileSync(path.join(proj, "app", "Dockerfile"), "FROM scratch\n");
        index = path.join(fake.root, "index.json");
        fs.writeFileSync(index, INDEX);
    });
    afterEach(() => fake.dispose());

    describe("MultiPlatformImage", () => {
        const base = (): MultiPlatformImageArgs => ({
            context: path.join(proj, "app"),
            platforms: ["linux/amd64", "linux/arm64"],
            tags: ["10.0.0.1:5000/team/app:1.0"],
        });

        /** Validates, plans and runs the build script with the fake; undefined when refused naming `property`. */
        function build(property: string, args: MultiPlatformImageArgs, stdin?: string): FakeRun | undefined {
            let planned: BuildPlanInput | undefined;
            const refused = refusedNaming(() => {
                const v = validateImageArgs("app", args);
                planned = {
                    ...v,
                    tags: (args.tags ?? []) as string[],
                    builder: args.builder as string | undefined,
                    buildArgs: (args.buildArgs ?? {}) as Record<string, string>,
                    labels: (args.labels ?? {}) as Record<string, string>,
                    annotations: (args.annotations ?? {}) as Record<string, string>,
                    target: args.target,
                    network: args.network,
                    addHosts: args.addHosts ?? {},
                    cacheFrom: (args.cacheFrom ?? []) as BuildPlanInput["cacheFrom"],
                    cacheTo: (args.cacheTo ?? []) as BuildPlanInput["cacheTo"],
                    cwd: proj,
                };
            }, property);
            if (refused) return undefined;
            const env: Record<string, string> = { FAKE_CLI_INDEX: index };
            for (const [id, value] of Object.entries(args.secrets ?? {})) env[secretEnvName(id)] = value as string;
            (args.registries ?? []).forEach((r, i) => {
                const names = registryEnvNames(i);
                Object.assign(env, { [names.address]: r.address, [names.username]: r.username, [names.password]: r.password });
            });
            const partial = args.output !== undefined && "dest" in args.output ? path.join(proj, partialDir(path.relative(proj, args.output.dest))) : "";
            if (args.output?.type === "oci") env.FAKE_CLI_OCI_DIR = partial;
            if (args.output?.type === "local") env.FAKE_CLI_LOCAL_DIR = partial;
            if (args.output?.type === "tar") env.FAKE_CLI_TAR_FILE = partial;
            const run = fake.run(renderScript(planBuild(planned!)), { cwd: proj, env, stdin });
            assert.strictEqual(run.code, 0, run.stderr.slice(-3000));
            assertNoPwn(proj);
            const result = digestsOfBuild(parseBuildOutput(run.stdout), ["linux/amd64", "linux/arm64"]);
            const files = args.output?.type === "local" || args.output?.type === "tar"; // files: no digests
            const digests = { "linux/amd64": `sha256:${"a".repeat(64)}`, "linux/arm64": `sha256:${"b".repeat(64)}` };
            assert.deepStrictEqual(result?.platformDigests, files ? undefined : digests);
            return run;
        }

        /** Creates `rel` under the project (a directory or a file); false when the file system cannot hold the name. */
        function make(rel: string, kind: "dir" | "file"): string {
            const full = path.join(proj, rel);
            try {
                if (kind === "dir") {
                    fs.mkdirSync(full, { recursive: true });
                    fs.writeFileSync(path.join(full, "Dockerfile"), "FROM scratch\n");
                } else {
                    fs.mkdirSync(path.dirname(full), { recursive: true });
                    fs.writeFileSync(full, `FROM scratch\nLABEL x=${JSON.stringify(rel.slice(0, 40))}\n`);
                }
            } catch {
                // NUL or too long for a file name: validation must refuse it.
            }
            return full;
        }

        const fields: {
            property: string;
            args: (v: string) => MultiPlatformImageArgs;
            check: (run: FakeRun, v: string) => void;
            stdin?: (v: string) => string;
        }[] = [
            ...(["buildArgs", "labels", "annotations"] as const).map((field) => ({
                property: `${field}.K`,
                args: (v: string) => ({ ...base(), [field]: { K: v } }),
                check: (run: FakeRun, v: string) => {
                    const flag = { buildArgs: "--build-arg", labels: "--label", annotations: "--annotation" }[field];
                    assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), flag), [`K=${v}`]);
                },
            })),
            {
                property: "context",
                args: (v) => ({ ...base(), context: make(v, "dir") }),
                check: (run, v) => {
                    const argv = dockerCall(run, "buildx", "build");
                    assert.strictEqual(argv[argv.length - 2], "--");
                    const context = argv[argv.length - 1];
                    assert.ok(!context.startsWith("-"), context);
                    assert.strictEqual(path.resolve(proj, context), path.join(proj, v));
                },
            },
            {
                property: "dockerfile",
                args: (v) => ({ ...base(), dockerfile: make(v, "file") }),
                check: (run, v) => {
                    const [file] = valuesOf(dockerCall(run, "buildx", "build"), "--file");
                    assert.ok(!file.startsWith("-"), file);
                    assert.strictEqual(path.resolve(proj, file), path.join(proj, v));
                },
            },
            {
                property: "dockerfileInline",
                args: (v) => ({ ...base(), dockerfileInline: `FROM scratch\n# ${v}\n` }),
                stdin: (v) => `FROM scratch\n# ${v}\n`,
                check: (run, v) => {
                    const call = run.calls.find((c) => c.name === "docker" && c.argv[1] === "build") as FakeCall;
                    assert.strictEqual(call.dockerfile, `FROM scratch\n# ${v}\n`);
                },
            },
            {
                property: "cacheFrom[0].src",
                args: (v) => ({ ...base(), cacheFrom: [{ type: "local", src: path.join(proj, v) }] }),
                check: (run, v) =>
                    assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--cache-from").map(parseCsvRecord), [["type=local", `src=${v}`]]),
            },
            {
                property: "cacheTo[0].dest",
                args: (v) => ({ ...base(), cacheTo: [{ type: "local", dest: path.join(proj, v) }] }),
                check: (run, v) =>
                    assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--cache-to").map(parseCsvRecord), [
                        ["type=local", `dest=${v}`, "mode=min"],
                    ]),
            },
            {
                property: "cacheFrom[0].ref",
                args: (v) => ({ ...base(), cacheFrom: [{ type: "registry", ref: v }] }),
                check: (run, v) =>
                    assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--cache-from").map(parseCsvRecord), [["type=registry", `ref=${v}`]]),
            },
            {
                property: "output.dest",
                args: (v) => ({ ...base(), tags: [], output: { type: "oci", dest: path.join(proj, v) } }),
                check: (run, v) => {
                    // A leading dash gets `./`: the same path, never an option of find, tar, rm or mv.
                    const d = positionalPath(v);
                    assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--output").map(parseCsvRecord), [
                        ["type=oci", `dest=${d}.partial`, "tar=false"],
                    ]);
                    const mv = run.calls.filter((c) => c.name === "mv").map((c) => c.argv);
                    assert.deepStrictEqual(mv, [["--", `${d}.partial`, d]]);
                    for (const rm of run.calls.filter((c) => c.name === "rm")) assert.strictEqual(rm.argv[1], "--", JSON.stringify(rm.argv));
                    assert.ok(fs.existsSync(path.join(proj, v, "oci-layout")), "the layout is at dest");
                    assert.ok(!fs.existsSync(path.join(proj, `${v}.partial`)), "the partial directory is gone");
                },
            },
            ...(["local", "tar"] as const).map((type) => ({
                property: `output.dest (${type})`,
                args: (v: string): MultiPlatformImageArgs => ({ ...base(), tags: [], push: false, output: { type, dest: path.join(proj, v) } }),
                check: (run: FakeRun, v: string) => {
                    const d = positionalPath(v);
                    const fields = type === "local" ? [`type=local`, `dest=${d}.partial`, "platform-split=true"] : ["type=tar", `dest=${d}.partial`];
                    assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--output").map(parseCsvRecord), [fields]);
                    assert.deepStrictEqual(
                        run.calls.filter((c) => c.name === "mv").map((c) => c.argv),
                        [["--", `${d}.partial`, d]],
                    );
                    for (const rm of run.calls.filter((c) => c.name === "rm")) assert.strictEqual(rm.argv[1], "--", JSON.stringify(rm.argv));
                    const at = path.join(proj, v);
                    assert.ok(type === "local" ? fs.existsSync(path.join(at, "linux_amd64", "app")) : fs.statSync(at).isFile(), "the export is at dest");
                    assert.ok(!fs.existsSync(`${at}.partial`), "the partial export is gone");
                },
            })),
            {
                property: "registries[0].username",
                args: (v) => ({ ...base(), registries: [{ address: "10.0.0.1:5000", username: v, password: "pw" }] }),
                check: (run, v) => {
                    assert.deepStrictEqual(dockerCall(run, "login"), ["login", "--username", v, "--password-stdin", "--", "10.0.0.1:5000"]);
                },
            },
            {
                property: "registries[0].address",
                args: (v) => ({ ...base(), registries: [{ address: v, username: "u", password: "pw" }] }),
                check: (run, v) => assert.deepStrictEqual(dockerCall(run, "login"), ["login", "--username", "u", "--password-stdin", "--", v]),
            },
            {
                property: "registries[0].password",
                args: (v) => ({ ...base(), registries: [{ address: "10.0.0.1:5000", username: "u", password: v }] }),
                check: (run, v) => {
                    const login = run.calls.find((c) => c.name === "docker" && c.argv[0] === "login") as FakeCall;
                    assert.strictEqual(login.stdin, v);
                    assert.ok(!onCommandLine(run, v), "the password is on a command line");
                },
            },
            {
                property: "secrets.TOKEN",
                args: (v) => ({ ...base(), secrets: { TOKEN: v } }),
                check: (run, v) => {
                    assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--secret").map(parseCsvRecord), [
                        ["id=TOKEN", "env=PULUMI_BUILDX_SECRET_TOKEN"],
                    ]);
                    assert.ok(!onCommandLine(run, v), "the secret is on a command line");
                },
            },
            {
                property: "secrets.TOKEN.file",
                args: (v) => {
                    make(v, "file");
                    return { ...base(), secrets: { TOKEN: { file: v } } };
                },
                check: (run, v) =>
                    assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--secret").map(parseCsvRecord), [["id=TOKEN", `src=${v}`]]),
            },
            {
                property: "ssh[0].paths[0]",
                args: (v) => ({ ...base(), ssh: [{ id: "default", paths: [v] }] }),
                check: (run, v) => assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--ssh"), [`default=${v}`]),
            },
            {
                property: "tags[0]",
                args: (v) => ({ ...base(), tags: [v] }),
                check: (run, v) => assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--tag"), [v]),
            },
            {
                property: "target",
                args: (v) => ({ ...base(), target: v }),
                check: (run, v) => assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--target"), [v]),
            },
            {
                property: "builder",
                args: (v) => ({ ...base(), builder: v }),
                check: (run, v) => assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--builder"), [v]),
            },
            {
                property: "addHosts.h",
                args: (v) => ({ ...base(), addHosts: { h: v } }),
                check: (run, v) => assert.deepStrictEqual(valuesOf(dockerCall(run, "buildx", "build"), "--add-host"), [`h:${v}`]),
            },
        ];

        it("runs a passwordCommand with stdin from /dev/null, so it cannot swallow the inline Dockerfile", () => {
            const dockerfile = "FROM scratch\nLABEL kept=yes\n";
            const args = {
                ...base(),
                dockerfileInline: dockerfile,
                registries: [{ address: "10.0.0.1:5000", username: "u", passwordCommand: "cat >/dev/null; echo pw" }],
            };
            const run = build("registries[0].passwordCommand", args, dockerfile) as FakeRun;
            const login = run.calls.find((c) => c.argv[0] === "login") as FakeCall;
            assert.strictEqual(login.stdin, "pw");
            const docker = run.calls.find((c) => c.argv[1] === "build") as FakeCall;
            assert.strictEqual(docker.dockerfile, dockerfile);
        });

        it("removes the temporary DOCKER_CONFIG (the registry login) even with an OCI dest of -v", () => {
            const args: MultiPlatformImageArgs = {
                ...base(),
                tags: [],
                output: { type: "oci", dest: path.join(proj, "-v") },
                registries: [{ address: "10.0.0.1:5000", username: "u", password: "pw" }],
            };
            build("output.dest", args);
            assert.deepStrictEqual(
                fs.readdirSync(fake.root).filter((f) => f.startsWith("pulumi-buildx.")),
                [],
                "a work directory (with docker-config) is left",
            );
        });

        hostileTable(fields, (field, value) => {
            // "output.dest (local)": the property is the part before a space.
            const run = build(field.property.split(" ")[0], field.args(value), field.stdin?.(value));
            if (run !== undefined) field.check(run, value);
        });
    });

    describe("Builder", () => {
        const local = (patch: Partial<BuilderArgs["nodes"][0]> = {}, args: Partial<BuilderArgs> = {}): BuilderArgs => ({
            name: "fleet",
            driver: "docker-container",
            nodes: [{ name: "local", platforms: ["linux/amd64"], ...patch }],
            ...args,
        });
        const PEM = "-----BEGIN PRIVATE KEY-----\n";

        function create(property: string, args: BuilderArgs, env: Record<string, string> = {}): FakeRun | undefined {
            let script = "";
            const refused = refusedNaming(() => {
                const v = validateBuilderArgs("fleet", args, { project: "p", stack: "s" });
                const nodes = args.nodes.map((n, i) => ({
                    name: n.name,
                    endpoint: n.endpoint as string | undefined,
                    platforms: v.nodes[i].platforms,
                    driverOpts: (n.driverOpts ?? {}) as Record<string, string>,
                    tls: n.tls === undefined ? undefined : { serverName: n.tls.serverName as string | undefined },
                }));
                script = renderScript(
                    planCreate({
                        name: v.name,
                        driver: v.driver,
                        nodes,
                        buildkitdFlags: v.buildkitdFlags,
                        buildkitdConfig: v.buildkitdConfig,
                        bootstrap: v.bootstrap,
                        use: v.use,
                    }),
                );
            }, property);
            if (refused) return undefined;
            const run = fake.run(script, { cwd: proj, env: { BUILDX_CONFIG: path.join(fake.root, "buildx"), ...env } });
            assert.strictEqual(run.code, 0, run.stderr.slice(-3000));
            assertNoPwn(proj);
            return run;
        }
        const createArgv = (run: FakeRun) => dockerCall(run, "buildx", "create");

        const fields: {
            property: string;
            args: (v: string) => BuilderArgs;
            env?: (v: string) => Record<string, string>;
            check: (run: FakeRun, v: string) => void;
        }[] = [
            {
                property: "nodes[0].driverOpts.image",
                args: (v) => local({ driverOpts: { image: v } }),
                check: (run, v) => assert.deepStrictEqual(valuesOf(createArgv(run), "--driver-opt").map(parseCsvRecord), [[`image=${v}`]]),
            },
            {
                property: "buildkitdFlags",
                args: (v) => local({}, { buildkitdFlags: v }),
                check: (run, v) => assert.deepStrictEqual(valuesOf(createArgv(run), "--buildkitd-flags"), [v]),
            },
            {
                property: "buildkitdConfig",
                args: (v) => local({}, { buildkitdConfig: v }),
                check: (run, v) => assert.strictEqual((run.calls.find((c) => c.argv[1] === "create") as FakeCall).config, v),
            },
            {
                property: "nodes[0].endpoint",
                args: (v) => local({ endpoint: v }),
                check: (run, v) => assert.deepStrictEqual(createArgv(run).slice(-2), ["--", v]),
            },
            {
                property: "name",
                args: (v) => local({}, { name: v }),
                check: (run, v) => assert.deepStrictEqual(valuesOf(createArgv(run), "--name"), [v]),
            },
            {
                property: "nodes[0].name",
                args: (v) => local({ name: v }),
                check: (run, v) => assert.deepStrictEqual(valuesOf(createArgv(run), "--node"), [v]),
            },
            {
                property: "nodes[0].tls.serverName",
                args: (v) => ({
                    name: "fleet",
                    driver: "remote",
                    nodes: [{ name: "n", endpoint: "tcp://10.0.0.1:1234", tls: { ca: PEM, cert: PEM, key: PEM, serverName: v } }],
                }),
                env: () => ({ PULUMI_BUILDX_NODE_0_TLS_CA: PEM, PULUMI_BUILDX_NODE_0_TLS_CERT: PEM, PULUMI_BUILDX_NODE_0_TLS_KEY: PEM }),
                check: (run, v) =>
                    assert.ok(
                        valuesOf(createArgv(run), "--driver-opt")
                            .map(parseCsvRecord)
                            .some((f) => f[0] === `servername=${v}`),
                    ),
            },
            {
                property: "nodes[0].tls.key",
                args: (v) => ({
                    name: "fleet",
                    driver: "remote",
                    nodes: [{ name: "n", endpoint: "tcp://10.0.0.1:1234", tls: { ca: PEM, cert: PEM, key: PEM + v } }],
                }),
                env: (v) => ({ PULUMI_BUILDX_NODE_0_TLS_CA: PEM, PULUMI_BUILDX_NODE_0_TLS_CERT: PEM, PULUMI_BUILDX_NODE_0_TLS_KEY: PEM + v }),
                check: (run, v) => {
                    const dir = path.join(tlsDirectory("fleet", { BUILDX_CONFIG: path.join(fake.root, "buildx") }), "n");
                    assert.strictEqual(fs.readFileSync(path.join(dir, "key.pem"), "utf8"), `${PEM + v}\n`);
                    const keyOpt = valuesOf(createArgv(run), "--driver-opt")
                        .map(parseCsvRecord)
                        .find((f) => f[0].startsWith("key="));
                    assert.deepStrictEqual(keyOpt, [`key=${path.join(dir, "key.pem")}`]);
                    assert.ok(!onCommandLine(run, v), "the key is on a command line");
                },
            },
        ];

        hostileTable(fields, (field, value) => {
            const run = create(field.property, field.args(value), field.env?.(value));
            if (run !== undefined) field.check(run, value);
        });
    });

    describe("Binfmt", () => {
        describe("image", () => {
            for (const [label, value] of HOSTILE) {
                it(label, () =>
                    assert.ok(
                        refusedNaming(() => validateBinfmtArgs("qemu", { platforms: ["linux/arm64"], image: value }), "image"),
                        "accepted",
                    ),
                );
            }
        });
    });
});
