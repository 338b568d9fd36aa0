/**
 * The default program: `npm ci && pulumi up` builds examples/app for linux/amd64 and linux/arm64
 * with the local Docker engine and exports the index digest and the per-platform digests.
 *
 * Configuration:
 *   pulumi config set platforms linux/amd64,linux/arm64   # which platforms
 *   pulumi config set image registry.example.com/me/app:1  # push there instead of an OCI layout
 *   pulumi config set baseImage busybox:1.36               # the app's base image (build arg)
 *   pulumi config set goImage golang:1.26                  # the Go toolchain image it compiles with (build arg)
 *   pulumi config set --secret buildSecret …               # a build secret, as `RUN --mount=type=secret,id=token`
 */
import * as pulumi from "@pulumi/pulumi";
import { MultiPlatformImage } from "./src";

const config = new pulumi.Config();
const platforms = (config.get("platforms") ?? "linux/amd64,linux/arm64").split(",").map((p) => p.trim());
const target = config.get("image");
const baseImage = config.get("baseImage") ?? "busybox:1.36";
const goImage = config.get("goImage") ?? "golang:1.26";
const buildSecret = config.getSecret("buildSecret");

const image = new MultiPlatformImage("app", {
    context: "examples/app",
    platforms,
    buildArgs: { BASE_IMAGE: baseImage, GO_IMAGE: goImage },
    ...(buildSecret ? { secrets: { token: buildSecret } } : {}),
    ...(target ? { tags: [target] } : { output: { type: "oci" as const, dest: "build/app-oci" } }),
});

export const digest = image.digest;
export const platformDigests = image.platformDigests;
export const ref = image.ref;
