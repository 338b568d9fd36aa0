/**
 * Validation of Binfmt's plain arguments: everything that decides what the install command
 * looks like is checked here, at construction, and all problems are reported together.
 */
import { InputProblems, invalidReason, isLate } from "../errors";
import { collectPlatforms, PlatformString, VALID_PLATFORM_FORMS } from "../platform";
import { parseReference } from "../reference";
import { BinfmtArgs, DEFAULT_BINFMT_IMAGE } from "./args";

export interface ValidatedBinfmtArgs {
    /** Normalised platforms, in the order given, or "all". */
    platforms: PlatformString[] | "all";
    image: string;
    uninstallOnDelete: boolean;
}

const DOCKER_HOST_SCHEMES = ["unix", "ssh", "tcp", "npipe", "fd"];

export function validateBinfmtArgs(resourceName: string, args: BinfmtArgs): ValidatedBinfmtArgs {
    const problems = new InputProblems("Binfmt", resourceName);
    if (args === undefined || args === null || typeof args !== "object") {
        problems.missing("args", 'an object with at least `platforms`, e.g. { platforms: ["linux/arm64"] }');
        problems.throwIfAny();
    }

    // platforms
    let platforms: PlatformString[] = [];
    const all = args.platforms === "all";
    if (!all) {
        if (!Array.isArray(args.platforms) || args.platforms.length === 0) {
            problems.invalid("platforms", args.platforms, `"all" or a non-empty list of platforms, each ${VALID_PLATFORM_FORMS}`);
        } else {
            platforms = collectPlatforms(problems, "platforms", args.platforms, (p) =>
                p === "all" ? 'a platform: to install every emulator give `platforms: "all"` instead of a list' : undefined,
            );
        }
    }

    // image
    let image = DEFAULT_BINFMT_IMAGE;
    if (args.image !== undefined) {
        const result = typeof args.image === "string" ? parseReference(args.image) : undefined;
        if (result === undefined) {
            problems.invalid("image", args.image, "an image reference such as tonistiigi/binfmt:qemu-v10.2.3@sha256:…");
        } else if (!result.ok) {
            problems.add("image", result.reason);
        } else {
            image = args.image;
        }
    }

    // dockerHost: checked now when plain; an Output is checked once known by the component (checkLate).
    const hostReason = isLate(args.dockerHost) ? undefined : dockerHostProblem(args.dockerHost);
    if (hostReason !== undefined) problems.add("dockerHost", hostReason);

    problems.optionalBoolean("uninstallOnDelete", args.uninstallOnDelete);

    problems.throwIfAny();
    return { platforms: all ? "all" : platforms, image, uninstallOnDelete: args.uninstallOnDelete ?? false };
}

/** Why a `dockerHost` is not valid (plain now, or late once known), or undefined. */
export function dockerHostProblem(host: unknown): string | undefined {
    if (host === undefined) return undefined;
    const scheme = typeof host === "string" && host.length <= 2048 ? /^([a-z]+):\/\/\S+$/.exec(host)?.[1] : undefined;
    if (scheme !== undefined && DOCKER_HOST_SCHEMES.includes(scheme)) return undefined;
    return invalidReason(host, "a Docker endpoint such as unix:///var/run/docker.sock, ssh://user@host or tcp://host:2376 (omit it for the local engine)");
}
