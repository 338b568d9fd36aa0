/**
 * An EC2 node's SSH host key is read from the instance's console once per instance and kept in
 * the state, under the real engine and the real command provider: a second `up` and a `preview`
 * make no GetConsoleOutput call and change nothing; neither does a change of the reader's
 * environment (an update re-prints the stored key); a new instance ID reads the new instance's
 * console and replaces the stored key. The console is the stand-in EC2 API of this process
 * (test/harness/aws.ts), reached by the program's reader through AWS_ENDPOINT_URL_EC2.
 *
 * Needs `scripts/pulumi-engine.sh build`; fails naming what is missing.
 */
import * as assert from "assert";
import { HOST_KEY_MARKER } from "../../src/nodes/ec2/host-key";
import { ec2Api, madeUpHostKey } from "../harness";
import { EngineProject, programProject } from "./project";

const console_ = (key: string) => `[    0.000000] Linux version 6.1.119\r\n${HOST_KEY_MARKER} ${key}\r\n`;

describe("EC2 node host key, stored once per instance (real engine)", function () {
    this.timeout(15 * 60_000);
    let project: EngineProject;
    const keys = { "i-0aaa": madeUpHostKey("vm a"), "i-0bbb": madeUpHostKey("vm b") };
    const callsFor = (id: string) => ec2Api.calls.filter((c) => c.instanceId === id).length;
    // Not project.pulumi (spawnSync): the stand-in EC2 API answers from this process's event loop.
    const pulumi = async (args: string[], label: string) => {
        const started = Date.now();
        const run = project.start(args);
        const code = await run.exited;
        project.timings.push([label, (Date.now() - started) / 1000]);
        assert.strictEqual(code, 0, `pulumi ${args.join(" ")} failed:\n${run.output()}`);
    };

    before(async () => {
        await ec2Api.ready;
        ec2Api.serveFixed({ "i-0aaa": console_(keys["i-0aaa"]), "i-0bbb": console_(keys["i-0bbb"]) });
        project = programProject("host-key");
        project.init("hostkey");
    });
    after(() => {
        project?.printTimings();
        project?.dispose();
    });

    it("reads the console on the first up only; a new instance is read again", async () => {
        project.setConfig({ instanceId: "i-0aaa" });
        await pulumi(["up", "--yes", "--skip-preview"], "up (new instance)");
        assert.strictEqual(project.outputs().hostKey, keys["i-0aaa"]);
        const read = callsFor("i-0aaa");
        assert.ok(read >= 1, "the first up did not read the console");

        await pulumi(["preview"], "preview (unchanged)");
        await pulumi(["up", "--yes", "--skip-preview"], "up (unchanged)");
        assert.strictEqual(callsFor("i-0aaa"), read, "an unchanged preview/up read the console again");
        assert.deepStrictEqual(project.lastUpdate().resourceChanges, { same: 3 });
        assert.strictEqual(project.outputs().hostKey, keys["i-0aaa"], "the stored key");

        // Another environment for the reader (as a new readyTimeoutMinutes, another checkout path
        // or a package upgrade would give it): the Command is updated, and its update re-prints
        // the stored key instead of reading the console again.
        project.setConfig({ instanceId: "i-0aaa", timeoutMinutes: "2" });
        await pulumi(["preview"], "preview (reader's environment changed)");
        await pulumi(["up", "--yes", "--skip-preview"], "up (reader's environment changed)");
        assert.deepStrictEqual(project.lastUpdate().resourceChanges, { update: 1, same: 2 });
        assert.strictEqual(callsFor("i-0aaa"), read, "a new environment of the reader read the console again");
        assert.strictEqual(project.outputs().hostKey, keys["i-0aaa"], "the stored key, re-printed");

        project.setConfig({ instanceId: "i-0bbb" });
        await pulumi(["up", "--yes", "--skip-preview"], "up (new instance ID)");
        assert.ok(callsFor("i-0bbb") >= 1, "the new instance's console was not read");
        assert.strictEqual(callsFor("i-0aaa"), read, "the old instance's console was read again");
        assert.strictEqual(project.outputs().hostKey, keys["i-0bbb"]);
        assert.deepStrictEqual(project.lastUpdate().resourceChanges, { replace: 1, same: 2 });
    });
});
