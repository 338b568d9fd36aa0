/**
 * The default program (Pulumi.yaml + index.ts) under the REAL Pulumi engine: the `pulumi` CLI
 * built from the Go module proxy and the upstream nodejs language host and command provider that
 * scripts/pulumi-engine.sh builds, a local file backend, and the passphrase secrets provider,
 * against the test environment.
 *
 * The program runs in a temporary copy of the repository (its node_modules linked), so the real
 * work tree and its build/ directory are never touched.
 *
 * Needs: `scripts/test-env.sh up` and `scripts/pulumi-engine.sh build` (the test fails, naming
 * the missing part, if either is missing: it never skips).
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { defaultBuilderName } from "../../src/builder/validate";
import { loadTestEnv, TestEnv } from "../harness";
import { removeLeftoverBuilder } from "../harness/buildx";
import { buildInstallerImage } from "../fixtures/binfmt/image";
import { INSTALLER_IMAGE, programConfig } from "../fixtures/default-program";
import { EngineProject, npmVersion, PreviewJson, ROOT } from "./project";

const STACK = "engine";
const BUILD_URN_SUFFIX = "buildx:index:MultiPlatformImage$command:local:Command::app-build";
/** What Pulumi writes in place of a secret in a state file, before the ciphertext. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** A buildx progress line of a RUN step for one platform, e.g. `#12 [linux/arm64 build 3/4] RUN …`. */
const PROGRESS_LINE = /#\d+ \[linux\/arm64[^\]]* \d+\/\d+\] RUN /;

function copyProgram(dest: string): void {
    for (const f of ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json"]) {
        fs.copyFileSync(path.join(ROOT, f), path.join(dest, f));
    }
    fs.cpSync(path.join(ROOT, "examples"), path.join(dest, "examples"), { recursive: true });
}

