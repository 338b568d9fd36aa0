/**
 * Builders with an empty BuildKit state, as an ephemeral CI builder has, for cache tests and
 * benchmarks: docker-container builders whose linux/amd64 node is this machine's engine and whose
 * linux/arm64 node is node2's own engine over ssh://. Made (again) with the `Builder` component;
 * an earlier instance of the same name is removed first, with its state.
 */
import { spawnSync } from "child_process";
import { Builder } from "../../src/builder/component";
import { BuilderNode } from "../../src/builder/args";
import { planDelete } from "../../src/builder/plan";
import { renderScript } from "../../src/shell";
import { Harness } from "./harness";
import { runProgram } from "./program";
import { TestEnv } from "./testenv";

/** The builders to make: `amd` (amd64 only), `arm` (arm64 only), `multi` (both, as two nodes of one builder). */
export interface FreshBuilderNames {
    amd: string;
    arm: string;
    multi: string;
}

/** Removes the builders (and their BuildKit state); missing ones are ignored. */
export function removeBuilders(names: FreshBuilderNames): void {
    for (const name of Object.values(names)) spawnSync("bash", ["-c", renderScript(planDelete(name))], { stdio: "ignore" });
}

/** Removes all three builders, then creates those in `only` (default all) in `harness`, one after another; throws the creation errors, if any. */
export async function freshBuilders(
    env: TestEnv,
    harness: Harness,
    names: FreshBuilderNames,
    only: (keyof FreshBuilderNames)[] = ["amd", "arm", "multi"],
): Promise<void> {
    const node2 = env.nodes[1];
    if (!env.buildkitImage || !node2.docker) throw new Error("env.json lists no buildkitImage or nodes[1].docker: run scripts/test-env.sh up");
    removeBuilders(names);
    const buildkitdConfig = `[registry."${env.registry.host}"]\n  ca = ["${env.caCert}"]\n`;
    const amdNode: BuilderNode = { name: "amd", platforms: ["linux/amd64"], driverOpts: { image: env.buildkitImage, network: "host" } };
    const armNode: BuilderNode = {
        name: "arm",
        endpoint: `ssh://root@${node2.address}`,
        platforms: ["linux/arm64"],
        driverOpts: { image: node2.docker.buildkitImage, network: "host" },
    };
    const nodes: Record<keyof FreshBuilderNames, BuilderNode[]> = { amd: [amdNode], arm: [armNode], multi: [amdNode, armNode] };
    // One after another: bootstrapping several BuildKit containers on one engine at once made
    // buildx's worker listing fail now and then ("error reading server preface").
    const { errors } = await runProgram(harness, () => {
        let previous: Builder | undefined;
        return only.map((key) => {
            previous = new Builder(
                `fresh-${key}`,
                { name: names[key], driver: "docker-container", buildkitdConfig, nodes: nodes[key] },
                { dependsOn: previous ? [previous] : [] },
            );
            return previous;
        });
    });
    if (errors.length > 0) throw new Error(`fresh builders: ${errors.map((e) => e.message).join("\n")}`);
}

/**
 * From a `--progress plain` build log: the platforms (`(single)` for a one-platform build) whose
 * `RUN echo "<word> …"` step did NOT run. BuildKit prints `#N CACHED` for a cache hit it does not
 * need to unpack, and only the layer import for one the next step builds on; a step that ran
 * prints its `echo` as `#N 0.123 <word> …`.
 */
export function stepsNotRun(log: string, word: string): string[] {
    const steps = [...log.matchAll(new RegExp(`^#(\\d+) \\[(?:(linux/\\S+) )?\\d+/\\d+\\] RUN echo "${word}`, "gm"))];
    const ran = (n: string) => new RegExp(`^#${n} \\d+\\.\\d+ ${word}`, "m").test(log);
    return [...new Set(steps.filter((m) => !ran(m[1])).map((m) => m[2] ?? "(single)"))];
}
