import * as pulumi from "@pulumi/pulumi";
import type { MultiPlatformImage } from "./component";

/**
 * Anything that names a buildx builder: a `Builder` resource of this package (or any resource
 * with a `name` output, which is then also waited for), or a builder name.
 */
export type BuilderRef = pulumi.Input<string> | (pulumi.Resource & { readonly name: pulumi.Output<string> });

/** A registry to log in to for this build only. */
export interface RegistryAuth {
    /** Registry host, e.g. `ghcr.io` or `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. Equivalent to `docker login ADDRESS`. */
    address: pulumi.Input<string>;
    /** User name. Equivalent to `docker login --username`. */
    username: pulumi.Input<string>;
    /**
     * Password or token. Sent to `docker login --password-stdin` through the environment; it never
     * appears on a command line, in a command string or in an output. Wrap it in `pulumi.secret`
     * if it does not come from a secret already (it is treated as secret either way).
     *
     * A password that changes on every `up` (an ECR token from `aws.ecr.getAuthorizationToken`
     * lasts 12 hours) is an input of the build, so it makes every `up` rebuild and push. For such
     * registries give `passwordCommand` instead. Exactly one of `password` and `passwordCommand`.
     */
    password?: pulumi.Input<string>;
    /**
     * A shell command (run by bash where `pulumi up` runs, at build time only) that prints the
     * password, e.g. `aws ecr get-login-password --region eu-west-1`. Its output is piped
     * straight into `docker login --password-stdin`: the password is never in Pulumi state, and a
     * new token does not count as a change, so an unchanged build is not rerun. The command
     * itself is stored in state as plain text: put no secret in it. Plain string.
     */
    passwordCommand?: string;
}

/**
 * A cache source. Equivalent to Docker's `--cache-from` flag. The value is built field by field
 * with buildx's CSV quoting, so a path or reference holding `,` `"` or `=` stays one field.
 */
export type CacheFrom =
    /**
     * `--cache-from type=registry,ref=REF`: a cache (or an image built with an inline cache) in a
     * registry. `ref` may be an Output; it is checked once known, before the build runs.
     */
    | { type: "registry"; ref: pulumi.Input<string> }
    /** `--cache-from type=local,src=DIR`: a cache exported to a local directory. */
    | { type: "local"; src: string }
    /** `--cache-from type=s3,…`: a cache in an S3 bucket (see {@link S3Cache}; no `mode` here). Not supported by the `docker` driver. */
    | S3Cache;

/** Compression of the cache layers a registry cache export writes (buildx `compression`). */
export type CacheCompression = "gzip" | "zstd" | "estargz" | "uncompressed";

/** A registry cache destination (`--cache-to type=registry,…`). */
export interface RegistryCacheTo {
    type: "registry";
    /** Where the cache goes (buildx `ref`). May be an Output; checked once known, before the build runs. */
    ref: pulumi.Input<string>;
    /** Cache layers for the final stage only (`min`, the default) or for every stage (`max`). buildx `mode`. */
    mode?: "min" | "max";
    /**
     * Write the cache as an OCI image manifest instead of a bare index (buildx `image-manifest`).
     * Registries that refuse an index whose entries are not images (Amazon ECR) need it, together
     * with `ociMediatypes: true`. Default: buildx's (false).
     */
    imageManifest?: boolean;
    /** Use OCI media types in the cache manifests (buildx `oci-mediatypes`). Default: buildx's (true since 0.13). */
    ociMediatypes?: boolean;
    /** Compression of the cache layers (buildx `compression`). Default: buildx's (gzip). */
    compression?: CacheCompression;
    /** A failed cache export does not fail the build (buildx `ignore-error`). Default false. */
    ignoreError?: boolean;
}

/** A cache destination. Equivalent to Docker's `--cache-to` flag (CSV-quoted field by field). */
export type CacheTo =
    /** `--cache-to type=registry,ref=REF,mode=MODE,…`. Not supported by the `docker` driver. */
    | RegistryCacheTo
    /** `--cache-to type=local,dest=DIR,mode=MODE`. Not supported by the `docker` driver. */
    | { type: "local"; dest: string; mode?: "min" | "max" }
    /** `--cache-to type=inline`: cache metadata inside the pushed image. */
    | { type: "inline" }
    /** `--cache-to type=s3,…`: a cache in an S3 bucket (see {@link S3Cache}). Not supported by the `docker` driver. */
    | S3Cache;

