/**
 * The resource wiring of per-platform builds (see per-platform.ts for the plans): one child
 * Command per platform, `${name}-build-<os>-<arch>[-<variant>]`, independent of each other so
 * Pulumi runs them in parallel and keeps each one's pushed digest in state on its own; then one
 * `${name}-merge` Command whose script holds those digests, so it reruns exactly when one changes.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { GUARDED_BASH } from "../guard";
import { ifRan } from "../not-run";
import { PlatformString } from "../platform";
import { renderScript } from "../shell";
import { BuildPlanInput } from "./plan";
import { NOT_EXPORTED } from "./build-input";
import { BuiltDigests } from "./digests";
import {
    cacheRefsOf,
    checkPerPlatformLate,
    digestOfPlatformBuild,
    digestsOfMerge,
    MergeSource,
    planMerge,
    planPlatformBuild,
    platformSlug,
} from "./per-platform";

/** A builder as the wiring needs it: its checked name, and the resource to wait for (if any). */
export interface ResolvedBuilder {
    builderName: pulumi.Output<string | undefined>;
    builderResource?: pulumi.Resource;
}

export interface PerPlatformWiring {
    parent: pulumi.Resource;
    name: string;
    platforms: readonly PlatformString[];
    /** Everything every build shares, resolved and checked. */
    planInput: pulumi.Output<BuildPlanInput>;
    /** The builder of each platform (`platformBuilders`, else `builder`). */
    builders: Record<string, ResolvedBuilder>;
    /** `builder`: whose registry settings the merge uses. */
    builder: ResolvedBuilder;
    /** The builds' environment (secrets and logins) and the merge's (logins only). */
    buildEnvironment: pulumi.Input<Record<string, pulumi.Input<string>>>;
    mergeEnvironment: pulumi.Input<Record<string, pulumi.Input<string>>>;
    stdin?: string;
    triggers: pulumi.Input<unknown>[];
    /** What every platform's build also waits for (images used as named contexts). */
    dependsOn: pulumi.Resource[];
}

/** Creates the per-platform builds and the merge; returns the merged, checked digests and the cache refs. */
export function perPlatformBuilds(w: PerPlatformWiring): { digests: pulumi.Output<BuiltDigests>; cacheRefs: pulumi.Output<Record<string, string>> } {
    const planInput = w.planInput.apply((p) => {
        checkPerPlatformLate(w.name, p);
        return p;
    });
    const builds = w.platforms.map((platform) => {
        const { builderName, builderResource } = w.builders[platform];
        const script = pulumi.all([planInput, builderName]).apply(([p, builder]) => renderScript(planPlatformBuild(p, platform, builder)));
        const build = new command.local.Command(
            `${w.name}-build-${platformSlug(platform)}`,
            { create: script, interpreter: GUARDED_BASH, environment: w.buildEnvironment, stdin: w.stdin, triggers: w.triggers },
            { parent: w.parent, dependsOn: [...(builderResource ? [builderResource] : []), ...w.dependsOn] },
        );
        const source = build.stdout.apply((stdout): MergeSource => ({ platform, digest: ifRan(stdout, (s) => digestOfPlatformBuild(s, platform), "") }));
        return { build, source };
    });
    const sources = pulumi.all(builds.map((b) => b.source));
    const mergeScript = pulumi
        .all([planInput, w.builder.builderName, sources])
        .apply(([p, builder, s]) => renderScript(planMerge({ tags: p.tags, builder, sources: s, registryPasswordCommands: p.registryPasswordCommands })));
    const merge = new command.local.Command(
        `${w.name}-merge`,
        { create: mergeScript, interpreter: GUARDED_BASH, environment: w.mergeEnvironment },
        { parent: w.parent, dependsOn: builds.map((b) => b.build) },
    );
    const digests = pulumi.all([merge.stdout, sources]).apply(([stdout, s]) => ifRan(stdout, (out) => digestsOfMerge(out, s), NOT_EXPORTED));
    return { digests, cacheRefs: planInput.apply((p) => cacheRefsOf(p, w.platforms)) };
}
