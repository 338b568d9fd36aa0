import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { GUARDED_BASH } from "../guard";
import { ifRan } from "../not-run";
import { BinfmtArgs } from "./args";
import { checkLate } from "../errors";
import { renderScript } from "../shell";
import { archsToInstall, InstallOutcome, installOutcome, ownedEmulators } from "./decide";
import { planInstall, planProbe, planRegister, planUninstall } from "./plan";
import { parseInstallResult, parseStepReport } from "./report";
import { dockerHostProblem, validateBinfmtArgs } from "./validate";

/**
 * QEMU user-mode emulators registered with the kernel's binfmt_misc on a Docker host, so that
 * builds on that host can run `RUN` steps for other architectures. The resource form of
 * `docker run --privileged --rm tonistiigi/binfmt --install arm64,arm`.
 *
 * ```ts
 * const qemu = new Binfmt("qemu", { platforms: ["linux/arm64", "linux/arm/v7"] });
 * const image = new MultiPlatformImage("app", { ... }, { dependsOn: [qemu] });
 * export const hostPlatforms = qemu.platforms;
 * ```
 *
 * Only platforms the host cannot run yet are installed, so a second run changes nothing. The
 * installer's report is checked: if a requested platform is still not supported afterwards
 * (a kernel without binfmt_misc, a host that refuses privileged containers, a broken emulator
 * already registered under the same name), the resource fails naming it.
 */
export class Binfmt extends pulumi.ComponentResource {
    /** Platforms the host runs after the install, natively or emulated, as the installer reports them (e.g. `linux/arm64`, `linux/arm/v7`). */
    public readonly platforms: pulumi.Output<string[]>;
    /** The binfmt_misc handlers registered on the host after the install, e.g. `qemu-aarch64`. */
    public readonly emulators: pulumi.Output<string[]>;

    constructor(name: string, args: BinfmtArgs, opts?: pulumi.ComponentResourceOptions) {
        super("buildx:index:Binfmt", name, {}, opts);
        const v = validateBinfmtArgs(name, args);
        // A dockerHost that is an Output is checked once known, with the plain value's message.
        const environment =
            args.dockerHost === undefined ? undefined : { DOCKER_HOST: checkLate("Binfmt", name, "dockerHost", args.dockerHost, dockerHostProblem) };
        // Registrations are global to the host: with uninstallOnDelete the old resources' uninstall
        // must run before their replacements probe, or the replacement would find everything present
        // and own nothing. Any change of the arguments replaces all three steps (triggers), so the
        // probe is never older than the install it decides.
        const childOpts = { parent: this, deleteBeforeReplace: v.uninstallOnDelete };
        const step = (part: string, create: pulumi.Input<string>, del?: pulumi.Input<string>) =>
            new command.local.Command(
                `${name}-${part}`,
                { create, delete: del, interpreter: GUARDED_BASH, environment, triggers: [JSON.stringify(v)] },
                // A new probe result is a new register/install script: replace them (deleting first with
                // uninstallOnDelete) rather than update them in place.
                part === "probe" ? childOpts : { ...childOpts, replaceOnChanges: ["create"] },
            );

        // 1. What the host runs already; 2. --install what is missing; 3. check, own what was added.
        const probe = step("probe", renderScript(planProbe(v.image)));
        const before = probe.stdout.apply((s) => ifRan(s, (out) => parseStepReport(out) ?? NO_REPORT, undefined));
        const register = step(
            "register",
            before.apply((b) => renderScript(planRegister(v.image, b === undefined ? [] : archsToInstall(b, v.platforms), v.platforms))),
        );
        const outcome = pulumi
            .all([before, register.stdout, register.stderr])
            .apply(([b, out, log]) => (b === undefined || out === undefined ? NOT_RUN : installOutcome(b, parseStepReport(out), v.platforms, log ?? "")));
        const install = step(
            "install",
            outcome.apply((o) => renderScript(planInstall(v.image, o, v.uninstallOnDelete))),
            v.uninstallOnDelete ? outcome.apply((o) => renderScript(planUninstall(v.image, ownedEmulators(o)))) : undefined,
        );

        const result = install.stdout.apply((stdout) => ifRan(stdout, parseInstallResult, { report: NO_REPORT, added: [] }));
        this.platforms = result.apply((r) => r.report.supported);
        this.emulators = result.apply((r) => r.report.emulators);
        this.registerOutputs({ platforms: this.platforms, emulators: this.emulators });
    }
}

const NO_REPORT = { supported: [], emulators: [] };
/** The outcome when nothing ran the steps (see not-run.ts): nothing added, nothing missing. */
const NOT_RUN: InstallOutcome = { after: NO_REPORT, added: [], missing: [], log: "" };