describe("default program under the real Pulumi engine", function () {
    this.timeout(30 * 60_000);
    let env: TestEnv;
    let project: EngineProject;
    const secretValue = `s3cr3t-${randomBytes(12).toString("hex")}`;
    const usesBuildSecret = /\bbuildSecret\b/.test(fs.readFileSync(path.join(ROOT, "index.ts"), "utf8"));
    let first: { digest: string; platformDigests: Record<string, string>; ref: string };
    let rebuilt: string;

    const pulumi = (args: string[], label?: string, input?: string) => project.pulumi(args, label, input);
    const outputs = () => project.outputs();
    const lastUpdate = () => project.lastUpdate();
    const preview = (label: string) => project.preview(label);
    const notSame = (p: PreviewJson) => (p.steps ?? []).filter((s) => s.op !== "same");
    const layoutIndex = () => path.join(project.dir, "build", "app-oci", "index.json");
    const buildxBuilders = () => execFileSync("docker", ["buildx", "ls", "--format", "{{.Name}}"], { encoding: "utf8" }).split("\n").filter(Boolean).sort();
    const dockerfile = () => path.join(project.dir, "examples", "app", "Dockerfile");
    let buildersBefore: string[];

    before(() => {
        env = loadTestEnv();
        project = new EngineProject("engine");
        copyProgram(project.dir);
        project.linkPackage();
        // index.ts's Builder "local" gets this name from project and stack; the stack is new, so an
        // instance of that name can only be what a killed run of this test left.
        removeLeftoverBuilder(defaultBuilderName("pulumi-buildx-demo", STACK, "local"));
        buildersBefore = buildxBuilders();
        project.init(STACK);
        buildInstallerImage(INSTALLER_IMAGE);
        project.setConfig(programConfig(env, INSTALLER_IMAGE));
        // A secret in the stack's configuration. index.ts passes it to the build as a build secret
        // when it reads `buildSecret`; either way it must never reach the state in plain text.
        // The value goes in on stdin, not on the CLI's command line.
        pulumi(["config", "set", "--secret", "buildSecret"], undefined, secretValue);
    });

    after(() => {
        project?.printTimings();
        project?.dispose();
    });

    it("1. `pulumi up` builds the image and exports its digests", () => {
        const p = preview("preview (empty stack)");
        assert.ok(
            (p.steps ?? []).some((s) => s.op === "create" && s.urn.endsWith(BUILD_URN_SUFFIX)),
            `preview does not create the build:\n${JSON.stringify(p.steps, null, 2)}`,
        );
        assert.ok(!fs.existsSync(layoutIndex()), "preview must not build anything");

        const up = project.upWithEvents("up (first, builds)");
        assert.strictEqual(up.status, 0, `pulumi up failed\n${up.stdout}\n${up.stderr}`);
        // The real provider streams the build's output to the engine while the command runs: the
        // progress lines arrive as diagnostics of the build command, before its outputs do.
        assert.match(up.stdout, PROGRESS_LINE, "pulumi up does not show buildx's progress lines");
        const buildDone = up.events.find((e) => e.resOutputsEvent?.metadata.urn.endsWith(BUILD_URN_SUFFIX));
        assert.ok(buildDone, "the event log has no outputs event for the build");
        const progress = up.events.filter((e) => e.diagnosticEvent?.urn?.endsWith(BUILD_URN_SUFFIX) && PROGRESS_LINE.test(e.diagnosticEvent.message));
        assert.ok(progress.length > 0, "no progress line reached the engine as a diagnostic of the build");
        assert.ok(progress[0].sequence < buildDone.sequence, "progress lines arrived only after the build finished");
        const out = outputs();
        const digest = out.digest as string;
        const platformDigests = out.platformDigests as Record<string, string>;
        assert.match(digest, /^sha256:[0-9a-f]{64}$/);
        assert.deepStrictEqual(Object.keys(platformDigests).sort(), ["linux/amd64", "linux/arm64"]);
        for (const d of Object.values(platformDigests)) assert.match(d, /^sha256:[0-9a-f]{64}$/);
        assert.strictEqual(out.ref, `oci-layout://build/app-oci@${digest}`);
        // The name before() cleared of leftovers is the one the program really uses.
        assert.strictEqual(out.builderName, defaultBuilderName("pulumi-buildx-demo", STACK, "local"));
        assert.ok(buildxBuilders().includes(out.builderName as string), "the builder is missing after up");

        // Check the digests against the layout on disk, read independently of the component.
        const layout = JSON.parse(fs.readFileSync(layoutIndex(), "utf8"));
        assert.strictEqual(layout.manifests[0].digest, digest);
        const index = fs.readFileSync(path.join(project.dir, "build", "app-oci", "blobs", "sha256", digest.slice(7)));
        assert.strictEqual(`sha256:${createHash("sha256").update(index).digest("hex")}`, digest);
        const expected: Record<string, string> = {};
        for (const m of JSON.parse(index.toString()).manifests) {
            if (m.platform?.os !== "unknown") expected[`${m.platform.os}/${m.platform.architecture}`] = m.digest;
        }
        assert.deepStrictEqual(platformDigests, expected);
        const h = lastUpdate();
        assert.strictEqual(h.result, "succeeded");
        const plugins = fs.readdirSync(path.join(project.home, "plugins")).filter((f) => !/\.(lock|partial)$/.test(f));
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

    it("2b. `pulumi refresh` on the unchanged stack reports no changes", () => {
        assert.ok(first, "needs step 1");
        pulumi(["refresh", "--yes", "--skip-preview"], "refresh (unchanged)");
        const h = lastUpdate();
        assert.strictEqual(h.kind, "refresh");
        assert.strictEqual(h.result, "succeeded");
        const changed = Object.entries(h.resourceChanges ?? {}).filter(([op]) => op !== "same");
        assert.deepStrictEqual(changed, [], `refresh changed resources: ${JSON.stringify(h.resourceChanges)}`);
        assert.deepStrictEqual(notSame(preview("preview (after refresh)")), [], "refresh left a difference to the program");
    });

    it("2c. after changing only a build arg, `preview --diff` shows an update of the image's build and no secret", () => {
        assert.ok(first, "needs step 1");
        const baseImage = programConfig(env, INSTALLER_IMAGE).baseImage;
        // Preview only: the changed image never has to exist.
        project.setConfig({ baseImage: `${baseImage}-changed` });
        try {
            const r = project.run(["preview", "--diff", "--show-secrets=false"], "preview --diff (build arg)");
            assert.strictEqual(r.status, 0, r.stderr);
            const text = r.stdout + r.stderr;
            // The build command is updated in place (a build arg is in its script, not in its triggers)
            // and is shown inside the image component's tree.
            assert.match(text, /~ +command:local:Command: \(update\)/, `no update of the build command in:\n${text}`);
            assert.match(
                text,
                /\[urn=[^\]]*buildx:index:MultiPlatformImage\$command:local:Command::app-build\]/,
                `the update is not the image's build:\n${text}`,
            );
            assert.match(text, /BASE_IMAGE/, "the diff does not show the changed build arg");
            const structured = preview("preview --json (build arg)");
            const changed = notSame(structured).map((st) => `${st.op} ${st.urn.split("::").pop()}`);
            assert.deepStrictEqual(changed, ["update app-build"], "only the image's build may change");
            for (const secret of [secretValue, env.authRegistry.password, project.passphrase]) {
                assert.ok(!text.includes(secret), "a secret value appears in the preview output");
            }
        } finally {
            project.setConfig({ baseImage });
        }
        assert.deepStrictEqual(notSame(preview("preview (build arg restored)")), []);
    });

    it("3. changing a file of the sample app rebuilds the image, and only it", () => {
        assert.ok(first, "needs step 1");
        // Change what the app prints, so the binary (and so the image) really changes.
        const main = path.join(project.dir, "examples", "app", "main.go");
        const source = fs.readFileSync(main, "utf8");
        assert.ok(source.includes('"hello from '), 'examples/app/main.go no longer prints "hello from …": update this test');
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
        rebuilt = out.digest as string;
    });

    it("3b. a RUN that exits 42 fails `up` with the build's error and records no build that did not happen; fixing it recovers", () => {
        assert.ok(rebuilt, "needs step 3");
        const good = fs.readFileSync(dockerfile(), "utf8");
        const broken = good.replace(/^RUN uname -m > \/built-on.txt$/m, "RUN uname -m > /built-on.txt && exit 42");
        assert.notStrictEqual(broken, good, "examples/app/Dockerfile no longer has the `RUN uname -m` step: update this test");
        fs.writeFileSync(dockerfile(), broken);
        const buildsBefore = project.resources().filter((r) => r.urn.endsWith(BUILD_URN_SUFFIX));
        assert.strictEqual(buildsBefore.length, 1);

        const failed = project.run(["up", "--yes", "--skip-preview"], "up (RUN exits 42, fails)");
        assert.notStrictEqual(failed.status, 0, "pulumi up succeeded although a RUN exited 42");
        assert.match(failed.stdout + failed.stderr, /exit code: 42/, "the failure does not carry the build's error text");
        assert.strictEqual(lastUpdate().result, "failed");

        // The state keeps the last build that happened, and nothing from the failed one.
        const builds = project.resources().filter((r) => r.urn.endsWith(BUILD_URN_SUFFIX));
        assert.deepStrictEqual(builds, buildsBefore, "the state's build is not exactly the last one that happened");
        assert.strictEqual(outputs().digest, rebuilt, "the stack's digest changed although no build succeeded");
        assert.strictEqual(JSON.parse(fs.readFileSync(layoutIndex(), "utf8")).manifests[0].digest, rebuilt, "the failed build wrote the OCI layout");

        // Fix it (a different, passing step, so the fixed program really builds anew).
        fs.writeFileSync(dockerfile(), good.replace(/^RUN uname -m > \/built-on.txt$/m, "RUN uname -m > /built-on.txt && exit 0"));
        pulumi(["up", "--yes", "--skip-preview"], "up (fixed, rebuilds)");
        assert.strictEqual(lastUpdate().result, "succeeded");
        const out = outputs();
        assert.match(out.digest as string, /^sha256:[0-9a-f]{64}$/);
        assert.notStrictEqual(out.digest, rebuilt);
        assert.strictEqual(JSON.parse(fs.readFileSync(layoutIndex(), "utf8")).manifests[0].digest, out.digest);
    });

    it("4. `pulumi stack export` holds no secret in plain text", () => {
        const exported = pulumi(["stack", "export"], "stack export");
        assert.ok(!exported.includes(secretValue), "the buildSecret config value is in the state in plain text");
        assert.ok(!exported.includes(env.authRegistry.password), "the registry password is in the state in plain text");
        assert.ok(!exported.includes(project.passphrase), "the passphrase is in the state");
        const state = JSON.parse(exported);
        assert.ok(state.deployment?.secrets_providers?.type === "passphrase", "the stack must use the passphrase secrets provider");
        if (usesBuildSecret) {
            // index.ts hands buildSecret to the build: the state must carry it, encrypted.
            assert.ok(exported.includes(SECRET_SIG), "index.ts uses buildSecret but the state holds no encrypted secret");
            const shown = pulumi(["stack", "export", "--show-secrets"]);
            assert.ok(shown.includes(secretValue), "the build secret should be in the state (encrypted), but --show-secrets does not reveal it");
        }
        const config = fs.readFileSync(path.join(project.dir, `Pulumi.${STACK}.yaml`), "utf8");
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
