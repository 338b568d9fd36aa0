/** Runs qemu.ts under the mocks named on the command line (see mocked.ts). */
import { Binfmt } from "pulumi-buildx";
import { DIGEST, outputValue, runMocked } from "./mocked";

runMocked("qemu", async (testing, check) => {
    const p = await import("./qemu");
    const [platforms, nodes, digest, platformDigests, arm64Image] = await Promise.all([
        outputValue(p.qemu.platforms),
        outputValue(p.builder.nodes),
        outputValue(p.image.digest),
        outputValue(p.image.platformDigests),
        outputValue(p.arm64Image),
    ]);
    let refused = "";
    try {
        new Binfmt("bad", { platforms: ["linux/nope"] });
    } catch (err) {
        refused = String(err);
    }
    check("bad input fails at construction, with the property path and the value", /platforms\[0\]/.test(refused) && refused.includes("linux/nope"), refused);
    if (!testing) {
        check("outputs are empty (nothing ran)", digest === "" && Object.keys(platformDigests).length === 0 && nodes.length === 0 && platforms.length === 0, {
            digest,
            platformDigests,
            nodes,
            platforms,
        });
        return;
    }
    check("the index digest is a sha256 digest", DIGEST.test(digest), digest);
    check(
        "a digest per requested platform",
        JSON.stringify(Object.keys(platformDigests)) === JSON.stringify(["linux/amd64", "linux/arm64", "linux/arm/v7"]),
        platformDigests,
    );
    check(
        "the program's arm64 image is the tag's repository pinned to the arm64 digest",
        arm64Image === `registry.example.com/team/app@${platformDigests["linux/arm64"]}`,
        arm64Image,
    );
    check("the builder's node is running", nodes.length === 1 && nodes[0].status === "running", nodes);
    check("the host runs the emulated platforms", platforms.includes("linux/arm64") && platforms.includes("linux/arm/v7"), platforms);
});
