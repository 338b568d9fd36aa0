/**
 * An EC2 program as an infra repo writes it: Graviton and Intel nodes from pulumi-buildx/aws, one
 * builder, a push to ECR and an ARM64 ECS task definition pinned to the arm64 digest.
 * scripts/consumer-test.sh type-checks it against the packed tarball (with @pulumi/aws and
 * @pulumi/tls installed on purpose) and runs it under Pulumi's echo mocks and pulumi-buildx/testing.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Builder, MultiPlatformImage } from "pulumi-buildx";
import { Ec2BuilderNode } from "pulumi-buildx/aws";

const sshPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHr1bK0e3VbYw0aJ9sQwE2m6c1n1g2hX7s9T6oZ0a9fB ci@example";
const node = { transport: "tls" as const, allowedCidrs: ["203.0.113.7/32"], sshPublicKey, ttlMinutes: 60 };
export const arm = new Ec2BuilderNode("arm", { ...node, arch: "arm64" });
export const amd = new Ec2BuilderNode("amd", { ...node, arch: "amd64" });
export const fleet = new Builder("native", { driver: arm.driver, nodes: [arm.node, amd.node] });

export const repo = new aws.ecr.Repository("app", { forceDelete: true });
export const image = new MultiPlatformImage("app", {
    context: "./app",
    platforms: ["linux/amd64", "linux/arm64"],
    builder: fleet,
    tags: [pulumi.interpolate`${repo.repositoryUrl}:1.0`],
    registries: [{ address: repo.repositoryUrl.apply((url) => url?.split("/")[0]), username: "AWS", passwordCommand: "aws ecr get-login-password" }],
});

export const task = new aws.ecs.TaskDefinition("app", {
    family: "app",
    requiresCompatibilities: ["FARGATE"],
    networkMode: "awsvpc",
    cpu: "256",
    memory: "512",
    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" },
    containerDefinitions: pulumi.jsonStringify([{ name: "app", image: image.platformRefs["linux/arm64"], essential: true }]),
});
