/**
 * The consumer test's run of the host-key reader as shipped: `node <project>/node_modules/
 * pulumi-buildx/dist/nodes/ec2/host-key-main.js`, resolving `@aws-sdk/client-ec2` from the
 * consumer's node_modules, against the test harness's stand-in EC2 API (GetConsoleOutput as AWS
 * answers it). The stand-in first answers NotFound once, as EC2 may for a new instance. Exits 0
 * when the reader printed exactly the console's key. Run with ts-node from the repository:
 * `node -r ts-node/register/transpile-only scripts/consumer/host-key-reader.ts PROJECT_DIR`.
 */
import { spawn } from "child_process";
import * as path from "path";
import { ec2Api } from "../../test/harness/aws";
import { madeUpHostKey } from "../../src/testing/answers";
import { HOST_KEY_MARKER } from "../../src/nodes/ec2/host-key";
import { HOST_KEY_ENV } from "../../src/nodes/ec2/host-key-store";

async function main(project: string): Promise<number> {
    await ec2Api.ready;
    const instanceId = "i-0c0ffee0consumer1";
    const key = madeUpHostKey("consumer");
    ec2Api.serveFixed({ [instanceId]: `[    0.000000] Linux version 6.1\r\n${HOST_KEY_MARKER} ${key}\r\n` }, { [instanceId]: 1 });
    const reader = path.join(project, "node_modules", "pulumi-buildx", "dist", "nodes", "ec2", "host-key-main.js");
    const env = {
        ...process.env,
        [HOST_KEY_ENV.instanceId]: instanceId,
        [HOST_KEY_ENV.region]: "us-east-1",
        [HOST_KEY_ENV.nodeName]: "consumer",
        [HOST_KEY_ENV.timeoutMinutes]: "1",
    };
    // Asynchronous: this process serves the stand-in API while the reader runs.
    const child = spawn(process.execPath, [reader], { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const expected = `${HOST_KEY_MARKER} ${key}\n`;
    if (code !== 0 || stdout !== expected) {
        console.error(`the shipped reader exited ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
        return 1;
    }
    console.log(`the shipped reader printed the console's key after ${ec2Api.calls.length} GetConsoleOutput calls`);
    return 0;
}

main(process.argv[2] ?? process.cwd()).then((code) => process.exit(code));
