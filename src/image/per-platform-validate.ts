/**
 * Construction checks of `perPlatform` and `platformBuilders`: plain values only (Outputs are
 * checked once known by `checkPerPlatformLate`). Records problems; runs nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import { InputProblems, isLate } from "../errors";
import { parsePlatform, PlatformString } from "../platform";
import { BuilderRef, ImageOutput, MultiPlatformImageArgs } from "./args";
import { perPlatformCacheRefProblem, tagRegistryProblem } from "./per-platform";

/** The per-platform shape of a build. */
export interface PerPlatformShape {
    perPlatform: boolean;
    /** Each normalised platform with a builder of its own → the key it was given under (for messages). */
    platformBuilderKeys: Partial<Record<PlatformString, string>>;
}

/**
 * Checks `perPlatform` and `platformBuilders` against the rest of the build (`platforms` already
 * normalised): keys are requested platforms, each once; the output is a registry push; plain tags
 * share one registry; registry cache refs can get platform tags.
 */
export function checkPerPlatform(
    problems: InputProblems,
    args: MultiPlatformImageArgs,
    platforms: readonly PlatformString[],
    output: ImageOutput,
    builderProblem: (name: unknown) => string | undefined,
): PerPlatformShape {
    problems.optionalBoolean("perPlatform", args.perPlatform);
    const platformBuilderKeys: Partial<Record<PlatformString, string>> = {};
    const builders = args.platformBuilders ?? {};
    if (typeof builders !== "object" || builders === null || Array.isArray(builders) || isLate(builders)) {
        problems.invalid("platformBuilders", builders, 'a map from platform to builder, e.g. { "linux/arm64": armBuilder }');
    } else {
        for (const [key, builder] of Object.entries(builders as Record<string, BuilderRef>)) {
            const where = `platformBuilders.${key}`;
            const parsed = parsePlatform(key);
            if (!parsed.ok) {
                problems.add(where, parsed.reason);
            } else if (!platforms.includes(parsed.text)) {
                problems.invalid(where, key, `one of the platforms built (${platforms.join(", ")})`);
            } else if (platformBuilderKeys[parsed.text] !== undefined) {
                problems.invalid(where, key, `each platform once: it is the same as platformBuilders.${platformBuilderKeys[parsed.text]} (${parsed.text})`);
            } else {
                platformBuilderKeys[parsed.text] = key;
            }
            if (typeof builder === "string") {
                const reason = builderProblem(builder);
                if (reason !== undefined) problems.add(where, reason);
            } else if (!isLate(builder) && !pulumi.Resource.isInstance(builder)) {
                problems.invalid(where, builder, "a Builder resource (or any resource with a `name` output) or a builder name");
            }
        }
    }
    const hasBuilders = Object.keys(platformBuilderKeys).length > 0;
    if (args.perPlatform === false && hasBuilders) {
        problems.add(
            "perPlatform",
            "is false but `platformBuilders` is given: platformBuilders builds each platform on its own (leave perPlatform unset or true)",
        );
    }
    const perPlatform = args.perPlatform === true || hasBuilders;
    if (!perPlatform) return { perPlatform, platformBuilderKeys };

    if (output.type !== "registry") {
        problems.add("output", `is ${JSON.stringify(output.type)}, but perPlatform pushes each platform by digest: use the registry output (the default)`);
    }
    if (args.load === true) {
        problems.add(
            "load",
            "is true, but perPlatform pushes each platform by digest and joins them in the registry: build without load, or without perPlatform",
        );
    }
    if (args.push === false) {
        problems.add("push", "is false, but perPlatform pushes each platform by digest and joins them in the registry: leave push unset or true");
    }
    const plainTags = (args.tags ?? []).map((t, i) => ({ t, i })).filter(({ t }) => typeof t === "string") as { t: string; i: number }[];
    const registry = tagRegistryProblem(plainTags.map(({ t }) => t));
    if (registry !== undefined) problems.add(`tags[${plainTags[registry.index].i}]`, registry.reason);
    for (const field of ["cacheFrom", "cacheTo"] as const) {
        (args[field] ?? []).forEach((c, i) => {
            if (c?.type !== "registry" || typeof c.ref !== "string") return;
            const reason = perPlatformCacheRefProblem(c.ref, platforms);
            if (reason !== undefined) problems.add(`${field}[${i}].ref`, reason);
        });
    }
    return { perPlatform, platformBuilderKeys };
}
