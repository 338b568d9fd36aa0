/**
 * Native nodes on EC2: a Graviton (arm64) and an Intel (amd64) VM, each running BuildKit with
 * mutual TLS, created for this stack and powered off by their TTL. One `remote`-driver builder
 * sends each platform of ../app to the node that is native for it (nothing is emulated) and
 * pushes the image to a new ECR repository; an ARM64 ECS task definition then runs exactly the
 * arm64 image that was built, pinned by digest.
 *
 *   pulumi config set aws:region us-east-1
 *   pulumi config set allowedCidr "$(curl -s https://checkip.amazonaws.com)/32"   # your address
 *   pulumi config set sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"
 *   pulumi config set --secret sshPrivateKey "$(cat ~/.ssh/id_ed25519)"   # optional: default the SSH agent
 *   pulumi config set subnetId subnet-0123456789abcdef0                   # optional: default the default VPC
 *   pulumi config set tag 1.0                                             # optional: default latest
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Builder, MultiPlatformImage } from "pulumi-buildx";
import { Ec2BuilderNode } from "pulumi-buildx/aws";

const config = new pulumi.Config();
const region = new pulumi.Config("aws").require("region");

// 1. Two native nodes. Only `allowedCidr` may reach them (SSH on 22 and BuildKit on 1234);
//    the readiness check and the delivery of each node's BuildKit server key use SSH with
//    `sshPrivateKey` or your agent. After 60 minutes each VM powers itself off and, its
//    shutdown behaviour being "terminate", disappears: `pulumi up --refresh` brings it back.
const node = {
    transport: "tls" as const,
    allowedCidrs: [config.require("allowedCidr")],
    sshPublicKey: config.require("sshPublicKey"),
    sshPrivateKey: config.getSecret("sshPrivateKey"),
    subnetId: config.get("subnetId"),
    ttlMinutes: 60,
};
const arm = new Ec2BuilderNode("arm", { ...node, arch: "arm64", instanceType: "c7g.large" });
const amd = new Ec2BuilderNode("amd", { ...node, arch: "amd64", instanceType: "c7i.large" });

// 2. One builder over both. `tls` nodes need the `remote` driver (`arm.driver`); each node
//    pins its own platform and brings its CA, client certificate and key (secret).
const fleet = new Builder("native", { driver: arm.driver, nodes: [arm.node, amd.node] });

// 3. The registry, and a login for this build only: the AWS CLI prints a fresh ECR password
//    when a build runs. As a command (not a password), it keeps the password out of state,
//    and a new token is not a change, so an unchanged app is not rebuilt on the next `up`.
const repositoryName = `buildx-native-${pulumi.getStack().toLowerCase()}`;
const repo = new aws.ecr.Repository("app", {
    name: repositoryName,
    forceDelete: true, // `pulumi destroy` deletes the pushed images too
    imageScanningConfiguration: { scanOnPush: true },
});

// 4. The build: each platform on its own node, pushed to ECR, read back as digests.
const image = new MultiPlatformImage("app", {
    context: "../app",
    platforms: ["linux/amd64", "linux/arm64"],
    builder: fleet,
    tags: [pulumi.interpolate`${repo.repositoryUrl}:${config.get("tag") ?? "latest"}`],
    // The registry host: the repository URL up to its first "/".
    registries: [
        { address: repo.repositoryUrl.apply((url) => url.split("/")[0]), username: "AWS", passwordCommand: `aws ecr get-login-password --region ${region}` },
    ],
});

// 5. A Graviton task that runs exactly the arm64 image built above, whatever the tag points
//    to later (`image.platformRefs["linux/arm64"]` is the same reference).
const arm64Image = pulumi.interpolate`${repo.repositoryUrl}@${image.platformDigests["linux/arm64"]}`;
const executionRole = new aws.iam.Role("task-execution", {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ecs-tasks.amazonaws.com" }),
});
new aws.iam.RolePolicyAttachment("task-execution", {
    role: executionRole.name,
    policyArn: pulumi.interpolate`arn:${aws.getPartitionOutput().partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
});
const logs = new aws.cloudwatch.LogGroup("app", { retentionInDays: 1 });
const task = new aws.ecs.TaskDefinition("app", {
    family: repositoryName,
    requiresCompatibilities: ["FARGATE"],
    networkMode: "awsvpc",
    cpu: "256",
    memory: "512",
    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" },
    executionRoleArn: executionRole.arn,
    containerDefinitions: pulumi.jsonStringify([
        {
            name: "app",
            image: arm64Image,
            essential: true,
            logConfiguration: {
                logDriver: "awslogs",
                options: { "awslogs-group": logs.name, "awslogs-region": region, "awslogs-stream-prefix": "app" },
            },
        },
    ]),
});

/** The image index (manifest list) digest. */
export const digest = image.digest;
/** `{"linux/amd64": "sha256:…", "linux/arm64": "sha256:…"}` */
export const platformDigests = image.platformDigests;
/** `<repository>@sha256:…` of the arm64 image, as the task definition uses it. */
export { arm64Image };
export const taskDefinitionArn = task.arn;
export const logGroup = logs.name;
/** `tcp://IP:1234` of each node. */
export const nodeEndpoints = { arm64: arm.endpoint, amd64: amd.endpoint };
/** When each node's TTL powers it off (RFC 3339). */
export const nodesExpireAt = { arm64: arm.expiresAt, amd64: amd.expiresAt };
