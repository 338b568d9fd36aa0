/**
 * A clear error for a subpath whose optional peer dependencies are not installed, instead of
 * Node's bare `Cannot find module '@pulumi/aws'` from deep inside the package.
 */

/**
 * Throws naming every missing one of `peers` and the command that installs all of `install`, or
 * returns. `resolve` is for tests.
 */
export function requirePeers(entry: string, peers: readonly string[], install: readonly string[], resolve: (id: string) => string = require.resolve): void {
    const missing = peers.filter((peer) => {
        try {
            resolve(peer);
            return false;
        } catch {
            return true;
        }
    });
    if (missing.length === 0) return;
    throw new Error(
        `${entry} needs ${missing.join(" and ")}, optional peer ${missing.length === 1 ? "dependency" : "dependencies"} of pulumi-buildx ` +
            `that ${missing.length === 1 ? "is" : "are"} not installed: run \`npm install ${install.join(" ")}\` in your project`,
    );
}
