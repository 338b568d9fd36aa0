/**
 * Per-platform builds merged by digest (`perPlatform` / `platformBuilders`): pure, from plain
 * values to typed shell plans and back.
 *
 * 1. One `docker buildx build` per platform, pushed by digest only (no tag), with its own
 *    registry cache reference (`repo:cache` → `repo:cache-linux-arm64`): `planPlatformBuild`.
 * 2. One merge: `docker buildx imagetools create --tag …` from `REPOSITORY@DIGEST` of every
 *    platform, then the index read back with its descriptor, and each source read back too:
 *    `planMerge`. TypeScript checks every byte against its digest (`digestsOfMerge`).
 */
import { argv, bashLines, joined, Line, resultLine, sh, shellVar, ShellPlan } from "../shell";
import { WORK_DIR_LINE } from "../guard";
import { InputProblems, quoteValue } from "../errors";
import { PlatformString } from "../platform";
import { parseReference, pinnedRef, registryOf } from "../reference";
import { CacheFrom, CacheTo } from "./args";
import { BuildPlanInput, loginLines, MERGE_MARKER, PlainCache, planBuild, registryEnv } from "./plan";

export { MERGE_MARKER };
import { BuiltDigests, parseBuildOutput, platformDigestsFromIndex, sha256 } from "./digests";
import { attestationDigestsFromIndex } from "./attestations";
import { markedLines, parseResultLine } from "../marked-lines";

