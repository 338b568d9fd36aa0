/**
 * `ec2BuilderProgram`: the `program` of `withEphemeralBuilder` for native EC2 builders: one
 * `Ec2BuilderNode` per platform, all appended to one `Builder` with the driver of their transport.
 * Its arguments are checked when the program is made, before any stack exists: its own, and the
 * nodes' (with `Ec2BuilderNode`'s rules) unless `allowedCidrs` or `sshPublicKey` holds an Output,
 * which the nodes then check at construction, once known.
 */
import * as pulumi from "@pulumi/pulumi";
import { Builder } from "../../builder/component";
import { NAME_PATTERN, NAME_RULE } from "../../builder/validate";
import { InputProblem, InputProblems, isLate } from "../../errors";
import type { EphemeralBuilderProgram } from "../../ephemeral";
import { collectPlatforms, PlatformString } from "../../platform";
import { Ec2BuilderNodeArgs, Ec2NodeArch, Ec2NodeTransport } from "./args";
import { Ec2BuilderNode } from "./component";
import { instanceTypeArch, validateEc2NodeArgs } from "./validate";

/** The platforms an EC2 node can be native for, with the node architecture of each. */
const NATIVE: Record<string, Ec2NodeArch> = { "linux/amd64": "amd64", "linux/arm64": "arm64" };

/**
 * The arguments of `ec2BuilderProgram(args)`: which native platforms to build on, and how the
 * EC2 nodes are reached. Required: `platforms`, `allowedCidrs`, `sshPublicKey`.
 */
export interface Ec2BuilderProgramArgs {
    /**
     * One EC2 node per platform, each native for it and pinned to it: `linux/amd64` and/or
     * `linux/arm64` (short forms such as `arm64` are normalised). Plain values, at least one, each
     * once. A build for these platforms on the builder runs each platform on its own node.
     */
    platforms: string[];
    /** Who may reach the nodes: IPv4 CIDR blocks (see `Ec2BuilderNodeArgs.allowedCidrs`). Required. */
    allowedCidrs: pulumi.Input<string>[];
    /**
     * OpenSSH public key authorised on every node (see `Ec2BuilderNodeArgs.sshPublicKey`).
     * Required: the readiness check (and, for `tls`, the server key's delivery) logs in with it.
     */
    sshPublicKey: pulumi.Input<string>;
    /** The matching private key for the readiness check. Default: the SSH agent. See `Ec2BuilderNodeArgs.sshPrivateKey`. */
    sshPrivateKey?: pulumi.Input<string>;
    /**
     * How buildx reaches the nodes: `"tls"` (buildkitd with mTLS, the `remote` driver; needs
     * nothing on the machine running the job but buildx) or `"ssh"` (Docker over SSH, the
     * `docker-container` driver; buildx connects with your SSH agent). Default `"tls"`.
     */
    transport?: Ec2NodeTransport;
    /**
     * Instance type per platform, e.g. `{ "linux/arm64": "c7g.xlarge" }`; each must be of that
     * platform's architecture. Default: `Ec2BuilderNode`'s (`c7i.large` for amd64, `c7g.large` for arm64).
     */
    instanceTypes?: Record<string, string>;
    /** Spot instances (see `Ec2BuilderNodeArgs.spot`). Default false. */
    spot?: boolean;
    /** Subnet for every node (see `Ec2BuilderNodeArgs.subnetId`). Default: a default subnet of the default VPC. */
    subnetId?: pulumi.Input<string>;
    /**
     * Minutes after boot at which each VM terminates itself, even if the job that made it was
     * killed and no sweeper ran. Default 60: an ephemeral builder lives for one job.
     */
    ttlMinutes?: number;
    /** The buildx instance name. Default: derived from the project, stack and resource name (unique per ephemeral stack). */
    builderName?: string;
    /**
     * Any other `Ec2BuilderNodeArgs` field, for every node (e.g. `{ volumeSizeGiB: 50, tags,
     * readyTimeoutMinutes: 10 }`). The fields above are set by the program.
     */
    node?: Partial<
        Omit<Ec2BuilderNodeArgs, "arch" | "transport" | "allowedCidrs" | "sshPublicKey" | "sshPrivateKey" | "instanceType" | "spot" | "subnetId" | "ttlMinutes">
    >;
}

/** The default `ttlMinutes` of an ephemeral EC2 node. */
export const EPHEMERAL_TTL_MINUTES = 60;

/**
 * A `withEphemeralBuilder` program that declares one `Ec2BuilderNode` per platform and one
 * `Builder` with all of them, so a CI job gets native machines for one build and loses them
 * afterwards:
 *
 * ```ts
 * await withEphemeralBuilder(
 *     { program: ec2BuilderProgram({ platforms: ["linux/amd64", "linux/arm64"], allowedCidrs: [`${myIp}/32`], sshPublicKey }) },
 *     (builder) => buildImage({ builder, context: "./app", platforms: ["linux/amd64", "linux/arm64"], tags: [ref] }),
 * );
 * ```
 *
 * Throws one `InputPropertiesError` for bad arguments at once, before any stack exists (the
 * nodes' own rules wait for the stack when `allowedCidrs` or `sshPublicKey` holds an Output).
 */