/** Where the built image goes. Equivalent to Docker's `--output` / `--push` flags. */
export type ImageOutput =
    /** Push to the registries named by `tags` (`--output type=image,push=true`). The default. */
    | { type: "registry" }
    /**
     * Export an OCI image layout directory with no registry involved
     * (`--output type=oci,dest=DIR,tar=false`, CSV-quoted, so any path stays one field).
     * Per-platform digests come from its `index.json`.
     * Multi-node builders cannot export OCI layouts (buildx refuses); they push.
     */
    | { type: "oci"; dest: string }
    /**
     * Export the image's files (`--output type=local,dest=DIR,platform-split=true`): DIR holds one
     * subdirectory per platform, named as buildx names them (`linux_amd64`, `linux_arm64`,
     * `linux_arm_v7`), even for a single platform. No digests (the outputs are empty). `dest` is
     * written atomically and a directory that is not one of these exports is never replaced.
     */
    | { type: "local"; dest: string }
    /**
     * Export the image's files as one tar file (`--output type=tar,dest=FILE`), one top-level
     * directory per platform as with `local`. No digests. Written atomically; an existing `dest`
     * that is not a tar file is never replaced.
     */
    | { type: "tar"; dest: string }
    /**
     * Load the image into the image store of the builder's Docker engine (`--load`). The same as
     * `load: true`, which is the documented spelling; give one of them. Multi-platform loads need
     * the containerd image store. See `load`.
     */
    | { type: "docker" };

/**
 * The arguments of `new MultiPlatformImage(name, args)`: one `docker buildx build` of `context`
 * for `platforms`, pushed to `tags` (or exported as an OCI layout) and read back as digests.
 * Required: `context`, `platforms`. Checked at construction; values that are Outputs once known.
 */
