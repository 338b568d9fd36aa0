/**
 * A CI job for the sweeper test, run as its own process: brings up the ephemeral remote builder
 * with withEphemeralBuilder, prints `READY <builder name>` from inside `fn` and then waits, to be
 * SIGKILLed before its `destroy`. Settings from the environment: EPHEMERAL_JOB (JSON of
 * { engineBin, envVars }) and BUILDX_TESTENV_JSON as the tests use it.
 */
import { withEphemeralBuilder } from "../../../src";
import { loadTestEnv } from "../../harness";
import { remoteFleetProgram, workspaceOptions } from "./fleet";

async function main(): Promise<void> {
    const { engineBin, envVars } = JSON.parse(process.env.EPHEMERAL_JOB ?? "{}") as { engineBin: string; envVars: Record<string, string> };
    const env = loadTestEnv();
    await withEphemeralBuilder({ program: remoteFleetProgram(env), workspaceOptions: await workspaceOptions(engineBin, envVars) }, async (builder) => {
        console.log(`READY ${builder}`);
        // A pending promise alone does not keep node alive: the timer does, until the SIGKILL.
        await new Promise(() => setInterval(() => undefined, 60_000));
    });
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
