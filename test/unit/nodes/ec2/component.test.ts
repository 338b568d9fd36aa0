/**
 * Ec2BuilderNode wiring under mocks, nothing run: the resource graph and inputs for each
 * arch × transport (AMI parameter, instance type, IMDSv2, security-group rules, TTL wiring, tags,
 * parents), where secrets travel, and that a Builder given `node` waits for the readiness check.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Builder } from "../../../../src/builder/component";
import { Ec2BuilderNode } from "../../../../src/nodes/ec2/component";
import { Ec2BuilderNodeArgs, Ec2NodeArch, Ec2NodeTransport } from "../../../../src/nodes/ec2/args";
import { SERVER_NAME } from "../../../../src/nodes/ec2/pki";
import { DEFAULT_BUILDKIT_SHA256 } from "../../../../src/nodes/ec2/validate";
import { hostKeyUpdateCommand } from "../../../../src/nodes/ec2/host-key-store";
import { answerAwsLookups, ec2Api, Harness, Invoke, madeUpHostKey, runProgram, unwrap } from "../../../harness";
import { onRegister } from "../../../harness/sdk-internals";
import { runLocal } from "../../../harness/commands";
import { GUARDED_BASH } from "../../../../src/guard";

const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHr1bK0e3VbYw0aJ9sQwE2m6c1n1g2hX7s9T6oZ0a9fB me@laptop";
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nUNIT-TEST-SSH-PRIVATE-KEY\n-----END OPENSSH PRIVATE KEY-----\n";
const userDataOf = (r: { inputs: Record<string, any> }): string => String(r.inputs.userData);
const URN = (type: string, name: string) => `urn:pulumi:dev::proj::buildx:index:Ec2BuilderNode::${name}`;
const b64 = (text: string) => Buffer.from(text).toString("base64");
const READY_OUT = `pulumi-buildx-ready {"version":"${b64("v0.16.0")}","sshHostKey":"${b64("ssh-ed25519 AAAAHOSTKEY")}","expiresAt":"${b64("2026-11-29 19:00:00 UTC")}"}`;

interface Options {
    ignoreChanges: string[];
    replaceOnChanges: string[];
    customTimeouts?: { create: string };
}

describe("Ec2BuilderNode component (mocks, nothing runs)", () => {
    let harness: Harness;
    const options = new Map<string, Options>();
    const invokes: Invoke[] = [];
    let runReader = false;

    beforeEach(async () => {
        invokes.length = 0;
        options.clear();
        harness = new Harness({ run: false });
        await harness.install("proj", "dev");
        onRegister((req) => {
            const t = req.getCustomtimeouts();
            options.set(req.getName(), {
                ignoreChanges: req.getIgnorechangesList(),
                replaceOnChanges: req.getReplaceonchangesList(),
                customTimeouts: t ? { create: t.getCreate() } : undefined,
            });
        });
        answerAwsLookups(harness, invokes);
        harness.override("aws:ec2/instance:Instance", () => ({ publicIp: "198.51.100.7", privateIp: "10.0.0.7" }));
        harness.override("command:remote:Command", () => ({ stdout: READY_OUT }));
        // The host-key reader is the one command that runs here, for real (node, the AWS SDK, the
        // stand-in EC2 API), in one test of the table; the others get what it prints.
        harness.override("command:local:Command", (a, inputs) => {
            if (!a.name.endsWith("-host-key")) return {};
            if (runReader) return runLocal(a.name, { ...inputs, command: inputs.create }, () => undefined);
            return { stdout: `pulumi-buildx-host-key: ${madeUpHostKey(a.name.replace(/-host-key$/, "-instance"))}` };
        });
        // Stand-in PEMs (the real provider's are exercised end to end, test/integration/ec2-node.test.ts).
        const pem = (kind: string, body: string) => `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
        harness.override("tls:index/privateKey:PrivateKey", (a) => ({ privateKeyPem: pem("EC PRIVATE KEY", `UNIT-TEST-TLS-KEY-${a.name}`) }));
        harness.override("tls:index/selfSignedCert:SelfSignedCert", (a) => ({ certPem: pem("CERTIFICATE", a.name) }));
        harness.override("tls:index/certRequest:CertRequest", (a) => ({ certRequestPem: pem("CERTIFICATE REQUEST", a.name) }));
        harness.override("tls:index/locallySignedCert:LocallySignedCert", (a) => ({ certPem: pem("CERTIFICATE", a.name) }));
    });
    afterEach(() => harness.dispose());

    const args = (arch: Ec2NodeArch, transport: Ec2NodeTransport, patch: Partial<Ec2BuilderNodeArgs> = {}): Ec2BuilderNodeArgs => ({
        arch,
        transport,
        allowedCidrs: ["203.0.113.7/32", "198.51.100.0/24"],
        sshPublicKey: PUBLIC_KEY,
        sshPrivateKey: PRIVATE_KEY,
        ttlMinutes: 45,
        tags: { team: "ci" },
        ...patch,
    });

    for (const arch of ["arm64", "amd64"] as const) {
        for (const transport of ["ssh", "tls"] as const) {
            it(`${arch} × ${transport}: the resource graph and its inputs`, async () => {
                runReader = arch === "arm64" && transport === "tls";
                const callsBefore = ec2Api.calls.length;
                const { result, errors } = await runProgram(harness, () => new Ec2BuilderNode("node", args(arch, transport)));
                assert.deepStrictEqual(
                    errors.map((e) => e.message),
                    [],
                );
                const node = result!;
                const parent = URN("", "node");
                assert.strictEqual(harness.named("node").type, "buildx:index:Ec2BuilderNode");
                const tlsNames = [
                    "node-ca-key",
                    "node-ca",
                    "node-server-key",
                    "node-server-csr",
                    "node-server-cert",
                    "node-client-key",
                    "node-client-csr",
                    "node-client-cert",
                ];
                const expected = ["node-sg", ...(transport === "tls" ? tlsNames : []), "node-instance", "node-host-key", "node-ready"];
                const children = harness.resources.filter((r) => r.parent === parent).map((r) => r.name);
                assert.deepStrictEqual([...children].sort(), [...expected].sort());
                assert.strictEqual(harness.resources.length, expected.length + 1, "nothing outside the component");

                // AMI from the public SSM parameter of the arch; the default instance type of the arch.
                const ssm = invokes.find((i) => i.token === "aws:ssm/getParameter:getParameter")!;
                const param = arch === "arm64" ? "arm64" : "x86_64";
                assert.strictEqual(ssm.args.name, `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${param}`);
                const instance = harness.named("node-instance");
                assert.strictEqual(instance.inputs.ami, `ami-for-${param}`);
                assert.strictEqual(instance.inputs.instanceType, arch === "arm64" ? "c7g.large" : "c7i.large");
                assert.deepStrictEqual(options.get("node-instance")!.ignoreChanges, ["ami"], "a new AMI release does not replace a running node");

                // IMDSv2 only, encrypted gp3, terminate on shutdown (the TTL's power-off removes it).
                assert.deepStrictEqual(instance.inputs.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
                assert.deepStrictEqual(
                    { ...instance.inputs.rootBlockDevice, tags: undefined },
                    { volumeSize: 100, volumeType: "gp3", encrypted: true, deleteOnTermination: true, tags: undefined },
                );
                assert.strictEqual(instance.inputs.instanceInitiatedShutdownBehavior, "terminate");
                assert.strictEqual(instance.inputs.instanceMarketOptions, undefined, "on-demand by default");
                assert.strictEqual(instance.inputs.associatePublicIpAddress, true);
                assert.strictEqual(instance.inputs.userDataReplaceOnChange, true);
                // No EC2 key pair (ImportKeyPair takes RSA and ED25519 only): user-data authorises the key.
                assert.strictEqual(instance.inputs.keyName, undefined);
                assert.ok(userDataOf(instance).includes(`ssh_public_key='${PUBLIC_KEY}'`));
                assert.deepStrictEqual(options.get("node-instance")!.replaceOnChanges, [], "on-demand: a new instanceType resizes in place");

                // Default subnet: the first (by ID) default subnet of the default VPC in a zone offering the type.
                assert.strictEqual(instance.inputs.subnetId, "subnet-aaa");
                const subnets = invokes.find((i) => i.token === "aws:ec2/getSubnets:getSubnets")!;
                assert.deepStrictEqual(subnets.args.filters, [
                    { name: "vpc-id", values: ["vpc-default"] },
                    { name: "default-for-az", values: ["true"] },
                    { name: "availability-zone", values: ["us-east-1a", "us-east-1b"] },
                ]);
                const offerings = invokes.find((i) => i.token === "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings")!;
                assert.deepStrictEqual(offerings.args.filters, [{ name: "instance-type", values: [instance.inputs.instanceType] }]);

                // TTL wiring: user-data arms the timer for ttlMinutes.
                const userData: string = instance.inputs.userData;
                assert.match(userData, /date -u -d '\+45 minutes'/);
                assert.match(userData, transport === "tls" ? /buildkitd v0\.33\.0 \(/ : /dnf install -y docker/);
                if (transport === "tls") {
                    // The default release is checked against its published digest for the node's arch.
                    const check = `printf '%s  %s\\n' ${DEFAULT_BUILDKIT_SHA256[arch]} "$tmp/buildkit.tar.gz" | sha256sum --check --strict`;
                    assert.ok(userData.includes(check), `user-data checks the tarball: ${check}`);
                }
                assert.ok(!userData.includes("PRIVATE KEY"), "no private key in user-data");

                // Security group: only the transport's ports, from the allowed blocks only; in the
                // subnet's VPC (the default VPC, already looked up: no second lookup of the subnet).
                const sg = harness.named("node-sg");
                assert.strictEqual(sg.inputs.vpcId, "vpc-default");
                assert.ok(!invokes.some((i) => i.token === "aws:ec2/getSubnet:getSubnet"), "the default subnet's VPC was looked up again");
                const ports = transport === "tls" ? [1234, 22] : [22];
                assert.deepStrictEqual(
                    sg.inputs.ingress.map((r: any) => [r.protocol, r.fromPort, r.toPort, r.cidrBlocks, r.ipv6CidrBlocks]),
                    ports.map((p) => ["tcp", p, p, ["203.0.113.7/32", "198.51.100.0/24"], undefined]),
                );

                // Tags everywhere.
                for (const r of [sg, instance]) {
                    assert.deepStrictEqual(r.inputs.tags, { Name: "node", "pulumi-buildx:node": "node", team: "ci" }, r.name);
                }
                assert.deepStrictEqual(instance.inputs.rootBlockDevice.tags, { Name: "node", "pulumi-buildx:node": "node", team: "ci" });

                // Readiness: over SSH to the public IP as ec2-user, key as a secret, bounded, and only
                // to the host key the instance's console shows (read through the stand-in EC2 API).
                const ready = harness.named("node-ready");
                assert.strictEqual(ready.type, "command:remote:Command");
                const hostKey = madeUpHostKey("node-instance");
                assert.deepStrictEqual(
                    { ...ready.inputs.connection, privateKey: undefined },
                    { host: "198.51.100.7", port: 22, user: "ec2-user", hostKey, dialErrorLimit: 60, perDialTimeout: 15, privateKey: undefined },
                );
                if (runReader) {
                    assert.ok(
                        ec2Api.calls.slice(callsBefore).some((c) => c.instanceId === "node-instance-id" && c.latest),
                        "GetConsoleOutput (Latest) was asked for the instance",
                    );
                }
                assert.ok(ready.secretPaths.includes("connection") || ready.secretPaths.includes("connection.privateKey"), JSON.stringify(ready.secretPaths));
                assert.match(ready.inputs.create, /^\/bin\/bash -c /);
                assert.deepStrictEqual(options.get("node-ready")!.customTimeouts, { create: "20m" });
                assert.deepStrictEqual(ready.inputs.triggers, ["node-instance-id"]);

                // The host key is read once per instance, by a Command keyed on the instance ID whose
                // stdout (in the state) the readiness connection takes it from.
                const reader = harness.named("node-host-key");
                assert.strictEqual(reader.type, "command:local:Command");
                assert.deepStrictEqual(reader.inputs.triggers, ["node-instance-id"]);
                assert.deepStrictEqual(reader.inputs.interpreter, GUARDED_BASH);
                assert.match(reader.inputs.create, /^node --require '?\/[^' ]*\/transpile-only\.js'? '?\/[^' ]*\/src\/nodes\/ec2\/host-key-main\.ts'?$/);
                assert.deepStrictEqual(reader.inputs.environment, {
                    PULUMI_BUILDX_INSTANCE_ID: "node-instance-id",
                    PULUMI_BUILDX_REGION: "",
                    PULUMI_BUILDX_NODE: "node",
                    PULUMI_BUILDX_TIMEOUT_MINUTES: "15",
                });
                assert.strictEqual(reader.state.stdout, `pulumi-buildx-host-key: ${hostKey}`);
                assert.deepStrictEqual(options.get("node-host-key")!.customTimeouts, { create: "20m" });
                assert.deepStrictEqual(harness.leaks("UNIT-TEST-SSH-PRIVATE-KEY"), []);
                assert.deepStrictEqual(
                    harness.leaks("UNIT-TEST-TLS-KEY-node-server-key").filter((w) => !w.endsWith("node-server-key") && !w.endsWith("node-server-csr")),
                    [],
                    "the server key reaches only its CSR and (secret) stdin",
                );

                // Outputs.
                const endpoint = transport === "tls" ? "tcp://198.51.100.7:1234" : "ssh://ec2-user@198.51.100.7";
                assert.strictEqual(await unwrap(node.endpoint), endpoint);
                assert.strictEqual(await unwrap(node.publicIp), "198.51.100.7");
                assert.strictEqual(await unwrap(node.platform), `linux/${arch}`);
                assert.strictEqual(await unwrap(node.instanceId), "node-instance-id");
                assert.strictEqual(await unwrap(node.sshHostKey), hostKey, "the key read out of band, not the one the session printed");
                assert.strictEqual(await unwrap(node.expiresAt), "2026-11-29T19:00:00Z");
                assert.strictEqual(node.driver, transport === "tls" ? "remote" : "docker-container");
                assert.strictEqual(node.node.name, "node");
                assert.deepStrictEqual(node.node.platforms, [`linux/${arch}`]);
                assert.strictEqual(await unwrap(node.node.endpoint!), endpoint);
                if (transport === "ssh") {
                    assert.deepStrictEqual(node.node.driverOpts, { image: "moby/buildkit:v0.33.0" });
                    assert.strictEqual(node.node.tls, undefined);
                    assert.strictEqual(ready.inputs.stdin, undefined);
                } else {
                    assert.strictEqual(node.node.driverOpts, undefined);
                    assert.strictEqual(node.node.tls!.serverName, SERVER_NAME);
                    for (const part of ["key", "cert", "ca"] as const) {
                        assert.ok(await pulumi.isSecret(pulumi.output(node.node.tls![part])), `node.tls.${part} is a secret`);
                    }
                    assert.ok(ready.secretPaths.includes("stdin"), "the server key reaches the node as secret stdin");
                    const serverCsr = harness.named("node-server-csr");
                    assert.deepStrictEqual(serverCsr.inputs.dnsNames, [SERVER_NAME]);
                    assert.deepStrictEqual(
                        harness.named("node-server-cert").inputs.allowedUses,
                        ["server_auth", "digital_signature"],
                        "no key_encipherment on an ECDSA key",
                    );
                    assert.deepStrictEqual(harness.named("node-client-cert").inputs.allowedUses, ["client_auth", "digital_signature"]);
                    assert.strictEqual(harness.named("node-ca").inputs.isCaCertificate, true);
                }
            });
        }
    }

    it("spot, a given subnet, AMI and private addressing change only what they should", async () => {
        const { result, errors } = await runProgram(
            harness,
            () =>
                new Ec2BuilderNode(
                    "n",
                    args("arm64", "tls", {
                        spot: true,
                        subnetId: "subnet-0123456789abcdef0",
                        ami: "ami-0123456789abcdef0",
                        associatePublicIpAddress: false,
                        instanceType: "t4g.small",
                        volumeSizeGiB: 30,
                    }),
                ),
        );
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        const instance = harness.named("n-instance");
        assert.deepStrictEqual(instance.inputs.instanceMarketOptions, {
            marketType: "spot",
            spotOptions: { spotInstanceType: "one-time", instanceInterruptionBehavior: "terminate" },
        });
        assert.strictEqual(instance.inputs.subnetId, "subnet-0123456789abcdef0");
        assert.strictEqual(instance.inputs.ami, "ami-0123456789abcdef0");
        assert.strictEqual(instance.inputs.instanceType, "t4g.small");
        assert.strictEqual(instance.inputs.rootBlockDevice.volumeSize, 30);
        assert.deepStrictEqual(options.get("n-instance")!.ignoreChanges, [], "a given AMI is followed");
        assert.deepStrictEqual(options.get("n-instance")!.replaceOnChanges, ["instanceType"], "a one-time Spot instance cannot be stopped to be resized");
        assert.deepStrictEqual(
            invokes.map((i) => i.token),
            ["aws:ec2/getSubnet:getSubnet"],
            "no AMI lookup, no default-VPC lookups",
        );
        assert.strictEqual(harness.named("n-sg").inputs.vpcId, "vpc-of-subnet-0123456789abcdef0", "the security group is in the given subnet's VPC");
        assert.strictEqual(harness.named("n-ready").inputs.connection.host, "10.0.0.7");
        assert.strictEqual(await unwrap(result!.endpoint), "tcp://10.0.0.7:1234");
    });

    it("without sshPrivateKey the readiness check uses the SSH agent (no key in the connection)", async () => {
        const { errors } = await runProgram(harness, () => new Ec2BuilderNode("n", args("amd64", "ssh", { sshPrivateKey: undefined })));
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        assert.ok(!("privateKey" in harness.named("n-ready").inputs.connection));
    });

    it("the host-key reader re-prints the stored key on an update; it signs as the AWS provider's profile", async () => {
        const explicit = await runProgram(harness, () => {
            const provider = new aws.Provider("ci", { profile: "ci-deployer", region: "eu-west-1" });
            return new Ec2BuilderNode("n", args("arm64", "tls"), { provider });
        });
        assert.deepStrictEqual(
            explicit.errors.map((e) => e.message),
            [],
        );
        const reader = harness.named("n-host-key");
        assert.strictEqual(reader.inputs.update, hostKeyUpdateCommand(reader.inputs.create), "an update re-prints, not reads");
        assert.strictEqual(reader.inputs.environment.AWS_PROFILE, "ci-deployer", "an explicit provider's profile");

        harness.dispose();
        harness = new Harness({ run: false });
        await harness.install("proj", "dev");
        answerAwsLookups(harness, invokes);
        const saved = pulumi.runtime.allConfig();
        pulumi.runtime.setConfig("aws:profile", "stack-profile");
        try {
            await runProgram(harness, () => new Ec2BuilderNode("n", args("arm64", "tls")));
            assert.strictEqual(harness.named("n-host-key").inputs.environment.AWS_PROFILE, "stack-profile", "the stack's aws:profile");
        } finally {
            pulumi.runtime.setAllConfig(saved);
        }
    });

    it("a Builder given the node's `node` and `driver` depends on the readiness check", async () => {
        const { errors } = await runProgram(harness, () => {
            const arm = new Ec2BuilderNode("arm", args("arm64", "tls"));
            const amd = new Ec2BuilderNode("amd", args("amd64", "tls"));
            return new Builder("fleet", { driver: arm.driver, nodes: [amd.node, arm.node] });
        });
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        const cmd = harness.named("fleet-instance");
        const deps = cmd.dependencies;
        for (const n of ["arm-ready", "amd-ready"]) {
            assert.ok(
                deps.some((d) => d.endsWith(`::${n}`)),
                `${n} in ${JSON.stringify(deps)}`,
            );
        }
        assert.match(cmd.inputs.create, /--node amd --platform linux\/amd64 .*tcp:\/\/198\.51\.100\.7:1234/);
        assert.match(cmd.inputs.create, new RegExp(`servername=${SERVER_NAME.replace(/\./g, "\\.")}`));
    });

    it("takes sshPublicKey as an Output (a key made in the same stack), checked once known", async () => {
        const { errors } = await runProgram(harness, () => new Ec2BuilderNode("n", args("arm64", "ssh", { sshPublicKey: pulumi.output(`${PUBLIC_KEY}\n`) })));
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        assert.ok(harness.named("n-instance").inputs.userData.includes(`ssh_public_key='${PUBLIC_KEY}'`), "trimmed, as a plain key is");

        const bad = await runProgram(
            harness,
            () =>
                new Ec2BuilderNode(
                    "m",
                    args("arm64", "tls", {
                        sshPublicKey: pulumi.output("-----BEGIN OPENSSH PRIVATE KEY-----\nUNIT-TEST-OUTPUT-PRIVATE\n-----END OPENSSH PRIVATE KEY-----"),
                    }),
                ),
        );
        const message = bad.errors.map((e) => e.message).join("\n");
        assert.match(message, /Ec2BuilderNode "m" has invalid arguments:[\s\S]*sshPublicKey: is a private key: give the public key/);
        assert.ok(!message.includes("UNIT-TEST-OUTPUT-PRIVATE"), "the private key is quoted in the error");
        assert.ok(!harness.resources.some((r) => r.name === "m-instance"), "no instance for a node with a bad key");
    });

    it("a region without a default VPC fails with the component's error naming subnetId, before the security group or instance", async () => {
        harness.dispose();
        harness = new Harness({ run: false });
        await harness.install("proj", "dev");
        answerAwsLookups(harness, invokes, { noDefaultVpc: true });
        const { errors } = await runProgram(harness, () => new Ec2BuilderNode("n", args("arm64", "tls")));
        const err = errors.find((e) => pulumi.InputPropertiesError.isInstance(e)) as pulumi.InputPropertiesError | undefined;
        assert.ok(err, errors.map((e) => e.message).join("\n"));
        assert.match(err.message, /Ec2BuilderNode "n" has invalid arguments:\n {2}- subnetId: is required: this region has no default VPC/);
        assert.deepStrictEqual(invokes.find((i) => i.token === "aws:ec2/getVpcs:getVpcs")!.args.filters, [{ name: "is-default", values: ["true"] }]);
        assert.ok(!harness.resources.some((r) => r.name === "n-sg" || r.name === "n-instance"), "resources were created without a VPC");
    });

    it("allowedCidrs entries that are Outputs reach the security group once checked; a bad one fails before it", async () => {
        const { errors } = await runProgram(
            harness,
            () => new Ec2BuilderNode("n", args("arm64", "ssh", { allowedCidrs: [pulumi.output("198.51.100.7/32"), "203.0.113.0/24"] })),
        );
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        assert.deepStrictEqual(
            harness.named("n-sg").inputs.ingress.map((r: any) => r.cidrBlocks),
            [["198.51.100.7/32", "203.0.113.0/24"]],
        );

        const bad = await runProgram(harness, () => new Ec2BuilderNode("m", args("arm64", "ssh", { allowedCidrs: [pulumi.output("198.51.100.7")] })));
        const err = bad.errors.find((e) => pulumi.InputPropertiesError.isInstance(e)) as pulumi.InputPropertiesError | undefined;
        assert.ok(err, bad.errors.map((e) => e.message).join("\n"));
        assert.match(err.message, /Ec2BuilderNode "m" has invalid arguments:\n {2}- allowedCidrs\[0\]: "198.51.100.7" is not a CIDR block/);
        assert.ok(!harness.resources.some((r) => r.name === "m-sg" || r.name === "m-instance"), "the security group was created with a bad block");
    });

    it("bad input fails at construction, before any resource exists", async () => {
        const { errors } = await runProgram(
            harness,
            () => new Ec2BuilderNode("n", args("arm64", "tls", { instanceType: "c7i.large", allowedCidrs: ["0.0.0.0/0"], ttlMinutes: -1 })),
        );
        assert.strictEqual(errors.length, 1);
        assert.ok(pulumi.InputPropertiesError.isInstance(errors[0]));
        const paths = (errors[0] as pulumi.InputPropertiesError).errors.map((e) => e.propertyPath);
        assert.deepStrictEqual(paths.sort(), ["allowedCidrs[0]", "instanceType", "ttlMinutes"]);
        assert.deepStrictEqual(
            harness.resources.filter((r) => r.custom).map((r) => r.name),
            [],
        );
    });
});