/** `linux/arm/v7` → `linux-arm-v7`: the suffix of child names and cache tags. */
export function platformSlug(platform: PlatformString): string {
    return platform.replace(/\//g, "-");
}

/** Longest tag a registry accepts (distribution/reference). */
const MAX_TAG = 128;

/**
 * The cache reference of one platform: the given ref with `-<os>-<arch>[-<variant>]` appended to
 * its tag (`latest` when it has none), e.g. `repo:cache` → `repo:cache-linux-arm64`.
 */
export function perPlatformCacheRef(ref: string, platform: PlatformString): string {
    const parsed = parseReference(ref);
    if (!parsed.ok) throw new Error(parsed.reason);
    return `${parsed.ref.repository}:${parsed.ref.tag ?? "latest"}-${platformSlug(platform)}`;
}

/** Why a registry cache ref cannot get per-platform tags, or undefined (plain or late). */
export function perPlatformCacheRefProblem(ref: string, platforms: readonly PlatformString[]): string | undefined {
    const parsed = parseReference(ref);
    if (!parsed.ok) return undefined; // reported by cacheRefProblem
    if (parsed.ref.digest !== undefined) {
        const why = "(each platform's cache gets the tag plus its platform)";
        return `${quoteValue(ref)} is not valid with perPlatform: expected a reference with a tag and no digest ${why}`;
    }
    const longest = Math.max(...platforms.map((p) => `${parsed.ref.tag ?? "latest"}-${platformSlug(p)}`.length));
    return longest > MAX_TAG
        ? `${quoteValue(ref)} is not valid with perPlatform: the tag plus "-<platform>" would be ${longest} characters, more than the ${MAX_TAG} a tag may have`
        : undefined;
}

/** The registry of a tag (Docker Hub's aliases as one), or "" for one that does not parse. */
function registryOfTag(tag: string): string {
    const parsed = parseReference(tag);
    return parsed.ok ? registryOf(parsed.ref) : "";
}

/**
 * Why the tags cannot be joined by one `imagetools create`, or undefined: every tag must be in
 * the registry of the first, where the platforms are pushed by digest.
 */
export function tagRegistryProblem(tags: readonly string[]): { index: number; reason: string } | undefined {
    const first = registryOfTag(tags[0] ?? "");
    const index = tags.findIndex((t) => registryOfTag(t) !== first);
    if (index < 0) return undefined;
    return {
        index,
        reason:
            `${quoteValue(tags[index])} is not valid with perPlatform: expected a tag in ${first}, the registry of tags[0] ` +
            "(the platforms are pushed by digest to one registry and joined there)",
    };
}

/**
 * The checks of per-platform mode, for values known only once Outputs resolve (the tags
 * themselves are checked by `checkTags`): all tags in one registry, and cache refs that can get
 * platform tags. Throws one `InputPropertiesError` naming each property.
 */
export function checkPerPlatformLate(resourceName: string, p: Pick<BuildPlanInput, "tags" | "cacheFrom" | "cacheTo" | "platforms">): void {
    const problems = new InputProblems("MultiPlatformImage", resourceName);
    const registry = tagRegistryProblem(p.tags);
    if (registry !== undefined) problems.add(`tags[${registry.index}]`, registry.reason);
    const check = (field: string, caches: readonly (PlainCache<CacheFrom> | PlainCache<CacheTo>)[]) =>
        caches.forEach((c, i) => {
            const reason = c.type === "registry" ? perPlatformCacheRefProblem(c.ref, p.platforms) : undefined;
            if (reason !== undefined) problems.add(`${field}[${i}].ref`, reason);
        });
    check("cacheFrom", p.cacheFrom);
    check("cacheTo", p.cacheTo);
    problems.throwIfAny();
}

function mapCache<C extends PlainCache<CacheFrom> | PlainCache<CacheTo>>(c: C, platform: PlatformString): C {
    return c.type === "registry" ? { ...c, ref: perPlatformCacheRef(c.ref, platform) } : c;
}

/**
 * One registry cache reference per platform (the `cacheRefs` output): the one its build exports
 * to (the first registry `cacheTo`), or without one the one it imports from (the first registry
 * `cacheFrom`). Every other registry ref gets its platform ref the same way, but is not here.
 * Empty without registry caches.
 */
export function cacheRefsOf(p: Pick<BuildPlanInput, "cacheFrom" | "cacheTo">, platforms: readonly PlatformString[]): Record<string, string> {
    const first = [...p.cacheTo, ...p.cacheFrom].find((c) => c.type === "registry");
    if (first === undefined || first.type !== "registry") return {};
    return Object.fromEntries(platforms.map((platform) => [platform, perPlatformCacheRef(first.ref, platform)]));
}

/** The repository every platform is pushed to by digest: that of the first tag. */
export function pushRepository(tags: readonly string[]): string {
    const parsed = parseReference(tags[0] ?? "");
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.ref.repository;
}

/** The build of one platform: no tag, pushed by digest to the first tag's repository, its own cache refs. */
export function planPlatformBuild(p: BuildPlanInput, platform: PlatformString, builder: string | undefined): ShellPlan {
    return planBuild({
        ...p,
        platforms: [platform],
        tags: [],
        push: false,
        pushByDigest: pushRepository(p.tags),
        builder,
        cacheFrom: p.cacheFrom.map((c) => mapCache(c, platform)),
        cacheTo: p.cacheTo.map((c) => mapCache(c, platform)),
    });
}

/** The digest a platform's build pushed (from its build metadata). */
export function digestOfPlatformBuild(stdout: string, platform: PlatformString): string {
    const digest = parseBuildOutput(stdout).metadata["containerimage.digest"];
    if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
        throw new Error(`the ${platform} build reported no image digest (containerimage.digest is ${quoteValue(digest)})`);
    }
    return digest;
}

/** One platform's pushed image, as the merge takes it. */
export interface MergeSource {
    platform: PlatformString;
    /** What the platform's build pushed: its image manifest, or an index with its attestations. */
    digest: string;
}

/** Plain values of the merge. */
export interface MergePlanInput {
    tags: string[];
    /** The builder whose registry settings `imagetools` uses (`builder`); default: buildx's current one. */
    builder?: string;
    sources: MergeSource[];
    registryPasswordCommands: (string | undefined)[];
}

