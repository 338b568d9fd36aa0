/**
 * Native nodes you already run: two BuildKit daemons (e.g. an x86 VM and a Graviton VM) listening
 * with mTLS, joined into one `remote`-driver builder. Each platform is pinned to the node that is
 * native for it, so nothing is emulated.
 *
 *   pulumi config set amd64Endpoint tcp://10.0.1.10:1234
 *   pulumi config set arm64Endpoint tcp://10.0.1.11:1234
 *   pulumi config set --secret tlsCa   "$(cat pki/ca.pem)"
 *   pulumi config set --secret tlsCert "$(cat pki/client.pem)"
 *   pulumi config set --secret tlsKey  "$(cat pki/client-key.pem)"
 *   pulumi config set image registry.example.com/me/app:1
 *   pulumi config set registryUser me && pulumi config set --secret registryPassword …
 */
import * as pulumi from "@pulumi/pulumi";
import { Builder, MultiPlatformImage, NodeTls } from "pulumi-buildx";

const config = new pulumi.Config();

// One client certificate for both daemons here; give each node its own `tls` if they differ.
// The PEM contents stay secrets: the builder writes them to 0600 files for buildx, never to a
// command line or an output.
const tls: NodeTls = {
    ca: config.requireSecret("tlsCa"),
    cert: config.requireSecret("tlsCert"),
    key: config.requireSecret("tlsKey"),
    serverName: config.get("tlsServerName"),
};

const fleet = new Builder("fleet", {
    driver: "remote",
    nodes: [
        { name: "amd64", endpoint: config.require("amd64Endpoint"), platforms: ["linux/amd64"], tls },
        { name: "arm64", endpoint: config.require("arm64Endpoint"), platforms: ["linux/arm64"], tls },
    ],
});

// A multi-node builder cannot export an OCI layout, so this pushes.
const image = config.require("image");
const registryUser = config.get("registryUser");
const app = new MultiPlatformImage("app", {
    context: "../app",
    platforms: ["linux/amd64", "linux/arm64"],
    builder: fleet,
    tags: [image],
    registries: registryUser ? [{ address: image.split("/")[0], username: registryUser, password: config.requireSecret("registryPassword") }] : undefined,
});

/** What buildx reports for each node: endpoint, status, BuildKit version, platforms. */
export const nodes = fleet.nodes;
export const digest = app.digest;
export const platformDigests = app.platformDigests;
/** `repository@sha256:…` of the arm64 image, to pin an arm64 consumer to exactly what was built. */
export const arm64Ref = app.platformRefs["linux/arm64"];
