import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { InputProblems, isLate, quoteValue, textProblem } from "../errors";
import { collectPlatforms, PlatformString } from "../platform";
import { BuilderArgs, BuilderDriver, BuilderNode } from "./args";

/**
 * The plain, checked shape of a builder: everything that decides what runs. `N` is the node as
 * validated, or with its Outputs resolved (`PlannedNode`, what the scripts are made from).
 */
export interface ValidatedBuilderArgs<N = ValidatedNode> {
    /** The buildx instance name (given or derived). */
    name: string;
    driver: BuilderDriver;
    nodes: N[];
    buildkitdFlags?: string;
    buildkitdConfig?: string;
    bootstrap: boolean;
    use: boolean;
}

export interface ValidatedNode {
    name: string;
    /** Normalised pinned platforms. */
    platforms: PlatformString[];
    hasTls: boolean;
}

export const DRIVERS: readonly BuilderDriver[] = ["docker-container", "remote"];

/** buildx instance and node names (buildx itself also takes upper case, but stores names lower-cased). */
export const NAME_PATTERN = /^[a-z][a-z0-9._-]{0,99}$/;
export const NAME_RULE = "a lower-case letter, then lower-case letters, digits, `.`, `_` or `-` (at most 100 characters)";

/** Driver options the builder sets itself from `tls` on a remote node. */
const TLS_DRIVER_OPTS = ["cacert", "cert", "key", "servername"];

const MAX_DEFAULT_NAME = 48;

/**
 * The default instance name: `<project>-<stack>-<resource>`, lower-cased, with anything buildx
 * does not take replaced by `-`, and shortened with a hash suffix when long, so that two stacks
 * (or projects) on one machine never share a builder.
 */
export function defaultBuilderName(project: string, stack: string, resource: string): string {
    const full = `${project}-${stack}-${resource}`;
    let name = full
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, "-")
        .replace(/^[^a-z]+/, "");
    if (name === "") name = "builder";
    if (name.length > MAX_DEFAULT_NAME) {
        const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
        name = `${name.slice(0, MAX_DEFAULT_NAME - 9).replace(/[._-]+$/, "")}-${hash}`;
    }
    return name;
}

const HOST = String.raw`(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)`;
const TCP = new RegExp(`^tcp://${HOST}:[0-9]{1,5}/?$`);
const SSH = new RegExp(`^ssh://([^@\\s/:]+@)?${HOST}(:[0-9]{1,5})?/?$`);
const UNIX = /^unix:\/\/\/\S+$/;
const CONTEXT = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

/** What each driver takes as an endpoint, for error messages. */
export const VALID_ENDPOINTS: Record<BuilderDriver, string> = {
    "docker-container":
        'ssh://user@host[:port], unix:///path/to/docker.sock, or a docker context name (a BuildKit daemon at tcp://host:port needs driver "remote")',
    remote: "tcp://host:port (with `tls`) or unix:///path/to/buildkitd.sock",
};

/**
 * Checks a resolved endpoint against the driver; returns what is wrong (naming what would be
 * valid) or undefined. Used at construction for plain strings and again when Outputs resolve.
 */
export function endpointProblem(driver: BuilderDriver, endpoint: string | undefined, hasTls: boolean): string | undefined {
    if (endpoint !== undefined && endpoint.length > MAX_ENDPOINT)
        return `${quoteValue(endpoint)} is longer than ${MAX_ENDPOINT} characters: expected ${VALID_ENDPOINTS[driver]}`;
    switch (driver) {
        case "docker-container":
            if (endpoint === undefined || endpoint === "") return undefined;
            if (SSH.test(endpoint) || UNIX.test(endpoint) || (CONTEXT.test(endpoint) && !endpoint.includes("://"))) return undefined;
            return `${quoteValue(endpoint)} does not fit driver "docker-container": expected ${VALID_ENDPOINTS["docker-container"]}`;
        case "remote":
            if (endpoint === undefined || endpoint === "") return `is required for driver "remote": ${VALID_ENDPOINTS.remote}`;
            if (TCP.test(endpoint)) {
                return hasTls
                    ? undefined
                    : `${quoteValue(endpoint)} is a tcp:// endpoint without \`tls\`: give the node's { ca, cert, key } (BuildKit over TCP must use mTLS)`;
            }
            if (UNIX.test(endpoint)) {
                return hasTls ? `${quoteValue(endpoint)} is a unix socket: \`tls\` applies to tcp:// endpoints only` : undefined;
            }
            return `${quoteValue(endpoint)} does not fit driver "remote": expected ${VALID_ENDPOINTS.remote}`;
        default: {
            const never: never = driver;
            throw new Error(`unknown driver ${JSON.stringify(never)}`);
        }
    }
}

function isPlainString(v: unknown): v is string {
    return typeof v === "string";
}

