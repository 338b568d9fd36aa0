/**
 * What the consumer runners share: run one program under one set of mocks and report each check
 * as a consumer's own unit test would. `node run-qemu.js echo|testing` (or run-ec2.js) prints
 * `ok …` / `FAIL …` per check and exits non-zero when one failed.
 *
 * - `echo`: Pulumi's documented mocks (`state: args.inputs`). Every component must register and
 *   settle with no error; digests and endpoints are then empty, and nothing runs.
 * - `testing`: pulumi-buildx/testing's `buildxMocks()`. Outputs are plausible, so the program's
 *   own wiring can be checked.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildxMocks } from "pulumi-buildx/testing";

export { outputValue } from "pulumi-buildx/testing";
export const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ECHO: pulumi.runtime.Mocks = { newResource: (args) => ({ id: args.name + "_id", state: args.inputs }), call: (args) => args.inputs };

/** A check: `name` holds, or the run fails showing `detail`. */
export type Check = (name: string, ok: boolean, detail: unknown) => void;

/** Sets the mocks named on the command line, runs `body` (which imports the program), checks that nothing failed, exits. */
export function runMocked(program: string, body: (testing: boolean, check: Check) => Promise<void>): void {
    const mocks = process.argv[2];
    let failed = 0;
    const check: Check = (name, ok, detail) => {
        console.log(`${ok ? "ok  " : "FAIL"} ${program} under ${mocks} mocks: ${name}${ok ? "" : ` (got ${JSON.stringify(detail)})`}`);
        if (!ok) failed++;
    };
    const rejections: unknown[] = [];
    process.on("unhandledRejection", (reason) => rejections.push(reason));
    const timer = setTimeout(() => {
        check("every output settles within 60 s", false, rejections.map(String));
        process.exit(1);
    }, 60_000);
    (async () => {
        await pulumi.runtime.setMocks(mocks === "testing" ? buildxMocks() : ECHO, "consumer", "test", false);
        await body(mocks === "testing", check);
        clearTimeout(timer);
        await new Promise((r) => setTimeout(r, 100));
        check("every component registered and settled without an error", rejections.length === 0, rejections.map(String));
        process.exit(failed === 0 ? 0 : 1);
    })().catch((err) => {
        check("the program runs", false, String(err?.stack ?? err));
        process.exit(1);
    });
}
