/**
 * Every use of @pulumi/pulumi internals in the tests, in one place. The `Mocks` interface does
 * not pass a resource's parent, dependencies or options, nor say when every registration has
 * finished; these reach into the runtime for them:
 *
 * - `runtime/settings` `getMonitor()`: the installed `MockMonitor` (its `mocks` field, and its
 *   `registerResource(req, callback)`, whose `req` is the engine's protobuf `RegisterResourceRequest`);
 * - `runtime/settings` `waitForRPCs()`: resolves when no RPC is outstanding.
 *
 * Supported SDK versions: 3.142.0 to 3.276.0 (both functions and `MockMonitor.mocks` checked in
 * the published packages of those two versions; the suite itself runs at the dev dependency's
 * version, 3.248). A newer SDK that moves them breaks here first.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings");

/** The engine's registration request, as the mock monitor receives it (protobuf getters). */
export type RegisterRequest = any;

/** The mocks installed with `pulumi.runtime.setMocks`, or undefined when none are. */
export function installedMocks(): unknown {
    return settings.getMonitor()?.mocks;
}

/**
 * Calls `observe(req)` for every resource registered from now until the next `setMocks`, before
 * the mocks see it. Call after `pulumi.runtime.setMocks`.
 */
export function onRegister(observe: (req: RegisterRequest) => void): void {
    const monitor = settings.getMonitor();
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: RegisterRequest, callback: unknown) => {
        observe(req);
        return original(req, callback);
    };
}

/** Resolves when every outstanding registration and invoke has finished. */
export function waitForRPCs(): Promise<void> {
    return settings.waitForRPCs();
}
