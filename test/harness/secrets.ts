/**
 * Under `pulumi.runtime.setMocks`, a secret input reaches `newResource` wrapped in an object
 * carrying Pulumi's secret signature. These helpers take the wrappers off (a mock that runs
 * commands needs the plain values) and record where the secrets were.
 */

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretWrapper(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG_VALUE;
}

/** Returns the plain value and the property paths (`environment`, `tls.key`, …) that were secret. */
export function unwrapSecrets(value: unknown, path = ""): { value: unknown; secretPaths: string[] } {
    const secretPaths: string[] = [];
    const walk = (v: unknown, p: string): unknown => {
        if (isSecretWrapper(v)) {
            secretPaths.push(p);
            return walk(v.value, p);
        }
        if (Array.isArray(v)) {
            return v.map((x, i) => walk(x, `${p}[${i}]`));
        }
        if (typeof v === "object" && v !== null) {
            const out: Record<string, unknown> = {};
            for (const [k, x] of Object.entries(v)) {
                out[k] = walk(x, p === "" ? k : `${p}.${k}`);
            }
            return out;
        }
        return v;
    };
    return { value: walk(value, path), secretPaths };
}

/** Every string leaf of a value, for "does this secret appear anywhere?" checks. */
export function stringLeaves(v: unknown): string[] {
    if (typeof v === "string") return [v];
    if (Array.isArray(v)) return v.flatMap(stringLeaves);
    if (typeof v === "object" && v !== null) return Object.values(v).flatMap(stringLeaves);
    return [];
}
