/**
 * README's one command for the default program: `npm run up` / `npm run down`, run as a user would
 * in a copy of the repository, with no `pulumi` on PATH (so the script takes the engine that
 * scripts/pulumi-engine.sh built), no backend configured (so it uses `.pulumi-state/`), and Docker
 * Hub unreachable (so it configures the test environment's local images).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadTestEnv } from "../harness";
import { defaultBuilderName } from "../../src/builder/validate";
import { buildxNames, removeLeftoverBuilder } from "../harness/buildx";
import { ROOT } from "./project";

/** The last `pulumi stack output --json` object in what the script printed. */
function lastJsonObject(stdout: string): Record<string, unknown> {
    const lines = stdout.split("\n");
    const start = lines.lastIndexOf("{");
    assert.ok(start >= 0, `no JSON outputs in:\n${stdout}`);
    const end = lines.indexOf("}", start);
    return JSON.parse(lines.slice(start, end + 1).join("\n")) as Record<string, unknown>;
}

describe("npm run up / npm run down (the default program, one command)", function () {
    this.timeout(30 * 60_000);
    let copy: string;
    const pathWithoutPulumi = (process.env.PATH ?? "")
        .split(":")
        .filter((d) => !fs.existsSync(path.join(d, "pulumi")))
        .join(":");
    const npm = (script: string) => {
        const started = Date.now();
        const env: NodeJS.ProcessEnv = { ...process.env, PATH: pathWithoutPulumi };
        for (const k of Object.keys(env)) if (k.startsWith("PULUMI_") || k.startsWith("TS_NODE_")) delete env[k];
        // The copy is not beside ../shared/vendor as the repository is: point the engine script at it.
        env.PULUMI_PLUGIN_SOURCES = path.resolve(ROOT, "..", "shared", "vendor");
        if (process.env.PULUMI_ENGINE_CACHE) env.PULUMI_ENGINE_CACHE = process.env.PULUMI_ENGINE_CACHE;
        const r = spawnSync("npm", ["run", "--silent", script], { cwd: copy, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
        console.log(`      npm run ${script}: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        assert.strictEqual(r.status, 0, `npm run ${script} failed\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        return r.stdout;
    };

    before(() => {
        loadTestEnv();
        copy = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-buildx-npm-up-"));
        for (const f of ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json"]) fs.copyFileSync(path.join(ROOT, f), path.join(copy, f));
        for (const d of ["src", "examples", "scripts", path.join("test", "fixtures"), path.join("test", "harness")]) {
            fs.cpSync(path.join(ROOT, d), path.join(copy, d), { recursive: true });
        }
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"), "dir");
    });

    after(() => {
        if (copy) fs.rmSync(copy, { recursive: true, force: true });
    });

    it("`npm run up` builds and prints digests that match the OCI layout on disk; `npm run down` destroys the stack", () => {
        // scripts/default-program.sh's stack "dev" in a fresh copy: a builder of its name is a killed run's.
        removeLeftoverBuilder(defaultBuilderName("pulumi-buildx-demo", "dev", "local"));
        const before = buildxNames();
        const out = lastJsonObject(npm("up"));
        const layout = path.join(copy, "build", "app-oci");
        const digest = JSON.parse(fs.readFileSync(path.join(layout, "index.json"), "utf8")).manifests[0].digest as string;
        assert.strictEqual(out.digest, digest);
        const index = fs.readFileSync(path.join(layout, "blobs", "sha256", digest.slice(7)));
        assert.strictEqual(`sha256:${createHash("sha256").update(index).digest("hex")}`, digest);
        const expected: Record<string, string> = {};
        for (const m of JSON.parse(index.toString()).manifests) {
            if (m.platform?.os !== "unknown") expected[`${m.platform.os}/${m.platform.architecture}`] = m.digest;
        }
        assert.deepStrictEqual(out.platformDigests, expected);
        assert.ok(fs.existsSync(path.join(copy, ".pulumi-state", ".pulumi", "stacks")), "the stack is not in .pulumi-state/");
        assert.strictEqual(out.builderName, defaultBuilderName("pulumi-buildx-demo", "dev", "local"), "the builder's name is not the one cleared of leftovers");
        assert.ok(buildxNames().includes(out.builderName as string), "the builder is missing after up");

        npm("down");
        assert.deepStrictEqual(buildxNames().sort(), before.sort(), "npm run down left the builder");
    });
});
