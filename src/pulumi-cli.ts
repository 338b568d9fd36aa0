/**
 * The Pulumi CLI that the Automation API drives (`withEphemeralBuilder`, `cleanupEphemeralBuilders`).
 * Without it the Automation API fails late and obscurely (`spawn pulumi ENOENT`); these fail at
 * once, naming what to install.
 */
import * as fs from "fs";
import * as path from "path";

/** The message of a missing Pulumi CLI, for `caller`. */
export function pulumiCliMissing(caller: string): string {
    return (
        `${caller} needs the Pulumi CLI, and no \`pulumi\` is on PATH. Install it (https://www.pulumi.com/docs/iac/download-install/, ` +
        "e.g. `curl -fsSL https://get.pulumi.com | sh`, then add ~/.pulumi/bin to PATH), or pass workspaceOptions.pulumiCommand"
    );
}

/** Throws `pulumiCliMissing(caller)` unless an executable `pulumi` is in one of `searchPath`'s directories. */
export function requirePulumiCli(caller: string, searchPath = process.env.PATH ?? ""): void {
    const found = searchPath
        .split(path.delimiter)
        .filter((dir) => dir !== "")
        .some((dir) => {
            try {
                fs.accessSync(path.join(dir, "pulumi"), fs.constants.X_OK);
                return true;
            } catch {
                return false;
            }
        });
    if (!found) throw new Error(pulumiCliMissing(caller));
}
