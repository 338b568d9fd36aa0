/**
 * The Binfmt component under the test harness, with `docker` replaced by the simulated host:
 * the resource graph, what reaches the command's inputs, the outputs, failures and destroy().
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Binfmt } from "../../../src/binfmt/component";
import { DEFAULT_BINFMT_IMAGE } from "../../../src/binfmt/args";
import { Harness, runProgram, unwrap } from "../../harness";
import { FakeHost } from "./fake-host";
import { GUARDED_BASH } from "../../../src/guard";

describe("Binfmt component", () => {
    let harness: Harness;
    let host: FakeHost;
    const saved = { PATH: process.env.PATH, FAKE_BINFMT_STATE: process.env.FAKE_BINFMT_STATE };

    beforeEach(async () => {
        harness = new Harness();
        await harness.install();
        host = new FakeHost({ emulators: ["qemu-riscv64"] });
        const env = host.env();
        process.env.PATH = env.PATH;
        process.env.FAKE_BINFMT_STATE = env.FAKE_BINFMT_STATE;
    });
    afterEach(() => {
        harness.dispose();
        host.dispose();
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    });

    it("creates the probe, register and install commands as its children and outputs the installer's report", async () => {
        const { result, errors } = await runProgram(harness, () => new Binfmt("qemu", { platforms: ["arm64", "linux/arm/v7"] }));
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        assert.deepStrictEqual(await unwrap(result!.platforms), ["linux/amd64", "linux/386", "linux/riscv64", "linux/arm64", "linux/arm/v7", "linux/arm/v6"]);
        assert.deepStrictEqual(await unwrap(result!.emulators), ["qemu-aarch64", "qemu-arm", "qemu-riscv64"]);

        const component = harness.named("qemu");
        assert.strictEqual(component.type, "buildx:index:Binfmt");
        const install = harness.named("qemu-install");
        assert.strictEqual(install.type, "command:local:Command");
        assert.match(install.parent ?? "", /buildx:index:Binfmt::qemu$/);
        assert.deepStrictEqual(install.inputs.interpreter, GUARDED_BASH);
        assert.strictEqual(install.inputs.delete, undefined, "no uninstall unless asked");
        assert.strictEqual(install.inputs.environment, undefined, "the local engine: no DOCKER_HOST");
        for (const step of ["qemu-probe", "qemu-register"]) {
            const child = harness.named(step);
            assert.strictEqual(child.type, "command:local:Command");
            assert.deepStrictEqual(child.inputs.interpreter, GUARDED_BASH);
            assert.deepStrictEqual(child.inputs.triggers, install.inputs.triggers, "any change of the arguments replaces every step");
        }
        assert.ok(String(harness.named("qemu-probe").inputs.create).includes(DEFAULT_BINFMT_IMAGE), "the pinned default image");
        assert.match(String(harness.named("qemu-register").inputs.create), / --install arm64,arm /);
        assert.deepStrictEqual(host.installerCalls(), ["", "--install arm64,arm"]);
        assert.strictEqual(harness.resources.length, 4);
    });

    it("checks a dockerHost Output once known, with the plain value's message, and runs nothing", async () => {
        const plain = await runProgram(harness, () => new Binfmt("plain", { platforms: ["arm64"], dockerHost: "10.0.0.9:2376" }));
        const late = await runProgram(harness, () => new Binfmt("late", { platforms: ["arm64"], dockerHost: pulumi.output("10.0.0.9:2376") }));
        const reason = /dockerHost: "10\.0\.0\.9:2376" is not valid: expected a Docker endpoint/;
        assert.match(plain.errors.map((e) => e.message).join("\n"), reason);
        assert.match(late.errors.map((e) => e.message).join("\n"), reason);
        assert.deepStrictEqual(host.installerCalls(), [], "nothing ran");
    });

    it("passes dockerHost only in the environment, and with uninstallOnDelete removes what it added on destroy()", async () => {
        const dockerHost = pulumi.output("ssh://root@10.0.0.9");
        const { result, errors } = await runProgram(
            harness,
            () => new Binfmt("remote", { platforms: ["linux/s390x", "linux/riscv64"], image: "example/binfmt:1", dockerHost, uninstallOnDelete: true }),
        );
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        assert.deepStrictEqual(await unwrap(result!.emulators), ["qemu-riscv64", "qemu-s390x"]);
        for (const step of ["remote-probe", "remote-register", "remote-install"]) {
            const child = harness.named(step);
            assert.deepStrictEqual(child.inputs.environment, { DOCKER_HOST: "ssh://root@10.0.0.9" });
            assert.ok(!String(child.inputs.create).includes("10.0.0.9"));
        }
        const install = harness.named("remote-install");
        assert.deepStrictEqual([...new Set(host.dockerHosts())], ["ssh://root@10.0.0.9"]);
        assert.ok(String(install.inputs.delete).includes("--uninstall"));

        await harness.destroy();
        assert.deepStrictEqual(host.emulators(), ["qemu-riscv64"], "only what it registered is removed");
        assert.deepStrictEqual(host.installerCalls().slice(-1), ["--uninstall qemu-s390x"]);
    });

    it("fails, naming the platform, when the install does not enable it", async () => {
        host.dispose();
        host = new FakeHost({ unavailable: ["ppc64le"] });
        process.env.PATH = host.env().PATH;
        process.env.FAKE_BINFMT_STATE = host.state;
        const { errors } = await runProgram(harness, () => new Binfmt("broken", { platforms: ["linux/arm64", "linux/ppc64le"] }));
        assert.ok(errors.length > 0);
        assert.match(errors.map((e) => e.message).join("\n"), /broken-install: exit status 1:[^]*still cannot run linux\/ppc64le;/);
    });

    it("rejects bad input at construction, before any command runs", async () => {
        assert.throws(
            () => new Binfmt("bad", { platforms: [], image: "NOT A REF" }),
            (err: pulumi.InputPropertiesError) => {
                assert.deepStrictEqual(
                    err.errors.map((e) => e.propertyPath),
                    ["platforms", "image"],
                );
                return true;
            },
        );
        await runProgram(harness, () => undefined);
        assert.deepStrictEqual(harness.ofType("command:local:Command"), []);
        assert.deepStrictEqual(host.installerCalls(), []);
    });
});
