/**
 * `pulumi-buildx/testing`: mocks for the unit tests of your own Pulumi programs. With
 * `pulumi.runtime.setMocks(buildxMocks())`, pulumi-buildx's components get plausible outputs
 * without running anything: an index digest and a digest per platform for each image, running
 * nodes for each builder, an address, endpoint and TTL for each EC2 node. So your tests can check
 * your own wiring, e.g. that a task definition uses `image.platformRefs["linux/arm64"]`.
 *
 * ```ts
 * import * as pulumi from "@pulumi/pulumi";
 * import { buildxMocks, outputValue } from "pulumi-buildx/testing";
 * pulumi.runtime.setMocks(buildxMocks(), "project", "stack", false);
 * const { image } = await import("../index");   // your program, loaded after setMocks
 * const refs = await outputValue(image.platformRefs);   // { "linux/arm64": "repo@sha256:…", … }
 * ```
 *
 * The answers are made up but consistent: each index holds exactly the requested platforms, its
 * digest is the hash of its bytes, and the components check them as they check a real build's. An ECR
 * repository gets a `repositoryUrl`, so images can be tagged with it. Other resources and calls
 * (your own) are answered by `fallback`.
 *
 * @packageDocumentation
 */
import type * as pulumi from "@pulumi/pulumi";
import { useConsoleHostKeyReader } from "../nodes/ec2/console";
import { binfmtStdout, builderStdout, buildStdout, hostKeyStdout, madeUpHostKey, mergeStdout, readyStdout, scriptKind } from "./answers";
import { HOST_KEY_ENV } from "../nodes/ec2/host-key-store";

export interface BuildxMocksOptions {
    /**
     * Answers for every resource and call that is not pulumi-buildx's (your own resources, other
     * providers). Default: Pulumi's echo mocks, `{ id: name + "_id", state: inputs }` and the
     * call's inputs as its result.
     */
    fallback?: pulumi.runtime.Mocks;
    /** The time the EC2 nodes' TTL is counted from (`expiresAt` is 2 hours later). Default: now. */
    now?: Date;
}

type MockResult = { id: string | undefined; state: Record<string, unknown> };

const PEM = (what: string, name: string) => `-----BEGIN ${what}-----\n${Buffer.from(`mock ${what} of ${name}`).toString("base64")}\n-----END ${what}-----\n`;

/** A `pulumi.runtime.Mocks` that answers pulumi-buildx's resources and look-ups plausibly. */
export function buildxMocks(options: BuildxMocksOptions = {}): pulumi.runtime.Mocks {
    const fallback: pulumi.runtime.Mocks = options.fallback ?? { newResource: (a) => ({ id: `${a.name}_id`, state: a.inputs }), call: (a) => a.inputs };
    const now = options.now ?? new Date();
    let hosts = 0;
    // EC2 nodes read their SSH host key in a Command (answered above); a reader of this process
    // (useConsoleHostKeyReader) is set too, for code that calls readHostKeyFromConsole itself.
    useConsoleHostKeyReader(async ({ instanceId }) => madeUpHostKey(instanceId));
    return {
        newResource: (args): MockResult | Promise<MockResult> => {
            const state = ownState(args, now, () => ++hosts);
            return state === undefined ? fallback.newResource(args) : { id: `${args.name}_id`, state: { ...args.inputs, ...state } };
        },
        call: (args) => ownCall(args) ?? fallback.call(args),
    };
}

