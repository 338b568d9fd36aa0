/**
 * The decisions of a Binfmt install, in TypeScript from the installer's parsed reports: what to
 * `--install` after the probe, and what the install added and left missing. Pure.
 */
import { PlatformString } from "../platform";
import { archGroups } from "./plan";
import { BinfmtReport, missingPlatforms } from "./report";

/** What one install run found: the report afterwards, what it registered, what still does not run. */
export interface InstallOutcome {
    /** The installer's report after the install (the probe's when nothing was installed). */
    after: BinfmtReport;
    /** Handler names this run registered (absent before, present after), sorted. */
    added: string[];
    /** Requested platforms the report afterwards does not list as supported. */
    missing: PlatformString[];
    /** What the installer printed on stderr while installing (its per-emulator log). */
    log: string;
}

/**
 * The installer architectures to `--install`: those of the requested platforms the host does not
 * run yet (an architecture is skipped only if the report lists every requested platform of it),
 * in first-seen order; `"all"` for `platforms: "all"`.
 */
export function archsToInstall(before: BinfmtReport, requested: readonly PlatformString[] | "all"): string[] | "all" {
    if (requested === "all") return "all";
    return archGroups(requested)
        .filter((g) => missingPlatforms(before, g.platforms).length > 0)
        .map((g) => g.arch);
}

/** Compares the reports before and after (`after` undefined: nothing was installed). */
export function installOutcome(
    before: BinfmtReport,
    after: BinfmtReport | undefined,
    requested: readonly PlatformString[] | "all",
    log: string,
): InstallOutcome {
    const report = after ?? before;
    const had = new Set(before.emulators);
    return {
        after: report,
        added: report.emulators.filter((e) => !had.has(e)).sort(),
        missing: requested === "all" ? [] : missingPlatforms(report, requested),
        log,
    };
}

/** The emulators an install owns (what its delete removes): what it added, if it succeeded; a failed one rolled back or owns nothing. */
export function ownedEmulators(outcome: InstallOutcome): string[] {
    return outcome.missing.length === 0 ? outcome.added : [];
}
