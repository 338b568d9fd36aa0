/**
 * `buildImage`: the MultiPlatformImage build as a plain async function, for use outside any Pulumi
 * program (e.g. inside `withEphemeralBuilder`'s callback). The same validation, planner, guard,
 * secret handling and read-back check as the component; only the values are plain.
 */
import { planBuild, RESULT_MARKER } from "./plan";
import { CacheFrom, CacheTo, MultiPlatformImageArgs, RegistryAuth, RegistryCacheTo, SecretSource } from "./args";
import { buildPlanInput, digestsOfStdout, pinnedRefs, plainContexts } from "./build-input";
import { validateImageArgs, ValidatedImageArgs } from "./validate";
import { renderScript } from "../shell";
import { InputProblems } from "../errors";
import { runGuarded } from "../guarded-run";

/** A registry login with plain values (see `RegistryAuth`). */
export interface PlainRegistryAuth extends Omit<RegistryAuth, "address" | "username" | "password"> {
    /** Registry host. Equivalent to `docker login ADDRESS`. */
    address: string;
    /** User name. Equivalent to `docker login --username`. */
    username: string;
    /** Password or token, sent to `docker login --password-stdin` through the environment only. Exactly one of `password` and `passwordCommand`. */
    password?: string;
}

/** A cache source with a plain `ref` (see `CacheFrom`). Equivalent to `--cache-from`. */
export type PlainCacheFrom = { type: "registry"; ref: string } | Exclude<CacheFrom, { type: "registry" }>;

/** A cache destination with a plain `ref` (see `CacheTo`). Equivalent to `--cache-to`. */
export type PlainCacheTo = (Omit<RegistryCacheTo, "ref"> & { ref: string }) | Exclude<CacheTo, RegistryCacheTo>;

/**
 * The arguments of `buildImage(args)`: those of `MultiPlatformImage` as plain values (each field
 * means the same buildx flag; see `MultiPlatformImageArgs`), plus the builder to use (required)
 * and where progress goes.
 */
export interface BuildImageArgs extends Omit<
    MultiPlatformImageArgs,
    | "builder"
    | "tags"
    | "buildArgs"
    | "labels"
    | "annotations"
    | "secrets"
    | "registries"
    | "cacheFrom"
    | "cacheTo"
    | "buildContexts"
    | "perPlatform"
    | "platformBuilders"
> {
    /** The buildx builder, e.g. the name `withEphemeralBuilder` passes to its callback. Required. Equivalent to `--builder`. */
    builder: string;
    /** Image references to tag and push. Equivalent to `--tag`; the first one is read back. */
    tags?: string[];
    /** Equivalent to `--build-arg NAME=VALUE`. Not for secrets (use `secrets`). */
    buildArgs?: Record<string, string>;
    /** Equivalent to `--label`. */
    labels?: Record<string, string>;
    /** Equivalent to `--annotation`. */
    annotations?: Record<string, string>;
    /**
     * Build secrets, id → value; each value reaches buildx only through an environment variable
     * (`--secret id=ID,env=VAR`). Or where to read it when the build runs: `{ env: "VAR" }`
     * (`--secret id=ID,env=VAR`) or `{ file: "path" }` (`--secret id=ID,src=path`), as for
     * `MultiPlatformImage` (see `SecretSource`); a variable that is not set or a file that is not
     * there fails the build, naming the id, before buildx runs.
     */
    secrets?: Record<string, string | SecretSource>;
    /** Registries to log in to for this build only (temporary `DOCKER_CONFIG`; `docker login --password-stdin`). */
    registries?: PlainRegistryAuth[];
    /** Equivalent to `--cache-from`. */
    cacheFrom?: PlainCacheFrom[];
    /** Equivalent to `--cache-to`. */
    cacheTo?: PlainCacheTo[];
    /**
     * Named contexts, name → a local directory, `docker-image://REF`, `oci-layout://DIR[@sha256:…]`
     * or `target:STAGE`. Equivalent to `--build-context NAME=VALUE`.
     */
    buildContexts?: Record<string, string>;
    /** Each line of build progress (buildx's plain progress on stderr). Default: discarded. */
    onOutput?: (line: string) => void;
    /**
     * Aborting stops the build (SIGTERM to its process group; nothing is pushed after that). A
     * signal that is already aborted rejects at once with an `AbortError`, before anything runs.
     */
    signal?: AbortSignal;
}

