/**
 * A QEMU-only program as an infra repo writes it: the package root only, with no @pulumi/aws or
 * @pulumi/tls installed. scripts/consumer-test.sh type-checks it against the packed tarball and
 * runs it under Pulumi's echo mocks and under pulumi-buildx/testing.
 */
import * as pulumi from "@pulumi/pulumi";
import { Binfmt, Builder, MultiPlatformImage } from "pulumi-buildx";

/** Stands in for another resource's output, e.g. a repository URL. */
export const repositoryUrl = pulumi.output("registry.example.com/team/app");

export const qemu = new Binfmt("qemu", { platforms: ["linux/arm64", "linux/arm/v7"] });
export const builder = new Builder("local", { nodes: [{ name: "local" }] }, { dependsOn: [qemu] });
export const image = new MultiPlatformImage("app", {
    context: "./app",
    platforms: ["linux/amd64", "linux/arm64", "linux/arm/v7"],
    builder,
    tags: [pulumi.interpolate`${repositoryUrl}:1.0`],
    // An ECR-style cache: the ref is an Output, and the options registries like ECR need.
    cacheFrom: [{ type: "registry", ref: pulumi.interpolate`${repositoryUrl}:cache` }],
    cacheTo: [{ type: "registry", ref: pulumi.interpolate`${repositoryUrl}:cache`, mode: "max", imageManifest: true, ociMediatypes: true }],
});

/** The consumer's own wiring that its tests check: the arm64 image, pinned by digest. */
export const arm64Image = image.platformRefs["linux/arm64"];