/** The reason a node's endpoint is not valid (plain now, or late once known), or undefined. */
export function nodeEndpointProblem(driver: BuilderDriver, endpoint: unknown, hasTls: boolean): string | undefined {
    if (endpoint !== undefined && !isPlainString(endpoint)) return `${quoteValue(endpoint)} is not valid: expected ${VALID_ENDPOINTS[driver]}`;
    return endpointProblem(driver, endpoint === "" ? undefined : endpoint, hasTls);
}

/** What each TLS part is, for messages. */
const TLS_PART_NAMES = { ca: "the CA certificate", cert: "the client certificate", key: "the client private key" } as const;

/**
 * The reason a TLS part is not PEM contents (plain now, or late once known), or undefined.
 * Never quotes the value: it may be a private key.
 */
export function pemProblem(part: keyof typeof TLS_PART_NAMES, value: unknown): string | undefined {
    const what = TLS_PART_NAMES[part];
    if (value === undefined || value === null || value === "") return `is required: ${what} as PEM contents: mTLS needs all of ca, cert and key`;
    if (!isPlainString(value)) return `is not a string: give ${what} as PEM contents`;
    if (!value.includes("-----BEGIN "))
        return `is not PEM contents (no "-----BEGIN" line): give ${what} itself, e.g. fs.readFileSync(path, "utf8"), not a file path`;
    if (value.includes("\0") || value.length > 65536) return `is not PEM contents (a NUL byte, or longer than 64 KiB): give ${what} itself`;
    return undefined;
}

/** Longest endpoint taken (a URL; anything longer is not one). */
const MAX_ENDPOINT = 2048;

/** The reason a TLS server name is not valid (plain or late), or undefined. */
export function serverNameProblem(serverName: unknown): string | undefined {
    if (serverName === undefined || (isPlainString(serverName) && /^[A-Za-z0-9.:[\]-]{1,253}$/.test(serverName))) return undefined;
    return `${quoteValue(serverName)} is not valid: expected a host name or IP address to verify the daemon's certificate against`;
}

/** The reason a driver option value is not valid (plain or late), or undefined. */
export function driverOptValueProblem(value: unknown): string | undefined {
    return textProblem(value, "a driver option value", { csv: true });
}

/**
 * Checks every plain argument and returns the builder's shape, or throws one
 * `InputPropertiesError` listing every problem. Runs nothing. Endpoints and TLS material that are
 * Outputs are checked when they resolve (see `endpointProblem`).
 */
export function validateBuilderArgs(resourceName: string, args: BuilderArgs, defaults: { project: string; stack: string }): ValidatedBuilderArgs {
    const problems = new InputProblems("Builder", resourceName);
    if (args === undefined || args === null) {
        problems.missing("args", "an object with at least `nodes`");
        problems.throwIfAny();
    }

    // name and driver
    let name = defaultBuilderName(defaults.project, defaults.stack, resourceName);
    if (args.name !== undefined) {
        if (!isPlainString(args.name) || !NAME_PATTERN.test(args.name)) {
            problems.invalid("name", args.name, `a buildx instance name: ${NAME_RULE}`);
        } else {
            name = args.name;
        }
    }
    const driver = (args.driver ?? "docker-container") as BuilderDriver;
    const knownDriver = DRIVERS.includes(driver);
    if (!knownDriver) {
        problems.invalid("driver", args.driver, DRIVERS.map((d) => `"${d}"`).join(" or "));
    }

    // nodes
    const nodes: ValidatedNode[] = [];
    if (!Array.isArray(args.nodes) || args.nodes.length === 0) {
        problems.invalid("nodes", args.nodes, "a non-empty list of nodes: the first creates the builder, the rest are appended");
    } else {
        const pinnedOn = new Map<string, number>();
        const namedAt = new Map<string, number>();
        args.nodes.forEach((node, i) => {
            const validated = checkNode(problems, `nodes[${i}]`, node, knownDriver ? driver : undefined);
            if (validated === undefined) return;
            const same = namedAt.get(validated.name);
            if (same !== undefined) {
                problems.invalid(`nodes[${i}].name`, node.name, `a name no other node has: nodes[${same}] is also called "${validated.name}"`);
            } else {
                namedAt.set(validated.name, i);
            }
            validated.platforms.forEach((p, k) => {
                const first = pinnedOn.get(p);
                if (first !== undefined && first !== i) {
                    problems.add(
                        `nodes[${i}].platforms[${k}]`,
                        `"${p}" is pinned on both node "${args.nodes[first].name}" (nodes[${first}]) and node "${node.name}" (nodes[${i}]): ` +
                            "pin each platform on one node only, so buildx knows which node builds it",
                    );
                } else {
                    pinnedOn.set(p, i);
                }
            });
            nodes.push(validated);
        });
    }

    // daemon settings
    for (const field of ["buildkitdFlags", "buildkitdConfig"] as const) {
        const value = args[field];
        if (value === undefined) continue;
        if (!isPlainString(value)) {
            problems.invalid(
                field,
                value,
                field === "buildkitdFlags" ? 'a string of buildkitd flags, e.g. "--debug"' : "the TOML contents of a buildkitd.toml",
            );
        } else if (textProblem(value, "a string") !== undefined) {
            problems.add(field, textProblem(value, "a string") as string);
        } else if (driver === "remote") {
            problems.add(field, "is not supported by the remote driver: a remote BuildKit daemon is configured where it runs (buildx refuses it too)");
        }
    }
    for (const field of ["bootstrap", "use"] as const) problems.optionalBoolean(field, args[field]);

    problems.throwIfAny();
    return {
        name,
        driver,
        nodes,
        buildkitdFlags: args.buildkitdFlags,
        buildkitdConfig: args.buildkitdConfig,
        bootstrap: args.bootstrap ?? true,
        use: args.use ?? false,
    };
}

