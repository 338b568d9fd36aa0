/**
 * One builder per platform, no builder with appended nodes: linux/arm64 on a Graviton VM made by
 * `Ec2BuilderNode` (its own `remote`-driver Builder), linux/amd64 on a BuildKit container on this
 * machine (a local `docker-container` Builder). `platformBuilders` sends each platform to its
 * builder; each platform is pushed to ECR by digest (no per-platform tag), then one index is made
 * under the tag. Each platform has its own registry cache (`…:cache-linux-arm64`, `…:cache-linux-amd64`),
 * so a new VM next hour starts warm. A build secret is read from your environment at build time.
 *
 *   pulumi config set aws:region us-east-1
 *   pulumi config set allowedCidr "$(curl -s https://checkip.amazonaws.com)/32"   # your address
 *   pulumi config set sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"
 *   export APP_TOKEN=…                                                    # RUN --mount=type=secret,id=token
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Builder, MultiPlatformImage } from "pulumi-buildx";
import { Ec2BuilderNode } from "pulumi-buildx/aws";

const config = new pulumi.Config();
const region = new pulumi.Config("aws").require("region");

// 1. arm64: a Graviton node with mutual TLS and a 60-minute TTL, in a builder of its own.
const arm = new Ec2BuilderNode("arm", {
    arch: "arm64",
    instanceType: "c7g.large",
    transport: "tls",
    allowedCidrs: [config.require("allowedCidr")],
    sshPublicKey: config.require("sshPublicKey"),
    ttlMinutes: 60,
});
const armBuilder = new Builder("arm", { driver: arm.driver, nodes: [arm.node] });

// 2. amd64: a BuildKit container on this machine's Docker engine.
const localBuilder = new Builder("local", { nodes: [{ name: "local", platforms: ["linux/amd64"] }] });

// 3. The repository, and a login for this build only (a fresh ECR token at build time, not in state).
const repo = new aws.ecr.Repository("app", { name: `buildx-per-platform-${pulumi.getStack().toLowerCase()}`, forceDelete: true });
const registryHost = repo.repositoryUrl.apply((url) => url.split("/")[0]);

// 4. Each platform on its builder, merged by digest. ECR needs the cache as an OCI image manifest.
const image = new MultiPlatformImage("app", {
    context: "../app",
    platforms: ["linux/amd64", "linux/arm64"],
    tags: [pulumi.interpolate`${repo.repositoryUrl}:${config.get("tag") ?? "latest"}`],
    builder: localBuilder, // platforms without an entry below, and the merge's registry settings
    platformBuilders: { "linux/arm64": armBuilder },
    registries: [{ address: registryHost, username: "AWS", passwordCommand: `aws ecr get-login-password --region ${region}` }],
    cacheFrom: [{ type: "registry", ref: pulumi.interpolate`${repo.repositoryUrl}:cache` }],
    cacheTo: [{ type: "registry", ref: pulumi.interpolate`${repo.repositoryUrl}:cache`, mode: "max", imageManifest: true, ociMediatypes: true }],
    secrets: { token: { env: "APP_TOKEN" } },
});

/** The image index (manifest list) digest. */
export const digest = image.digest;
/** `{"linux/amd64": "sha256:…", "linux/arm64": "sha256:…"}` */
export const platformDigests = image.platformDigests;
/** `{"linux/amd64": "<repo>:cache-linux-amd64", "linux/arm64": "<repo>:cache-linux-arm64"}` */
export const cacheRefs = image.cacheRefs;
/** When the arm64 node's TTL powers it off (RFC 3339). */
export const armNodeExpiresAt = arm.expiresAt;
