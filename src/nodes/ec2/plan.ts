/**
 * The pure plan of an EC2 builder node: from validated arguments to the shape of its resources
 * (AMI parameter, ingress rules, tags, the Builder driver and node options, the readiness script).
 * No resource wiring here; component.ts creates what this describes.
 */
import * as pulumi from "@pulumi/pulumi";
import { BuilderDriver } from "../../builder/args";
import { quote } from "../../shell";
import { Ec2NodeArch, Ec2NodeTransport } from "./args";
import { SERVER_NAME } from "./pki";
import { renderReadinessCheck } from "./readiness";
import { BUILDKIT_PORT, SSH_PORT, ValidatedEc2NodeArgs } from "./validate";

/** The public SSM parameter with the latest Amazon Linux 2023 AMI of each arch. */
export const AMI_PARAMETERS: Record<Ec2NodeArch, string> = {
    arm64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
    amd64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
};

/** The buildx driver of each EC2 transport (the set of drivers is `DRIVERS` in src/builder/validate.ts). */
export const DRIVER_OF_TRANSPORT: Record<Ec2NodeTransport, BuilderDriver> = { ssh: "docker-container", tls: "remote" };

export interface IngressRule {
    protocol: "tcp";
    fromPort: number;
    toPort: number;
    /** IPv4 only (see `allowedCidrs`); an Output when some entries were. */
    cidrBlocks: pulumi.Input<string[]>;
    description: string;
}

export interface Ec2NodePlan {
    amiParameter: string;
    driver: BuilderDriver;
    ingress: IngressRule[];
    /** Tags of every AWS resource: `Name`, `pulumi-buildx:node`, then the user's (which win). */
    tags: Record<string, pulumi.Input<string>>;
    /** `ssh`: the docker-container driver's options (the BuildKit image). */
    driverOpts?: Record<string, string>;
    /** SSH dial attempts of the readiness connection (about 15 s each) before it gives up. */
    dialErrorLimit: number;
    /** The readiness command's create timeout, for `customTimeouts` (the script's own limit plus a margin). */
    createTimeout: string;
}

/** The endpoint buildx uses for the node at `address`. */
export function endpointOf(transport: Ec2NodeTransport, sshUser: string, address: string): string {
    const host = address.includes(":") ? `[${address}]` : address;
    switch (transport) {
        case "ssh":
            return `ssh://${sshUser}@${host}`;
        case "tls":
            return `tcp://${host}:${BUILDKIT_PORT}`;
        default: {
            const never: never = transport;
            throw new Error(`unknown transport ${JSON.stringify(never)}`);
        }
    }
}

export function planEc2Node(name: string, v: ValidatedEc2NodeArgs): Ec2NodePlan {
    const ingress = v.ingressPorts.map((port): IngressRule => ({
        protocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrBlocks: v.cidrs,
        description: port === SSH_PORT ? `SSH to builder node ${v.nodeName} (pulumi-buildx)` : `BuildKit mTLS to builder node ${v.nodeName} (pulumi-buildx)`,
    }));
    return {
        amiParameter: AMI_PARAMETERS[v.arch],
        driver: DRIVER_OF_TRANSPORT[v.transport],
        ingress,
        tags: { Name: name, "pulumi-buildx:node": v.nodeName, ...v.tags },
        ...(v.transport === "ssh" && v.buildkitImage !== undefined ? { driverOpts: { image: v.buildkitImage } } : {}),
        dialErrorLimit: Math.max(20, v.readyTimeoutMinutes * 4),
        createTimeout: `${v.readyTimeoutMinutes + 5}m`,
    };
}

/**
 * The readiness command for the node once its address is known: the script run by bash (the
 * remote command runs in the login shell of `sshUser`, which need not be bash).
 */
export function readinessCommand(v: ValidatedEc2NodeArgs, address: string): string {
    const script = renderReadinessCheck({
        transport: v.transport,
        nodeName: v.nodeName,
        endpoint: endpointOf(v.transport, v.sshUser, address),
        timeoutMinutes: v.readyTimeoutMinutes,
        ...(v.transport === "tls" ? { served: { port: BUILDKIT_PORT, serverName: SERVER_NAME } } : {}),
    });
    return `/bin/bash -c ${quote(script)}`;
}
