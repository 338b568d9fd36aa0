/**
 * Lets a test load an example as written (`import … from "pulumi-buildx"`) against this checkout's
 * sources, with no build and no install: `pulumi-buildx` and its subpaths resolve to `src/`.
 * The same module instances the tests use, so resources and mocks are shared.
 */
import { Module } from "module";
import * as path from "path";

const SRC = path.join(__dirname, "..", "..", "src");
const ENTRIES: Record<string, string> = {
    "pulumi-buildx": path.join(SRC, "index.ts"),
    "pulumi-buildx/aws": path.join(SRC, "aws.ts"),
    "pulumi-buildx/testing": path.join(SRC, "testing", "index.ts"),
};

let installed = false;

/** Resolves `pulumi-buildx` (and `/aws`, `/testing`) to the sources from now on, in this process. */
export function aliasPackageToSource(): void {
    if (installed) return;
    installed = true;
    const resolver = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
    const original = resolver._resolveFilename;
    resolver._resolveFilename = function (request: string, ...rest: unknown[]) {
        return ENTRIES[request] ?? original.call(this, request, ...rest);
    };
}