/** The outputs pulumi-buildx reads from one of its own resources; undefined for any other resource. */
function ownState(args: pulumi.runtime.MockResourceArgs, now: Date, nextHost: () => number): Record<string, unknown> | undefined {
    const inputs = args.inputs;
    switch (args.type) {
        case "command:local:Command":
        case "command:remote:Command": {
            switch (scriptKind(inputs.create)) {
                case "build":
                    return { stdout: buildStdout(inputs.create, args.name), stderr: "" };
                case "merge":
                    return { stdout: mergeStdout(inputs.create, args.name), stderr: "" };
                case "binfmt":
                    return { stdout: binfmtStdout(inputs.create), stderr: "" };
                case "builder":
                    return { stdout: builderStdout(inputs.create), stderr: "" };
                case "ready":
                    return { stdout: readyStdout(now), stderr: "" };
                case "host-key":
                    return { stdout: hostKeyStdout(String(inputs.environment?.[HOST_KEY_ENV.instanceId] ?? args.name)), stderr: "" };
                case undefined:
                    return undefined;
            }
            return undefined;
        }
        case "aws:ec2/instance:Instance": {
            const n = nextHost();
            return { publicIp: `203.0.113.${10 + n}`, privateIp: `172.31.0.${10 + n}`, arn: `arn:aws:ec2:us-east-1:123456789012:instance/i-mock${n}` };
        }
        case "aws:ecr/repository:Repository": {
            const name = inputs.name ?? args.name;
            return {
                name,
                repositoryUrl: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${name}`,
                arn: `arn:aws:ecr:us-east-1:123456789012:repository/${name}`,
            };
        }
        case "aws:ec2/keyPair:KeyPair":
            return { keyName: args.name };
        case "tls:index/privateKey:PrivateKey":
            return {
                privateKeyPem: PEM("PRIVATE KEY", args.name),
                publicKeyPem: PEM("PUBLIC KEY", args.name),
                publicKeyOpenssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockPublicKeyForUnitTests000000000000 mock\n",
            };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: PEM("CERTIFICATE REQUEST", args.name) };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: PEM("CERTIFICATE", args.name) };
    }
    return undefined;
}

/** The AWS look-ups of an `Ec2BuilderNode` (AMI, default VPC and subnet); undefined for any other call. */
function ownCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> | undefined {
    switch (args.token) {
        case "aws:ssm/getParameter:getParameter":
            return { name: args.inputs.name, type: "String", value: "ami-0123456789abcdef0", insecureValue: "ami-0123456789abcdef0" };
        case "aws:ec2/getVpc:getVpc":
            return { id: "vpc-0123456789abcdef0" };
        case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings":
            return { locations: ["us-east-1a", "us-east-1b"], locationTypes: [], instanceTypes: [] };
        case "aws:ec2/getSubnets:getSubnets":
            return { ids: ["subnet-0123456789abcdef0"] };
        case "aws:ec2/getSubnet:getSubnet":
            return { id: args.inputs.id, vpcId: "vpc-0123456789abcdef0" };
    }
    return undefined;
}

/**
 * The value of an Output once known (under mocks, once the resources behind it registered).
 *
 * Rejects instead of hanging when something fails meanwhile: under mocks a failed registration
 * (e.g. a check of an Output value, such as a secret given to `buildArgs`) surfaces only as an
 * unhandled rejection, so this listens for one while it waits; and after `timeoutMs` (default
 * 30 s) it rejects saying the value never arrived.
 */
export function outputValue<T>(output: pulumi.Output<T>, timeoutMs = 30_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        const waiter = (reason: unknown) => finish(() => reject(ownError(reason)));
        const timer = setTimeout(
            () =>
                finish(() =>
                    reject(new Error(`outputValue: the Output was not known after ${timeoutMs} ms (a resource it depends on never finished registering)`)),
                ),
            timeoutMs,
        );
        const finish = (settle: () => void) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            if (waiters.size === 0) process.off("unhandledRejection", rejectWaiters);
            settle();
        };
        if (waiters.size === 0) process.on("unhandledRejection", rejectWaiters);
        waiters.add(waiter);
        output.apply((value) => {
            finish(() => resolve(value));
            return value;
        });
    });
}

/** Pulumi's wrapper around a failed input of a resource, e.g. `error serializing property "create": `. */
const SERIALIZING = /^(?:error serializing property "[^"]*": )+/;

/** The failure as the component said it: Pulumi's serializing prefix taken off (the original stays the `cause`). */
function ownError(reason: unknown): Error {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    return SERIALIZING.test(error.message) ? new Error(error.message.replace(SERIALIZING, ""), { cause: error }) : error;
}

/** Every `outputValue` still waiting; one process listener serves them all. */
const waiters = new Set<(reason: unknown) => void>();
function rejectWaiters(reason: unknown): void {
    for (const waiter of [...waiters]) waiter(reason);
}
