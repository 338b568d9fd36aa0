/**
 * The default program: `npm ci && pulumi up` builds examples/app for linux/amd64 and linux/arm64
 * on this machine and exports the index digest and the per-platform digests. It wires the three
 * components together the way the manual workflow does:
 *   1. Binfmt: QEMU emulators for the platforms this machine cannot run natively;
 *   2. Builder: a local `docker-container` buildx builder (created after the emulators, so its
 *      BuildKit sees them);
 *   3. MultiPlatformImage: the build, exported as an OCI layout (or pushed), read back as digests.
 *
 * Configuration (`pulumi config set KEY VALUE`), all optional:
 *   platforms        linux/amd64,linux/arm64      which platforms
 *   image            registry.example.com/me/app:1  push there instead of writing build/app-oci
 *   baseImage        busybox:1.36                 the app's base image (build arg)
 *   goImage          golang:1.26                  the Go toolchain it cross-compiles with (build arg)
 *   buildSecret      (--secret)                   a build secret, `RUN --mount=type=secret,id=token`
 *   binfmtImage      the pinned tonistiigi/binfmt the emulator installer image
 *   buildkitImage    buildx's default             the BuildKit image of the local builder
 *   buildkitNetwork  (unset)                      the builder container's network, e.g. host
 *   buildkitdConfig  (unset)                      buildkitd.toml contents, e.g. a registry's CA
 */
import * as pulumi from "@pulumi/pulumi";
import { Binfmt, Builder, MultiPlatformImage, normalizePlatform } from "./src";

const config = new pulumi.Config();
const platforms = (config.get("platforms") ?? "linux/amd64,linux/arm64").split(",").map((p) => p.trim());
const target = config.get("image");
const buildSecret = config.getSecret("buildSecret");
const buildkitImage = config.get("buildkitImage");
const buildkitNetwork = config.get("buildkitNetwork");

// 1. Emulators for every platform this machine is not native for.
const native = process.arch === "arm64" ? "linux/arm64" : "linux/amd64";
const foreign = platforms.filter((p) => normalizePlatform(p) !== native);
const qemu = foreign.length > 0 ? new Binfmt("qemu", { platforms: foreign, image: config.get("binfmtImage") }) : undefined;

// 2. A local docker-container builder.
const driverOpts: Record<string, string> = {};
if (buildkitImage) driverOpts.image = buildkitImage;
if (buildkitNetwork) driverOpts.network = buildkitNetwork;
const builder = new Builder(
    "local",
    {
        driver: "docker-container",
        nodes: [{ name: "local", driverOpts }],
        buildkitdConfig: config.get("buildkitdConfig"),
    },
    { dependsOn: qemu ? [qemu] : [] },
);

// 3. The image.
const image = new MultiPlatformImage("app", {
    builder,
    context: "examples/app",
    platforms,
    buildArgs: { BASE_IMAGE: config.get("baseImage") ?? "busybox:1.36", GO_IMAGE: config.get("goImage") ?? "golang:1.26" },
    ...(buildSecret ? { secrets: { token: buildSecret } } : {}),
    ...(target ? { tags: [target] } : { output: { type: "oci" as const, dest: "build/app-oci" } }),
});

export const builderName = builder.name;
export const hostPlatforms = qemu ? qemu.platforms : pulumi.output([native]);
export const digest = image.digest;
export const platformDigests = image.platformDigests;
export const ref = image.ref;