/** What `buildImage` returns: the same values as `MultiPlatformImage`'s outputs of the same name. */
export interface BuildImageResult {
    /** Digest of the image index, `sha256:…` ("" with `push: false`). */
    digest: string;
    /** `repository@digest` for the first tag (`oci-layout://DIR@digest` for an OCI export). */
    ref: string;
    /** Digest of each platform's image manifest, keyed by the normalised platforms. */
    platformDigests: Record<string, string>;
    /** `repository@digest` of each platform's image. */
    platformRefs: Record<string, string>;
    /** Digest of each platform's attestation manifest (provenance, SBOM) in the index, keyed like `platformDigests`; `{}` when there is none. */
    attestationDigests: Record<string, string>;
}

/** The build as it will run: the script (for `bash` under the guard), the environment it needs, and its stdin. */
export interface PlannedImageBuild {
    validated: ValidatedImageArgs;
    script: string;
    /** Variable name → value; the secrets travel only here. */
    env: Record<string, string>;
    /** The inline Dockerfile, if any. */
    stdin?: string;
}

const NAME = "buildImage";

/**
 * Checks `args` and plans the build, running nothing. Throws one `InputPropertiesError` listing
 * every problem, as `new MultiPlatformImage` does. `cwd`: paths are made relative to it, as the
 * component does with the program's directory.
 */
export function planImageBuild(args: BuildImageArgs, cwd = process.cwd()): PlannedImageBuild {
    // Messages name the image by its first tag (or context): buildImage has no resource name.
    const label = String(args?.tags?.[0] ?? args?.context ?? "");
    const v = validateImageArgs(label, args as MultiPlatformImageArgs, { component: NAME, requireBuilder: true });
    // One build on one builder: the per-platform children and merge are MultiPlatformImage's (Commands with state).
    const perPlatform = args as { perPlatform?: unknown; platformBuilders?: unknown };
    if (perPlatform.perPlatform !== undefined || perPlatform.platformBuilders !== undefined) {
        const problems = new InputProblems(NAME, label);
        problems.add(
            perPlatform.perPlatform !== undefined ? "perPlatform" : "platformBuilders",
            "is not supported by buildImage (one build on one builder): use MultiPlatformImage",
        );
        problems.throwIfAny();
    }
    const resolved = {
        tags: args.tags ?? [],
        builder: args.builder,
        buildArgs: args.buildArgs ?? {},
        labels: args.labels ?? {},
        annotations: args.annotations ?? {},
        cacheFrom: args.cacheFrom ?? [],
        cacheTo: args.cacheTo ?? [],
        buildContexts: plainContexts(v.contexts),
    };
    const plan = planBuild(buildPlanInput(v, args as MultiPlatformImageArgs, resolved, cwd));
    const env = Object.fromEntries(Object.entries(plan.env).map(([name, propertyPath]) => [name, valueAt(args, propertyPath)]));
    return { validated: v, script: renderScript(plan), env, stdin: v.dockerfileInline };
}

/**
 * Builds and pushes (or exports) a multi-platform image with `docker buildx build` on `builder`,
 * then reads back what was pushed: the index digest and one digest per platform, checked against
 * the bytes the registry returns. Bad arguments fail before anything runs.
 *
 * ```ts
 * await withEphemeralBuilder({ program: ec2BuilderProgram({ platforms, allowedCidrs, sshPublicKey }) }, (builder) =>
 *     buildImage({ builder, context: "./app", platforms: ["linux/amd64", "linux/arm64"], tags: ["ghcr.io/org/app:1.0"] }),
 * );
 * ```
 */
export async function buildImage(args: BuildImageArgs): Promise<BuildImageResult> {
    const planned = planImageBuild(args);
    const stdout = await runGuarded(`buildImage (builder ${args.builder})`, planned.script, {
        env: planned.env,
        stdin: planned.stdin,
        onOutput: args.onOutput,
        hideStdoutPrefix: RESULT_MARKER,
        signal: args.signal,
    });
    const digests = digestsOfStdout(stdout, planned.validated.platforms);
    const tags = (planned.validated.tags as string[]).slice();
    return { ...digests, ...pinnedRefs(planned.validated.output, tags, digests) };
}

/** The value of a property path the plan's `env` names (`secrets.ID`, `registries[i].address|username|password`). */
function valueAt(args: BuildImageArgs, propertyPath: string): string {
    const secret = /^secrets\.(.+)$/.exec(propertyPath);
    if (secret) {
        const value = args.secrets?.[secret[1]];
        if (typeof value === "string") return value;
    }
    const registry = /^registries\[(\d+)\]\.(address|username|password)$/.exec(propertyPath);
    if (registry) return args.registries?.[Number(registry[1])]?.[registry[2] as "address" | "username" | "password"] ?? "";
    throw new Error(`buildImage: the build plan reads ${propertyPath}, which has no plain value here`);
}
