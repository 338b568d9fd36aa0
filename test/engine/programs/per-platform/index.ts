/**
 * Engine test program: linux/amd64 and linux/arm64 each built on a builder of its own
 * (`platformBuilders`), pushed by digest and merged, with a build secret read from the
 * environment variable PP_ENGINE_TOKEN at build time.
 * Configuration (set by the test): context, tag, amdBuilder, armBuilder, mark.
 */
import * as pulumi from "@pulumi/pulumi";
import { MultiPlatformImage } from "../../../../src";

const config = new pulumi.Config();
const image = new MultiPlatformImage("app", {
    context: config.require("context"),
    platforms: ["linux/amd64", "linux/arm64"],
    tags: [config.require("tag")],
    platformBuilders: { "linux/amd64": config.require("amdBuilder"), "linux/arm64": config.require("armBuilder") },
    buildArgs: { MARK: config.require("mark") },
    secrets: { tok: { env: "PP_ENGINE_TOKEN" } },
});

export const digest = image.digest;
export const platformDigests = image.platformDigests;
