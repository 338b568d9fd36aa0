/**
 * The default program (Pulumi.yaml + index.ts) under the REAL Pulumi engine: the `pulumi` CLI
 * built from the Go module proxy by scripts/pulumi-engine.sh, a local file backend, and the
 * passphrase secrets provider, against the test environment.
 *
 * The program runs in a temporary copy of the repository (its node_modules linked), so the real
 * work tree and its build/ directory are never touched.
 *
 * Needs: `scripts/test-env.sh up` and `scripts/pulumi-engine.sh build` (the test fails, naming
 * the missing part, if either is missing: it never skips).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadTestEnv, TestEnv } from "../harness";
import { buildInstallerImage } from "../fixtures/binfmt/image";
import { INSTALLER_IMAGE, programConfig } from "../fixtures/default-program";

const ROOT = path.join(__dirname, "..", "..");
const STACK = "engine";
const BUILD_URN_SUFFIX = "buildx:index:MultiPlatformImage$command:local:Command::app-build";
/** What Pulumi writes in place of a secret in a state file, before the ciphertext. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

interface PreviewJson {
    steps?: { op: string; urn: string; diffReasons?: string[]; replaceReasons?: string[] }[];
    changeSummary?: Record<string, number>;
    diagnostics?: { message: string; severity: string }[];
}
interface HistoryEntry {
    kind: string;
    result: string;
    resourceChanges?: Record<string, number>;
}

/** Asks scripts/pulumi-engine.sh where it put the engine; fails naming the missing part. */
function engine(what: "path" | "provider"): string {
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "pulumi-engine.sh"), what], { encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`Pulumi engine missing: ${r.stderr.trim()}. Run \`bash scripts/pulumi-engine.sh build\` first.`);
    }
    return r.stdout.trim();
}

/** The version of an installed npm package (the plugin versions the program asks for). */
function npmVersion(pkg: string): string {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
}

function copyProgram(dest: string): void {
    for (const f of ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json"]) {
        fs.copyFileSync(path.join(ROOT, f), path.join(dest, f));
    }
    for (const d of ["src", "examples"]) {
        fs.cpSync(path.join(ROOT, d), path.join(dest, d), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dest, "node_modules"), "dir");
}

