/**
 * Engine test program: one image that logs in to a registry (password from the stack's secret
 * config) and pushes, so a cancelled `pulumi up` has a build and a login to leave behind.
 * Configuration (set by the test): context, tag, registry, username, password (secret), mark.
 */
import * as pulumi from "@pulumi/pulumi";
import { MultiPlatformImage } from "../../../../src";

const config = new pulumi.Config();
const image = new MultiPlatformImage("app", {
    context: config.require("context"),
    platforms: ["linux/amd64"],
    tags: [config.require("tag")],
    registries: [{ address: config.require("registry"), username: config.require("username"), password: config.requireSecret("password") }],
    buildArgs: { MARK: config.require("mark") },
});

export const digest = image.digest;
