import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { GUARDED_BASH } from "../guard";
import { ifRan } from "../not-run";
import { BinfmtArgs } from "./args";
import { checkLate } from "../errors";
import { renderScript } from "../shell";
import { planBinfmt } from "./plan";
import { checkInstall } from "./report";
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
        const plan = planBinfmt(v);

        const install = new command.local.Command(
            `${name}-install`,
            {
                create: renderScript(plan.create),
                delete: plan.delete === undefined ? undefined : renderScript(plan.delete),
                interpreter: GUARDED_BASH,
                // A dockerHost that is an Output is checked once known, with the plain value's message.
                environment:
                    args.dockerHost === undefined ? undefined : { DOCKER_HOST: checkLate("Binfmt", name, "dockerHost", args.dockerHost, dockerHostProblem) },
            },
            // Registrations are global to the host: the old resource's uninstall must run before
            // its replacement installs, or the replacement would find everything present and own nothing.
            { parent: this, deleteBeforeReplace: v.uninstallOnDelete },
        );

        const result = install.stdout.apply((stdout) =>
            ifRan(stdout, (s) => checkInstall(s, v.platforms), { report: { supported: [], emulators: [] }, added: [] }),
        );
        this.platforms = result.apply((r) => r.report.supported);
        this.emulators = result.apply((r) => r.report.emulators);
        this.registerOutputs({ platforms: this.platforms, emulators: this.emulators });
    }
}
