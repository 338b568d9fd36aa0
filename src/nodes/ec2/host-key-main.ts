/**
 * The program the host-key Command runs (`host-key-store.ts`): reads the instance's SSH host key
 * from its EC2 console output (`console.ts`) and prints it as one `pulumi-buildx-host-key:` line.
 * The instance, its region, the node's name and the time limit come in the environment; an error
 * goes to stderr with exit status 1, so the Command (and `up`) fails with it.
 */
import { readHostKeyFromConsole } from "./console";
import { HOST_KEY_MARKER } from "./host-key";
import { HOST_KEY_ENV } from "./host-key-store";

async function main(env: NodeJS.ProcessEnv): Promise<void> {
    const instanceId = env[HOST_KEY_ENV.instanceId] ?? "";
    const nodeName = env[HOST_KEY_ENV.nodeName] ?? "";
    const timeoutMinutes = Number(env[HOST_KEY_ENV.timeoutMinutes]);
    if (instanceId === "" || nodeName === "" || !(timeoutMinutes > 0)) {
        throw new Error(`expected ${Object.values(HOST_KEY_ENV).join(", ")} in the environment`);
    }
    const region = env[HOST_KEY_ENV.region] || undefined;
    const key = await readHostKeyFromConsole({ nodeName, instanceId, region, timeoutMinutes });
    process.stdout.write(`${HOST_KEY_MARKER} ${key}\n`);
}

if (require.main === module) {
    main(process.env).catch((err: Error) => {
        process.stderr.write(`pulumi-buildx: ${err.message}\n`);
        process.exit(1);
    });
}
