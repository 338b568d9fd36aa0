import * as pulumi from "@pulumi/pulumi";

/**
 * How buildx reaches the nodes. Equivalent to `docker buildx create --driver`.
 * - `"docker-container"`: each node is a Docker engine (the local one, a docker context, or
 *   `ssh://user@host`); buildx runs BuildKit in a container there.
 * - `"remote"`: each node is a BuildKit daemon you run yourself, at `tcp://host:port` (mTLS) or
 *   `unix:///path`.
 */
export type BuilderDriver = "docker-container" | "remote";

/**
 * mTLS material for a `remote` node, as PEM contents (not file paths). buildx wants files: the
 * builder writes them to a private directory (mode 0700, files 0600) under buildx's config
 * directory (`$BUILDX_CONFIG`, default `~/.docker/buildx`) in `pulumi-tls/<builder>/<node>/`,
 * and removes it when the builder is deleted. All three of `ca`, `cert` and `key` are required.
 * The values travel only as secrets in environment variables: never on a command line, in a
 * command string, a log or an output.
 */
export interface NodeTls {
    /** CA certificate that signed the daemon's certificate (PEM). Equivalent to `--driver-opt cacert=FILE`. */
    ca: pulumi.Input<string>;
    /** Client certificate (PEM). Equivalent to `--driver-opt cert=FILE`. */
    cert: pulumi.Input<string>;
    /** Client private key (PEM). Equivalent to `--driver-opt key=FILE`. */
    key: pulumi.Input<string>;
    /**
     * Name to verify the daemon's certificate against, when it differs from the endpoint's host.
     * Equivalent to `--driver-opt servername=NAME`. Default: the endpoint's host.
     */
    serverName?: pulumi.Input<string>;
}

/**
 * One node of a builder. The first node of `BuilderArgs.nodes` creates the instance, the rest are
 * appended (`docker buildx create --append`). A node-provisioning component (e.g. an EC2 node)
 * can hand one of these over with its `endpoint` and `tls` as Outputs.
 */
export interface BuilderNode {
    /**
     * Node name, unique within the builder: a lower-case letter, then lower-case letters,
     * digits, `.`, `_` or `-` (buildx lower-cases node names). Equivalent to `--node`. Required.
     */
    name: string;
    /**
     * Where the node is.
     * - `docker-container`: `ssh://user@host[:port]`, `unix:///path/docker.sock`, or a docker
     *   context name. Default: the current docker context (the local engine).
     * - `remote`: `tcp://host:port` (requires `tls`) or `unix:///path/buildkitd.sock`. Required.
     *
     * Equivalent to the `ENDPOINT` argument of `docker buildx create`.
     */
    endpoint?: pulumi.Input<string>;
    /**
     * Platforms this node builds, e.g. `["linux/arm64"]`, pinned with `--platform` so buildx sends
     * each platform of a multi-platform build to the node that is native for it. A platform may be
     * pinned on one node only. Default: none pinned (buildx uses what the node reports).
     */
    platforms?: string[];
    /**
     * Driver options, e.g. `{ image: "moby/buildkit:v0.16.0", network: "host" }` for
     * `docker-container`. Equivalent to `--driver-opt KEY=VALUE`. For `remote` nodes, TLS is given
     * with `tls`, not with `cacert`/`cert`/`key`/`servername` here.
     */
    driverOpts?: Record<string, pulumi.Input<string>>;
    /** mTLS material; `remote` driver only, required for a `tcp://` endpoint. */
    tls?: NodeTls;
}

/**
 * The arguments of `new Builder(name, args)`: one buildx builder instance (`docker buildx create`,
 * then `--append` per further node) with its driver, nodes and BuildKit settings. Required:
 * `nodes` (at least one).
 */
export interface BuilderArgs {
    /**
     * The buildx instance name. Equivalent to `--name`. A lower-case letter, then lower-case
     * letters, digits, `.`, `_` or `-`. Default: derived from the project, stack and resource name
     * (`<project>-<stack>-<resource>`, sanitised), so two stacks on one machine never collide.
     *
     * Creating the builder replaces an existing instance of the same name (a crashed earlier run
     * leaves one behind), so give a name that no one else on the machine uses.
     */
    name?: string;
    /** How buildx reaches the nodes. Equivalent to `--driver`. Default `"docker-container"`. */
    driver?: BuilderDriver;
    /**
     * The nodes, in order: the first creates the instance, the rest are appended. At least one.
     * Adding, removing or changing a node replaces the builder (delete, then create with the same name).
     */
    nodes: BuilderNode[];
    /**
     * Flags for the BuildKit daemon buildx starts, e.g. `"--debug"`. Equivalent to
     * `--buildkitd-flags`. `docker-container` only (a `remote` daemon is configured where it runs).
     */
    buildkitdFlags?: string;
    /**
     * BuildKit daemon configuration, as TOML contents (e.g. `[registry."host:port"] ca = [...]`),
     * applied to every node. Equivalent to `--buildkitd-config FILE` (the builder writes the file).
     * `docker-container` only.
     */
    buildkitdConfig?: string;
    /**
     * Start every node while creating the builder, so a node that cannot start fails `up` (naming
     * the node, its endpoint and buildx's error) instead of the first build. Equivalent to
     * `--bootstrap`. Default true.
     */
    bootstrap?: boolean;
    /** Make this the current builder of the current docker context. Equivalent to `--use`. Default false. */
    use?: boolean;
}

/** One node as buildx reports it after the builder was created (`docker buildx inspect`). */
export interface BuilderNodeStatus {
    name: string;
    /** The endpoint buildx uses (for the local engine: its socket, e.g. `unix:///var/run/docker.sock`). */
    endpoint: string;
    /** `running`, `inactive`, `stopped`, or `error` when buildx could not reach the node (see `error`). */
    status: string;
    /** BuildKit version the node reports, when it runs. */
    buildkitVersion?: string;
    /** Every platform the node can build (natively or emulated), as buildx lists them. */
    platforms: string[];
    /** The platforms pinned on this node (buildx marks them with `*`). */
    pinnedPlatforms: string[];
    /** buildx's error for this node, if it has one. */
    error?: string;
}