/**
 * The merge as a shell plan: logins as for the build, `imagetools create` with every tag from
 * `REPOSITORY@DIGEST` of every platform, then the new index and its descriptor read back from
 * the first tag, and each source read back by digest, all on ONE stdout line (MERGE_MARKER).
 */
export function planMerge(m: MergePlanInput): ShellPlan {
    const repository = pushRepository(m.tags);
    const builder = m.builder ? ["--builder", m.builder] : [];
    const sources = m.sources.map((s) => pinnedRef(repository, s.digest));
    const first = m.tags[0];
    const lines: Line[] = bashLines("set -euo pipefail", WORK_DIR_LINE, `trap 'rm -rf -- "$work"' EXIT`);
    if (m.registryPasswordCommands.length > 0) lines.push(...loginLines(m));
    lines.push(
        sh`echo ${`pulumi-buildx: joining ${m.sources.map((s) => s.platform).join(", ")} as ${m.tags.join(", ")}`} >&2`,
        sh`${argv("docker", "buildx", "imagetools", "create", ...builder, ...m.tags.flatMap((t) => ["--tag", t]), "--", ...sources)} >&2`,
        sh`echo ${`pulumi-buildx: reading back ${first}`} >&2`,
        sh`${argv("docker", "buildx", "imagetools", "inspect", ...builder, "--raw", "--", first)} > "$work/index.raw"`,
        sh`${argv("docker", "buildx", "imagetools", "inspect", ...builder, "--format", "{{json .Manifest}}", "--", first)} > "$work/descriptor.json"`,
    );
    const files: Record<string, string> = { index: '"$work/index.raw"', descriptor: '"$work/descriptor.json"' };
    sources.forEach((ref, i) => {
        lines.push(sh`${argv("docker", "buildx", "imagetools", "inspect", ...builder, "--raw", "--", ref)} > ${joined(shellVar("work"), `/source-${i}.raw`)}`);
        files[`source${i}`] = `"$work/source-${i}.raw"`;
    });
    lines.push(resultLine(MERGE_MARKER, files));
    return { lines, env: registryEnv(m.registryPasswordCommands) };
}

/** `raw` as the registry holds it: a trailing newline some tools add is dropped when that makes it hash to `digest`. */
function exactBytes(raw: Buffer, digest: string): Buffer {
    return sha256(raw) !== digest && raw.at(-1) === 0x0a ? raw.subarray(0, -1) : raw;
}

/**
 * The checked digests of a merge: the index hashes to the descriptor the registry gave, holds
 * exactly the platforms, and each platform's manifest is the one its own build pushed (read back
 * by digest and checked against it).
 */
export function digestsOfMerge(stdout: string, sources: readonly MergeSource[]): BuiltDigests {
    if (markedLines(stdout, MERGE_MARKER).length === 0) throw new Error(`the merge printed no result line; stdout was: ${stdout.slice(0, 500)}`);
    const fields = parseResultLine(stdout, MERGE_MARKER);
    const descriptor = JSON.parse(fields.descriptor.toString("utf8") || "{}") as { digest?: unknown };
    if (typeof descriptor.digest !== "string") throw new Error("read-back check failed: the registry gave no descriptor digest for the merged index");
    const index = exactBytes(fields.index, descriptor.digest);
    const merged = platformDigestsFromIndex(
        index,
        sources.map((s) => s.platform),
        descriptor.digest,
    );
    sources.forEach((s, i) => {
        const own = platformDigestsFromIndex(exactBytes(fields[`source${i}`] ?? Buffer.alloc(0), s.digest), [s.platform], s.digest);
        if (own.platformDigests[s.platform] !== merged.platformDigests[s.platform]) {
            throw new Error(
                `read-back check failed: the merged index lists ${merged.platformDigests[s.platform]} for ${s.platform}, ` +
                    `but its build pushed ${own.platformDigests[s.platform]}`,
            );
        }
    });
    return { ...merged, attestationDigests: attestationDigestsFromIndex(index, merged.platformDigests) };
}
