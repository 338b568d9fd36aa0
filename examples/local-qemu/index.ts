/**
 * One machine, emulation: register QEMU for the foreign platforms, create a local
 * docker-container builder, and build ../app for every platform.
 *
 *   pulumi config set platforms linux/amd64,linux/arm64,linux/arm/v7   # default
 *   pulumi config set image registry.example.com/me/app:1               # push instead of an OCI layout
 *   pulumi config set --secret registryPassword …                       # with registryUser, to log in
 */
import * as pulumi from "@pulumi/pulumi";
import { Binfmt, Builder, MultiPlatformImage } from "pulumi-buildx";

const config = new pulumi.Config();
const platforms = (config.get("platforms") ?? "linux/amd64,linux/arm64,linux/arm/v7").split(",").map((p) => p.trim());
const image = config.get("image");
const registryUser = config.get("registryUser");

// `docker run --privileged tonistiigi/binfmt --install …` for the platforms the host cannot run.
const qemu = new Binfmt("qemu", { platforms });

// A BuildKit container on the local engine: it can export multi-platform OCI layouts with any
// Docker image store. It starts after QEMU is registered, so it sees the emulated platforms.
const builder = new Builder("local", { nodes: [{ name: "local" }] }, { dependsOn: [qemu] });

const app = new MultiPlatformImage("app", {
    context: "../app",
    platforms,
    builder,
    ...(image
        ? {
              tags: [image],
              registries: registryUser
                  ? [{ address: image.split("/")[0], username: registryUser, password: config.requireSecret("registryPassword") }]
                  : undefined,
          }
        : { output: { type: "oci" as const, dest: "build/app-oci" } }),
});

/** Platforms the host can now run (natively or emulated). */
export const hostPlatforms = qemu.platforms;
export const digest = app.digest;
export const platformDigests = app.platformDigests;
