import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { GUARDED_BASH } from "../guard";
import { checkLate } from "../errors";
import { parseResultLine } from "../marked-lines";
import { ifRan } from "../not-run";
import { renderScript } from "../shell";
import { BuilderArgs, BuilderDriver, BuilderNode, BuilderNodeStatus } from "./args";
import { parseInspect, unionOfPlatforms } from "./inspect";
import { BUILDER_RESULT_MARKER, planCreate, planDelete, PlannedNode } from "./plan";
import { tlsEnvNames } from "./tls-files";
import { driverOptValueProblem, nodeEndpointProblem, pemProblem, serverNameProblem, validateBuilderArgs } from "./validate";

/** Checks a late value of this builder (see `checkLate`). */
type Late = <T>(path: string, value: pulumi.Input<T>, problem: (v: T) => string | undefined) => pulumi.Output<T>;

/**
 * A buildx builder instance whose lifecycle Pulumi owns: `docker buildx create` for the first
 * node, `docker buildx create --append` for each further node, `docker buildx rm` on delete.
 * Pin each node to the platforms it is native for, and buildx sends every platform of a
 * multi-platform build to its own node; nothing falls back to emulation.
 *
 * ```ts
 * const fleet = new Builder("fleet", {
 *     driver: "remote",
 *     nodes: [
 *         { name: "amd64", endpoint: "tcp://10.0.1.10:1234", platforms: ["linux/amd64"], tls: amd64Tls },
 *         { name: "arm64", endpoint: "tcp://10.0.1.11:1234", platforms: ["linux/arm64"], tls: arm64Tls },
 *     ],
 * });
 * new MultiPlatformImage("app", { builder: fleet, context: "./app", platforms: ["linux/amd64", "linux/arm64"], tags });
 * ```
 *
 * Adding, removing or changing a node replaces the builder (delete, then create with the same
 * name). Creating replaces an existing instance of that name (a crashed earlier run), so it is
 * never half-appended.
 */
export class Builder extends pulumi.ComponentResource {
    /** The buildx instance name; use it as `--builder NAME` (known once the builder exists). */
    public readonly name: pulumi.Output<string>;
    /** The driver. */
    public readonly driver: pulumi.Output<BuilderDriver>;
    /** The nodes as buildx reports them after creation (and bootstrap): name, endpoint, status, platforms. */
    public readonly nodes: pulumi.Output<BuilderNodeStatus[]>;
    /** Every platform the nodes report, each once. */
    public readonly platforms: pulumi.Output<string[]>;

    constructor(name: string, args: BuilderArgs, opts?: pulumi.ComponentResourceOptions) {
        super("buildx:index:Builder", name, {}, opts);
        const v = validateBuilderArgs(name, args, { project: pulumi.getProject(), stack: pulumi.getStack() });

        // Endpoints, driver options and TLS material that are Outputs are checked once known,
        // with the messages plain values get; the create command never runs with a bad one.
        const late: Late = (path, value, problem) => checkLate("Builder", name, path, value, problem);
        const resolvedNodes = pulumi.all(args.nodes.map((node, i) => resolveNode(late, v.driver, node, i, v.nodes[i].platforms)));
        const script = resolvedNodes.apply((nodes) => renderScript(planCreate({ ...v, nodes })));

        const instance = new command.local.Command(
            `${name}-instance`,
            {
                create: script,
                delete: renderScript(planDelete(v.name)),
                interpreter: GUARDED_BASH,
                environment: tlsEnvironment(late, args.nodes),
            },
            // Every input describes the instance: any change re-creates it, and the old one must
            // be gone first because the new one has the same name.
            { parent: this, replaceOnChanges: ["*"], deleteBeforeReplace: true },
        );

        // The script prints only `docker buildx inspect` (paths and statuses, no secrets) on stdout.
        // A command only recorded, never run (graph-only tests, or echo mocks where stdout is
        // missing: see not-run.ts), reports no nodes.
        const inspectText = (stdout: string) => (stdout === "" ? "" : parseResultLine(stdout, BUILDER_RESULT_MARKER).inspect.toString("utf8"));
        const report = pulumi.unsecret(instance.stdout).apply((stdout) => parseInspect(ifRan(stdout, inspectText, "")));
        this.name = report.apply(() => v.name);
        this.driver = pulumi.output(v.driver);
        this.nodes = report.apply((r) => r.nodes);
        this.platforms = report.apply((r) => unionOfPlatforms(r.nodes));
        this.registerOutputs({ name: this.name, driver: this.driver, nodes: this.nodes, platforms: this.platforms });
    }
}

/** A node with its pass-through Inputs resolved and checked; TLS contents stay out (they go to the environment). */
function resolveNode(late: Late, driver: BuilderDriver, node: BuilderNode, i: number, platforms: string[]): pulumi.Output<PlannedNode> {
    const where = `nodes[${i}]`;
    const endpoint = late(`${where}.endpoint`, node.endpoint, (e) => nodeEndpointProblem(driver, e, node.tls !== undefined));
    const driverOpts = pulumi.all(
        Object.fromEntries(Object.entries(node.driverOpts ?? {}).map(([k, value]) => [k, late(`${where}.driverOpts.${k}`, value, driverOptValueProblem)])),
    );
    const serverName = late(`${where}.tls.serverName`, node.tls?.serverName, serverNameProblem);
    return pulumi.all([endpoint, driverOpts, serverName]).apply(([endpoint, driverOpts, serverName]) => ({
        name: node.name,
        endpoint: endpoint === "" ? undefined : endpoint,
        platforms,
        driverOpts,
        tls: node.tls === undefined ? undefined : { serverName },
    }));
}

/** Each remote node's PEM contents, as secrets, in the variables the create script reads. */
function tlsEnvironment(late: Late, nodes: BuilderNode[]): Record<string, pulumi.Input<string>> | undefined {
    const env: Record<string, pulumi.Input<string>> = {};
    nodes.forEach((node, i) => {
        const tls = node.tls;
        if (tls === undefined) return;
        const names = tlsEnvNames(i);
        for (const part of ["ca", "cert", "key"] as const) {
            env[names[part]] = pulumi.secret(late(`nodes[${i}].tls.${part}`, tls[part], (pem) => pemProblem(part, pem)));
        }
    });
    return Object.keys(env).length > 0 ? env : undefined;
}
