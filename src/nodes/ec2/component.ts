import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import { BuilderDriver, BuilderNode } from "../../builder/args";
import { InputProblems } from "../../errors";
import { ifRan } from "../../not-run";
import { Ec2BuilderNodeArgs } from "./args";
import { storedHostKey } from "./host-key-resource";
import { createNodePki, SERVER_NAME } from "./pki";
import { endpointOf, planEc2Node, readinessCommand } from "./plan";
import { parseReadiness } from "./readiness";
import { BUILDKIT_PORT, validateEc2NodeArgs, ValidatedEc2NodeArgs } from "./validate";
import { renderUserData } from "./userdata";

/**
 * A native arm64 or amd64 buildx node on an AWS EC2 VM (Amazon Linux 2023), ready to append to a
 * `Builder`, that terminates itself after its time to live.
 *
 * ```ts
 * const arm = new Ec2BuilderNode("arm", { arch: "arm64", transport: "tls", allowedCidrs: ["203.0.113.7/32"], sshPublicKey });
 * const amd = new Ec2BuilderNode("amd", { arch: "amd64", transport: "tls", allowedCidrs: ["203.0.113.7/32"], sshPublicKey });
 * const fleet = new Builder("fleet", { driver: arm.driver, nodes: [amd.node, arm.node] });
 * ```
 *
 * Creates a security group (ingress: the transport's ports from `allowedCidrs` only), the
 * instance (IMDSv2 only, encrypted gp3 root volume, shutdown behaviour `terminate`), for `tls` a
 * CA with server and client certificates, and a readiness check over SSH, to the host key the
 * VM printed on its EC2 console, that returns only once Docker or BuildKit answers. `node.endpoint` resolves after that check, so a
 * `Builder` given `node` waits for it.
 */
export class Ec2BuilderNode extends pulumi.ComponentResource {
    /**
     * Exactly what `Builder` takes as one of its `nodes`: name, endpoint, the pinned platform, and
     * for `ssh` the BuildKit image (`driverOpts.image`), for `tls` the CA, client certificate and
     * client key (all three secrets) and `serverName`.
     */
    public readonly node: BuilderNode;
    /** The `Builder` driver this node needs: `"docker-container"` (`ssh`) or `"remote"` (`tls`). */
    public readonly driver: BuilderDriver;
    /** The EC2 instance. */
    public readonly instance: aws.ec2.Instance;
    /** The security group that admits the transport's ports from `allowedCidrs`. */
    public readonly securityGroup: aws.ec2.SecurityGroup;
    /** The instance's ID. */
    public readonly instanceId: pulumi.Output<string>;
    /** The address buildx reaches: the public IPv4 address (the private one with `associatePublicIpAddress: false`). */
    public readonly publicIp: pulumi.Output<string>;
    /** `ssh://<sshUser>@<ip>` (`ssh`) or `tcp://<ip>:1234` (`tls`): the `ENDPOINT` of `docker buildx create`. Known once the node is ready. */
    public readonly endpoint: pulumi.Output<string>;
    /** The platform the node is native for and pinned to: `linux/arm64` or `linux/amd64`. */
    public readonly platform: pulumi.Output<string>;
    /**
     * The VM's SSH host key (`ssh-ed25519 AAAA…`), for `known_hosts`: read from the instance's EC2
     * console output (out of band) once per instance and kept in the state, and the key the
     * readiness connection verified. Known once the node is ready.
     */
    public readonly sshHostKey: pulumi.Output<string>;
    /** When the TTL powers the VM off (RFC 3339, UTC), as its timer says; "" without a TTL. */
    public readonly expiresAt: pulumi.Output<string>;

    constructor(name: string, args: Ec2BuilderNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("buildx:index:Ec2BuilderNode", name, {}, opts);
        const v = validateEc2NodeArgs(name, args);
        const plan = planEc2Node(name, v);
        const parent = { parent: this };

        const { subnetId, vpcId } = args.subnetId !== undefined ? givenSubnet(args.subnetId, this) : defaultSubnet(name, v, this);

        this.securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            {
                description: `pulumi-buildx builder node ${v.nodeName}: ${v.transport} transport`,
                vpcId,
                ingress: plan.ingress,
                egress: [
                    {
                        protocol: "-1",
                        fromPort: 0,
                        toPort: 0,
                        cidrBlocks: ["0.0.0.0/0"],
                        ipv6CidrBlocks: ["::/0"],
                        description: "packages, BuildKit release, registries",
                    },
                ],
                tags: plan.tags,
            },
            parent,
        );

