/**
 * The console reader itself (console.ts), with the real AWS SDK against the stand-in EC2 API of
 * this process (test/harness/aws.ts, reached through AWS_ENDPOINT_URL_EC2): a new instance's ID
 * that EC2 does not show yet (`InvalidInstanceID.NotFound`) is retried for a while; one that stays
 * unknown fails naming the likely cause, the credentials the reader signed with.
 */
import * as assert from "assert";
import { HOST_KEY_MARKER } from "../../../../src/nodes/ec2/host-key";
import { NOT_FOUND_RETRY_SECONDS, readHostKeyFromConsole, useConsoleHostKeyReader } from "../../../../src/nodes/ec2/console";
import { ec2Api, madeUpHostKey } from "../../../harness";

const KEY = madeUpHostKey("console test vm");
const consoleWithKey = `[    0.000000] Linux version 6.1.119\r\n${HOST_KEY_MARKER} ${KEY}\r\n`;
const callsFor = (id: string) => ec2Api.calls.filter((c) => c.instanceId === id).length;

describe("EC2 console reader (AWS SDK, stand-in EC2 API)", () => {
    // Fast polls; a retry window of 1.5 s stands in for NOT_FOUND_RETRY_SECONDS.
    const read = (instanceId: string) =>
        readHostKeyFromConsole({ nodeName: "arm", instanceId, region: "eu-west-1", timeoutMinutes: 1, pollMs: 50, notFoundRetryMs: 1500 });

    before(async () => {
        await ec2Api.ready;
        useConsoleHostKeyReader(undefined); // pulumi-buildx/testing's mocks may have set one in this process
    });

    it("retries NotFound right after launch, as EC2 is eventually consistent", async () => {
        ec2Api.serveFixed({ "i-0new": consoleWithKey }, { "i-0new": 3 });
        const before = callsFor("i-0new");
        assert.strictEqual(await read("i-0new"), KEY);
        assert.ok(callsFor("i-0new") - before >= 4, `3 NotFound answers, then the console: ${callsFor("i-0new") - before} calls`);
    });

    it("an instance that stays unknown fails after the retry window, naming the credentials and region the reader used", async () => {
        ec2Api.serveFixed({});
        const started = Date.now();
        const before = callsFor("i-0gone");
        await assert.rejects(read("i-0gone"), (e: Error) => {
            const took = Date.now() - started;
            assert.ok(took >= 1500 && took < 10_000, `failed after ${took} ms`);
            assert.ok(callsFor("i-0gone") - before > 2, "NotFound was retried");
            assert.match(e.message, /^node arm \(i-0gone\): GetConsoleOutput failed with InvalidInstanceID\.NotFound \(still after [12] s\): /);
            assert.match(
                e.message,
                /Most likely the reader's credentials are of another account \(or its region another\) than the Pulumi AWS provider's\. The reader signs/,
            );
            assert.match(e.message, /AWS SDK's default credential chain on this machine \(AWS_PROFILE not set\)/);
            assert.match(e.message, /AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY\/AWS_SESSION_TOKEN unless AWS_PROFILE is set/);
            assert.match(e.message, /region eu-west-1/);
            assert.match(e.message, /the Pulumi AWS provider's profile \(aws:profile, or an explicit provider's\)/);
            assert.match(e.message, /assumeRole/);
            assert.match(e.message, /pulumi up --refresh/);
            assert.doesNotMatch(e.message, /harness-stand-in|AKIDHARNESSSTANDIN/, "no credential in the message");
            return true;
        });
    });

    it("retries NotFound for half a minute by default", () => {
        assert.strictEqual(NOT_FOUND_RETRY_SECONDS, 30);
    });
});
