/**
 * Parser of what `docker buildx inspect NAME` prints (buildx 0.13): a header (`Name:`,
 * `Driver:`, ...), a `Nodes:` line, then one block per node starting with `Name:`. Indented lines
 * (labels, GC policy details) belong to the key above them and are skipped.
 */
import { BuilderNodeStatus } from "./args";

export interface InspectReport {
    name: string;
    driver: string;
    nodes: BuilderNodeStatus[];
}

const KEY_VALUE = /^([A-Za-z][A-Za-z0-9 #]*):\s*(.*)$/;

/** Parses `docker buildx inspect` output; unknown keys are ignored, missing ones left empty. */
export function parseInspect(text: string): InspectReport {
    const report: InspectReport = { name: "", driver: "", nodes: [] };
    let node: BuilderNodeStatus | undefined;
    let inNodes = false;
    for (const raw of text.split(/\r?\n/)) {
        if (raw === "" || /^\s/.test(raw)) continue;
        if (raw.trim() === "Nodes:") {
            inNodes = true;
            continue;
        }
        const m = KEY_VALUE.exec(raw);
        if (!m) continue;
        const key = m[1].trim();
        const value = m[2].trim();
        if (!inNodes) {
            if (key === "Name") report.name = value;
            if (key === "Driver") report.driver = value;
            continue;
        }
        if (key === "Name") {
            node = { name: value, endpoint: "", status: "", platforms: [], pinnedPlatforms: [] };
            report.nodes.push(node);
            continue;
        }
        if (node === undefined) continue;
        switch (key) {
            case "Endpoint":
                node.endpoint = value;
                break;
            case "Status":
                node.status = value;
                break;
            case "BuildKit version":
            case "Buildkit":
                node.buildkitVersion = value;
                break;
            case "Platforms": {
                const items = value
                    .split(",")
                    .map((s) => s.trim())
                    .filter((s) => s !== "");
                node.platforms = items.map((s) => s.replace(/\*$/, ""));
                node.pinnedPlatforms = items.filter((s) => s.endsWith("*")).map((s) => s.slice(0, -1));
                break;
            }
            case "Error":
                node.error = value;
                break;
        }
    }
    for (const n of report.nodes) {
        if (n.status === "" && n.error !== undefined) n.status = "error";
    }
    return report;
}

/** Every platform the nodes report, each once, in node order. */
export function unionOfPlatforms(nodes: BuilderNodeStatus[]): string[] {
    const seen = new Set<string>();
    for (const n of nodes) for (const p of n.platforms) seen.add(p);
    return [...seen];
}
