import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { Ec2BuilderNodeArgs } from "../../../../src/nodes/ec2/args";
import { DEFAULT_BUILDKIT_SHA256, instanceTypeArch, MAX_VOLUME_SIZE_GIB, parseCidr, validateEc2NodeArgs } from "../../../../src/nodes/ec2/validate";
import { unwrap } from "../../../harness";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHr1bK0e3VbYw0aJ9sQwE2m6c1n1g2hX7s9T6oZ0a9fB me@laptop";

const PRIVATE = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-SECRET\n-----END OPENSSH PRIVATE KEY-----";
const ECDSA_KEY = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEXAMPLEKEYDATA= me@laptop";
const SK_KEY = "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIEXAMPLEKEYDATA= me@yubikey";
const SK_ECDSA_KEY = "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTY= me@yubikey";

const args = (patch: Partial<Ec2BuilderNodeArgs> = {}): Ec2BuilderNodeArgs => ({
    arch: "arm64",
    transport: "tls",
    allowedCidrs: ["203.0.113.7/32"],
    sshPublicKey: KEY,
    ...patch,
});

function problemsOf(a: Ec2BuilderNodeArgs): { propertyPath: string; reason: string }[] {
    try {
        validateEc2NodeArgs("arm", a);
    } catch (err) {
        assert.ok(pulumi.InputPropertiesError.isInstance(err), String(err));
        assert.match((err as Error).message, /^Ec2BuilderNode "arm" has invalid arguments:/);
        return (err as pulumi.InputPropertiesError).errors as { propertyPath: string; reason: string }[];
    }
    assert.fail("expected an InputPropertiesError");
}