        const pki = v.transport === "tls" ? createNodePki(name, v.nodeName, this) : undefined;
        const userData = userDataOf(v, pki && { ca: pki.caCertPem, cert: pki.serverCertPem });
        const ami = args.ami ?? aws.ssm.getParameterOutput({ name: plan.amiParameter }, parent).insecureValue;

        this.instance = new aws.ec2.Instance(
            `${name}-instance`,
            {
                ami,
                instanceType: v.instanceType,
                subnetId,
                vpcSecurityGroupIds: [this.securityGroup.id],
                associatePublicIpAddress: v.associatePublicIpAddress,
                userData,
                userDataReplaceOnChange: true,
                instanceInitiatedShutdownBehavior: "terminate",
                metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
                rootBlockDevice: { volumeSize: v.volumeSizeGiB, volumeType: "gp3", encrypted: true, deleteOnTermination: true, tags: plan.tags },
                ...(v.spot
                    ? {
                          instanceMarketOptions: {
                              marketType: "spot",
                              spotOptions: { spotInstanceType: "one-time", instanceInterruptionBehavior: "terminate" },
                          },
                      }
                    : {}),
                tags: plan.tags,
            },
            {
                parent: this,
                // A new AMI release must not replace a running node. The engine keeps the old AMI on
                // any replacement too: a node moves to a newer AMI only when `ami` is given.
                ignoreChanges: args.ami === undefined ? ["ami"] : [],
                // pulumi-aws resizes by stopping the instance, which a one-time Spot instance cannot.
                replaceOnChanges: v.spot ? ["instanceType"] : [],
            },
        );

        const address = v.associatePublicIpAddress ? this.instance.publicIp : this.instance.privateIp;
        // Learned out of band (the VM prints it to its serial console, read back through the EC2
        // API): the readiness connection refuses any other key before its session, and so before
        // the server's private key on stdin, is sent. Read once per instance by a Command keyed on
        // the instance ID and kept in its state: later runs do not read the console again
        // (host-key-store.ts). Empty where nothing ran the Command (see not-run.ts).
        const { hostKey } = storedHostKey(
            name,
            {
                instanceId: this.instance.id,
                region: this.instance.region,
                profile: awsProfileOf(this),
                nodeName: v.nodeName,
                timeoutMinutes: v.readyTimeoutMinutes,
                createTimeout: plan.createTimeout,
            },
            this,
        );
        const ready = new command.remote.Command(
            `${name}-ready`,
            {
                connection: {
                    host: address,
                    user: v.sshUser,
                    hostKey,
                    ...(args.sshPrivateKey !== undefined ? { privateKey: pulumi.secret(args.sshPrivateKey) } : {}),
                    dialErrorLimit: plan.dialErrorLimit,
                    perDialTimeout: 15,
                },
                create: address.apply((a) => ifRan(a, (known) => readinessCommand(v, known), "")),
                ...(pki ? { stdin: pki.serverKeyPem } : {}),
                triggers: [this.instance.id],
            },
            { parent: this, customTimeouts: { create: plan.createTimeout } },
        );
        const report = ready.stdout.apply((stdout) => ifRan(stdout, parseReadiness, { version: "", sshHostKey: "", expiresAt: "" }));

        this.instanceId = this.instance.id;
        this.publicIp = address;
        this.endpoint = pulumi.all([address, report]).apply(([a]) => ifRan(a, (known) => endpointOf(v.transport, v.sshUser, known), ""));
        this.platform = pulumi.output(v.platform);
        this.sshHostKey = pulumi.all([hostKey, report]).apply(([key]) => key);
        this.expiresAt = report.apply((r) => r.expiresAt);
        this.driver = plan.driver;
        this.node = {
            name: v.nodeName,
            // Undefined, not "", where nothing ran the instance (see not-run.ts): the builder then
            // has no endpoint to check, instead of an empty one to refuse.
            endpoint: pulumi
                .all([address, report])
                .apply(([a]) => ifRan(a, (known) => endpointOf(v.transport, v.sshUser, known), undefined)) as pulumi.Output<string>,
            platforms: [v.platform],
            ...(plan.driverOpts ? { driverOpts: plan.driverOpts } : {}),
            // All TLS material as secrets (the certificates are not confidential, but this keeps the
            // node's whole credential set out of plain state and previews).
            ...(pki
                ? { tls: { ca: pulumi.secret(pki.caCertPem), cert: pulumi.secret(pki.clientCertPem), key: pki.clientKeyPem, serverName: SERVER_NAME } }
                : {}),
        };
        this.registerOutputs({
            instanceId: this.instanceId,
            publicIp: this.publicIp,
            endpoint: this.endpoint,
            platform: this.platform,
            sshHostKey: this.sshHostKey,
            expiresAt: this.expiresAt,
        });
    }
}

