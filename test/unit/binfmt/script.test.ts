/**
 * The three steps (probe, register, install), run by bash against a simulated host
 * (fake-docker.sh) with the TypeScript decisions between them as the component makes them, so
 * every script and decision runs here without root or a kernel to change.
 */
import * as assert from "assert";
import { archsToInstall, installOutcome, ownedEmulators } from "../../../src/binfmt/decide";
import { planInstall, planProbe, planRegister, planUninstall } from "../../../src/binfmt/plan";
import { renderScript } from "../../../src/shell";
import { parseInstallResult, parseStepReport } from "../../../src/binfmt/report";
import { ValidatedBinfmtArgs } from "../../../src/binfmt/validate";
import { FakeHost, HostState } from "./fake-host";

type Run = { code: number | null; stdout: string; stderr: string };

/** Probe, decide, register, decide, install: stops at the first step that fails. `delete` is the install's delete script. */
function runSteps(host: FakeHost, v: ValidatedBinfmtArgs, env: Record<string, string> = {}): Run & { delete?: string; logs: string } {
    const probe = host.run(renderScript(planProbe(v.image)), env);
    if (probe.code !== 0) return { ...probe, logs: probe.stderr };
    const before = parseStepReport(probe.stdout)!;
    const register = host.run(renderScript(planRegister(v.image, archsToInstall(before, v.platforms), v.platforms)), env);
    if (register.code !== 0) return { ...register, logs: probe.stderr + register.stderr };
    const outcome = installOutcome(before, parseStepReport(register.stdout), v.platforms, register.stderr);
    const install = host.run(renderScript(planInstall(v.image, outcome, v.uninstallOnDelete)), env);
    const del = v.uninstallOnDelete ? renderScript(planUninstall(v.image, ownedEmulators(outcome))) : undefined;
    return { ...install, delete: del, logs: probe.stderr + register.stderr + install.stderr };
}

const IMAGE = "example/binfmt:1";
const ARM: ValidatedBinfmtArgs = { platforms: ["linux/arm64", "linux/arm/v7"], image: IMAGE, uninstallOnDelete: true };

