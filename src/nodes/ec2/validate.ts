/**
 * Validation of Ec2BuilderNode's plain arguments: everything that decides which resources exist
 * and what user-data they carry is checked here, at construction, and all problems are reported
 * together. Pure: no AWS calls.
 */
import { isIPv4, isIPv6 } from "net";
import * as pulumi from "@pulumi/pulumi";
import { NAME_PATTERN, NAME_RULE } from "../../builder/validate";
import { InputProblems, isLate, quoteValue } from "../../errors";
import { Ec2BuilderNodeArgs, Ec2NodeArch, Ec2NodeTransport } from "./args";

export const ARCHES: readonly Ec2NodeArch[] = ["arm64", "amd64"];
export const TRANSPORTS: readonly Ec2NodeTransport[] = ["ssh", "tls"];

/** Default instance type of each arch: current-generation compute-optimised, 2 vCPUs, 4 GiB. */
export const DEFAULT_INSTANCE_TYPES: Record<Ec2NodeArch, string> = { arm64: "c7g.large", amd64: "c7i.large" };
export const DEFAULT_VOLUME_SIZE_GIB = 100;
export const MIN_VOLUME_SIZE_GIB = 8;
/**
 * gp3's largest volume: "gp3: 1 - 65,536 GiB" in the Amazon EC2 API Reference for
 * `EbsBlockDevice` `VolumeSize`, the block device mapping of RunInstances that the root volume
 * goes through (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EbsBlockDevice.html;
 * CreateVolume `Size` says the same). Checked against the EC2 API model that
 * `@aws-sdk/client-ec2` ships (test/unit/nodes/ec2/validate.test.ts).
 */
export const MAX_VOLUME_SIZE_GIB = 65536;
export const DEFAULT_SSH_USER = "ec2-user";
export const DEFAULT_TTL_MINUTES = 120;
export const DEFAULT_BUILDKIT_VERSION = "v0.33.0";
/**
 * SHA-256 of the `DEFAULT_BUILDKIT_VERSION` release tarballs
 * (`buildkit-v0.33.0.linux-<arch>.tar.gz` of https://github.com/moby/buildkit/releases/tag/v0.33.0),
 * checked by user-data when `buildkitVersion` is the default and no `buildkitSha256` is given.
 * Taken from public sources that pin these downloads (several independent projects agree on each;
 * one records the amd64 digest as checked against the release's SBOM subject digest), never
 * computed here. Moving the default means finding the new release's digests the same way.
 */
export const DEFAULT_BUILDKIT_SHA256: Readonly<Record<Ec2NodeArch, string>> = {
    amd64: "b6242896d343100808dcbe37565caf381e0a444a6a83d7255926bb1519248ead",
    arm64: "e5acfb5929f967fde3b925ddb39f79fd481a0e96774c641fab3a0e83950d7bfa",
};
/** The port buildkitd listens on for the `tls` transport. */
export const BUILDKIT_PORT = 1234;
export const SSH_PORT = 22;
export const DEFAULT_READY_TIMEOUT_MINUTES = 15;
export const MAX_READY_TIMEOUT_MINUTES = 60;

/** The plain, checked shape of an EC2 node: everything that decides what is created. */
export interface ValidatedEc2NodeArgs {
    arch: Ec2NodeArch;
    transport: Ec2NodeTransport;
    /** The platform pinned on the node. */
    platform: "linux/arm64" | "linux/amd64";
    instanceType: string;
    spot: boolean;
    volumeSizeGiB: number;
    /** Passed through (checked when plain). */
    subnetId?: pulumi.Input<string>;
    /**
     * Normalised IPv4 CIDR blocks, each once. Plain when every entry was; otherwise an Output
     * checked (by `checkAllowedCidrs`) once known, failing with the same message.
     */
    cidrs: pulumi.Input<string[]>;
    allowPublicIngress: boolean;
    /** TCP ports opened to the CIDRs: 22 for `ssh`; 1234 and 22 for `tls`. */
    ingressPorts: number[];
    /** Trimmed; an Output is checked (by `checkSshPublicKey`) once known. */
    sshPublicKey: pulumi.Input<string>;
    sshUser: string;
    /** 0: no TTL. */
    ttlMinutes: number;
    /** With a leading `v`, e.g. `v0.33.0`. */
    buildkitVersion: string;
    /** `ssh` only. */
    dockerVersion?: string;
    /** `ssh` only: the BuildKit image buildx starts on the node (default `moby/buildkit:<buildkitVersion>`). */
    buildkitImage?: string;
    /** `tls` only: the given one, else `DEFAULT_BUILDKIT_SHA256[arch]` for the default version. */
    buildkitSha256?: string;
    tags: Record<string, pulumi.Input<string>>;
    associatePublicIpAddress: boolean;
    readyTimeoutMinutes: number;
    /** The node's name in the builder. */
    nodeName: string;
}