function userDataOf(v: ValidatedEc2NodeArgs, certs?: { ca: pulumi.Output<string>; cert: pulumi.Output<string> }): pulumi.Output<string> {
    const common = (sshPublicKey: string) => ({ arch: v.arch, sshUser: v.sshUser, sshPublicKey, ttlMinutes: v.ttlMinutes });
    if (v.transport === "ssh")
        return pulumi.output(v.sshPublicKey).apply((key) => renderUserData({ ...common(key), transport: "ssh", dockerVersion: v.dockerVersion }));
    if (certs === undefined) throw new Error("tls transport without certificates");
    return pulumi.all([v.sshPublicKey, certs.ca, certs.cert]).apply(([key, ca, cert]) =>
        ifRan(
            ca === undefined || cert === undefined ? undefined : { caCertPem: ca, serverCertPem: cert },
            (pems) =>
                renderUserData({
                    ...common(key),
                    transport: "tls",
                    buildkitVersion: v.buildkitVersion,
                    buildkitSha256: v.buildkitSha256,
                    port: BUILDKIT_PORT,
                    ...pems,
                }),
            "",
        ),
    );
}

/**
 * The `profile` of the AWS provider the node's resources use, for the host-key reader's SDK: an
 * explicit provider's (`opts.provider(s)`, also inherited from a parent), else the stack's
 * `aws:profile`. Its `assumeRole` and explicit credentials the reader cannot follow (README).
 */
function awsProfileOf(node: pulumi.Resource): pulumi.Input<string | undefined> {
    const provider = node.getProvider("aws:ec2/instance:Instance");
    if (provider === undefined) return aws.config.profile;
    return aws.Provider.isInstance(provider) ? provider.profile : undefined;
}

interface Placement {
    /** Undefined only when the look-ups answered without their result fields (see not-run.ts). */
    subnetId: pulumi.Output<string | undefined>;
    /** The subnet's VPC, where the security group goes. */
    vpcId: pulumi.Output<string>;
}

/** The given subnet, and its VPC looked up. */
function givenSubnet(subnetId: pulumi.Input<string>, parent: pulumi.Resource): Placement {
    const id = pulumi.output(subnetId);
    return { subnetId: id, vpcId: aws.ec2.getSubnetOutput({ id }, { parent }).vpcId };
}

/**
 * A default subnet of the default VPC in an availability zone that offers the instance type
 * (not every zone has every type: e.g. Graviton types are missing from some), the first by ID so
 * the choice is stable across runs. The VPC is the default VPC already looked up.
 */
function defaultSubnet(name: string, v: ValidatedEc2NodeArgs, parent: pulumi.Resource): Placement {
    const opts = { parent };
    // getVpcs, not getVpc({ default: true }): that fails with a bare "no matching VPC found".
    const vpcId = aws.ec2.getVpcsOutput({ filters: [{ name: "is-default", values: ["true"] }] }, opts).ids.apply((ids) => {
        if (ids === undefined) return undefined as unknown as string; // nothing answered the look-up (see not-run.ts)
        if (ids.length === 0) {
            const problems = new InputProblems("Ec2BuilderNode", name);
            problems.missing(
                "subnetId",
                "this region has no default VPC, so there is no default subnet to launch the node in: " +
                    "give a subnet that gives instances a public IP and a route to the internet",
            );
            problems.throwIfAny();
        }
        return ids[0];
    });
    const zones = aws.ec2.getInstanceTypeOfferingsOutput(
        { locationType: "availability-zone", filters: [{ name: "instance-type", values: [v.instanceType] }] },
        opts,
    ).locations;
    const subnetId = pulumi.all([vpcId, zones]).apply(async ([vpcId, locations]) => {
        if (locations === undefined) return undefined; // nothing answered the look-up (see not-run.ts)
        if (locations.length === 0) {
            throw new Error(
                `Ec2BuilderNode ${v.nodeName}: no availability zone of this region offers instance type ${v.instanceType}; ` +
                    `choose another instanceType or region`,
            );
        }
        const subnets = await aws.ec2.getSubnets(
            {
                filters: [
                    { name: "vpc-id", values: [vpcId] },
                    { name: "default-for-az", values: ["true"] },
                    { name: "availability-zone", values: [...locations].sort() },
                ],
            },
            opts,
        );
        if (subnets.ids === undefined) return undefined; // as above
        if (subnets.ids.length === 0) {
            throw new Error(
                `Ec2BuilderNode ${v.nodeName}: the default VPC ${vpcId} has no default subnet in a zone offering ${v.instanceType} ` +
                    `(${[...locations].sort().join(", ")}); give subnetId`,
            );
        }
        return [...subnets.ids].sort()[0];
    });
    return { subnetId, vpcId };
}
