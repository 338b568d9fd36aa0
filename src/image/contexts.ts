/**
 * Named build contexts (`--build-context NAME=VALUE`): the checks of names and values, the flag
 * words, and the rebuild hash of the local ones. Pure apart from reading the file system
 * (does a directory exist, what is in it).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { InputProblems, invalidReason, isLate, textProblem } from "../errors";
import { parseReference } from "../reference";
import { imageContextValue } from "./context-flags";
import { hashContext } from "./context-hash";
import { sha256 } from "./digests";
import { isPinnable } from "./pinnable";

/** A stage or image name as `FROM` and `COPY --from` use it; never holds `=`. */
const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,255}$/;
const STAGE = /^[A-Za-z0-9_.-]{1,256}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export const CONTEXT_FORMS = "a local directory, docker-image://REF, oci-layout://DIR[@sha256:…], target:STAGE, or a MultiPlatformImage";

/** Anything with a `ref` output: another MultiPlatformImage of the program. */
export type ImageLike = pulumi.Resource & { readonly ref: pulumi.Output<string> };

/** A named context, classified at construction. */
export type NamedContext =
    /** A local directory (absolute): in the rebuild hash. */
    | { kind: "local"; name: string; dir: string }
    /** `docker-image://`, `oci-layout://` or `target:`, plain or known later: passed as given. */
    | { kind: "value"; name: string; value: pulumi.Input<string> }
    /** Another image: `docker-image://<its ref>`, waited for. */
    | { kind: "image"; name: string; image: ImageLike };

export function isImageLike(value: unknown): value is ImageLike {
    return pulumi.Resource.isInstance(value) && pulumi.Output.isInstance((value as { ref?: unknown }).ref);
}

/**
 * Why a context value written with a scheme (`docker-image://`, `oci-layout://`, `target:`) is
 * not valid, or undefined. A value with no such prefix is a local directory: `localDir` says
 * whether that is allowed (plain values only: a local directory must be known to be hashed).
 */
export function contextValueProblem(value: unknown, opts: { localDir: boolean } = { localDir: false }): string | undefined {
    const text = textProblem(value, CONTEXT_FORMS);
    if (text !== undefined) return text;
    const v = value as string;
    if (v.startsWith("docker-image://")) {
        const ref = parseReference(v.slice("docker-image://".length));
        return ref.ok ? undefined : invalidReason(v, "docker-image:// followed by an image reference, e.g. docker-image://ghcr.io/org/base:1");
    }
    if (v.startsWith("oci-layout://")) {
        const rest = v.slice("oci-layout://".length);
        const at = rest.lastIndexOf("@");
        const ok = (at === -1 ? rest : rest.slice(0, at)) !== "" && (at === -1 || DIGEST.test(rest.slice(at + 1)));
        return ok ? undefined : invalidReason(v, "oci-layout:// followed by a directory, optionally @sha256:<64 hex digits>");
    }
    if (v.startsWith("target:")) {
        return STAGE.test(v.slice("target:".length)) ? undefined : invalidReason(v, "target: followed by the name of a build stage");
    }
    if (v === "" || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(v) || !opts.localDir) {
        return invalidReason(
            v,
            opts.localDir
                ? CONTEXT_FORMS
                : "docker-image://REF, oci-layout://DIR[@sha256:…] or target:STAGE " +
                      "(a local directory must be a plain string, known at construction, so that it counts in the rebuild hash)",
        );
    }
    return undefined;
}

/** Checks every name and value; returns the contexts classified (local directories resolved). */
export function checkBuildContexts(problems: InputProblems, contexts: unknown): NamedContext[] {
    if (contexts === undefined) return [];
    if (typeof contexts !== "object" || contexts === null || Array.isArray(contexts) || isLate(contexts)) {
        problems.invalid("buildContexts", contexts, `an object mapping context names to values (${CONTEXT_FORMS})`);
        return [];
    }
    const result: NamedContext[] = [];
    for (const [name, value] of Object.entries(contexts as Record<string, unknown>)) {
        const where = `buildContexts.${name}`;
        if (!CONTEXT_NAME.test(name)) {
            problems.invalid(where, name, "a context name as FROM uses it: letters, digits and _ . : / @ -, starting with a letter or digit, no `=`");
            continue;
        }
        if (isImageLike(value)) {
            if (isPinnable(value) === false) problems.add(where, IMAGE_WITHOUT_REF);
            else result.push({ kind: "image", name, image: value });
        } else if (isLate(value)) {
            result.push({ kind: "value", name, value: value as pulumi.Output<string> });
        } else {
            const reason = contextValueProblem(value, { localDir: true });
            if (reason !== undefined) {
                problems.add(where, reason);
                continue;
            }
            const v = value as string;
            if (/^(docker-image:\/\/|oci-layout:\/\/|target:)/.test(v)) {
                result.push({ kind: "value", name, value: v });
                continue;
            }
            const dir = path.resolve(v);
            if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
                problems.invalid(where, v, `an existing directory (resolved to ${dir}), or ${CONTEXT_FORMS}`);
                continue;
            }
            result.push({ kind: "local", name, dir });
        }
    }
    return result;
}

/**
 * The rebuild hash of the local named contexts: each directory's content hash (its own
 * `.dockerignore` honoured, as BuildKit applies it to a named context), with its name. Undefined
 * when there are none, so that a build without them keeps its triggers.
 */
export async function hashLocalContexts(contexts: readonly NamedContext[]): Promise<string | undefined> {
    const local = contexts.filter((c) => c.kind === "local");
    if (local.length === 0) return undefined;
    const lines: string[] = [];
    for (const c of [...local].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        lines.push(`${c.name}\0${await hashContext(c.dir)}\n`);
    }
    return sha256(Buffer.from(lines.join(""), "utf8"));
}

/** `checkLate` as the component binds it: a value checked once known (a secret refused with `refuseSecret`). */
export type LateCheck = <T>(path: string, value: pulumi.Input<T>, problem: (v: T) => string | undefined, refuseSecret?: string) => pulumi.Output<T>;

/** Why another image cannot be a context (checked at construction, from its arguments). */
export const IMAGE_WITHOUT_REF =
    "is a MultiPlatformImage with no ref (it neither pushes nor exports an OCI layout): " +
    "a named context needs an image BuildKit can pull, so give it `tags` (pushed) or an `oci` output";

/**
 * The contexts' values once known, a late string checked like a plain one; an image becomes
 * `docker-image://<ref>`. A value nothing produced (a mocked resource) is left out.
 */
export function resolveContexts(contexts: readonly NamedContext[], late: LateCheck, refuseSecret: string): pulumi.Output<Record<string, string>> {
    const values = contexts.map((c): pulumi.Output<[string, string | undefined]> => {
        const where = `buildContexts.${c.name}`;
        switch (c.kind) {
            case "local":
                return pulumi.output([c.name, c.dir] as [string, string]);
            case "value":
                return late<string>(where, c.value, (v) => contextValueProblem(v), refuseSecret).apply((v) => [c.name, v] as [string, string | undefined]);
            case "image":
                // "" only where nothing ran the other build (mocks): see not-run.ts.
                return c.image.ref.apply((ref) => [c.name, ref ? imageContextValue(ref) : undefined] as [string, string | undefined]);
            default: {
                const never: never = c;
                throw new Error(`unknown named context ${JSON.stringify(never)}`);
            }
        }
    });
    return pulumi.all(values).apply((entries) => Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined)));
}
