/**
 * Engine test program: a `remote` Builder whose nodes are the test environment's two mTLS
 * buildkitds, and a MultiPlatformImage pushed from it. Configuration (set by the test):
 *   builderName  the buildx instance name
 *   nodes        JSON: [{ name, endpoint, platforms, ca, cert, key }] with PEM file paths
 *   context      the build context directory
 *   tag          where to push
 *   mark         build arg MARK (changing it rebuilds)
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { Builder, MultiPlatformImage } from "../../../../src";

interface NodeConfig {
    name: string;
    endpoint: string;
    platforms: string[];
    ca: string;
    cert: string;
    key: string;
}

const config = new pulumi.Config();
const pem = (file: string) => fs.readFileSync(file, "utf8");
const nodes = config.requireObject<NodeConfig[]>("nodes").map((n) => ({
    name: n.name,
    endpoint: n.endpoint,
    platforms: n.platforms,
    tls: { ca: pem(n.ca), cert: pem(n.cert), key: pulumi.secret(pem(n.key)) },
}));

const fleet = new Builder("fleet", { name: config.require("builderName"), driver: "remote", nodes });
const image = new MultiPlatformImage("app", {
    builder: fleet,
    context: config.require("context"),
    platforms: ["linux/amd64", "linux/arm64"],
    tags: [config.require("tag")],
    buildArgs: { MARK: config.require("mark") },
});

export const builderName = fleet.name;
export const digest = image.digest;
export const platformDigests = image.platformDigests;
