/**
 * The install and uninstall scripts, run by bash against a simulated host (fake-docker.sh), so
 * every branch of the shell logic runs here without root or a kernel to change.
 */
import * as assert from "assert";
import { planBinfmt as planBinfmtTyped } from "../../../src/binfmt/plan";
import { renderScript } from "../../../src/shell";
import { checkInstall } from "../../../src/binfmt/report";
import { ValidatedBinfmtArgs } from "../../../src/binfmt/validate";
import { FakeHost, HostState } from "./fake-host";

/** The plan's scripts, rendered as the component renders them. */
function planBinfmt(v: ValidatedBinfmtArgs): { create: string; delete?: string } {
    const plan = planBinfmtTyped(v);
    return { create: renderScript(plan.create), delete: plan.delete === undefined ? undefined : renderScript(plan.delete) };
}

const IMAGE = "example/binfmt:1";
const ARM: ValidatedBinfmtArgs = { platforms: ["linux/arm64", "linux/arm/v7"], image: IMAGE, uninstallOnDelete: true };

describe("Binfmt scripts on a simulated host", () => {
    let host: FakeHost;
    const start = (state: HostState) => (host = new FakeHost(state));
    afterEach(() => host?.dispose());

    it("installs what is missing, reports it and removes exactly that on delete", () => {
        start({ emulators: ["qemu-riscv64"] });
        const plan = planBinfmt(ARM);
        const created = host.run(plan.create);
        assert.strictEqual(created.code, 0, created.stderr);
        assert.deepStrictEqual(host.installerCalls(), ["", "--install arm64,arm"]);
        const install = checkInstall(created.stdout, ["linux/arm64", "linux/arm/v7"]);
        assert.deepStrictEqual(install.added, ["qemu-aarch64", "qemu-arm"]);
        assert.deepStrictEqual(install.report.emulators, ["qemu-aarch64", "qemu-arm", "qemu-riscv64"]);
        assert.deepStrictEqual(install.report.supported, ["linux/amd64", "linux/386", "linux/riscv64", "linux/arm64", "linux/arm/v7", "linux/arm/v6"]);
        assert.match(created.stderr, /installing: arm64 OK/, "the installer's log reaches stderr");

        const deleted = host.run(plan.delete!, { PULUMI_COMMAND_STDOUT: created.stdout });
        assert.strictEqual(deleted.code, 0, deleted.stderr);
        assert.deepStrictEqual(host.emulators(), ["qemu-riscv64"], "the emulator that was there before stays");
        assert.strictEqual(host.installerCalls()[2], "--uninstall qemu-aarch64,qemu-arm");
    });

    it("is idempotent: a second run installs nothing and owns nothing", () => {
        start({});
        const plan = planBinfmt(ARM);
        assert.strictEqual(host.run(plan.create).code, 0);
        const again = host.run(plan.create);
        assert.strictEqual(again.code, 0, again.stderr);
        assert.deepStrictEqual(host.installerCalls(), ["", "--install arm64,arm", ""], "no second --install");
        assert.match(again.stderr, /the host runs linux\/arm64, linux\/arm\/v7 already; nothing to install/);
        assert.deepStrictEqual(checkInstall(again.stdout, ["linux/arm64"]).added, []);
        const deleted = host.run(plan.delete!, { PULUMI_COMMAND_STDOUT: again.stdout });
        assert.strictEqual(deleted.code, 0);
        assert.match(deleted.stderr, /registered no emulators; nothing to remove/);
        assert.deepStrictEqual(host.emulators(), ["qemu-aarch64", "qemu-arm"], "the first run's emulators stay");
    });

    it("installs only the architectures the host does not run (never emulates a native one)", () => {
        start({ native: ["linux/amd64"], emulators: ["qemu-arm"] });
        const plan = planBinfmt({ platforms: ["linux/amd64", "linux/arm/v7", "linux/s390x"], image: IMAGE, uninstallOnDelete: false });
        const created = host.run(plan.create);
        assert.strictEqual(created.code, 0, created.stderr);
        assert.deepStrictEqual(host.installerCalls(), ["", "--install s390x"]);
        assert.deepStrictEqual(checkInstall(created.stdout, ["linux/s390x"]).added, ["qemu-s390x"]);
    });

    it("fails naming the platform a broken, already registered emulator still cannot run", () => {
        start({ emulators: ["qemu-aarch64"], broken: ["qemu-aarch64"] });
        const created = host.run(planBinfmt(ARM).create);
        assert.strictEqual(created.code, 1);
        assert.match(created.stderr, /qemu-aarch64 already registered/);
        assert.match(
            created.stderr,
            /after the install the host still cannot run linux\/arm64; the installer reports it runs: linux\/amd64 linux\/386 linux\/arm\/v7 linux\/arm\/v6\./,
        );
        assert.match(created.stderr, /remove it with --uninstall NAME/);
        assert.strictEqual(created.stdout, "", "no report line: the resource is not created");
    });

    it("with uninstallOnDelete, a failed install removes what it registered before failing", () => {
        start({ unavailable: ["s390x"] });
        const created = host.run(planBinfmt({ ...ARM, platforms: ["linux/arm64", "linux/s390x"] }).create);
        assert.strictEqual(created.code, 1);
        assert.match(created.stderr, /installing: s390x cannot register/);
        assert.match(created.stderr, /removing the emulators this install registered: qemu-aarch64/);
        assert.match(created.stderr, /still cannot run linux\/s390x;/);
        assert.deepStrictEqual(host.emulators(), []);
    });

    it("without uninstallOnDelete, a failed install leaves what it registered", () => {
        start({ unavailable: ["s390x"] });
        const created = host.run(planBinfmt({ ...ARM, platforms: ["linux/arm64", "linux/s390x"], uninstallOnDelete: false }).create);
        assert.strictEqual(created.code, 1);
        assert.deepStrictEqual(host.emulators(), ["qemu-aarch64"]);
    });

    it('"all" lets the installer choose, and records what it added', () => {
        start({ emulators: ["qemu-arm"] });
        const created = host.run(planBinfmt({ platforms: "all", image: IMAGE, uninstallOnDelete: false }).create);
        assert.strictEqual(created.code, 0, created.stderr);
        assert.deepStrictEqual(host.installerCalls(), ["", "--install all"]);
        assert.deepStrictEqual(checkInstall(created.stdout, "all").added, ["qemu-aarch64", "qemu-ppc64le", "qemu-riscv64", "qemu-s390x"]);
    });

    it("fails clearly when the image prints no report", () => {
        start({ noReport: true });
        const created = host.run(planBinfmt(ARM).create);
        assert.strictEqual(created.code, 1);
        assert.match(created.stderr, /example\/binfmt:1 printed no JSON report .* it does not follow the tonistiigi\/binfmt contract/);
    });

    it("fails with docker's own message when the image cannot be run", () => {
        start({});
        const created = host.run(planBinfmt({ ...ARM, image: "missing/binfmt:1" }).create);
        assert.strictEqual(created.code, 125);
        assert.match(created.stderr, /Unable to find image 'missing\/binfmt:1' locally/);
        assert.ok(!/printed no JSON report/.test(created.stderr));
    });

    it("the delete tolerates an emulator that is gone already, and fails if one is still there afterwards", () => {
        start({ sticky: ["qemu-arm"] });
        const plan = planBinfmt(ARM);
        const created = host.run(plan.create);
        assert.strictEqual(created.code, 0, created.stderr);
        const gone = host.run(plan.delete!, { PULUMI_COMMAND_STDOUT: created.stdout.replace("qemu-aarch64,qemu-arm", "qemu-ghost") });
        assert.strictEqual(gone.code, 0, gone.stderr);
        assert.match(gone.stderr, /uninstalling: qemu-ghost not found/);
        const stuck = host.run(plan.delete!, { PULUMI_COMMAND_STDOUT: created.stdout });
        assert.strictEqual(stuck.code, 1);
        assert.match(stuck.stderr, /still registered after --uninstall: qemu-arm$/m);
        assert.deepStrictEqual(host.emulators(), ["qemu-arm"]);
    });

    it("runs docker against DOCKER_HOST from the environment", () => {
        start({});
        assert.strictEqual(host.run(planBinfmt(ARM).create, { DOCKER_HOST: "ssh://root@10.0.0.9" }).code, 0);
        assert.deepStrictEqual([...new Set(host.dockerHosts())], ["ssh://root@10.0.0.9"]);
    });
});
