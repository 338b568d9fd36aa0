import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planBuild } from "../../../src/image/plan";
import { sourceChecks } from "../../../src/image/build-sources";
import { renderScript } from "../../../src/shell";
import { expectGolden } from "../../harness/golden";
import { planInput } from "./plan-input";

describe("secrets from env/file and ssh forwards in the build plan", () => {
    const secretSources = [
        { id: "NPM_TOKEN", env: "MY_NPM_TOKEN" },
        { id: "aws", file: "./creds,1.txt" },
    ];
    const ssh = [
        { id: "default", paths: [] },
        { id: "deploy", paths: ["/keys/deploy.pem", "/run/agent.sock"] },
    ];

    it("matches golden/sources.sh (names and paths only) and passes bash -n", () => {
        const plan = planBuild(planInput({ secretSources, ssh }));
        const script = renderScript(plan);
        expectGolden("sources.sh", script);
        execFileSync("bash", ["-n", "-c", script]);
        assert.match(
            script,
            / --secret id=NPM_TOKEN,env=MY_NPM_TOKEN --secret 'id=aws,"src=\.\/creds,1\.txt"' --ssh default --ssh deploy=\/keys\/deploy\.pem,\/run\/agent\.sock /,
        );
        assert.deepStrictEqual(plan.env, {}, "nothing of a source travels in the Command's environment");
    });

    // The checks run as written: each refuses, naming the id, and says nothing of the value.
    const run = (env: NodeJS.ProcessEnv) => {
        const script = ["set -euo pipefail", ...sourceChecks(secretSources, ssh).map((l) => renderScript([l]).trimEnd()), "echo all-there"].join("\n");
        return spawnSync("bash", ["-c", script], { encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
    };

    it("refuses an unset variable, a missing file and a missing agent before the build, naming the id", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sources-"));
        try {
            const cwd = process.cwd();
            process.chdir(dir);
            try {
                const noVar = run({});
                assert.strictEqual(noVar.status, 1);
                assert.match(noVar.stderr, /pulumi-buildx: secrets\.NPM_TOKEN: the environment variable MY_NPM_TOKEN is not set where docker buildx runs/);
                const noFile = run({ MY_NPM_TOKEN: "s3cret-value" });
                assert.strictEqual(noFile.status, 1);
                assert.match(noFile.stderr, /secrets\.aws: the file \.\/creds,1\.txt is not there or not readable/);
                assert.ok(!noFile.stderr.includes("s3cret-value"));
                fs.writeFileSync(path.join(dir, "creds,1.txt"), "x");
                const noAgent = run({ MY_NPM_TOKEN: "" });
                assert.strictEqual(noAgent.status, 1);
                assert.match(noAgent.stderr, /ssh \(id default\): SSH_AUTH_SOCK is not set/);
                const ok = run({ MY_NPM_TOKEN: "", SSH_AUTH_SOCK: "/tmp/agent.sock" });
                assert.strictEqual(ok.status, 0, ok.stderr);
                assert.strictEqual(ok.stdout, "all-there\n");
            } finally {
                process.chdir(cwd);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