// ---------------------------------------------------------------------------------------------
// instance types

const INSTANCE_TYPE = /^([a-z][a-z0-9-]*[a-z0-9])\.([a-z0-9][a-z0-9-]*)$/;
/** Graviton: a family letter group, the generation digit(s), then `g` (c7g, c6gn, t4g, x2gd, im4gn, is4gen, g5g, hpc7g). */
const GRAVITON = /^[a-z]+[0-9]+g/;

/**
 * The CPU architecture of an EC2 instance type, from its family (the part before the dot):
 * `a1` and families with a `g` right after the generation digit (Graviton) are `arm64`, the
 * rest `amd64`. Returns `"mac"` for Mac families (they run macOS on dedicated hosts only) and
 * undefined for something that is not an instance type.
 */
export function instanceTypeArch(instanceType: string): Ec2NodeArch | "mac" | undefined {
    const family = instanceFamily(instanceType);
    if (family === undefined) return undefined;
    if (family.startsWith("mac")) return "mac";
    if (family === "a1" || GRAVITON.test(family)) return "arm64";
    return "amd64";
}

/** The family of an instance type (`c7g` of `c7g.large`), lower-cased; undefined for something that is not an instance type. */
function instanceFamily(instanceType: string): string | undefined {
    const m = typeof instanceType === "string" ? INSTANCE_TYPE.exec(instanceType.trim().toLowerCase()) : null;
    return m === null ? undefined : m[1];
}

// ---------------------------------------------------------------------------------------------
// CIDR blocks

export type CidrResult = { ok: true; version: 4 | 6; cidr: string; prefix: number } | { ok: false; reason: string };

function ipv4Bits(address: string): bigint {
    return address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** 128-bit value of an IPv6 address that `net.isIPv6` accepted (with `::` and an embedded IPv4 tail). */
function ipv6Bits(address: string): bigint {
    let text = address;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4 !== null) {
        const n = ipv4Bits(v4[1]);
        text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
    const headGroups = head === "" ? [] : head.split(":");
    const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
    const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
    return [...headGroups, ...zeros, ...tailGroups].reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function ipv6Text(bits: bigint): string {
    const groups: string[] = [];
    for (let i = 7; i >= 0; i--) groups.push(((bits >> BigInt(i * 16)) & 0xffffn).toString(16));
    // Compress the longest run (of two or more) of zero groups, as RFC 5952 says.
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8;) {
        let j = i;
        while (j < 8 && groups[j] === "0") j++;
        if (j - i > bestLen) [best, bestLen] = [i, j - i];
        i = j === i ? i + 1 : j;
    }
    if (best < 0) return groups.join(":");
    return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

function ipv4Text(bits: bigint): string {
    return [24n, 16n, 8n, 0n].map((s) => ((bits >> s) & 0xffn).toString()).join(".");
}

/**
 * Parses an IPv4 or IPv6 CIDR block in network form (no host bits set, as security-group rules
 * want it), e.g. `10.0.0.0/8` or `2001:db8::/32`. Never throws; a failure's `reason` follows the
 * quoted input ("is not a CIDR block: …").
 */
export function parseCidr(input: string): CidrResult {
    const expected = "an IPv4 CIDR block such as 203.0.113.0/24 or 198.51.100.7/32";
    if (typeof input !== "string") return { ok: false, reason: `is not a CIDR block: expected ${expected}` };
    const m = /^([0-9A-Fa-f:.]+)\/([0-9]{1,3})$/.exec(input.trim());
    if (m === null) return { ok: false, reason: `is not a CIDR block: expected ${expected} (an address, "/" and a prefix length)` };
    const [, address, prefixText] = m;
    const prefix = Number(prefixText);
    const version = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
    if (version === undefined)
        return { ok: false, reason: `is not a CIDR block: ${JSON.stringify(address)} is not an IPv4 or IPv6 address; expected ${expected}` };
    const width = version === 4 ? 32 : 128;
    if (prefix > width || (prefixText.length > 1 && prefixText.startsWith("0"))) {
        return { ok: false, reason: `is not a CIDR block: the prefix length must be 0 to ${width} for an IPv${version} block` };
    }
    const bits = version === 4 ? ipv4Bits(address) : ipv6Bits(address);
    const hostMask = (1n << BigInt(width - prefix)) - 1n;
    const network = bits & ~hostMask;
    const networkText = version === 4 ? ipv4Text(network) : ipv6Text(network);
    if ((bits & hostMask) !== 0n) {
        return { ok: false, reason: `has host bits set: its network form is ${networkText}/${prefix} (security-group rules take the network form)` };
    }
    return { ok: true, version, cidr: `${networkText}/${prefix}`, prefix };
}

// ---------------------------------------------------------------------------------------------
// the arguments

const SSH_KEY =
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n\r]*)?$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const VERSION = /^v?[0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?$/;
const DOCKER_VERSION = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+(\.amzn2023(\.[0-9]+)?)?)?$/;
const SUBNET = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
const AMI = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;
/** An image reference without spaces or shell-special characters (the Builder quotes it anyway). */
const IMAGE = /^[a-z0-9][a-z0-9._\-/:@]*$/;

