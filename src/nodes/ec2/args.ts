import * as pulumi from "@pulumi/pulumi";

/** CPU architecture of an EC2 builder node. Decides the AMI, the default instance type and the pinned platform. */
export type Ec2NodeArch = "arm64" | "amd64";

/**
 * How buildx reaches an EC2 builder node.
 * - `"ssh"`: Docker runs on the VM; the node is appended with the `docker-container` driver at
 *   `ssh://<sshUser>@<publicIp>` (buildx starts BuildKit in a container there). Port 22 only.
 * - `"tls"`: buildkitd runs on the VM as a systemd service; the node is appended with the
 *   `remote` driver at `tcp://<publicIp>:1234` with mutual TLS. Ports 1234 and 22 (SSH is used
 *   once, to deliver the server's private key and to check readiness).
 */
export type Ec2NodeTransport = "ssh" | "tls";

/**
 * The arguments of `new Ec2BuilderNode(name, args)` (from `pulumi-buildx/aws`): one EC2 VM of
 * `arch`, reachable over `transport` from `allowedCidrs` only, set up as a BuildKit (`tls`) or
 * Docker (`ssh`) node for a `Builder`. Required: `arch`, `transport`, `allowedCidrs`, `sshPublicKey`.
 */
export interface Ec2BuilderNodeArgs {
    /**
     * CPU architecture: `"arm64"` (Graviton) or `"amd64"` (Intel/AMD). Plain value, required.
     * Decides the Amazon Linux 2023 AMI (public SSM parameter of the arch), the default
     * `instanceType`, and the platform pinned on the node (`linux/arm64` or `linux/amd64`).
     */
    arch: Ec2NodeArch;
    /**
     * How buildx reaches the node: `"ssh"` (Docker over SSH, `docker-container` driver) or
     * `"tls"` (buildkitd with mTLS, `remote` driver). Plain value, required. A `Builder` takes
     * nodes of one driver, so every EC2 node appended to one builder uses the same transport.
     */
    transport: Ec2NodeTransport;
    /**
     * EC2 instance type. Must be of `arch`: Graviton families (those with a `g` right after the
     * generation digit: `c7g`, `m7g`, `t4g`, `c6gn`, `r8g`, …) for `arm64`, any other family for
     * `amd64`. `a1` is refused: Amazon Linux 2023 does not support A1 instances. With `spot`, a
     * new `instanceType` replaces the instance (a one-time Spot instance cannot be stopped to be
     * resized). Default: `c7g.large` for `arm64`, `c7i.large` for `amd64`
     * (2 vCPUs, 4 GiB, compute-optimised). Equivalent to `aws.ec2.Instance` `instanceType`.
     */
    instanceType?: string;
    /**
     * Run as a Spot instance (one-time request, terminated on interruption). Cheaper, but a
     * build on an interrupted node fails. A new `instanceType` then replaces the instance.
     * Default false (on-demand).
     */
    spot?: boolean;
    /**
     * Size of the root volume in GiB, which also holds the build cache (gp3, encrypted). An
     * integer from 8 (the AMI's size) to 65536 (gp3's limit). Default 100.
     */
    volumeSizeGiB?: number;
    /**
     * Subnet to launch in; it must give the instance a public IP, or be reachable from where
     * `pulumi up` and the builds run, and let the VM reach the internet (packages, the BuildKit
     * release). Default: a default subnet of the region's default VPC (an error naming this field
     * when the region has no default VPC). Required with `associatePublicIpAddress: false`: then
     * a subnet with a NAT route whose private addresses you can reach.
     */
    subnetId?: pulumi.Input<string>;
    /**
     * Who may reach the node: IPv4 CIDR blocks in network form (e.g. `203.0.113.0/24`,
     * `198.51.100.7/32`), allowed in on the transport's ports only (22 for `ssh`; 1234 and 22 for
     * `tls`): the security group's ingress `cidrBlocks`. Required, at least one. `0.0.0.0/0`
     * (anyone) is refused unless `allowPublicIngress` is true. IPv6 blocks are refused: the node
     * has an IPv4 address only (the instance gets no IPv6 address, buildkitd listens on IPv4).
     * Entries may be Outputs (e.g. an Elastic IP's `publicIp` with `/32` appended): they are checked
     * once known, with the same messages, before the security group is created.
     */
    allowedCidrs: pulumi.Input<string>[];
    /**
     * Allow `0.0.0.0/0` in `allowedCidrs`, i.e. let the whole internet reach the SSH (and, for
     * `tls`, the BuildKit) port. Default false.
     */
    allowPublicIngress?: boolean;
    /**
     * OpenSSH public key (`ssh-ed25519 AAAA… comment`, `ssh-rsa …`, `ecdsa-sha2-nistp* …` or a
     * FIDO `sk-…` key) authorised for `sshUser`, written to its `authorized_keys` by user-data.
     * No EC2 key pair is made: it would repeat what user-data does, and EC2's ImportKeyPair takes
     * only RSA and ED25519 keys. Required for both transports: `ssh` builds connect with it, and
     * the readiness check (and, for `tls`, the delivery of the server's private key) connect
     * over SSH as `sshUser`, authenticating with the matching private key from the SSH agent
     * (`SSH_AUTH_SOCK`) or `sshPrivateKey`, as buildx's `ssh://` endpoints do. May be an
     * Output, e.g. `key.publicKeyOpenssh` of a `tls.PrivateKey`
     * made in the same stack (with `sshPrivateKey: key.privateKeyOpenssh`): it is then checked
     * once known. A FIDO `sk-…` key signs only through the SSH agent (its private half stays on
     * the token; each connection needs a touch, so not in unattended CI): `sshPrivateKey` is
     * refused with one.
     */
    sshPublicKey: pulumi.Input<string>;
    /**
     * Login user on the VM. Default `"ec2-user"` (Amazon Linux's default user). Another name
     * is created at boot, with the key, passwordless sudo and (for `ssh`) the docker group.
     * `root` is refused (Amazon Linux disables root login).
     */
    sshUser?: string;
    /**
     * Minutes after the first boot at which the VM powers itself off; the instance's shutdown
     * behaviour is `terminate`, so it then disappears (run `pulumi refresh` or `up` to forget
     * it). Protects against paying for forgotten nodes. A non-negative integer; `0` disables.
     * Default 120.
     */
    ttlMinutes?: number;
    /**
     * BuildKit version, e.g. `"v0.33.0"` (a leading `v` is added when missing). Default
     * `"v0.33.0"` (its release tarballs' SHA-256 are built in, see `buildkitSha256`). For `tls`: the release of buildkitd installed on the VM. For `ssh`: the
     * `moby/buildkit` image buildx starts there (equivalent to `--driver-opt image=moby/buildkit:<version>`).
     */
    buildkitVersion?: string;
    /**
     * Docker Engine version installed with dnf, e.g. `"25.0.8"` (installs `docker-25.0.8`).
     * `ssh` transport only (`tls` installs no Docker). Default: the newest in the Amazon Linux
     * 2023 repositories.
     */
    dockerVersion?: string;
    /**
     * `ssh` only: the BuildKit image buildx starts on the node's Docker. Equivalent to
     * `--driver-opt image=IMAGE`. Default `moby/buildkit:<buildkitVersion>`. Give a mirror (e.g.
     * an ECR pull-through cache) when Docker Hub is slow or rate-limited from your VPC.
     */
    buildkitImage?: string;
    /**
     * `tls` only: SHA-256 (64 hex digits) of the BuildKit release tarball of `arch`, checked by
     * user-data before anything is unpacked. Default: for the default `buildkitVersion`, the
     * published SHA-256 of its tarball for `arch` (built in); for another version none (HTTPS from
     * github.com is the only check).
     */
    buildkitSha256?: string;
    /** Tags for every AWS resource of the node (instance, volume, security group). */
    tags?: Record<string, pulumi.Input<string>>;
    /**
     * The private key (OpenSSH or PEM) matching `sshPublicKey`, used by the readiness check (and,
     * for `tls`, to deliver the server's private key). Stored only as a secret. Default: the SSH
     * agent at `SSH_AUTH_SOCK`. buildx's own `ssh://` connections always use your SSH client
     * configuration and agent, never this value. Refused with a FIDO `sk-…` `sshPublicKey`
     * (pulumi-command cannot sign with a hardware-backed key; use the agent).
     */
    sshPrivateKey?: pulumi.Input<string>;
    /**
     * Give the instance a public IPv4 address, and reach it there (the endpoint and the readiness
     * check use the public IP). With false, they use the private IP: for builds that run inside
     * the VPC or over a VPN. Equivalent to `aws.ec2.Instance` `associatePublicIpAddress`. Default true.
     */
    associatePublicIpAddress?: boolean;
    /**
     * AMI to launch instead of the latest Amazon Linux 2023 of `arch` (read from the public SSM
     * parameter `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<arm64|x86_64>`).
     * Must be Amazon Linux 2023 (or compatible: dnf, systemd, cloud-init, user-data output on the
     * serial console) of `arch`. Without it, the AMI is ignored after the first `up`
     * (`ignoreChanges: ["ami"]`): a new release does not replace a running node, and a node
     * replaced for another reason (a user-data change, a new instance type on Spot) keeps its old
     * AMI too. Give `ami` (e.g. the SSM parameter's current value) to move a node to a newer one:
     * a changed `ami` replaces the node.
     */
    ami?: pulumi.Input<string>;
    /**
     * How long the readiness check waits for Docker (`ssh`) or BuildKit (`tls`) to answer, in
     * minutes, after which `up` fails with the node's setup log. An integer from 1 to 60. Default 15.
     */
    readyTimeoutMinutes?: number;
    /**
     * The node's name in the builder (`BuilderNode.name`, equivalent to `--node`). Default: this
     * resource's name, lower-cased, with characters buildx does not allow replaced by `-`.
     */
    nodeName?: string;
}