export function ec2BuilderProgram(args: Ec2BuilderProgramArgs): EphemeralBuilderProgram {
    const problems = new InputProblems("ec2BuilderProgram", "program");
    const { platforms, instanceTypes } = checkProgramArgs(args, problems);
    const nodeArgs = (platform: PlatformString): Ec2BuilderNodeArgs => ({
        ...args.node,
        arch: NATIVE[platform],
        transport: args.transport ?? "tls",
        allowedCidrs: args.allowedCidrs,
        sshPublicKey: args.sshPublicKey,
        sshPrivateKey: args.sshPrivateKey,
        instanceType: instanceTypes[platform],
        spot: args.spot,
        subnetId: args.subnetId,
        ttlMinutes: args.ttlMinutes ?? EPHEMERAL_TTL_MINUTES,
    });
    // The nodes' own checks too, now, when the values they check later (Outputs) are all plain,
    // in the same error: for each valid platform (or amd64 to check the shared arguments).
    if (Array.isArray(args.allowedCidrs) && args.allowedCidrs.every((c) => !isLate(c)) && !isLate(args.sshPublicKey)) {
        for (const platform of platforms.length > 0 ? platforms : (["linux/amd64"] as PlatformString[])) {
            for (const p of nodeProblems(NATIVE[platform], nodeArgs(platform))) {
                const key = p.propertyPath.split(/[.[]/)[0];
                const propertyPath =
                    key === "instanceType"
                        ? `instanceTypes.${platform}`
                        : args.node !== undefined && key in args.node
                          ? `node.${p.propertyPath}`
                          : p.propertyPath;
                // One reason per property: the program's own, or the first node's.
                if (!problems.problems.some((q) => q.propertyPath === propertyPath)) problems.add(propertyPath, p.reason);
            }
        }
    }
    problems.throwIfAny();
    return () => {
        const nodes = platforms.map((platform) => new Ec2BuilderNode(NATIVE[platform], nodeArgs(platform)));
        return new Builder("builder", { name: args.builderName, driver: nodes[0].driver, nodes: nodes.map((n) => n.node) });
    };
}

/** What `validateEc2NodeArgs` refuses in these node arguments (nothing when it accepts them). */
function nodeProblems(resourceName: string, args: Ec2BuilderNodeArgs): InputProblem[] {
    try {
        validateEc2NodeArgs(resourceName, args);
        return [];
    } catch (error) {
        if (!pulumi.InputPropertiesError.isInstance(error)) throw error;
        return error.errors ?? [];
    }
}

/** The normalised platforms and instance types by normalised platform; every problem of the plain arguments goes to `problems`. */
function checkProgramArgs(args: Ec2BuilderProgramArgs, problems: InputProblems): { platforms: PlatformString[]; instanceTypes: Record<string, string> } {
    if (args === undefined || args === null || typeof args !== "object") {
        problems.missing(
            "args",
            'an object with at least `platforms`, `allowedCidrs` and `sshPublicKey`, e.g. { platforms: ["linux/amd64", "linux/arm64"], … }',
        );
        problems.throwIfAny();
    }
    const nativeOnly = (p: string) => {
        const parsed = collectPlatforms(new InputProblems("", ""), "", [p]);
        return parsed.length === 1 && NATIVE[parsed[0]] === undefined ? `"linux/amd64" or "linux/arm64" (an EC2 node is native for one of them)` : undefined;
    };
    const platforms =
        Array.isArray(args.platforms) && args.platforms.length > 0
            ? collectPlatforms(problems, "platforms", args.platforms, nativeOnly)
            : (problems.invalid("platforms", args.platforms, 'a non-empty list of "linux/amd64" and/or "linux/arm64"'), []);
    if (args.transport !== undefined && args.transport !== "tls" && args.transport !== "ssh") {
        problems.invalid("transport", args.transport, '"tls" (the remote driver) or "ssh" (docker-container over SSH)');
    }
    const instanceTypes: Record<string, string> = {};
    for (const [key, type] of Object.entries(args.instanceTypes ?? {})) {
        const platform = collectPlatforms(new InputProblems("", ""), "", [key])[0];
        if (platform !== undefined && instanceTypes[platform] !== undefined) {
            problems.invalid(`instanceTypes.${key}`, key, `each platform once (it is ${platform} again)`);
        } else if (platform !== undefined) instanceTypes[platform] = type;
        if (platform === undefined || !platforms.includes(platform)) {
            problems.invalid(`instanceTypes.${key}`, key, `one of the platforms: ${platforms.map((p) => `"${p}"`).join(", ")}`);
        } else if (instanceTypeArch(type) !== NATIVE[platform]) {
            problems.invalid(
                `instanceTypes.${key}`,
                type,
                `an instance type of ${NATIVE[platform]} (${NATIVE[platform] === "arm64" ? "Graviton, e.g. c7g.large" : "e.g. c7i.large"})`,
            );
        }
    }
    if (args.ttlMinutes !== undefined && (!Number.isInteger(args.ttlMinutes) || args.ttlMinutes < 0)) {
        problems.invalid("ttlMinutes", args.ttlMinutes, "a whole number of minutes, 0 or more (0 disables the TTL)");
    }
    if (args.builderName !== undefined && (typeof args.builderName !== "string" || !NAME_PATTERN.test(args.builderName))) {
        problems.invalid("builderName", args.builderName, `a buildx builder name: ${NAME_RULE}`);
    }
    return { platforms, instanceTypes };
}
