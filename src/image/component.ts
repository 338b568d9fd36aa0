import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { GUARDED_BASH } from "../guard";
import { checkLate } from "../errors";
import { ifRan } from "../not-run";
import { renderScript } from "../shell";
import { CacheFrom, CacheTo, MultiPlatformImageArgs, BuilderRef } from "./args";
import { buildPlanInput, digestsOfStdout, NOT_EXPORTED, pinnedRefs } from "./build-input";
import { hashContext } from "./context-hash";
import { BuiltDigests, sha256 } from "./digests";
import { BuildPlanInput, PlainCache, planBuild, registryEnvNames, secretEnvName } from "./plan";
import { hashLocalContexts, resolveContexts } from "./contexts";
import { recordPinnable } from "./pinnable";
import { isSecretSource } from "./build-sources-validate";
import { perPlatformBuilds, ResolvedBuilder } from "./per-platform-builds";
import {
    argValueProblem,
    builderNameProblem,
    cacheRefProblem,
    checkTags,
    registryAddressProblem,
    secretTextProblem,
    usernameProblem,
    validateImageArgs,
} from "./validate";

const COMPONENT = "MultiPlatformImage";
const SECRET_DOOR = "give it in `secrets` instead (RUN --mount=type=secret,id=…)";
/** For names that are on the command line and in outputs by nature (tags, builders, cache refs): a secret has no place there. */
const NOT_A_SECRET = "it is also in the outputs and the registry's or builder's own records; give it as a plain value";

/**
 * Builds a multi-platform image with `docker buildx build` and pushes it (or exports an OCI
 * layout), then reads back what was pushed to give the index digest AND a digest per platform.
 *
 * ```ts
 * const image = new MultiPlatformImage("app", {
 *     context: "./app",
 *     platforms: ["linux/amd64", "linux/arm64"],
 *     tags: ["ghcr.io/org/app:1.0"],
 * });
 * export const arm64 = image.platformRefs["linux/arm64"];
 * ```
 *
 * Rebuilds happen when the build context's content hash (honouring `.dockerignore`), the
 * Dockerfile or any build setting changes; an unchanged context does not rebuild.
 */
export class MultiPlatformImage extends pulumi.ComponentResource {
    /** Digest of the image index (manifest list), `sha256:…`. */
    public readonly digest: pulumi.Output<string>;
    /** `repository@digest` for the first tag (`oci-layout://DIR@digest` for an OCI export). */
    public readonly ref: pulumi.Output<string>;
    /** Digest of each platform's image manifest, keyed by the requested platforms, e.g. `{"linux/arm64": "sha256:…"}`. */
    public readonly platformDigests: pulumi.Output<Record<string, string>>;
    /** `repository@digest` of each platform's image, keyed like `platformDigests`. */
    public readonly platformRefs: pulumi.Output<Record<string, string>>;
    /** Content hash of the build context (paths, contents, executable bits; `.dockerignore` honoured). */
    public readonly contextHash: pulumi.Output<string>;
    /** The tags the image was given. */
    public readonly tags: pulumi.Output<string[]>;
    /** The normalised platforms that were built. */
    public readonly platforms: pulumi.Output<string[]>;
    /**
     * With `perPlatform`: the registry cache reference each platform's build exports to, e.g.
     * `{"linux/arm64": "repo:cache-linux-arm64"}` for the `cacheTo` ref `repo:cache` (the first
     * registry `cacheTo`; without one, the first registry `cacheFrom`, which it imports from).
     * With different `cacheFrom` refs, each platform also imports from their platform refs
     * (`main:c` → `main:c-linux-arm64`), which are not listed here. Empty without `perPlatform`
     * (one multi-platform build shares one ref; buildx#1044) or without a registry cache.
     */
    public readonly cacheRefs: pulumi.Output<Record<string, string>>;
    /**
     * Digest of each platform's attestation manifest (provenance, SBOM) in the pushed or exported
     * index, keyed like `platformDigests`; `{}` when the build made none or nothing was read back.
     * For signing or verifying provenance.
     */
    public readonly attestationDigests: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: MultiPlatformImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("buildx:index:MultiPlatformImage", name, {}, opts);
        const v = validateImageArgs(name, args);
        recordPinnable(this, v.push || v.output.type === "oci");
        const cwd = process.cwd();

