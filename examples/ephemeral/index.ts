/**
 * Ephemeral builders with the Automation API: bring up a builder in a stack of its own, build
 * with it, always destroy it (even when the build fails), and print the per-platform digests.
 * A CI job can do this without keeping any builder state between runs.
 *
 *   IMAGE=registry.example.com/me/app:1 npm start
 *   PLATFORMS=linux/amd64,linux/arm64 IMAGE=… npm start
 *
 * Needs the Pulumi CLI (a local backend is enough: PULUMI_BACKEND_URL=file://~) and Docker with
 * buildx; foreign platforms need QEMU registered (see ../local-qemu) or native nodes.
 */
import { execFile } from "child_process";
import { promisify } from "util";
import { getPlatformDigests, withEphemeralBuilder } from "pulumi-buildx";

const run = promisify(execFile);

async function main(): Promise<void> {
    const image = process.env.IMAGE;
    if (!image) throw new Error("set IMAGE to the reference to push, e.g. IMAGE=registry.example.com/me/app:1");
    const platforms = (process.env.PLATFORMS ?? "linux/amd64,linux/arm64").split(",").map((p) => p.trim());

    const result = await withEphemeralBuilder(
        {
            // One docker-container node on the local engine. For native nodes, list them here as
            // in ../existing-nodes (driver "remote", one node per platform).
            builder: { nodes: [{ name: "local" }] },
            workspaceOptions: { workDir: __dirname },
            onOutput: (line) => process.stdout.write(line),
        },
        async (builder) => {
            // Any build that takes `--builder`: here the buildx CLI itself.
            await run("docker", ["buildx", "build", "--builder", builder, "--platform", platforms.join(","), "--tag", image, "--push", `${__dirname}/../app`], {
                maxBuffer: 64 * 1024 * 1024,
            });
            return getPlatformDigests(image, { platforms });
        },
    );

    console.log(`index ${result.digest}`);
    for (const [platform, digest] of Object.entries(result.platformDigests)) {
        console.log(`${platform.padEnd(16)} ${digest}`);
    }
}

main().catch((err) => {
    // The build's own error, even if destroying the builder failed too (that is logged separately).
    console.error(err);
    process.exit(1);
});
