/**
 * `buildImage` and `MultiPlatformImage` are one implementation: for the same arguments they
 * render the same script, and run under the recording fake CLI both make the same `docker`
 * calls with the same argv (golden), with the secrets in the same environment variables.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MultiPlatformImage } from "../../../src";
import { BuildImageArgs, buildImage, planImageBuild } from "../../../src/image/build";
import { runGuarded } from "../../../src/guarded-run";
import { Harness, runProgram } from "../../harness";
import { FAKE_INDEX, FakeCli, readCalls } from "../../harness/fake-cli";
import { sha256 } from "../../../src/image/digests";
import { expectGolden } from "../../harness/golden";

describe("buildImage: one implementation with MultiPlatformImage", () => {
    let harness: Harness;
    let ctx: string;
    let fake: FakeCli;
    beforeEach(async () => {
        harness = new Harness({ run: false });
        await harness.install();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "build-image-"));
        fake = new FakeCli();
    });
    afterEach(() => {
        harness.dispose();
        fake.dispose();
        fs.rmSync(ctx, { recursive: true, force: true });
    });

    const plain = (): BuildImageArgs => ({
        builder: "fleet-x",
        context: ctx,
        dockerfileInline: "FROM scratch\nCOPY . /\n",
        platforms: ["linux/amd64", "arm64"],
        tags: ["10.0.0.1:5000/team/app:1.0", "10.0.0.1:5000/team/app:latest"],
        target: "runtime",
        buildArgs: { VERSION: "1.2 beta", QUOTE: "it's" },
        labels: { "org.opencontainers.image.source": "https://example.com/x" },
        annotations: { "index:org.opencontainers.image.description": "multi" },
        // A value, and two sources read when the build runs (their values are never in the plan).
        secrets: { NPM_TOKEN: "npm-secret-1", CI_TOKEN: { env: "BUILD_CI_TOKEN" }, ca: { file: path.join(ctx, "ca.pem") } },
        ssh: [{ id: "default" }, { id: "deploy", paths: [path.join(ctx, "deploy_key")] }],
        registries: [
            { address: "10.0.0.1:5000", username: "ci", password: "registry-secret-2" },
            { address: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", username: "AWS", passwordCommand: "echo from-command" },
        ],
        cacheFrom: [{ type: "registry", ref: "10.0.0.1:5000/team/app:cache" }],
        cacheTo: [{ type: "registry", ref: "10.0.0.1:5000/team/app:cache", mode: "max", ignoreError: true }],
        network: "host",
        addHosts: { db: "10.0.0.9" },
        buildContexts: { base: "docker-image://10.0.0.1:5000/team/base:1", assets: ctx },
        noCache: true,
        pull: true,
        provenance: false,
        sbom: true,
    });

    it("renders the same script, environment and stdin as the component; the docker calls match the golden argv", async () => {
        const args = plain();
        const planned = planImageBuild(args);
        // The component, with the same values (some as Outputs, some secret), registered under mocks.
        await runProgram(
            harness,
            () =>
                new MultiPlatformImage("app", {
                    ...args,
                    tags: [pulumi.output(args.tags![0]), args.tags![1]],
                    buildArgs: { VERSION: pulumi.output("1.2 beta"), QUOTE: "it's" },
                    secrets: { ...args.secrets, NPM_TOKEN: pulumi.secret("npm-secret-1") },
                }),
        );
        const cmd = harness.named("app-build");
        assert.strictEqual(planned.script, cmd.inputs.create, "the two entry points rendered different scripts");
        assert.deepStrictEqual(planned.env, cmd.inputs.environment);
        assert.strictEqual(planned.stdin, cmd.inputs.stdin);
        for (const secret of ["npm-secret-1", "registry-secret-2", "ca-secret-3", "ci-secret-4"])
            assert.ok(!planned.script.includes(secret), `${secret} is in the script`);

        // buildImage itself, run with the recording fake `docker` first on PATH.
        const calls = fs.mkdtempSync(path.join(fake.root, "calls-"));
        const index = FAKE_INDEX;
        const indexFile = path.join(fake.root, "index.json");
        fs.writeFileSync(indexFile, index);
        fs.writeFileSync(path.join(ctx, "ca.pem"), "ca-secret-3");
        const sources = { BUILD_CI_TOKEN: "ci-secret-4", SSH_AUTH_SOCK: path.join(ctx, "agent.sock") };
        const lines: string[] = [];
        const result = await withEnv(
            { PATH: `${path.join(fake.root, "bin")}:/usr/bin:/bin`, FAKE_CLI_CALLS: calls, FAKE_CLI_INDEX: indexFile, ...sources },
            () => buildImage({ ...args, onOutput: (l) => lines.push(l) }),
        );
        const digest = sha256(Buffer.from(index));
        assert.deepStrictEqual(result, {
            digest,
            ref: `10.0.0.1:5000/team/app@${digest}`,
            platformDigests: { "linux/amd64": `sha256:${"a".repeat(64)}`, "linux/arm64": `sha256:${"b".repeat(64)}` },
            platformRefs: {
                "linux/amd64": `10.0.0.1:5000/team/app@sha256:${"a".repeat(64)}`,
                "linux/arm64": `10.0.0.1:5000/team/app@sha256:${"b".repeat(64)}`,
            },
            attestationDigests: {}, // the fake's index has none
        });
        assert.ok(lines.includes("pulumi-buildx: building linux/amd64, linux/arm64"), lines.join("\n"));
        assert.ok(!lines.some((l) => l.includes("pulumi-buildx-result")), "the result line went to onOutput");

        const recorded = readCalls(calls);
        const docker = recorded.filter((c) => c.name === "docker").map((c) => c.argv.map(stable));
        expectGolden("build-image-argv.json", JSON.stringify(docker, null, 2) + "\n");
        assert.deepStrictEqual(
            recorded.filter((c) => c.argv[0] === "login").map((c) => c.stdin),
            ["registry-secret-2", "from-command"],
        );
        assert.strictEqual(recorded.find((c) => c.argv[1] === "build")?.dockerfile, args.dockerfileInline);
        // The component's script, run the same way, makes exactly the same calls.
        const run = fake.run(cmd.inputs.create, {
            cwd: process.cwd(),
            env: { ...cmd.inputs.environment, FAKE_CLI_INDEX: indexFile, ...sources },
            stdin: cmd.inputs.stdin,
        });
        assert.strictEqual(run.code, 0, run.stderr);
        assert.deepStrictEqual(
            run.calls.filter((c) => c.name === "docker").map((c) => c.argv.map(stable)),
            docker,
        );
    });

    /** An argument with the per-run paths (work directory, context) replaced by placeholders. */
    const stable = (arg: string) =>
        arg
            .replace(/^\/.*\/pulumi-buildx\.[A-Za-z0-9]+/, "<work>")
            .split(ctx)
            .join("<context>");

    it("with a signal that is already aborted, rejects with an AbortError and makes no docker call", async () => {
        const calls = fs.mkdtempSync(path.join(fake.root, "calls-"));
        const signal = AbortSignal.abort();
        await withEnv({ PATH: `${path.join(fake.root, "bin")}:/usr/bin:/bin`, FAKE_CLI_CALLS: calls }, () =>
            assert.rejects(buildImage({ ...plain(), signal }), {
                name: "AbortError",
                message: "buildImage (builder fleet-x): aborted before it started; nothing ran",
            }),
        );
        assert.deepStrictEqual(readCalls(calls), []);
    });

    it("fails naming the id of a secret source that is missing, in words that fit a build outside pulumi up", async () => {
        const calls = fs.mkdtempSync(path.join(fake.root, "calls-"));
        const args = { ...plain(), secrets: { tok: { env: "BUILD_IMAGE_NO_SUCH_VAR" } }, ssh: undefined, registries: undefined };
        await withEnv({ PATH: `${path.join(fake.root, "bin")}:/usr/bin:/bin`, FAKE_CLI_CALLS: calls }, () =>
            assert.rejects(buildImage(args), (err: Error) => {
                assert.match(
                    err.message,
                    /pulumi-buildx: secrets\.tok: the environment variable BUILD_IMAGE_NO_SUCH_VAR is not set where docker buildx runs$/m,
                );
                assert.ok(!err.message.includes("pulumi up"), err.message);
                return true;
            }),
        );
        assert.ok(!readCalls(calls).some((c) => c.argv[1] === "build"), "buildx ran");
    });

    it("refuses bad arguments before anything runs, naming buildImage, the property and the value", async () => {
        const args = { ...plain(), builder: "", platforms: ["linux/arm65"], secrets: { "bad id": "x" } };
        await assert.rejects(buildImage(args), (err: Error) => {
            assert.match(err.message, /^buildImage "10\.0\.0\.1:5000\/team\/app:1\.0" has invalid arguments:/);
            assert.match(err.message, /platforms\[0\]: "linux\/arm65"/);
            assert.match(err.message, /builder: "" is not valid: expected the name of a buildx builder/);
            assert.match(err.message, /secrets\.bad id/);
            assert.ok(!err.message.includes('"x"'), "a secret value was quoted");
            return true;
        });
        const noBuilder = { ...plain() } as Partial<BuildImageArgs>;
        delete noBuilder.builder;
        assert.throws(() => planImageBuild(noBuilder as BuildImageArgs), /builder: undefined is not valid/);
    });
});