describe("default program under the real Pulumi engine", function () {
    this.timeout(30 * 60_000);
    let env: TestEnv;
    let tmp: string;
    let project: string;
    let engineEnv: NodeJS.ProcessEnv;
    const timings: [string, number][] = [];
    const secretValue = `s3cr3t-${randomBytes(12).toString("hex")}`;
    const passphrase = randomBytes(16).toString("hex");
    const usesBuildSecret = /\bbuildSecret\b/.test(fs.readFileSync(path.join(ROOT, "index.ts"), "utf8"));
    let first: { digest: string; platformDigests: Record<string, string>; ref: string };

    /** Runs the CLI in the project; throws with its output on failure. */
    const pulumi = (args: string[], label?: string, input?: string): string => {
        const start = Date.now();
        const r = spawnSync("pulumi", [...args, "--non-interactive"], {
            cwd: project,
            env: engineEnv,
            input,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
        });
        if (label) timings.push([label, (Date.now() - start) / 1000]);
        if (r.status !== 0) {
            throw new Error(`pulumi ${args.join(" ")} exited ${r.status ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        }
        return r.stdout;
    };
    const outputs = () => JSON.parse(pulumi(["stack", "output", "--json", "--show-secrets"])) as Record<string, unknown>;
    const lastUpdate = (): HistoryEntry => (JSON.parse(pulumi(["stack", "history", "--json"])) as HistoryEntry[])[0];
    const preview = (label: string): PreviewJson => JSON.parse(pulumi(["preview", "--json"], label)) as PreviewJson;
    const notSame = (p: PreviewJson) => (p.steps ?? []).filter((s) => s.op !== "same");
    const layoutIndex = () => path.join(project, "build", "app-oci", "index.json");
    const buildxBuilders = () => execFileSync("docker", ["buildx", "ls", "--format", "{{.Name}}"], { encoding: "utf8" }).split("\n").filter(Boolean).sort();
    let buildersBefore: string[];

    before(() => {
        env = loadTestEnv();
        const bin = engine("path");
        const provider = engine("provider");
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-buildx-engine-"));
        project = path.join(tmp, "program");
        fs.mkdirSync(project);
        fs.mkdirSync(path.join(tmp, "state"));
        fs.mkdirSync(path.join(tmp, "home"));
        copyProgram(project);
        engineEnv = {
            ...process.env,
            PATH: `${bin}:${process.env.PATH ?? ""}`,
            PULUMI_HOME: path.join(tmp, "home"),
            PULUMI_BACKEND_URL: `file://${path.join(tmp, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: passphrase,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
            PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
            PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            NO_COLOR: "1",
        };
        delete engineEnv.PULUMI_IGNORE_AMBIENT_PLUGINS;
        delete engineEnv.PULUMI_ACCESS_TOKEN;
        // The mocha process may carry ts-node settings that must not leak into the program's own ts-node.
        delete engineEnv.TS_NODE_PROJECT;
        delete engineEnv.TS_NODE_TRANSPILE_ONLY;
        buildersBefore = buildxBuilders();
        // The provider goes into this PULUMI_HOME's plugin cache, where a downloaded one would be;
        // nothing else may appear there (no download is ever attempted).
        pulumi(["plugin", "install", "resource", "command", npmVersion("@pulumi/command"), "--file", provider]);
        pulumi(["login", `file://${path.join(tmp, "state")}`]);
        pulumi(["stack", "init", STACK, "--secrets-provider", "passphrase"]);
        buildInstallerImage(INSTALLER_IMAGE);
        for (const [key, value] of Object.entries(programConfig(env, INSTALLER_IMAGE))) {
            pulumi(["config", "set", key, value]);
        }
        // A secret in the stack's configuration. index.ts passes it to the build as a build secret
        // when it reads `buildSecret`; either way it must never reach the state in plain text.
        // The value goes in on stdin, not on the CLI's command line.
        pulumi(["config", "set", "--secret", "buildSecret"], undefined, secretValue);
    });

    after(function () {
        if (project && fs.existsSync(path.join(tmp, "state"))) {
            try {
                pulumi(["destroy", "--yes", "--skip-preview"]);
            } catch {
                /* already destroyed, or the failure is reported by the test */
            }
        }
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        console.log("    engine timings:");
        for (const [label, s] of timings) console.log(`      ${label.padEnd(34)} ${s.toFixed(1)}s`);
    });

    it("1. `pulumi up` builds the image and exports its digests", () => {
        const p = preview("preview (empty stack)");
        assert.ok((p.steps ?? []).some((s) => s.op === "create" && s.urn.endsWith(BUILD_URN_SUFFIX)), `preview does not create the build:\n${JSON.stringify(p.steps, null, 2)}`);
        assert.ok(!fs.existsSync(layoutIndex()), "preview must not build anything");

        pulumi(["up", "--yes", "--skip-preview"], "up (first, builds)");
        const out = outputs();
        const digest = out.digest as string;
        const platformDigests = out.platformDigests as Record<string, string>;
        assert.match(digest, /^sha256:[0-9a-f]{64}$/);
        assert.deepStrictEqual(Object.keys(platformDigests).sort(), ["linux/amd64", "linux/arm64"]);
        for (const d of Object.values(platformDigests)) assert.match(d, /^sha256:[0-9a-f]{64}$/);
        assert.strictEqual(out.ref, `oci-layout://build/app-oci@${digest}`);

        // Check the digests against the layout on disk, read independently of the component.
        const layout = JSON.parse(fs.readFileSync(layoutIndex(), "utf8"));
        assert.strictEqual(layout.manifests[0].digest, digest);
        const index = fs.readFileSync(path.join(project, "build", "app-oci", "blobs", "sha256", digest.slice(7)));
        assert.strictEqual(`sha256:${createHash("sha256").update(index).digest("hex")}`, digest);
        const expected: Record<string, string> = {};
        for (const m of JSON.parse(index.toString()).manifests) {
            if (m.platform?.os !== "unknown") expected[`${m.platform.os}/${m.platform.architecture}`] = m.digest;
        }
        assert.deepStrictEqual(platformDigests, expected);
        const h = lastUpdate();
        assert.strictEqual(h.result, "succeeded");
        const plugins = fs.readdirSync(path.join(tmp, "home", "plugins")).filter((f) => !/\.(lock|partial)$/.test(f));
        assert.deepStrictEqual(plugins, [`resource-command-v${npmVersion("@pulumi/command")}`], "plugins were acquired during the update");
        first = { digest, platformDigests, ref: out.ref as string };
    });

    it("2. a second `pulumi up` reports no changes and runs no build", () => {
        assert.ok(first, "needs step 1");
        const before = fs.statSync(layoutIndex()).mtimeMs;
        const p = preview("preview (unchanged)");
        assert.deepStrictEqual(notSame(p), [], `an unchanged program must plan no change:\n${JSON.stringify(notSame(p), null, 2)}`);

        pulumi(["up", "--yes", "--skip-preview"], "up (unchanged)");
        const h = lastUpdate();
        assert.strictEqual(h.result, "succeeded");
        const changed = Object.entries(h.resourceChanges ?? {}).filter(([op]) => op !== "same");
        assert.deepStrictEqual(changed, [], `the second update changed resources: ${JSON.stringify(h.resourceChanges)}`);
        assert.strictEqual(fs.statSync(layoutIndex()).mtimeMs, before, "the OCI layout was rewritten: a build ran");
        const again = outputs();
        assert.deepStrictEqual({ digest: again.digest, platformDigests: again.platformDigests, ref: again.ref }, { ...first });
    });

    it("3. changing a file of the sample app rebuilds the image, and only it", () => {
        assert.ok(first, "needs step 1");
        // Change what the app prints, so the binary (and so the image) really changes.
        const main = path.join(project, "examples", "app", "main.go");
        const source = fs.readFileSync(main, "utf8");
        assert.ok(source.includes('"hello from '), "examples/app/main.go no longer prints \"hello from …\": update this test");
        fs.writeFileSync(main, source.replace('"hello from ', `"hello (engine test ${Date.now()}) from `));

        const p = preview("preview (app changed)");
        const steps = notSame(p);
        assert.ok(steps.length > 0, "a changed app file must plan a change");
        for (const s of steps) {
            assert.ok(s.urn.endsWith(BUILD_URN_SUFFIX), `only the build may change, not ${s.op} ${s.urn}`);
            assert.ok(["replace", "create-replacement", "delete-replaced"].includes(s.op), `the build must be replaced (a trigger changed), got ${s.op}`);
        }

        pulumi(["up", "--yes", "--skip-preview"], "up (app changed, rebuilds)");
        const h = lastUpdate();
        assert.strictEqual(h.result, "succeeded");
        const changed = Object.fromEntries(Object.entries(h.resourceChanges ?? {}).filter(([op]) => op !== "same"));
        assert.deepStrictEqual(changed, { replace: 1 }, `only the build should be replaced: ${JSON.stringify(h.resourceChanges)}`);
        const out = outputs();
        assert.notStrictEqual(out.digest, first.digest, "the rebuilt image must have a new digest");
        assert.strictEqual(JSON.parse(fs.readFileSync(layoutIndex(), "utf8")).manifests[0].digest, out.digest);
    });

    it("4. `pulumi stack export` holds no secret in plain text", () => {
        const exported = pulumi(["stack", "export"], "stack export");
        assert.ok(!exported.includes(secretValue), "the buildSecret config value is in the state in plain text");
        assert.ok(!exported.includes(env.authRegistry.password), "the registry password is in the state in plain text");
        assert.ok(!exported.includes(passphrase), "the passphrase is in the state");
        const state = JSON.parse(exported);
        assert.ok(state.deployment?.secrets_providers?.type === "passphrase", "the stack must use the passphrase secrets provider");
        if (usesBuildSecret) {
            // index.ts hands buildSecret to the build: the state must carry it, encrypted.
            assert.ok(exported.includes(SECRET_SIG), "index.ts uses buildSecret but the state holds no encrypted secret");
            const shown = pulumi(["stack", "export", "--show-secrets"]);
            assert.ok(shown.includes(secretValue), "the build secret should be in the state (encrypted), but --show-secrets does not reveal it");
        }
        const config = fs.readFileSync(path.join(project, `Pulumi.${STACK}.yaml`), "utf8");
        assert.ok(!config.includes(secretValue), "the stack config file holds the secret in plain text");
    });

    it("5. `pulumi destroy` removes every resource and leaves no builder behind", () => {
        pulumi(["destroy", "--yes", "--skip-preview"], "destroy");
        const state = JSON.parse(pulumi(["stack", "export"]));
        assert.deepStrictEqual(state.deployment?.resources ?? [], [], "resources left in the stack after destroy");
        assert.deepStrictEqual(buildxBuilders(), buildersBefore, "destroy left a buildx builder behind");
        const h = lastUpdate();
        assert.strictEqual(h.kind, "destroy");
        assert.strictEqual(h.result, "succeeded");
    });
});
