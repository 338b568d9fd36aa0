/**
 * Parsers for what a tonistiigi/binfmt-style installer prints, and for the result lines of the
 * Binfmt scripts (BINFMT_RESULT_MARKER in plan.ts). Pure; no resource wiring.
 */
import { parseResultLine } from "../marked-lines";
import { parsePlatform, PlatformString } from "../platform";
import { BINFMT_RESULT_MARKER } from "./plan";

/** The installer's JSON report: `{"supported": [...], "emulators": [...]}`. */
export interface BinfmtReport {
    /**
     * Platforms the host runs, natively or through an emulator, as the installer spells them
     * (e.g. `linux/arm/v7`, `linux/amd64/v2`), in its order. The installer finds them by running
     * a tiny program for each architecture, so a registered but broken emulator is not listed.
     */
    supported: string[];
    /** Enabled binfmt_misc handlers, e.g. `qemu-aarch64` (also non-QEMU ones such as `python3.11`). */
    emulators: string[];
}

/** What one install run found: the report afterwards and the emulators it registered. */
export interface BinfmtInstall {
    report: BinfmtReport;
    /** Handler names this run registered (absent before, present after). */
    added: string[];
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function stringList(value: unknown, field: string, nullable: boolean): Parsed<string[]> {
    if (value === null && nullable) return { ok: true, value: [] };
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
        return { ok: false, reason: `"${field}" is ${JSON.stringify(value) ?? "missing"}, not a list of strings` };
    }
    return { ok: true, value: [...new Set(value as string[])] };
}

/**
 * Parses the installer's report. Text around the JSON object (log lines copied with it) is
 * ignored; `"emulators": null`, which the installer prints when no handler is registered, is an
 * empty list.
 */
export function parseBinfmtReport(text: string): Parsed<BinfmtReport> {
    const start = text.indexOf("{");
    const end = text.lastIndexOf("}");
    if (start < 0 || end < start) {
        return { ok: false, reason: `no JSON object in the installer's output: ${JSON.stringify(text.slice(0, 200))}` };
    }
    let json: unknown;
    try {
        json = JSON.parse(text.slice(start, end + 1));
    } catch (err) {
        return { ok: false, reason: `the installer's report is not valid JSON (${(err as Error).message})` };
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
        return { ok: false, reason: "the installer's report is not a JSON object" };
    }
    const o = json as Record<string, unknown>;
    const supported = stringList(o.supported, "supported", false);
    if (!supported.ok) return supported;
    const emulators = stringList(o.emulators, "emulators", true);
    if (!emulators.ok) return emulators;
    return { ok: true, value: { supported: supported.value, emulators: emulators.value } };
}

/**
 * The requested platforms the report does not list as supported. Reported platforms are
 * normalised first (`linux/arm64/v8` counts as `linux/arm64`); ones this library does not know
 * (`linux/amd64/v2`, `linux/mips64le`) are simply not matched.
 */
export function missingPlatforms(report: BinfmtReport, requested: readonly PlatformString[]): PlatformString[] {
    const runs = new Set<string>();
    for (const p of report.supported) {
        const result = parsePlatform(p);
        if (result.ok) runs.add(result.text);
    }
    return requested.filter((p) => !runs.has(p));
}

/** The report of a probe or register step's result line; undefined when the step installed nothing (`{}`). */
export function parseStepReport(stdout: string): BinfmtReport | undefined {
    const fields = parseResultLine(stdout, BINFMT_RESULT_MARKER);
    if (fields.report === undefined) return undefined;
    const report = parseBinfmtReport(fields.report.toString("utf8"));
    if (!report.ok) {
        throw new Error(
            `Binfmt: the installer printed no JSON report ({"supported": [...], "emulators": [...]}) on stdout: ` +
                `it does not follow the tonistiigi/binfmt contract (${report.reason})`,
        );
    }
    return report.value;
}

/** The install resource's result line (see `planInstall`): what it added and the report afterwards. */
export function parseInstallResult(stdout: string): BinfmtInstall {
    const fields = parseResultLine(stdout, BINFMT_RESULT_MARKER);
    const report = parseBinfmtReport(fields.report?.toString("utf8") ?? "");
    if (!report.ok) throw new Error(`Binfmt: ${report.reason}`);
    const added = stringList(JSON.parse(fields.added?.toString("utf8") ?? "null"), "added", false);
    if (!added.ok) throw new Error(`Binfmt: ${added.reason}`);
    return { report: report.value, added: added.value };
}
