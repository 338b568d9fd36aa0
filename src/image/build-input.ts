/**
 * From checked arguments to the planner's input, and from the checked digests to the pinned
 * references: the two pure steps that `MultiPlatformImage` (inside its apply, once Outputs are
 * known) and `buildImage` (with plain values) share, so both render the same script.
 */
import { pinnedRef } from "../reference";
import { CacheFrom, CacheTo, ImageOutput, MultiPlatformImageArgs } from "./args";
import { BuiltDigests, digestsOfBuild, parseBuildOutput, PlatformDigests } from "./digests";
import { BuildPlanInput, PlainCache, relative } from "./plan";
import { ValidatedImageArgs } from "./validate";
import { NamedContext } from "./contexts";
import { PlatformString } from "../platform";

/** The values that may be Outputs in `MultiPlatformImageArgs`, resolved and checked. */
export interface ResolvedBuildValues {
    tags: string[];
    builder?: string;
    buildArgs: Record<string, string>;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    cacheFrom: PlainCache<CacheFrom>[];
    cacheTo: PlainCache<CacheTo>[];
    /** Named contexts, name → value (a local directory, or `docker-image://…`, `oci-layout://…`, `target:…`). */
    buildContexts: Record<string, string>;
}

/** The planner's input: the validated shape, the resolved values, the plain flags of `args`, and `cwd`. */
export function buildPlanInput(v: ValidatedImageArgs, args: MultiPlatformImageArgs, resolved: ResolvedBuildValues, cwd: string): BuildPlanInput {
    return {
        ...v,
        ...resolved,
        target: args.target,
        noCache: args.noCache,
        pull: args.pull,
        network: args.network,
        addHosts: args.addHosts ?? {},
        provenance: args.provenance,
        sbom: args.sbom,
        localContexts: v.contexts.flatMap((c) => (c.kind === "local" ? [c.name] : [])),
        // Paths inside the program's directory relative to it, as the context's: another checkout path rebuilds nothing.
        secretSources: v.secretSources?.map((s) => ("file" in s ? { ...s, file: relative(cwd, s.file) } : s)),
        ssh: v.ssh?.map((f) => ({ ...f, paths: f.paths.map((p) => relative(cwd, p)) })),
        cwd,
    };
}

/** The `ref` and `platformRefs` outputs: `repository@digest` of the first tag, or `oci-layout://DIR@digest`; "" when not exported. */
export function pinnedRefs(output: ImageOutput, tags: readonly string[], digests: PlatformDigests): { ref: string; platformRefs: Record<string, string> } {
    const refBase = output.type === "oci" ? `oci-layout://${output.dest}` : tags[0];
    const pin = (digest: string) => (digest === "" || refBase === undefined ? "" : output.type === "oci" ? `${refBase}@${digest}` : pinnedRef(refBase, digest));
    return {
        ref: pin(digests.digest),
        platformRefs: Object.fromEntries(Object.entries(digests.platformDigests).map(([p, digest]) => [p, pin(digest)])),
    };
}

/** The digests of a build that was not exported (`push: false`), or of one that did not run: none. */
export const NOT_EXPORTED: BuiltDigests = { digest: "", platformDigests: {}, attestationDigests: {} };

/**
 * The checked digests from the build script's stdout (its one result line), with the attestation
 * manifests of the pushed or exported index; NOT_EXPORTED when nothing was exported. For the
 * component and `buildImage` alike.
 */
export function digestsOfStdout(stdout: string, platforms: readonly PlatformString[]): BuiltDigests {
    return digestsOfBuild(parseBuildOutput(stdout), platforms) ?? NOT_EXPORTED;
}

/** The named contexts of plain arguments (`buildImage`): local directories and plain values; another image's resource cannot be one. */
export function plainContexts(contexts: readonly NamedContext[]): Record<string, string> {
    return Object.fromEntries(
        contexts.map((c): [string, string] => {
            switch (c.kind) {
                case "local":
                    return [c.name, c.dir];
                case "value":
                    if (typeof c.value !== "string") throw new Error(`buildContexts.${c.name}: expected a plain string here, got an Output or a Promise`);
                    return [c.name, c.value];
                case "image":
                    throw new Error(
                        `buildContexts.${c.name}: a MultiPlatformImage cannot be a context outside a Pulumi program; give docker-image://<its ref>`,
                    );
                default: {
                    const never: never = c;
                    throw new Error(`unknown named context ${JSON.stringify(never)}`);
                }
            }
        }),
    );
}