        // Values that are Outputs are checked once known, with the messages plain values get,
        // before the build command can run (see checkLate).
        const late = <T>(path: string, value: pulumi.Input<T>, problem: (v: T) => string | undefined, refuseSecret?: string) =>
            checkLate(COMPONENT, name, path, value, problem, { refuseSecret });
        const passThrough = (field: "buildArgs" | "labels" | "annotations") =>
            pulumi.all(
                Object.fromEntries(Object.entries(args[field] ?? {}).map(([k, value]) => [k, late(`${field}.${k}`, value, argValueProblem, SECRET_DOOR)])),
            );
        const { builderName: givenBuilder, builderResource } = resolveBuilder(args.builder);
        const builderName = late<string | undefined>("builder", givenBuilder, builderNameProblem, NOT_A_SECRET);
        const platformBuilder = (platform: string): ResolvedBuilder => {
            const key = v.platformBuilderKeys?.[platform as keyof typeof v.platformBuilderKeys];
            if (key === undefined || args.platformBuilders === undefined) return { builderName, builderResource };
            const own = resolveBuilder(args.platformBuilders[key]);
            return {
                builderName: late<string | undefined>(`platformBuilders.${key}`, own.builderName, builderNameProblem, NOT_A_SECRET),
                builderResource: own.builderResource,
            };
        };
        const contextHash = pulumi.output(hashContext(v.context, { dockerfile: v.dockerfile }));
        const dockerfileHash = v.dockerfile !== undefined ? sha256File(v.dockerfile) : sha256Text(v.dockerfileInline ?? "");
        // Local named contexts count in the rebuild hash (only when there are any: other builds keep their triggers).
        const namedContextsHash = v.contexts.some((c) => c.kind === "local") ? pulumi.output(hashLocalContexts(v.contexts)) : undefined;
        const buildContexts = resolveContexts(v.contexts, late, "a named context is on the command line; give a secret in `secrets`");
        const contextImages = v.contexts.flatMap((c) => (c.kind === "image" ? [c.image] : []));

        // Tags that are Outputs are checked once known, before the build can run.
        const tags = pulumi.all(v.tags.map((t, i) => late(`tags[${i}]`, t, () => undefined, NOT_A_SECRET))).apply((t) => checkTags(name, t));
        const planInput = pulumi
            .all([builderName, passThrough("buildArgs"), passThrough("labels"), passThrough("annotations"), tags, resolveCaches(args, late), buildContexts])
            .apply(([builder, buildArgs, labels, annotations, resolvedTags, caches, contexts]): BuildPlanInput =>
                buildPlanInput(
                    v,
                    args,
                    {
                        tags: resolvedTags,
                        builder,
                        buildArgs,
                        labels,
                        annotations,
                        cacheFrom: caches.cacheFrom,
                        cacheTo: caches.cacheTo,
                        buildContexts: contexts,
                    },
                    cwd,
                ),
            );
        const environment = buildEnvironment(args, late);
        const triggers = [contextHash, dockerfileHash, ...(namedContextsHash ? [namedContextsHash] : [])];

        // perPlatform: one build per platform, pushed by digest, and a merge (per-platform-builds.ts).
        const perPlatform = v.perPlatform
            ? perPlatformBuilds({
                  parent: this,
                  name,
                  platforms: v.platforms,
                  planInput,
                  builders: Object.fromEntries(v.platforms.map((p) => [p, platformBuilder(p)])),
                  builder: { builderName, builderResource },
                  buildEnvironment: environment,
                  mergeEnvironment: buildEnvironment({ registries: args.registries } as MultiPlatformImageArgs, late),
                  stdin: v.dockerfileInline,
                  triggers,
                  dependsOn: contextImages,
              })
            : undefined;
        const singleBuild = (): pulumi.Output<BuiltDigests> => {
            const script = planInput.apply((p) => renderScript(planBuild(p)));
            const build = new command.local.Command(
                `${name}-build`,
                {
                    create: script,
                    interpreter: GUARDED_BASH,
                    environment,
                    stdin: v.dockerfileInline,
                    triggers,
                },
                { parent: this, dependsOn: [...(builderResource ? [builderResource] : []), ...contextImages] },
            );
            return build.stdout.apply((stdout) => ifRan(stdout, (s) => digestsOfStdout(s, v.platforms), NOT_EXPORTED));
        };
        const digests = perPlatform?.digests ?? singleBuild();
        const refs = pulumi.all([digests, tags]).apply(([d, t]) => pinnedRefs(v.output, t, d));