function checkNode(problems: InputProblems, where: string, node: BuilderNode, driver: BuilderDriver | undefined): ValidatedNode | undefined {
    if (node === null || typeof node !== "object" || pulumi.Output.isInstance(node)) {
        problems.invalid(where, node, "a node { name, endpoint?, platforms?, driverOpts?, tls? } (a plain object; its endpoint and tls values may be Outputs)");
        return undefined;
    }
    const before = problems.problems.length;
    if (!isPlainString(node.name) || !NAME_PATTERN.test(node.name)) {
        if (node.name === undefined) problems.missing(`${where}.name`, `a node name unique in this builder: ${NAME_RULE}`);
        else problems.invalid(`${where}.name`, node.name, `a node name: ${NAME_RULE}`);
    }

    // platforms
    if (node.platforms !== undefined && !Array.isArray(node.platforms)) {
        problems.invalid(`${where}.platforms`, node.platforms, 'a list of platforms, e.g. ["linux/arm64"]');
    }
    const platforms = collectPlatforms(problems, `${where}.platforms`, Array.isArray(node.platforms) ? node.platforms : []);

    // tls
    const tls = node.tls;
    const hasTls = tls !== undefined;
    if (hasTls && driver === "docker-container") {
        problems.add(
            `${where}.tls`,
            'is only for driver "remote" (a BuildKit daemon at tcp://host:port); ' +
                "docker-container nodes are reached through Docker (ssh://, a socket or a context)",
        );
    } else if (hasTls && (tls === null || typeof tls !== "object" || pulumi.Output.isInstance(tls))) {
        problems.invalid(`${where}.tls`, "an Output", "a plain object { ca, cert, key, serverName? } whose values may be Outputs");
    } else if (hasTls) {
        for (const part of ["ca", "cert", "key"] as const) {
            // Outputs are checked once known (Builder component, checkLate), with the same message.
            const reason = isLate(tls[part]) ? undefined : pemProblem(part, tls[part]);
            if (reason !== undefined) problems.add(`${where}.tls.${part}`, reason);
        }
        const reason = isLate(tls.serverName) ? undefined : serverNameProblem(tls.serverName);
        if (reason !== undefined) problems.add(`${where}.tls.serverName`, reason);
    }

    // endpoint (checked now when plain; Outputs are checked when they resolve)
    if (driver !== undefined) {
        const endpoint = node.endpoint;
        if (endpoint === undefined || isPlainString(endpoint)) {
            const reason = endpointProblem(driver, endpoint, hasTls);
            if (reason !== undefined) {
                if (driver === "remote" && typeof endpoint === "string" && TCP.test(endpoint) && !hasTls) {
                    problems.missing(`${where}.tls`, `{ ca, cert, key } as PEM contents: ${endpoint} is a tcp:// endpoint and BuildKit over TCP must use mTLS`);
                } else if (endpoint === undefined || endpoint === "") {
                    problems.missing(`${where}.endpoint`, reason.replace(/^is required for /, "for "));
                } else {
                    problems.add(`${where}.endpoint`, reason);
                }
            }
        } else if (!isLate(endpoint)) {
            problems.invalid(`${where}.endpoint`, endpoint, VALID_ENDPOINTS[driver]);
        }
    }

    // driver options
    const opts = node.driverOpts ?? {};
    if (typeof opts !== "object" || opts === null || Array.isArray(opts) || pulumi.Output.isInstance(opts)) {
        problems.invalid(`${where}.driverOpts`, node.driverOpts, 'a plain object of driver options, e.g. { network: "host" } (values may be Outputs)');
    } else {
        for (const [key, value] of Object.entries(opts)) {
            const valueReason = isLate(value) ? undefined : driverOptValueProblem(value);
            if (valueReason !== undefined) problems.add(`${where}.driverOpts.${key}`, valueReason);
            if (!/^[A-Za-z][A-Za-z0-9._-]*$/.test(key)) {
                problems.invalid(`${where}.driverOpts.${key}`, key, "a driver option name such as image, network or env.NAME");
            } else if (driver === "remote" && TLS_DRIVER_OPTS.includes(key)) {
                problems.add(
                    `${where}.driverOpts.${key}`,
                    "is set by the builder from `tls` (PEM contents, written to private files): give it in `tls` instead",
                );
            }
        }
    }
    if (problems.problems.length > before && !isPlainString(node.name)) return undefined;
    return { name: isPlainString(node.name) ? node.name : "", platforms, hasTls };
}
