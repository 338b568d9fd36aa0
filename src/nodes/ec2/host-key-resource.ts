import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { GUARDED_BASH } from "../../guard";
import { hostKeyCommand, hostKeyEnvironment, hostKeyUpdateCommand, parseStoredHostKey } from "./host-key-store";

export interface StoredHostKeyArgs {
    instanceId: pulumi.Input<string>;
    /** The instance's region (pulumi-aws's `region` output); empty or undefined: the SDK's default. */
    region: pulumi.Input<string | undefined>;
    /** The Pulumi AWS provider's `profile`, for the reader's SDK (`AWS_PROFILE`); empty or undefined: none. */
    profile?: pulumi.Input<string | undefined>;
    nodeName: string;
    /** How long the reader waits for the key to appear on the console. */
    timeoutMinutes: number;
    /** The Command's create timeout, e.g. `"20m"`. */
    createTimeout: string;
}

/**
 * The SSH host key of an instance, read from its EC2 console once per instance and kept in the
 * state (`host-key-store.ts`): a local Command `${name}-host-key`, keyed on the instance ID, runs
 * the reader when the instance is new or replaced, and never on a later preview or `up` of the
 * same instance (its `update` re-prints the stored key). `hostKey` is `""` where nothing ran the
 * Command (see not-run.ts).
 */
export function storedHostKey(
    name: string,
    args: StoredHostKeyArgs,
    parent: pulumi.Resource,
): { reader: command.local.Command; hostKey: pulumi.Output<string> } {
    const create = hostKeyCommand();
    const reader = new command.local.Command(
        `${name}-host-key`,
        {
            create,
            update: hostKeyUpdateCommand(create),
            interpreter: GUARDED_BASH,
            environment: pulumi
                .all([args.instanceId, args.region, args.profile])
                .apply(([instanceId, region, profile]) =>
                    hostKeyEnvironment({ instanceId, region, profile, nodeName: args.nodeName, timeoutMinutes: args.timeoutMinutes }),
                ),
            triggers: [args.instanceId],
        },
        { parent, customTimeouts: { create: args.createTimeout } },
    );
    // "" (or undefined) only where nothing ran it: the reader prints a key or fails.
    const hostKey = reader.stdout.apply((stdout) => (stdout ? parseStoredHostKey(stdout, args.nodeName) : ""));
    return { reader, hostKey };
}