describe("runGuarded (the Command provider's way, outside Pulumi)", () => {
    it("runs the script under the guard with env and stdin, streams lines, hides the result line, returns stdout", async () => {
        const lines: string[] = [];
        const stdout = await runGuarded("t", 'echo "progress $FOO" >&2; cat; echo; echo "RESULT x"; echo "$PULUMI_BUILDX_RUN_DIR"', {
            env: { FOO: "bar" },
            stdin: "from-stdin",
            onOutput: (l) => lines.push(l),
            hideStdoutPrefix: "RESULT ",
        });
        assert.deepStrictEqual(lines.slice(0, 2), ["progress bar", "from-stdin"]);
        assert.ok(!lines.some((l) => l.startsWith("RESULT")));
        assert.match(stdout, /^from-stdin\nRESULT x\n\/.*pulumi-buildx-\d+\/run-\d+-\d+\n$/);
    });

    it("rejects with the exit code and stderr's tail", async () => {
        await assert.rejects(runGuarded("the build", "echo boom >&2; exit 3", { env: {} }), /^GuardedRunFailed: the build exited with code 3:\nboom$/);
    });

    it("stops the script's process group when aborted", async () => {
        const controller = new AbortController();
        const started = Date.now();
        const run = runGuarded("the build", "sleep 30 & sleep 30; echo never", {
            env: {},
            signal: controller.signal,
            onOutput: () => undefined,
        });
        setTimeout(() => controller.abort(), 300);
        await assert.rejects(run, /\(aborted\)/);
        assert.ok(Date.now() - started < 10_000, "the abort did not stop the script");
    });

    it("starts nothing when the signal is already aborted, and rejects at once with an AbortError", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guarded-aborted-"));
        try {
            const marker = path.join(dir, "ran");
            const reason = new Error("job cancelled");
            const started = Date.now();
            await assert.rejects(runGuarded("the build", `touch ${marker}`, { env: {}, signal: AbortSignal.abort(reason) }), (err: Error) => {
                assert.strictEqual(err.name, "AbortError");
                assert.strictEqual(err.message, "the build: aborted before it started; nothing ran");
                assert.strictEqual(err.cause, reason);
                return true;
            });
            assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
            assert.ok(!fs.existsSync(marker), "the script ran");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

/** Runs `fn` with `vars` set in process.env, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
        return await fn();
    } finally {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    }
}
