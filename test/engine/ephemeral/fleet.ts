/**
 * What the ephemeral-builder engine tests share: a `program` that declares a `remote` Builder on
 * the test environment's two mTLS BuildKit nodes (node1 linux/amd64, node2 linux/arm64), and the
 * Automation API settings of an EngineProject (its file backend, PULUMI_HOME and the engine's CLI).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspaceOptions, PulumiCommand } from "@pulumi/pulumi/automation";
import { Builder } from "../../../src";
import { EphemeralBuilderProgram } from "../../../src/ephemeral";
import { TestEnv } from "../../harness";

/** The platform each test node builds, in env.nodes order. */
export const NODE_PLATFORMS = ["linux/amd64", "linux/arm64"];

/** Declares the two-node remote Builder (name derived from project, stack and resource name). */
export function remoteFleetProgram(env: TestEnv): EphemeralBuilderProgram {
    return () => {
        const pem = (file: string) => fs.readFileSync(file, "utf8");
        return new Builder("fleet", {
            driver: "remote",
            nodes: env.nodes.slice(0, 2).map((node, i) => ({
                name: `n${i + 1}`,
                endpoint: node.buildkitEndpoint,
                platforms: [NODE_PLATFORMS[i]],
                tls: { ca: pem(node.tls.ca), cert: pem(node.tls.cert), key: pulumi.secret(pem(node.tls.key)) },
            })),
        });
    };
}

/** Workspace options for the stacks of a project whose settings are `envVars` (EngineProject.automationEnv()). */
export async function workspaceOptions(engineBin: string, envVars: Record<string, string>): Promise<LocalWorkspaceOptions> {
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(engineBin), skipVersionCheck: true });
    return { pulumiCommand, envVars, pulumiHome: envVars.PULUMI_HOME };
}
