import { BuildPlanInput } from "../../../src/image/plan";

/** A plain build plan input (two platforms, two tags, a push from /proj), patched per test. */
export function planInput(patch: Partial<BuildPlanInput> = {}): BuildPlanInput {
    return {
        context: "/proj/app",
        dockerfile: "/proj/app/Dockerfile",
        platforms: ["linux/amd64", "linux/arm64"],
        tags: ["10.0.0.1:5000/team/app:1.0", "10.0.0.1:5000/team/app:latest"],
        push: true,
        output: { type: "registry" },
        secretIds: [],
        registryPasswordCommands: [],
        buildArgs: {},
        labels: {},
        annotations: {},
        addHosts: {},
        cacheFrom: [],
        cacheTo: [],
        cwd: "/proj",
        ...patch,
    };
}