/** The default node name for a resource name: lower-cased, characters buildx does not allow replaced by `-`. */
export function defaultNodeName(resourceName: string): string {
    const name = resourceName
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, "-")
        .replace(/^[^a-z]+/, "");
    return name === "" ? "ec2" : name.slice(0, 100);
}

/** Known now (see `isLate`, the one test for "an Output or a Promise"). */
function isPlain(v: unknown): boolean {
    return !isLate(v);
}

function isNonNegativeInteger(v: unknown): v is number {
    return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

/**
 * Checks every plain argument and returns the node's shape with defaults filled in, or throws
 * one `InputPropertiesError` listing every problem. Runs nothing.
 */
export function validateEc2NodeArgs(resourceName: string, args: Ec2BuilderNodeArgs): ValidatedEc2NodeArgs {
    const problems = new InputProblems("Ec2BuilderNode", resourceName);
    if (args === undefined || args === null || typeof args !== "object") {
        problems.missing(
            "args",
            "an object with at least `arch`, `transport`, `allowedCidrs` and `sshPublicKey`, " +
                'e.g. { arch: "arm64", transport: "tls", allowedCidrs: ["203.0.113.7/32"], sshPublicKey }',
        );
        problems.throwIfAny();
    }

    // arch, transport, instance type
    const arch = args.arch;
    const knownArch = ARCHES.includes(arch);
    if (arch === undefined) problems.missing("arch", '"arm64" (Graviton) or "amd64" (Intel/AMD)');
    else if (!knownArch) problems.invalid("arch", arch, '"arm64" (Graviton) or "amd64" (Intel/AMD)');
    const transport = args.transport;
    if (transport === undefined) problems.missing("transport", '"ssh" (Docker over SSH) or "tls" (buildkitd with mutual TLS)');
    else if (!TRANSPORTS.includes(transport)) problems.invalid("transport", transport, '"ssh" (Docker over SSH) or "tls" (buildkitd with mutual TLS)');

    let instanceType = knownArch ? DEFAULT_INSTANCE_TYPES[arch] : "";
    if (args.instanceType !== undefined) {
        const typeArch = instanceTypeArch(args.instanceType);
        if (typeArch === undefined) {
            problems.invalid(
                "instanceType",
                args.instanceType,
                `an EC2 instance type such as ${DEFAULT_INSTANCE_TYPES.arm64} (arm64) or ${DEFAULT_INSTANCE_TYPES.amd64} (amd64)`,
            );
        } else if (typeArch === "mac") {
            problems.invalid(
                "instanceType",
                args.instanceType,
                "a Linux instance type: Mac instances run macOS on dedicated hosts, and the node runs Amazon Linux 2023",
            );
        } else if (instanceFamily(args.instanceType) === "a1") {
            problems.invalid(
                "instanceType",
                args.instanceType,
                `a current Graviton type such as ${DEFAULT_INSTANCE_TYPES.arm64}, m7g.large or t4g.large: Amazon Linux 2023 does not support A1 instances`,
            );
        } else if (knownArch && typeArch !== arch) {
            const graviton = "a Graviton type (a `g` after the generation digit: c7g, m7g, t4g, c6gn, r8g, …)";
            problems.invalid(
                "instanceType",
                args.instanceType,
                `an ${arch} instance type: it is ${typeArch}, and arch is "${arch}"; ` +
                    `give ${arch === "arm64" ? graviton : "an Intel or AMD type (c7i, c7a, m7i, t3, …)"} such as ${DEFAULT_INSTANCE_TYPES[arch]}, ` +
                    `or set arch to "${typeArch}"`,
            );
        } else {
            instanceType = args.instanceType.trim().toLowerCase();
        }
    }

    for (const field of ["spot", "allowPublicIngress", "associatePublicIpAddress"] as const) problems.optionalBoolean(field, args[field]);
    const allowPublicIngress = args.allowPublicIngress === true;

    // volume and TTL
    const volumeSizeGiB = args.volumeSizeGiB ?? DEFAULT_VOLUME_SIZE_GIB;
    if (!isNonNegativeInteger(volumeSizeGiB) || volumeSizeGiB < MIN_VOLUME_SIZE_GIB || volumeSizeGiB > MAX_VOLUME_SIZE_GIB) {
        problems.invalid(
            "volumeSizeGiB",
            args.volumeSizeGiB,
            `a whole number of GiB from ${MIN_VOLUME_SIZE_GIB} (the Amazon Linux 2023 AMI's size) to ${MAX_VOLUME_SIZE_GIB} (gp3's limit)`,
        );
    }
    const ttlMinutes = args.ttlMinutes ?? DEFAULT_TTL_MINUTES;
    if (!isNonNegativeInteger(ttlMinutes)) {
        problems.invalid("ttlMinutes", args.ttlMinutes, `a whole number of minutes, 0 or more (0 disables the TTL; default ${DEFAULT_TTL_MINUTES})`);
    }

    const readyTimeoutMinutes = args.readyTimeoutMinutes ?? DEFAULT_READY_TIMEOUT_MINUTES;
    if (!isNonNegativeInteger(readyTimeoutMinutes) || readyTimeoutMinutes < 1 || readyTimeoutMinutes > MAX_READY_TIMEOUT_MINUTES) {
        problems.invalid(
            "readyTimeoutMinutes",
            args.readyTimeoutMinutes,
            `a whole number of minutes from 1 to ${MAX_READY_TIMEOUT_MINUTES} (default ${DEFAULT_READY_TIMEOUT_MINUTES})`,
        );
    }

    // network
    if (args.ami !== undefined && isPlain(args.ami) && (typeof args.ami !== "string" || !AMI.test(args.ami))) {
        problems.invalid("ami", args.ami, "an AMI ID such as ami-0123456789abcdef0 of Amazon Linux 2023 for the arch (omit it for the latest)");
    }
    if (args.subnetId !== undefined && isPlain(args.subnetId) && (typeof args.subnetId !== "string" || !SUBNET.test(args.subnetId))) {
        problems.invalid("subnetId", args.subnetId, "a subnet ID such as subnet-0123456789abcdef0 (omit it for a subnet of the default VPC)");
    }
    if (args.associatePublicIpAddress === false && args.subnetId === undefined) {
        problems.missing(
            "subnetId",
            "a subnet ID, required with associatePublicIpAddress: false: a subnet with a NAT route (the VM installs packages and downloads BuildKit) " +
                "whose private addresses the machine running `pulumi up` and the builds can reach (VPN, peering, or inside the VPC). " +
                "The default VPC's subnets route out through an internet gateway only, where an instance without a public IP has no internet access",
        );
    }
    let cidrs: pulumi.Input<string[]> = [];
    if (args.allowedCidrs === undefined) {
        problems.missing("allowedCidrs", 'the CIDR blocks that may reach the node, e.g. ["203.0.113.7/32"] for your own address');
    } else if (!Array.isArray(args.allowedCidrs) || args.allowedCidrs.length === 0) {
        problems.invalid("allowedCidrs", args.allowedCidrs, 'a non-empty list of CIDR blocks that may reach the node, e.g. ["203.0.113.7/32"]');
    } else if (args.allowedCidrs.every(isPlain)) {
        cidrs = addCidrProblems(problems, transport, allowPublicIngress, args.allowedCidrs as string[]);
    } else {
        // Entries known later (e.g. an Elastic IP's address): checked once known, with the same messages.
        const entries = [...args.allowedCidrs];
        args.allowedCidrs.forEach((cidr, i) => isPlain(cidr) && addCidrProblem(problems, transport, allowPublicIngress, [], i, cidr as string));
        cidrs = pulumi.all(entries).apply((list) => checkAllowedCidrs(resourceName, transport, allowPublicIngress, list));
    }

    // SSH
    const sshUser = args.sshUser ?? DEFAULT_SSH_USER;
    if (typeof sshUser !== "string" || !USER.test(sshUser)) {
        problems.invalid(
            "sshUser",
            args.sshUser,
            `a Linux user name (lower-case letter or _, then up to 31 of a-z, 0-9, _ or -; default "${DEFAULT_SSH_USER}")`,
        );
    } else if (sshUser === "root") {
        problems.invalid("sshUser", sshUser, `a user other than root (Amazon Linux 2023 refuses root logins); default "${DEFAULT_SSH_USER}"`);
    }
    const sshPublicKey = isPlain(args.sshPublicKey)
        ? typeof args.sshPublicKey === "string"
            ? args.sshPublicKey.trim()
            : args.sshPublicKey
        : pulumi.output(args.sshPublicKey).apply((key) => checkSshPublicKey(resourceName, transport, key, args.sshPrivateKey !== undefined));
    if (isPlain(sshPublicKey)) addSshPublicKeyProblem(problems, transport, sshPublicKey, args.sshPrivateKey !== undefined);

    // versions
    let buildkitVersion = DEFAULT_BUILDKIT_VERSION;
    if (args.buildkitVersion !== undefined) {
        if (typeof args.buildkitVersion !== "string" || !VERSION.test(args.buildkitVersion)) {
            problems.invalid("buildkitVersion", args.buildkitVersion, `a BuildKit release such as "${DEFAULT_BUILDKIT_VERSION}"`);
        } else {
            buildkitVersion = args.buildkitVersion.startsWith("v") ? args.buildkitVersion : `v${args.buildkitVersion}`;
        }
    }
    if (args.dockerVersion !== undefined) {
        if (transport === "tls") {
            problems.add(
                "dockerVersion",
                "applies to the ssh transport only: the tls transport runs buildkitd and installs no Docker (pin BuildKit with buildkitVersion)",
            );
        } else if (typeof args.dockerVersion !== "string" || !DOCKER_VERSION.test(args.dockerVersion)) {
            problems.invalid(
                "dockerVersion",
                args.dockerVersion,
                'a Docker version in the Amazon Linux 2023 repositories, such as "25.0.8" (omit it for the newest)',
            );
        }
    }

    if (args.buildkitImage !== undefined) {
        if (transport === "tls") {
            problems.add(
                "buildkitImage",
                "applies to the ssh transport only: the tls transport installs the buildkitd release of buildkitVersion, not an image",
            );
        } else if (typeof args.buildkitImage !== "string" || !IMAGE.test(args.buildkitImage)) {
            problems.invalid(
                "buildkitImage",
                args.buildkitImage,
                `an image reference such as "moby/buildkit:${DEFAULT_BUILDKIT_VERSION}" or ` +
                    `"123456789012.dkr.ecr.us-east-1.amazonaws.com/buildkit:${DEFAULT_BUILDKIT_VERSION}"`,
            );
        }
    }
    if (args.buildkitSha256 !== undefined) {
        if (transport === "ssh") {
            problems.add(
                "buildkitSha256",
                "applies to the tls transport only: the ssh transport runs BuildKit from an image (pin it by digest in buildkitImage)",
            );
        } else if (typeof args.buildkitSha256 !== "string" || !/^[0-9a-f]{64}$/.test(args.buildkitSha256)) {
            problems.invalid("buildkitSha256", args.buildkitSha256, "the SHA-256 of the release tarball as 64 lower-case hex digits");
        }
    }
    if (args.sshPrivateKey !== undefined && isPlain(args.sshPrivateKey)) {
        if (typeof args.sshPrivateKey !== "string" || !args.sshPrivateKey.includes("PRIVATE KEY-----")) {
            // Never quote it: it may be a key in a form we do not recognise.
            problems.add(
                "sshPrivateKey",
                "is not a private key: give the PEM or OpenSSH private key matching sshPublicKey " +
                    '("-----BEGIN OPENSSH PRIVATE KEY-----…"), or omit it to use your SSH agent',
            );
        }
    }
    const nodeName = args.nodeName ?? defaultNodeName(resourceName);
    if (typeof nodeName !== "string" || !NAME_PATTERN.test(nodeName)) {
        problems.invalid("nodeName", args.nodeName, `a buildx node name: ${NAME_RULE}`);
    }

    // tags
    const tags = args.tags ?? {};
    if (typeof tags !== "object" || tags === null || Array.isArray(tags) || !isPlain(tags)) {
        problems.invalid("tags", args.tags, "a plain object of tag names to values (values may be Outputs)");
    } else {
        for (const key of Object.keys(tags)) {
            if (key === "" || key.length > 128 || key.toLowerCase().startsWith("aws:")) {
                problems.invalid(`tags.${key}`, key, 'a tag name of 1 to 128 characters that does not start with "aws:" (reserved by AWS)');
            }
        }
    }

    problems.throwIfAny();
    return {
        arch,
        transport,
        platform: arch === "arm64" ? "linux/arm64" : "linux/amd64",
        instanceType,
        spot: args.spot ?? false,
        volumeSizeGiB,
        subnetId: args.subnetId,
        cidrs,
        allowPublicIngress,
        ingressPorts: transport === "tls" ? [BUILDKIT_PORT, SSH_PORT] : [SSH_PORT],
        sshPublicKey: sshPublicKey as pulumi.Input<string>,
        sshUser,
        ttlMinutes,
        buildkitVersion,
        dockerVersion: args.dockerVersion,
        buildkitImage: transport === "ssh" ? (args.buildkitImage ?? `moby/buildkit:${buildkitVersion}`) : undefined,
        buildkitSha256:
            args.buildkitSha256 ?? (transport === "tls" && buildkitVersion === DEFAULT_BUILDKIT_VERSION ? DEFAULT_BUILDKIT_SHA256[arch] : undefined),
        tags: { ...tags },
        associatePublicIpAddress: args.associatePublicIpAddress ?? true,
        readyTimeoutMinutes,
        nodeName,
    };
}

/**
 * Adds the problem of a plain `sshPublicKey` (missing, a private key, or not an OpenSSH public
 * key), if any; and of `sshPrivateKey` given with a FIDO (`sk-…`) key, whose private half stays on
 * the hardware token: pulumi-command parses `privateKey` with `ssh.ParsePrivateKey`, which has no
 * sk key types, so only an SSH agent can sign for one.
 */
function addSshPublicKeyProblem(problems: InputProblems, transport: Ec2NodeTransport | undefined, key: unknown, withPrivateKey: boolean): void {
    const needsKey =
        transport === "ssh"
            ? "the ssh transport: buildx reaches Docker on the node as ssh://user@host"
            : "the readiness check and the delivery of the BuildKit server's private key, which connect over SSH";
    if (key === undefined || key === "") {
        problems.missing(
            "sshPublicKey",
            `an OpenSSH public key ("ssh-ed25519 AAAA…"), needed for ${needsKey}; its private key must be in your SSH agent or sshPrivateKey`,
        );
    } else if (typeof key !== "string" || !SSH_KEY.test(key)) {
        if (typeof key === "string" && key.includes("PRIVATE KEY")) {
            // Never quote it: it is a private key.
            problems.add("sshPublicKey", 'is a private key: give the public key (the .pub file, "ssh-ed25519 AAAA… comment"), never the private one');
        } else {
            problems.invalid(
                "sshPublicKey",
                key,
                'one OpenSSH public key on one line, e.g. "ssh-ed25519 AAAAC3Nza… me@laptop" (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp* or sk-…)',
            );
        }
    } else if (withPrivateKey && key.startsWith("sk-")) {
        // Never quote the private key; the public key's type is enough.
        problems.add(
            "sshPrivateKey",
            `cannot be used with a FIDO security-key sshPublicKey (${JSON.stringify(key.split(" ")[0])}): its private half stays on the ` +
                "hardware token, and the readiness check (pulumi-command) cannot sign with a key file of it. " +
                "Omit sshPrivateKey and sign through your SSH agent (ssh-add the key, token plugged in; each connection then needs a touch, " +
                "so not in unattended CI), or give an ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp* key pair",
        );
    }
}

/** Checks an `sshPublicKey` that was an Output, once known; returns it trimmed or throws one `InputPropertiesError`. */
export function checkSshPublicKey(resourceName: string, transport: Ec2NodeTransport | undefined, key: unknown, withPrivateKey = false): string {
    const trimmed = typeof key === "string" ? key.trim() : key;
    const problems = new InputProblems("Ec2BuilderNode", resourceName);
    addSshPublicKeyProblem(problems, transport, trimmed, withPrivateKey);
    problems.throwIfAny();
    return trimmed as string;
}

/**
 * Adds the problem of `allowedCidrs[i]`, if any, and otherwise its network form to `seen`:
 * an IPv4 block in network form, each once, not `0.0.0.0/0` unless `allowPublicIngress`.
 * IPv6 blocks are refused: the instance gets no IPv6 address, buildkitd listens on IPv4 and
 * the endpoint is the IPv4 address, so an IPv6 source could never reach the node.
 */
function addCidrProblem(
    problems: InputProblems,
    transport: Ec2NodeTransport | undefined,
    allowPublicIngress: boolean,
    seen: string[],
    i: number,
    cidr: string,
): void {
    const path = `allowedCidrs[${i}]`;
    const result = parseCidr(cidr);
    if (!result.ok) {
        problems.add(path, `${quoteValue(cidr)} ${result.reason}`);
    } else if (result.version === 6) {
        problems.invalid(
            path,
            cidr,
            "an IPv4 CIDR block such as 203.0.113.7/32: the node has no IPv6 address (the instance gets none, " +
                "buildkitd listens on IPv4, and the endpoint is the IPv4 address), so an IPv6 block could never reach it",
        );
    } else if (seen.includes(result.cidr)) {
        problems.invalid(path, cidr, `each block once: ${result.cidr} is already allowed`);
    } else if (result.prefix === 0 && !allowPublicIngress) {
        problems.add(
            path,
            `${JSON.stringify(cidr)} lets the whole internet reach the node's ${transport === "tls" ? "BuildKit and SSH ports" : "SSH port"}: ` +
                "give narrower blocks (e.g. your own address as a /32), or set allowPublicIngress: true to accept that",
        );
    } else {
        seen.push(result.cidr);
    }
}

/** Adds the problems of a whole, known `allowedCidrs` list; returns the normalised blocks. */
function addCidrProblems(problems: InputProblems, transport: Ec2NodeTransport | undefined, allowPublicIngress: boolean, list: string[]): string[] {
    const seen: string[] = [];
    list.forEach((cidr, i) => addCidrProblem(problems, transport, allowPublicIngress, seen, i, cidr));
    return seen;
}

/** Checks an `allowedCidrs` list that held Outputs, once known; returns the normalised blocks or throws one `InputPropertiesError`. */
export function checkAllowedCidrs(resourceName: string, transport: Ec2NodeTransport | undefined, allowPublicIngress: boolean, list: string[]): string[] {
    const problems = new InputProblems("Ec2BuilderNode", resourceName);
    const cidrs = addCidrProblems(problems, transport, allowPublicIngress, list);
    problems.throwIfAny();
    return cidrs;
}
