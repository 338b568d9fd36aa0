/**
 * The words of `--build-context NAME=VALUE`, from resolved values. Pure (no Pulumi import: the
 * build plan uses it).
 */
import { Word } from "../shell";

/** The value an image context is used as: its OCI layout ref as is, else `docker-image://<ref>`. */
export function imageContextValue(ref: string): string {
    return ref.startsWith("oci-layout://") ? ref : `docker-image://${ref}`;
}

/**
 * `--build-context NAME=VALUE` for each context, values resolved. `relative` makes a local
 * directory relative to the program's directory; it is written with `./` (or `/`) in front, so
 * that buildx never reads it as a scheme.
 */
export function buildContextFlags(contexts: Record<string, string>, local: ReadonlySet<string>, relative: (p: string) => string): Word[] {
    const words: Word[] = [];
    for (const [name, value] of Object.entries(contexts)) {
        let v = value;
        if (local.has(name)) {
            v = relative(value);
            if (!v.startsWith("/") && !v.startsWith("./") && !v.startsWith("../") && v !== "." && v !== "..") v = `./${v}`;
        }
        words.push("--build-context", `${name}=${v}`);
    }
    return words;
}