export interface MultiPlatformImageArgs {
    /** Build context directory. Equivalent to the `PATH` argument of `docker buildx build`. Required. */
    context: string;
    /**
     * Path of the Dockerfile. Default: `<context>/Dockerfile`. Equivalent to `--file`.
     * Mutually exclusive with `dockerfileInline`.
     */
    dockerfile?: string;
    /** Dockerfile contents, sent on stdin (`--file -`). Mutually exclusive with `dockerfile`. */
    dockerfileInline?: string;
    /**
     * Target platforms, e.g. `["linux/amd64", "linux/arm64"]`. Short and alias forms
     * (`arm64`, `x86_64`, `armhf`) are normalised as Docker does. At least one; no duplicates.
     * Equivalent to `--platform`.
     */
    platforms: string[];
    /**
     * Image references to tag (and push) the result as, e.g. `["ghcr.io/org/app:1.0"]` or
     * `[pulumi.interpolate\`${repo.repositoryUrl}:1.0\`]`. Equivalent to `--tag`. A plain tag is
     * checked at construction; one that is an Output is checked once known, before the build runs.
     * The first tag's repository is where the digests are read back from.
     */
    tags?: pulumi.Input<string>[];
    /**
     * Push to the registries of `tags`. Default: true when `tags` are given. With `push: false`
     * and the default output the build runs and its result stays in the builder (useful to
     * warm a cache or test a Dockerfile); digests are then not known. Equivalent to `--push`.
     */
    push?: boolean;
    /** The builder to use. Default: buildx's current builder. Equivalent to `--builder`. */
    builder?: BuilderRef;
    /**
     * Build-time variables. Equivalent to `--build-arg NAME=VALUE`. Not for secrets: they are on
     * the command line and in the image history; a secret Output is refused (use `secrets`).
     */
    buildArgs?: Record<string, pulumi.Input<string>>;
    /** Stage to build. Equivalent to `--target`. Plain string (an Output, secret or not, is refused). */
    target?: string;
    /** Image labels. Equivalent to `--label`. A secret Output is refused (use `secrets`). */
    labels?: Record<string, pulumi.Input<string>>;
    /**
     * Manifest annotations (`--annotation KEY=VALUE`); prefix a key with `index:` to annotate the
     * image index instead, as buildx does. A secret Output is refused (use `secrets`).
     */
    annotations?: Record<string, pulumi.Input<string>>;
    /** Do not use the build cache. Equivalent to `--no-cache`. Default false. */
    noCache?: boolean;
    /** Always pull newer versions of base images. Equivalent to `--pull`. Default false. */
    pull?: boolean;
    /** Network mode for `RUN` steps: `default`, `none` or `host`. Equivalent to `--network`. */
    network?: "default" | "none" | "host";
    /** Extra `/etc/hosts` entries, `{ "host": "ip" }`. Equivalent to `--add-host host:ip`. */
    addHosts?: Record<string, string>;
    /**
     * Build secrets, id → value, usable with `RUN --mount=type=secret,id=ID`. Each value reaches
     * buildx only through an environment variable (`--secret id=ID,env=VAR`): never on a command
     * line, in state as plain text, in logs or outputs. Ids must be valid environment variable names.
     *
     * A value may instead name where the secret is read at build time, where `pulumi up` runs:
     * `{ env: "VAR" }` (`--secret id=ID,env=VAR`) or `{ file: "path" }` (`--secret id=ID,src=path`).
     * Only the variable name or the path is in state, never the value, so a rotated value does not
     * count as a change and triggers no rebuild. A variable that is not set or a file that is not
     * there fails the build, naming the id, before buildx runs. See `SecretSource`.
     */
    secrets?: Record<string, pulumi.Input<string> | SecretSource>;
    /**
     * Registries to log in to for this build only, in a temporary `DOCKER_CONFIG` that is removed
     * afterwards; your own `~/.docker/config.json` is not read or changed. Without it, buildx uses
     * your existing Docker credentials. Equivalent to `docker login --password-stdin`.
     */
    registries?: RegistryAuth[];
    /** Cache sources. Equivalent to `--cache-from`. */
    cacheFrom?: CacheFrom[];
    /** Cache destinations. Equivalent to `--cache-to`. */
    cacheTo?: CacheTo[];
    /** Where the image goes. Default `{ type: "registry" }`. Equivalent to `--output`. */
    output?: ImageOutput;
    /**
     * Provenance attestation: `true`/`false` (`--provenance=true|false`), or its mode, `"min"` or
     * `"max"` (`--provenance=mode=min|max`). Default: buildx's (min, for a push). The attestation
     * manifests are in the pushed index, excluded from `platformDigests`; their digests are in
     * `attestationDigests`. Equivalent to `--provenance`.
     */
    provenance?: boolean | "min" | "max";
    /** SBOM attestation on or off. Default: buildx's default (off). Equivalent to `--sbom`. */
    sbom?: boolean;
    /**
     * Named build contexts, name → value, used in the Dockerfile as `FROM name` or
     * `COPY --from=name`. Equivalent to `--build-context NAME=VALUE`. A value is one of:
     * - a local directory (relative to the program's directory): its files count in the rebuild
     *   hash, with that directory's own `.dockerignore`, as BuildKit applies it;
     * - `docker-image://REF`, `oci-layout://DIR[@sha256:…]` or `target:STAGE`, passed as given;
     * - another `MultiPlatformImage` of the program: used as `docker-image://<its ref>` (or its
     *   `oci-layout://…` ref for an OCI export) and waited for, so one image can be built `FROM`
     *   another. It must push or export an OCI layout (it needs a ref).
     *
     * Names are a stage or image name (`[A-Za-z0-9][A-Za-z0-9_.:/@-]*`, no `=`). A string value that
     * is an Output is checked once known; a secret one is refused.
     */
    buildContexts?: Record<string, pulumi.Input<string> | MultiPlatformImage>;
    /**
     * Load the result into the image store of the builder's Docker engine. Equivalent to `--load`
     * (`output: { type: "docker" }` means the same). With `tags` and the default output, the image
     * is also pushed (`--push --load`) and the outputs are read back as for a push; without a push,
     * the digests cannot be read from a registry and the outputs are empty. More than one platform
     * needs a Docker engine with the containerd image store: that is checked (`docker info`) before
     * the build, with a clear error otherwise. Default false.
     */
    load?: boolean;
    /**
     * Build each platform in its own `docker buildx build` (default false), each pushed by digest
     * only (`--output type=image,name=REPOSITORY,push-by-digest=true,name-canonical=true,push=true`,
     * no tag per platform), then join them with `docker buildx imagetools create --tag …` for
     * every tag, from `REPOSITORY@DIGEST` of each platform. One child command per platform, named
     * `${name}-build-<os>-<arch>[-<variant>]`; they run in parallel. A platform that fails leaves
     * the others' pushed digests in state, and the next `up` reruns only it and the merge.
     * Registry `cacheFrom`/`cacheTo` refs get one reference per platform (see `cacheRefs`).
     * Requires the registry output with `push` (not `output: { type: "oci" }` or `push: false`)
     * and all tags in one registry. The outputs are the same as without it.
     */
    perPlatform?: boolean;
    /**
     * The builder of each platform, keyed by platform (normalised like `platforms`, e.g.
     * `{ "linux/arm64": armBuilder }`); each key must be one of `platforms`. Implies `perPlatform`
     * (`perPlatform: false` with it is refused). A platform without an entry uses `builder`.
     * Equivalent to `--builder` of that platform's `docker buildx build`.
     */
    platformBuilders?: Record<string, BuilderRef>;
    /**
     * SSH agent sockets or keys to forward to `RUN --mount=type=ssh[,id=ID]` steps. Equivalent to
     * `--ssh ID[=PATH,…]`. `{ id: "default" }` forwards the agent of `SSH_AUTH_SOCK` where
     * `pulumi up` runs: the socket path is read at build time and is not in state, only the id.
     * Paths given in `paths` (agent sockets or private key files) are in state as plain text.
     */
    ssh?: SshForward[];
}