describe("Ec2BuilderNode argument validation", () => {
    it("fills in the defaults of each arch", () => {
        const arm = validateEc2NodeArgs("arm", args());
        assert.deepStrictEqual(
            { ...arm, tags: undefined },
            {
                arch: "arm64",
                transport: "tls",
                platform: "linux/arm64",
                instanceType: "c7g.large",
                spot: false,
                volumeSizeGiB: 100,
                subnetId: undefined,
                cidrs: ["203.0.113.7/32"],
                allowPublicIngress: false,
                ingressPorts: [1234, 22],
                sshPublicKey: KEY,
                sshUser: "ec2-user",
                ttlMinutes: 120,
                buildkitVersion: "v0.33.0",
                dockerVersion: undefined,
                buildkitImage: undefined,
                buildkitSha256: "e5acfb5929f967fde3b925ddb39f79fd481a0e96774c641fab3a0e83950d7bfa",
                tags: undefined,
                associatePublicIpAddress: true,
                readyTimeoutMinutes: 15,
                nodeName: "arm",
            },
        );
        const amd = validateEc2NodeArgs("Amd 64 Node", args({ arch: "amd64", transport: "ssh" }));
        assert.strictEqual(amd.instanceType, "c7i.large");
        assert.strictEqual(amd.platform, "linux/amd64");
        assert.deepStrictEqual(amd.ingressPorts, [22]);
        assert.strictEqual(amd.buildkitImage, "moby/buildkit:v0.33.0");
        assert.strictEqual(amd.buildkitSha256, undefined, "ssh runs an image: no tarball to check");
        assert.strictEqual(amd.nodeName, "amd-64-node");
        const long = validateEc2NodeArgs(`n${"o".repeat(150)}`, args({ arch: "amd64", transport: "ssh" }));
        assert.strictEqual(long.nodeName, `n${"o".repeat(99)}`, "a default name is cut to the 100 characters a buildx name may have");
    });

    it("checks the default BuildKit release against its published digest for the node's arch, and only the default", () => {
        const digest = (a: Partial<Ec2BuilderNodeArgs>) => validateEc2NodeArgs("n", args(a)).buildkitSha256;
        assert.strictEqual(digest({ arch: "amd64" }), "b6242896d343100808dcbe37565caf381e0a444a6a83d7255926bb1519248ead");
        assert.strictEqual(digest({ arch: "arm64", buildkitVersion: "0.33.0" }), DEFAULT_BUILDKIT_SHA256.arm64);
        assert.strictEqual(digest({ arch: "arm64", buildkitVersion: "v0.34.2" }), undefined, "another release: no built-in digest");
        assert.strictEqual(digest({ arch: "amd64", buildkitSha256: "0".repeat(64) }), "0".repeat(64), "the given digest wins");
    });

    it("keeps given values and normalises CIDRs and versions", () => {
        const subnet = pulumi.output("subnet-0123456789abcdef0");
        const v = validateEc2NodeArgs(
            "amd",
            args({
                arch: "amd64",
                transport: "ssh",
                instanceType: "M7i-Flex.2xlarge",
                spot: true,
                volumeSizeGiB: 8,
                subnetId: subnet,
                allowedCidrs: ["10.0.0.0/8", "0.0.0.0/0"],
                allowPublicIngress: true,
                sshUser: "builder",
                ttlMinutes: 0,
                buildkitVersion: "0.17.1",
                dockerVersion: "25.0.8",
                buildkitImage: "public.ecr.aws/docker/buildkit:v0.17.1",
                associatePublicIpAddress: false,
                readyTimeoutMinutes: 60,
                nodeName: "x86.big_1",
                tags: { team: "ci", cost: pulumi.output("x") },
            }),
        );
        assert.strictEqual(v.buildkitImage, "public.ecr.aws/docker/buildkit:v0.17.1");
        assert.strictEqual(v.associatePublicIpAddress, false);
        assert.strictEqual(v.readyTimeoutMinutes, 60);
        assert.strictEqual(v.nodeName, "x86.big_1");
        assert.strictEqual(v.instanceType, "m7i-flex.2xlarge");
        assert.strictEqual(v.spot, true);
        assert.strictEqual(v.volumeSizeGiB, 8);
        assert.strictEqual(v.subnetId, subnet);
        assert.deepStrictEqual(v.cidrs, ["10.0.0.0/8", "0.0.0.0/0"]);
        assert.strictEqual(v.ttlMinutes, 0);
        assert.strictEqual(v.buildkitVersion, "v0.17.1");
        assert.strictEqual(v.dockerVersion, "25.0.8");
        assert.deepStrictEqual(Object.keys(v.tags), ["team", "cost"]);
    });

    const cases: [string, Partial<Ec2BuilderNodeArgs>, string, RegExp][] = [
        ["unknown arch", { arch: "arm" as never }, "arch", /^"arm" is not valid: expected "arm64" \(Graviton\) or "amd64"/],
        ["missing arch", { arch: undefined as never }, "arch", /^is required: "arm64"/],
        ["unknown transport", { transport: "docker" as never }, "transport", /^"docker" is not valid: expected "ssh" \(Docker over SSH\) or "tls"/],
        [
            "arm64 with an x86 type",
            { instanceType: "c7i.large" },
            "instanceType",
            /"c7i.large" is not valid: expected an arm64 instance type: it is amd64, and arch is "arm64"; give a Graviton type .* such as c7g.large, or set arch to "amd64"/,
        ],
        [
            "amd64 with a Graviton type",
            { arch: "amd64", instanceType: "t4g.micro" },
            "instanceType",
            /"t4g.micro" is not valid: expected an amd64 instance type: it is arm64.*such as c7i.large/,
        ],
        ["not an instance type", { instanceType: "large" }, "instanceType", /"large" is not valid: expected an EC2 instance type such as c7g.large/],
        ["a Mac instance type", { instanceType: "mac2.metal" }, "instanceType", /Mac instances run macOS/],
        ["missing allowedCidrs", { allowedCidrs: undefined as never }, "allowedCidrs", /^is required: the CIDR blocks that may reach the node/],
        ["empty allowedCidrs", { allowedCidrs: [] }, "allowedCidrs", /^\[\] is not valid: expected a non-empty list of CIDR blocks/],
        [
            "a CIDR without prefix",
            { allowedCidrs: ["203.0.113.7"] },
            "allowedCidrs[0]",
            /^"203.0.113.7" is not a CIDR block: expected an IPv4 CIDR block such as 203.0.113.0\/24/,
        ],
        [
            "an address out of range",
            { allowedCidrs: ["10.0.0.0/8", "300.1.2.0/24"] },
            "allowedCidrs[1]",
            /^"300.1.2.0\/24" is not a CIDR block: "300.1.2.0" is not an IPv4 or IPv6 address/,
        ],
        ["a prefix too long", { allowedCidrs: ["10.0.0.0/33"] }, "allowedCidrs[0]", /^"10.0.0.0\/33" is not a CIDR block: the prefix length must be 0 to 32/],
        ["host bits set", { allowedCidrs: ["10.1.2.3/8"] }, "allowedCidrs[0]", /^"10.1.2.3\/8" has host bits set: its network form is 10.0.0.0\/8/],
        [
            "IPv6 host bits set",
            { allowedCidrs: ["2001:db8::1/32"] },
            "allowedCidrs[0]",
            /^"2001:db8::1\/32" has host bits set: its network form is 2001:db8::\/32/,
        ],
        ["a duplicate block", { allowedCidrs: ["10.0.0.0/8", "10.0.0.0/8"] }, "allowedCidrs[1]", /each block once: 10.0.0.0\/8 is already allowed/],
        [
            "0.0.0.0/0 without the flag",
            { allowedCidrs: ["0.0.0.0/0"] },
            "allowedCidrs[0]",
            /^"0.0.0.0\/0" lets the whole internet reach the node's BuildKit and SSH ports: .*allowPublicIngress: true/,
        ],
        [
            "an IPv6 block (the node has no IPv6 address)",
            { transport: "ssh", allowedCidrs: ["203.0.113.7/32", "2001:db8::/32"] },
            "allowedCidrs[1]",
            /^"2001:db8::\/32" is not valid: expected an IPv4 CIDR block such as 203\.0\.113\.7\/32: the node has no IPv6 address/,
        ],
        ["only IPv6 blocks", { allowedCidrs: ["::/0"], allowPublicIngress: true }, "allowedCidrs[0]", /could never reach it/],
        [
            "an A1 type (Amazon Linux 2023 does not support A1)",
            { instanceType: "a1.large" },
            "instanceType",
            /^"a1.large" is not valid: expected a current Graviton type such as c7g.large, m7g.large or t4g.large: Amazon Linux 2023 does not support A1 instances/,
        ],
        [
            "no public IP and no subnet",
            { associatePublicIpAddress: false },
            "subnetId",
            /^is required: a subnet ID, required with associatePublicIpAddress: false: a subnet with a NAT route .*The default VPC's subnets route out through an internet gateway only/,
        ],
        ["0.0.0.0/0 with the flag false", { allowedCidrs: ["0.0.0.0/0"], allowPublicIngress: false }, "allowedCidrs[0]", /whole internet/],
        ["negative ttlMinutes", { ttlMinutes: -5 }, "ttlMinutes", /^-5 is not valid: expected a whole number of minutes, 0 or more \(0 disables/],
        ["fractional ttlMinutes", { ttlMinutes: 1.5 }, "ttlMinutes", /^1.5 is not valid/],
        ["ttlMinutes as a string", { ttlMinutes: "60" as never }, "ttlMinutes", /^"60" is not valid/],
        ["volume below the AMI's size", { volumeSizeGiB: 4 }, "volumeSizeGiB", /^4 is not valid: expected a whole number of GiB from 8/],
        ["fractional volume", { volumeSizeGiB: 20.5 }, "volumeSizeGiB", /^20.5 is not valid/],
        ["volume above gp3's limit", { volumeSizeGiB: 65537 }, "volumeSizeGiB", /to 65536 \(gp3's limit\)/],
        [
            "ssh without a key",
            { transport: "ssh", sshPublicKey: undefined as never },
            "sshPublicKey",
            /^is required: an OpenSSH public key .* for the ssh transport/,
        ],
        [
            "tls without a key (readiness check)",
            { sshPublicKey: "" },
            "sshPublicKey",
            /^is required: .*the readiness check and the delivery of the BuildKit server's private key/,
        ],
        ["not a public key", { sshPublicKey: "hello" }, "sshPublicKey", /^"hello" is not valid: expected one OpenSSH public key/],
        ["a private key", { sshPublicKey: PRIVATE }, "sshPublicKey", /^is a private key: give the public key/],
        ["root user", { sshUser: "root" }, "sshUser", /^"root" is not valid: expected a user other than root/],
        ["bad user name", { sshUser: "Bad User" }, "sshUser", /^"Bad User" is not valid: expected a Linux user name/],
        ["bad subnet", { subnetId: "vpc-123" }, "subnetId", /^"vpc-123" is not valid: expected a subnet ID/],
        ["spot not a boolean", { spot: "yes" as never }, "spot", /^"yes" is not valid: expected true or false/],
        ["bad buildkitVersion", { buildkitVersion: "latest" }, "buildkitVersion", /^"latest" is not valid: expected a BuildKit release such as "v0.33.0"/],
        ["dockerVersion with tls", { dockerVersion: "25.0.8" }, "dockerVersion", /^applies to the ssh transport only/],
        ["bad dockerVersion", { transport: "ssh", dockerVersion: "25; rm -rf /" }, "dockerVersion", /is not valid: expected a Docker version/],
        ["reserved tag", { tags: { "aws:cloudformation": "x" } }, "tags.aws:cloudformation", /does not start with "aws:"/],
        ["buildkitImage with tls", { buildkitImage: "moby/buildkit:v0.16.0" }, "buildkitImage", /^applies to the ssh transport only/],
        [
            "bad buildkitImage",
            { transport: "ssh", buildkitImage: "moby/buildkit:v0.16.0; reboot" },
            "buildkitImage",
            /is not valid: expected an image reference such as "moby\/buildkit:v0.33.0"/,
        ],
        ["buildkitSha256 with ssh", { transport: "ssh", buildkitSha256: "a".repeat(64) }, "buildkitSha256", /^applies to the tls transport only/],
        [
            "bad buildkitSha256",
            { buildkitSha256: "ABC" },
            "buildkitSha256",
            /^"ABC" is not valid: expected the SHA-256 of the release tarball as 64 lower-case hex digits/,
        ],
        ["a public key as sshPrivateKey", { sshPrivateKey: KEY }, "sshPrivateKey", /^is not a private key: give the PEM or OpenSSH private key/],
        [
            "sshPrivateKey with a FIDO key",
            { sshPublicKey: SK_KEY, sshPrivateKey: PRIVATE },
            "sshPrivateKey",
            /^cannot be used with a FIDO security-key sshPublicKey \("sk-ssh-ed25519@openssh\.com"\): its private half stays on the hardware token.* Omit sshPrivateKey and sign through your SSH agent .*or give an ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp\* key pair$/,
        ],
        [
            "sshPrivateKey (an Output) with a FIDO ECDSA key",
            { sshPublicKey: SK_ECDSA_KEY, sshPrivateKey: pulumi.secret(PRIVATE) },
            "sshPrivateKey",
            /^cannot be used with a FIDO security-key sshPublicKey \("sk-ecdsa-sha2-nistp256@openssh\.com"\)/,
        ],
        [
            "associatePublicIpAddress not a boolean",
            { associatePublicIpAddress: "no" as never },
            "associatePublicIpAddress",
            /^"no" is not valid: expected true or false/,
        ],
        ["bad ami", { ami: "al2023" }, "ami", /^"al2023" is not valid: expected an AMI ID such as ami-0123456789abcdef0/],
        ["readyTimeoutMinutes 0", { readyTimeoutMinutes: 0 }, "readyTimeoutMinutes", /^0 is not valid: expected a whole number of minutes from 1 to 60/],
        ["readyTimeoutMinutes too long", { readyTimeoutMinutes: 61 }, "readyTimeoutMinutes", /^61 is not valid/],
        [
            "bad nodeName",
            { nodeName: "Arm Node" },
            "nodeName",
            /^"Arm Node" is not valid: expected a buildx node name: a lower-case letter, then .* \(at most 100 characters\)$/,
        ],
    ];
    for (const [what, patch, path, reason] of cases) {
        it(`reports ${what} at ${path}`, () => {
            const problems = problemsOf(args(patch));
            const at = problems.filter((p) => p.propertyPath === path);
            assert.strictEqual(at.length, 1, `one problem at ${path}, got ${JSON.stringify(problems)}`);
            assert.match(at[0].reason, reason);
            assert.ok(!JSON.stringify(problems).includes("SECRET"), "a private key is never quoted");
        });
    }

    it("reports every problem at once", () => {
        const problems = problemsOf({ arch: "x86" as never, transport: "ftp" as never, allowedCidrs: ["0.0.0.0/0"], sshPublicKey: "", ttlMinutes: -1 });
        assert.deepStrictEqual(
            problems.map((p) => p.propertyPath),
            ["arch", "transport", "ttlMinutes", "allowedCidrs[0]", "sshPublicKey"],
        );
    });

    it("accepts ECDSA and FIDO (sk-) public keys (no EC2 key pair is imported), a FIDO one only without sshPrivateKey", async () => {
        for (const sshPublicKey of [ECDSA_KEY, SK_KEY, SK_ECDSA_KEY])
            assert.strictEqual(validateEc2NodeArgs("arm", args({ sshPublicKey })).sshPublicKey, sshPublicKey);
        assert.strictEqual(validateEc2NodeArgs("arm", args({ sshPublicKey: ECDSA_KEY, sshPrivateKey: PRIVATE })).sshPublicKey, ECDSA_KEY);
        // A FIDO key known late, with sshPrivateKey: refused once known, with the same message.
        const v = validateEc2NodeArgs("arm", args({ sshPublicKey: pulumi.output(SK_KEY), sshPrivateKey: PRIVATE }));
        await assert.rejects(unwrap(pulumi.output(v.sshPublicKey)), (err: Error) => {
            assert.ok(pulumi.InputPropertiesError.isInstance(err), String(err));
            const [problem] = (err as pulumi.InputPropertiesError).errors;
            assert.strictEqual(problem.propertyPath, "sshPrivateKey");
            assert.match(problem.reason, /^cannot be used with a FIDO security-key sshPublicKey \("sk-ssh-ed25519@openssh\.com"\)/);
            assert.ok(!err.message.includes("SECRET"), "the private key is never quoted");
            return true;
        });
        assert.strictEqual(await unwrap(pulumi.output(validateEc2NodeArgs("arm", args({ sshPublicKey: pulumi.output(SK_KEY) })).sshPublicKey)), SK_KEY);
    });

    it("accepts Outputs for subnetId and tag values without inspecting them", () => {
        const v = validateEc2NodeArgs("arm", args({ subnetId: pulumi.output("anything"), tags: { a: pulumi.output("b") } }));
        assert.ok(pulumi.Output.isInstance(v.subnetId));
    });

    it("accepts allowedCidrs entries that are Outputs, checked once known with the messages of plain ones", async () => {
        const ok = validateEc2NodeArgs("arm", args({ allowedCidrs: ["10.0.0.0/8", pulumi.output("198.51.100.7/32")] }));
        assert.ok(pulumi.Output.isInstance(ok.cidrs));
        assert.deepStrictEqual(await unwrap(ok.cidrs), ["10.0.0.0/8", "198.51.100.7/32"]);
        for (const [late, path, reason] of [
            [["10.0.0.0/8", pulumi.output("10.0.0.0/8")], "allowedCidrs[1]", /each block once/],
            [[pulumi.output("198.51.100.7")], "allowedCidrs[0]", /^"198.51.100.7" is not a CIDR block/],
            [[pulumi.output("0.0.0.0/0")], "allowedCidrs[0]", /^"0.0.0.0\/0" lets the whole internet reach/],
            [[pulumi.output("2001:db8::/32")], "allowedCidrs[0]", /an IPv4 CIDR block .* no IPv6 address/],
        ] as const) {
            const v = validateEc2NodeArgs("arm", args({ allowedCidrs: [...late] }));
            await assert.rejects(unwrap(v.cidrs), (err: Error) => {
                assert.ok(pulumi.InputPropertiesError.isInstance(err), String(err));
                assert.match(err.message, /^Ec2BuilderNode "arm" has invalid arguments:/);
                const at = (err as pulumi.InputPropertiesError).errors.filter((e) => e.propertyPath === path);
                assert.strictEqual(at.length, 1, JSON.stringify((err as pulumi.InputPropertiesError).errors));
                assert.match(at[0].reason, reason);
                return true;
            });
        }
        // A plain entry's problem still fails at construction.
        const problems = problemsOf(args({ allowedCidrs: ["10.1.2.3/8", pulumi.output("10.0.0.0/8")] }));
        assert.deepStrictEqual(
            problems.map((p) => p.propertyPath),
            ["allowedCidrs[0]"],
        );
    });

    it("caps volumeSizeGiB at gp3's limit for RunInstances' block devices, as the EC2 API model shipped in @aws-sdk/client-ec2 says", () => {
        const models = path.join(path.dirname(require.resolve("@aws-sdk/client-ec2/package.json")), "dist-types", "models");
        const source = fs
            .readdirSync(models)
            .map((f) => fs.readFileSync(path.join(models, f), "utf8"))
            .join("\n");
        const ebs = /export interface EbsBlockDevice \{([\s\S]*?)\n\}/.exec(source);
        assert.ok(ebs, "EbsBlockDevice in the EC2 API model");
        const volumeSize = /([\s\S]*?)\n\s*VolumeSize\?:/.exec(ebs[1].split(/\n\s*SnapshotId\?:[^\n]*/)[1] ?? "");
        assert.ok(volumeSize, "VolumeSize of EbsBlockDevice");
        const gp3 = /<code>gp3<\/code>: 1 - ([0-9,]+) GiB/.exec(volumeSize[1]);
        assert.ok(gp3, `gp3's range in: ${volumeSize[1]}`);
        assert.strictEqual(Number(gp3[1].replace(/,/g, "")), MAX_VOLUME_SIZE_GIB);
    });

    it("does not mutate its arguments", () => {
        const a = args({ allowedCidrs: ["10.0.0.0/8"], buildkitVersion: "0.16.0", tags: { x: "y" } });
        const copy = JSON.parse(JSON.stringify(a));
        validateEc2NodeArgs("arm", a);
        assert.deepStrictEqual(a, copy);
    });
});

describe("instanceTypeArch", () => {
    const table: [string, ReturnType<typeof instanceTypeArch>][] = [
        // Graviton
        ["a1.medium", "arm64"],
        ["a1.metal", "arm64"],
        ["c6g.large", "arm64"],
        ["c6gd.xlarge", "arm64"],
        ["c6gn.16xlarge", "arm64"],
        ["c7g.large", "arm64"],
        ["c7gd.2xlarge", "arm64"],
        ["c7gn.metal", "arm64"],
        ["c8g.48xlarge", "arm64"],
        ["m6g.large", "arm64"],
        ["m6gd.large", "arm64"],
        ["m7g.medium", "arm64"],
        ["m7gd.large", "arm64"],
        ["m8g.large", "arm64"],
        ["r6g.large", "arm64"],
        ["r7g.large", "arm64"],
        ["r8g.large", "arm64"],
        ["t4g.nano", "arm64"],
        ["t4g.2xlarge", "arm64"],
        ["x2gd.large", "arm64"],
        ["x8g.large", "arm64"],
        ["im4gn.large", "arm64"],
        ["is4gen.medium", "arm64"],
        ["i4g.large", "arm64"],
        ["i8g.large", "arm64"],
        ["g5g.xlarge", "arm64"],
        ["hpc7g.16xlarge", "arm64"],
        ["C7G.LARGE", "arm64"],
        // Intel and AMD
        ["c7i.large", "amd64"],
        ["c7i.metal-24xl", "amd64"],
        ["c7a.large", "amd64"],
        ["c6in.large", "amd64"],
        ["c5.large", "amd64"],
        ["c5n.large", "amd64"],
        ["m7i-flex.large", "amd64"],
        ["m5.large", "amd64"],
        ["m6a.large", "amd64"],
        ["m5zn.large", "amd64"],
        ["r7iz.large", "amd64"],
        ["t3.micro", "amd64"],
        ["t3a.micro", "amd64"],
        ["t2.micro", "amd64"],
        ["z1d.large", "amd64"],
        ["g4dn.xlarge", "amd64"],
        ["g4ad.xlarge", "amd64"],
        ["g5.xlarge", "amd64"],
        ["g6.xlarge", "amd64"],
        ["gr6.4xlarge", "amd64"],
        ["p4d.24xlarge", "amd64"],
        ["p5e.48xlarge", "amd64"],
        ["inf2.xlarge", "amd64"],
        ["trn1.2xlarge", "amd64"],
        ["dl1.24xlarge", "amd64"],
        ["x2idn.16xlarge", "amd64"],
        ["x2iedn.xlarge", "amd64"],
        ["i3en.large", "amd64"],
        ["d3en.xlarge", "amd64"],
        ["hpc7a.12xlarge", "amd64"],
        ["u-6tb1.metal", "amd64"],
        ["u7i-12tb.224xlarge", "amd64"],
        ["f1.2xlarge", "amd64"],
        ["vt1.3xlarge", "amd64"],
        // Mac and nonsense
        ["mac1.metal", "mac"],
        ["mac2.metal", "mac"],
        ["mac2-m2pro.metal", "mac"],
        ["c7g", undefined],
        ["large", undefined],
        [".large", undefined],
        ["c7g.", undefined],
        ["c7g large", undefined],
        ["", undefined],
    ];
    for (const [type, arch] of table) {
        it(`${JSON.stringify(type)} → ${arch}`, () => assert.strictEqual(instanceTypeArch(type), arch));
    }
});

describe("parseCidr", () => {
    const ok: [string, string][] = [
        ["10.0.0.0/8", "10.0.0.0/8"],
        ["203.0.113.7/32", "203.0.113.7/32"],
        ["0.0.0.0/0", "0.0.0.0/0"],
        [" 192.168.0.0/16 ", "192.168.0.0/16"],
        ["2001:db8::/32", "2001:db8::/32"],
        ["2001:DB8:0:0::/64", "2001:db8::/64"],
        ["::/0", "::/0"],
        ["::1/128", "::1/128"],
        ["fe80::/10", "fe80::/10"],
        ["2001:db8:0:1:0:0:0:0/64", "2001:db8:0:1::/64"],
        ["::ffff:192.0.2.0/120", "::ffff:c000:200/120"],
    ];
    for (const [input, cidr] of ok) {
        it(`accepts ${JSON.stringify(input)} as ${cidr}`, () =>
            assert.deepStrictEqual(parseCidr(input), { ok: true, version: cidr.includes(":") ? 6 : 4, cidr, prefix: Number(cidr.split("/")[1]) }));
    }
    const bad = [
        "10.0.0.0",
        "10.0.0.0/",
        "/8",
        "10.0.0/8",
        "10.0.0.256/32",
        "010.0.0.0/8",
        "10.0.0.0/08",
        "10.0.0.0/33",
        "2001:db8::/129",
        "2001:db8:::/32",
        "fe80::1%eth0/128",
        "10.0.0.1/8",
        "a.b.c.d/8",
        "10.0.0.0/8,10.0.0.0/8",
        "any",
        "",
        "1.2.3.4/-1",
    ];
    for (const input of bad) {
        it(`rejects ${JSON.stringify(input)}`, () => assert.strictEqual(parseCidr(input).ok, false));
    }

    it("accepts every IPv4 network address with its prefix, and rejects it with any host bit set", () => {
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (n, prefix) => {
                const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
                const text = (x: number) => [24, 16, 8, 0].map((s) => (x >>> s) & 0xff).join(".");
                const network = (n & mask) >>> 0;
                const good = parseCidr(`${text(network)}/${prefix}`);
                assert.deepStrictEqual(good, { ok: true, version: 4, cidr: `${text(network)}/${prefix}`, prefix });
                if (network !== n) assert.strictEqual(parseCidr(`${text(n)}/${prefix}`).ok, false);
            }),
        );
    });
});