describe("Binfmt steps on a simulated host", () => {
    let host: FakeHost;
    const start = (state: HostState) => (host = new FakeHost(state));
    afterEach(() => host?.dispose());

    it("installs what is missing, reports it and removes exactly that on delete", () => {
        start({ emulators: ["qemu-riscv64"] });
        const created = runSteps(host, ARM);
        assert.strictEqual(created.code, 0, created.logs);
        assert.deepStrictEqual(host.installerCalls(), ["", "--install arm64,arm"]);
        const install = parseInstallResult(created.stdout);
        assert.deepStrictEqual(install.added, ["qemu-aarch64", "qemu-arm"]);
        assert.deepStrictEqual(install.report.emulators, ["qemu-aarch64", "qemu-arm", "qemu-riscv64"]);
        assert.deepStrictEqual(install.report.supported, ["linux/amd64", "linux/386", "linux/riscv64", "linux/arm64", "linux/arm/v7", "linux/arm/v6"]);
        assert.match(created.logs, /installing: arm64 OK/, "the installer's log reaches stderr");

        const deleted = host.run(created.delete!);
        assert.strictEqual(deleted.code, 0, deleted.stderr);
        assert.deepStrictEqual(host.emulators(), ["qemu-riscv64"], "the emulator that was there before stays");
        assert.strictEqual(host.installerCalls()[2], "--uninstall qemu-aarch64,qemu-arm");
    });

    it("is idempotent: a second run installs nothing and owns nothing", () => {
        start({});
        assert.strictEqual(runSteps(host, ARM).code, 0);
        const again = runSteps(host, ARM);
        assert.strictEqual(again.code, 0, again.logs);
        assert.deepStrictEqual(host.installerCalls(), ["", "--install arm64,arm", ""], "no second --install");
        assert.match(again.logs, /the host runs linux\/arm64, linux\/arm\/v7 already; nothing to install/);
        assert.deepStrictEqual(parseInstallResult(again.stdout).added, []);
        const deleted = host.run(again.delete!);
        assert.strictEqual(deleted.code, 0);
        assert.match(deleted.stderr, /registered no emulators; nothing to remove/);
        assert.deepStrictEqual(host.emulators(), ["qemu-aarch64", "qemu-arm"], "the first run's emulators stay");
    });

    it("installs only the architectures the host does not run (never emulates a native one)", () => {
        start({ native: ["linux/amd64"], emulators: ["qemu-arm"] });
        const created = runSteps(host, { platforms: ["linux/amd64", "linux/arm/v7", "linux/s390x"], image: IMAGE, uninstallOnDelete: false });
        assert.strictEqual(created.code, 0, created.logs);
        assert.deepStrictEqual(host.installerCalls(), ["", "--install s390x"]);
        assert.deepStrictEqual(parseInstallResult(created.stdout).added, ["qemu-s390x"]);
        assert.strictEqual(created.delete, undefined, "no uninstall unless asked");
    });

    it("fails naming the platform a broken, already registered emulator still cannot run", () => {
        start({ emulators: ["qemu-aarch64"], broken: ["qemu-aarch64"] });
        const created = runSteps(host, ARM);
        assert.strictEqual(created.code, 1);
        assert.match(created.logs, /qemu-aarch64 already registered/);
        assert.match(
            created.stderr,
            /after the install the host still cannot run linux\/arm64; the installer reports it runs: linux\/amd64 linux\/386 linux\/arm\/v7 linux\/arm\/v6\./,
        );
        assert.match(created.stderr, /the installer printed: [^]*qemu-aarch64 already registered/, "the installer's log is in the failing step's error");
        assert.match(created.stderr, /remove it with --uninstall NAME/);
        assert.strictEqual(created.stdout, "", "no result line: the resource is not created");
    });

    it("with uninstallOnDelete, a failed install removes what it registered before failing", () => {
        start({ unavailable: ["s390x"] });
        const created = runSteps(host, { ...ARM, platforms: ["linux/arm64", "linux/s390x"] });
        assert.strictEqual(created.code, 1);
        assert.match(created.stderr, /installing: s390x cannot register/);
        assert.match(created.stderr, /removing the emulators this install registered: qemu-aarch64/);
        assert.match(created.stderr, /still cannot run linux\/s390x;/);
        assert.deepStrictEqual(host.emulators(), []);
    });

    it("without uninstallOnDelete, a failed install leaves what it registered", () => {
        start({ unavailable: ["s390x"] });
        const created = runSteps(host, { ...ARM, platforms: ["linux/arm64", "linux/s390x"], uninstallOnDelete: false });
        assert.strictEqual(created.code, 1);
        assert.deepStrictEqual(host.emulators(), ["qemu-aarch64"]);
    });

    it('"all" lets the installer choose, and records what it added', () => {
        start({ emulators: ["qemu-arm"] });
        const created = runSteps(host, { platforms: "all", image: IMAGE, uninstallOnDelete: false });
        assert.strictEqual(created.code, 0, created.logs);
        assert.deepStrictEqual(host.installerCalls(), ["", "--install all"]);
        assert.deepStrictEqual(parseInstallResult(created.stdout).added, ["qemu-aarch64", "qemu-ppc64le", "qemu-riscv64", "qemu-s390x"]);
    });

    it("fails clearly when the image prints no report", () => {
        start({ noReport: true });
        assert.throws(() => runSteps(host, ARM), /the installer printed no JSON report .* it does not follow the tonistiigi\/binfmt contract \(no JSON object/);
        assert.deepStrictEqual(host.installerCalls(), [""], "nothing installed");
    });

    it("fails with docker's own message when the image cannot be run", () => {
        start({});
        const created = runSteps(host, { ...ARM, image: "missing/binfmt:1" });
        assert.strictEqual(created.code, 125);
        assert.match(created.stderr, /Unable to find image 'missing\/binfmt:1' locally/);
        assert.ok(!/printed no JSON report/.test(created.stderr));
    });

    it("the delete tolerates an emulator that is gone already, and fails if one is still there afterwards", () => {
        start({ sticky: ["qemu-arm"] });
        const created = runSteps(host, ARM);
        assert.strictEqual(created.code, 0, created.logs);
        const gone = host.run(renderScript(planUninstall(IMAGE, ["qemu-ghost"])));
        assert.strictEqual(gone.code, 0, gone.stderr);
        assert.match(gone.stderr, /uninstalling: qemu-ghost not found/);
        const stuck = host.run(created.delete!);
        assert.strictEqual(stuck.code, 1);
        assert.match(stuck.stderr, /still registered after --uninstall: qemu-arm$/m);
        assert.deepStrictEqual(host.emulators(), ["qemu-arm"]);
    });

    it("runs docker against DOCKER_HOST from the environment", () => {
        start({});
        assert.strictEqual(runSteps(host, ARM, { DOCKER_HOST: "ssh://root@10.0.0.9" }).code, 0);
        assert.deepStrictEqual([...new Set(host.dockerHosts())], ["ssh://root@10.0.0.9"]);
    });
});