/**
 * Where a build secret is read at build time, instead of a value in the program (see
 * `MultiPlatformImageArgs.secrets`). Plain strings; neither the value nor its hash is in state.
 */
export type SecretSource =
    /** `--secret id=ID,env=VAR`: the environment variable VAR where `pulumi up` runs. */
    | { env: string }
    /**
     * `--secret id=ID,src=PATH`: the file at PATH (relative to where `pulumi up` runs). An absolute
     * path inside the program's directory is written relative to it, as the context is, so a
     * checkout at another path rebuilds nothing; one outside it (e.g. under `$HOME`) stays as given,
     * and a different one on another machine is a change that rebuilds.
     */
    | { file: string };

/** One `--ssh` forward. */
export interface SshForward {
    /** The id `RUN --mount=type=ssh,id=ID` asks for; `default` when the mount gives none. */
    id: string;
    /**
     * Agent sockets or private key files (PEM); default: `SSH_AUTH_SOCK`. Plain strings, in state;
     * a path inside the program's directory is written relative to it (see `SecretSource`'s `file`).
     */
    paths?: string[];
}

/**
 * A cache in an S3 bucket (any S3-compatible server with `endpointUrl` and `usePathStyle`). Needs a
 * `docker-container` or `remote` builder: BuildKit inside Docker (the `docker` driver) has no s3
 * cache (Docker 26, containerd image store too: `unknown cache exporter: "s3"`).
 * Each field is one buildx field of `--cache-from`/`--cache-to type=s3,…`, CSV-quoted.
 *
 * Credentials come only from the environment of the machine running Pulumi: buildx reads the
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` variables or the profile
 * (`AWS_PROFILE`, `~/.aws`) itself and hands them to BuildKit over its API. They are never
 * arguments here, so they are never on a command line or in Pulumi state.
 *
 * Names in the bucket: blobs go to `<prefix>blobs/`, the cache manifest to
 * `<prefix>manifests/<name>` (buildx `blobs_prefix`/`manifests_prefix` are `prefix` + `blobs/`
 * and `prefix` + `manifests/`). `name` defaults to buildx's (`buildkit`): give each image its own.
 */
export interface S3Cache {
    type: "s3";
    /** The bucket (buildx `bucket`). Required. */
    bucket: string;
    /** The bucket's region (buildx `region`), e.g. `eu-west-1`. Required. */
    region: string;
    /** The S3 endpoint of a non-AWS, S3-compatible server, e.g. `http://minio:9000` (buildx `endpoint_url`). */
    endpointUrl?: string;
    /** Path-style bucket addressing, as most S3-compatible servers need (buildx `use_path_style`). Default false. */
    usePathStyle?: boolean;
    /** A key prefix for everything in the bucket, e.g. `cache/app/` (buildx `prefix`). Default none. */
    prefix?: string;
    /** The cache manifest's name(s) (buildx `name`; several separated by `;` on import). Default `buildkit`. */
    name?: string;
    /** Cache layers for the final stage only (`min`, the default) or every stage (`max`). `cacheTo` only. buildx `mode`. */
    mode?: "min" | "max";
}
