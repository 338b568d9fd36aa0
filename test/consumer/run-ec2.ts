/** Runs ec2.ts under the mocks named on the command line (see mocked.ts). */
import { outputValue, runMocked } from "./mocked";

runMocked("ec2", async (testing, check) => {
    const p = await import("./ec2");
    const [armEndpoint, amdEndpoint, fleetNodes, digest, platformRefs, containerDefinitions] = await Promise.all([
        outputValue(p.arm.endpoint),
        outputValue(p.amd.endpoint),
        outputValue(p.fleet.nodes),
        outputValue(p.image.digest),
        outputValue(p.image.platformRefs),
        outputValue(p.task.containerDefinitions),
    ]);
    if (!testing) {
        check("outputs are empty (nothing ran)", armEndpoint === "" && amdEndpoint === "" && fleetNodes.length === 0 && digest === "", {
            armEndpoint,
            amdEndpoint,
            fleetNodes,
            digest,
        });
        return;
    }
    const tcp = /^tcp:\/\/[0-9.]+:1234$/;
    check("each node has a tcp:// endpoint of its own", tcp.test(armEndpoint) && tcp.test(amdEndpoint) && armEndpoint !== amdEndpoint, [
        armEndpoint,
        amdEndpoint,
    ]);
    check("the builder runs both nodes", JSON.stringify(fleetNodes.map((n) => n.endpoint)) === JSON.stringify([armEndpoint, amdEndpoint]), fleetNodes);
    const image = (JSON.parse(containerDefinitions) as { image: string }[])[0].image;
    check(
        'the task definition runs exactly platformRefs["linux/arm64"]',
        image === platformRefs["linux/arm64"] && /\.dkr\.ecr\..*@sha256:[0-9a-f]{64}$/.test(image),
        { image, platformRefs },
    );
});