        this.digest = digests.apply((d) => d.digest);
        this.platformDigests = digests.apply((d) => d.platformDigests);
        this.ref = refs.apply((r) => r.ref);
        this.platformRefs = refs.apply((r) => r.platformRefs);
        this.contextHash = contextHash;
        this.tags = tags;
        this.platforms = pulumi.output(v.platforms);
        this.cacheRefs = perPlatform?.cacheRefs ?? pulumi.output<Record<string, string>>({});
        this.attestationDigests = digests.apply((d) => d.attestationDigests);
        this.registerOutputs({
            digest: this.digest,
            ref: this.ref,
            platformDigests: this.platformDigests,
            platformRefs: this.platformRefs,
            contextHash: this.contextHash,
            tags: this.tags,
            platforms: this.platforms,
            cacheRefs: this.cacheRefs,
            attestationDigests: this.attestationDigests,
        });
    }
}

function resolveBuilder(builder: BuilderRef | undefined): { builderName: pulumi.Output<string | undefined>; builderResource?: pulumi.Resource } {
    if (builder === undefined) return { builderName: pulumi.output(undefined) };
    if (pulumi.Resource.isInstance(builder)) {
        const b = builder as pulumi.Resource & { name: pulumi.Output<string> };
        return { builderName: b.name, builderResource: b };
    }
    return { builderName: pulumi.output(builder as pulumi.Input<string>) };
}

type Late = <T>(path: string, value: pulumi.Input<T>, problem: (v: T) => string | undefined, refuseSecret?: string) => pulumi.Output<T>;

/** The caches with each registry `ref` resolved and checked. */
function resolveCaches(args: MultiPlatformImageArgs, late: Late): pulumi.Output<{ cacheFrom: PlainCache<CacheFrom>[]; cacheTo: PlainCache<CacheTo>[] }> {
    const resolve = <C extends CacheFrom | CacheTo>(field: string, caches: C[]): pulumi.Output<PlainCache<C>[]> => {
        const resolved = caches.map((c, i): pulumi.Output<PlainCache<C>> =>
            late(
                `${field}[${i}].ref`,
                c.type === "registry" ? c.ref : "",
                (ref) => (c.type === "registry" ? cacheRefProblem(ref) : undefined),
                NOT_A_SECRET,
            ).apply((ref) => (c.type === "registry" ? { ...c, ref } : c) as PlainCache<C>),
        );
        return pulumi.all(resolved) as unknown as pulumi.Output<PlainCache<C>[]>;
    };
    return pulumi
        .all([resolve("cacheFrom", args.cacheFrom ?? []), resolve("cacheTo", args.cacheTo ?? [])])
        .apply(([cacheFrom, cacheTo]) => ({ cacheFrom, cacheTo }));
}

/**
 * Secrets and registry logins travel only here, marked secret; nothing else is in the
 * environment. The names are those the plan's `env` lists.
 */
function buildEnvironment(args: MultiPlatformImageArgs, late: Late): pulumi.Input<Record<string, pulumi.Input<string>>> {
    const env: Record<string, pulumi.Input<string>> = {};
    for (const [id, value] of Object.entries(args.secrets ?? {})) {
        if (isSecretSource(value)) continue; // read at build time (`--secret id=ID,env=VAR|src=PATH`), not here
        env[secretEnvName(id)] = pulumi.secret(late(`secrets.${id}`, value, secretTextProblem));
    }
    (args.registries ?? []).forEach((r, i) => {
        const names = registryEnvNames(i);
        env[names.address] = late(`registries[${i}].address`, r.address, registryAddressProblem);
        env[names.username] = late(`registries[${i}].username`, r.username, usernameProblem);
        // A passwordCommand runs at build time instead: nothing of it in the environment (or state).
        if (r.passwordCommand === undefined && r.password !== undefined)
            env[names.password] = pulumi.secret(late(`registries[${i}].password`, r.password, secretTextProblem));
    });
    return env;
}

function sha256File(file: string): string {
    return sha256(fs.readFileSync(file));
}

function sha256Text(text: string): string {
    return sha256(Buffer.from(text, "utf8"));
}
