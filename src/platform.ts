/**
 * Platform parsing and normalisation, following the rules Docker and containerd apply
 * (`containerd/platforms.Normalize`): `x86_64` → `linux/amd64`, `aarch64` → `linux/arm64`,
 * `armhf` → `linux/arm/v7`, `arm` → `linux/arm/v7`, `arm64/v8` → `linux/arm64`, `i386` → `linux/386`.
 */
import { InputProblems } from "./errors";

/** A normalised OCI platform. */
export interface Platform {
    os: "linux";
    architecture: string;
    variant?: string;
}

/** The platforms this library builds for, as Docker spells them. */
export const Platforms = {
    LINUX_AMD64: "linux/amd64",
    LINUX_ARM64: "linux/arm64",
    LINUX_ARM_V7: "linux/arm/v7",
    LINUX_ARM_V6: "linux/arm/v6",
    LINUX_386: "linux/386",
    LINUX_PPC64LE: "linux/ppc64le",
    LINUX_S390X: "linux/s390x",
    LINUX_RISCV64: "linux/riscv64",
} as const;

/** One of the supported platform strings, e.g. `"linux/arm64"`. */
export type PlatformString = (typeof Platforms)[keyof typeof Platforms];

/** Every supported platform, in a stable order. */
export const SUPPORTED_PLATFORMS: readonly PlatformString[] = Object.values(Platforms);

/** What an error message says would be valid. */
export const VALID_PLATFORM_FORMS =
    `one of ${SUPPORTED_PLATFORMS.join(", ")} ` +
    `(short forms such as "arm64", "amd64", "arm/v7" and aliases such as "x86_64", "aarch64", "armhf", "i386" are accepted)`;

export type ParseResult = { ok: true; platform: Platform; text: PlatformString } | { ok: false; reason: string };

const ARCH_ALIASES: Record<string, string> = {
    amd64: "amd64",
    x86_64: "amd64",
    "x86-64": "amd64",
    aarch64: "arm64",
    arm64: "arm64",
    armhf: "arm",
    armel: "arm",
    arm: "arm",
    "386": "386",
    i386: "386",
    i686: "386",
    ppc64le: "ppc64le",
    s390x: "s390x",
    riscv64: "riscv64",
};

function normaliseVariant(rawArch: string, arch: string, variant: string | undefined): string | undefined | null {
    const v = variant === undefined ? undefined : variant.startsWith("v") ? variant : `v${variant}`;
    switch (arch) {
        case "arm":
            if (rawArch === "armhf") return v === undefined || v === "v7" ? "v7" : null;
            if (rawArch === "armel") return v === undefined || v === "v6" ? "v6" : null;
            if (v === undefined) return "v7";
            return v === "v6" || v === "v7" ? v : null;
        case "arm64":
            return v === undefined || v === "v8" ? undefined : null;
        case "amd64":
            return v === undefined || v === "v1" ? undefined : null;
        default:
            return v === undefined ? undefined : null;
    }
}

/** Parses and normalises a platform string; never throws. */
export function parsePlatform(input: string): ParseResult {
    if (typeof input !== "string") {
        return { ok: false, reason: `a platform must be a string, got ${typeof input}` };
    }
    const parts = input.trim().toLowerCase().split("/");
    if (parts.some((p) => p === "") || parts.length > 3) {
        return { ok: false, reason: `"${input}" is not a platform: expected ${VALID_PLATFORM_FORMS}` };
    }
    // "arm64", "arm/v7" (no OS) or "linux/arm64", "linux/arm/v7".
    let os = "linux";
    let rest = parts;
    if (parts[0] === "linux" || parts[0] === "windows" || parts[0] === "darwin" || parts[0] === "macos") {
        os = parts[0] === "macos" ? "darwin" : parts[0];
        rest = parts.slice(1);
    }
    if (os !== "linux") {
        return { ok: false, reason: `"${input}": only linux platforms are supported; expected ${VALID_PLATFORM_FORMS}` };
    }
    if (rest.length === 0 || rest.length > 2) {
        return { ok: false, reason: `"${input}" is not a platform: expected ${VALID_PLATFORM_FORMS}` };
    }
    const arch = ARCH_ALIASES[rest[0]];
    if (arch === undefined) {
        return { ok: false, reason: `"${input}" has an unknown architecture "${rest[0]}": expected ${VALID_PLATFORM_FORMS}` };
    }
    const variant = normaliseVariant(rest[0], arch, rest[1]);
    if (variant === null) {
        return { ok: false, reason: `"${input}" has an unsupported variant "${rest[1]}": expected ${VALID_PLATFORM_FORMS}` };
    }
    const platform: Platform = variant === undefined ? { os: "linux", architecture: arch } : { os: "linux", architecture: arch, variant };
    return { ok: true, platform, text: formatPlatform(platform) as PlatformString };
}

/** Parses and normalises a platform string; throws with the valid forms on bad input. */
export function normalizePlatform(input: string): PlatformString {
    const result = parsePlatform(input);
    if (!result.ok) {
        throw new Error(result.reason);
    }
    return result.text;
}

/**
 * Parses each entry of a platform list, recording a problem at `${where}[i]` for an entry that is
 * not a platform or that repeats an earlier one once normalised. `reject` can refuse an entry
 * first (its reason is recorded, and the entry is not parsed). Returns the normalised platforms,
 * each once, in the order given.
 */
export function collectPlatforms(
    problems: InputProblems,
    where: string,
    items: readonly string[],
    reject?: (item: string) => string | undefined,
): PlatformString[] {
    const platforms: PlatformString[] = [];
    const firstAt = new Map<PlatformString, number>(); // index in `items`, for the message
    const list = where.slice(where.lastIndexOf(".") + 1); // "nodes[0].platforms" → "platforms"
    items.forEach((p, i) => {
        const refused = reject?.(p);
        if (refused !== undefined) {
            problems.invalid(`${where}[${i}]`, p, refused);
            return;
        }
        const result = parsePlatform(p);
        if (!result.ok) {
            problems.add(`${where}[${i}]`, result.reason);
        } else if (firstAt.has(result.text)) {
            problems.invalid(`${where}[${i}]`, p, `each platform once: it is the same as ${list}[${firstAt.get(result.text)}] (${result.text})`);
        } else {
            firstAt.set(result.text, i);
            platforms.push(result.text);
        }
    });
    return platforms;
}

/** Formats a platform the way Docker prints it: `os/arch[/variant]`. */
export function formatPlatform(p: { os: string; architecture: string; variant?: string }): string {
    return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/**
 * Normalises the platform of an OCI index entry (as registries and `index.json` report it) to
 * the same form, so `{architecture:"arm64", variant:"v8"}` matches `linux/arm64`.
 * Returns undefined for attestation entries (`unknown/unknown`) and unsupported platforms.
 */
export function platformOfDescriptor(p: { os?: string; architecture?: string; variant?: string } | undefined): PlatformString | undefined {
    if (!p || !p.os || !p.architecture || p.os === "unknown" || p.architecture === "unknown") {
        return undefined;
    }
    const result = parsePlatform(formatPlatform({ os: p.os, architecture: p.architecture, variant: p.variant }));
    return result.ok ? result.text : undefined;
}
