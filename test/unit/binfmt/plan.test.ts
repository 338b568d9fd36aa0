import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { InstallOutcome, ownedEmulators } from "../../../src/binfmt/decide";
import { archGroups, installerArch, planInstall, planProbe, planRegister, planUninstall } from "../../../src/binfmt/plan";
import { renderScript } from "../../../src/shell";
import { SUPPORTED_PLATFORMS } from "../../../src/platform";
import { expectGolden } from "../../harness/golden";

const golden = (name: string, script: string): void => {
    expectGolden(path.join("binfmt", name), script);
    execFileSync("bash", ["-n", "-c", script]);
};

const IMAGE = "tonistiigi/binfmt:qemu-v10.2.3@sha256:400a4873b838d1b89194d982c45e5fb3cda4593fbfd7e08a02e76b03b21166f0";
const AFTER = { supported: ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6"], emulators: ["qemu-aarch64", "qemu-arm"] };
const OK: InstallOutcome = { after: AFTER, added: ["qemu-aarch64", "qemu-arm"], missing: [], log: "installing: arm64 OK\n" };
const FAILED: InstallOutcome = { ...OK, missing: ["linux/s390x"], log: "installing: s390x cannot register\n" };

describe("Binfmt plan", () => {
    it("matches the goldens and passes bash -n: probe, register (some, none, all), install (ok, failed), uninstall", () => {
        golden("probe.sh", renderScript(planProbe(IMAGE)));
        golden("register-arm.sh", renderScript(planRegister(IMAGE, ["arm64", "arm"], ["linux/arm64", "linux/arm/v7"])));
        golden("register-nothing.sh", renderScript(planRegister(IMAGE, [], ["linux/arm64", "linux/arm/v7"])));
        golden("register-all.sh", renderScript(planRegister("registry.example.com/tools/binfmt:it's", "all", "all")));
        golden("install-ok-owned.sh", renderScript(planInstall(IMAGE, OK, true)));
        golden("uninstall.sh", renderScript(planUninstall(IMAGE, ownedEmulators(OK))));
        golden("install-failed-owned.sh", renderScript(planInstall(IMAGE, FAILED, true)));
        assert.deepStrictEqual(ownedEmulators(FAILED), [], "a failed install owns nothing");
    });

    it("is deterministic (no diff, nothing re-runs), and rolls back only when asked", () => {
        assert.deepStrictEqual(planInstall(IMAGE, OK, true), planInstall(IMAGE, JSON.parse(JSON.stringify(OK)), true));
        assert.doesNotMatch(renderScript(planInstall(IMAGE, FAILED, false)), / --uninstall qemu/);
        assert.match(renderScript(planInstall(IMAGE, FAILED, true)), / --uninstall qemu-aarch64,qemu-arm /);
    });

    it("quotes the image and every value from the host as one shell word, and never names a Docker host", () => {
        const image = "x/y:$(reboot)";
        const hostile: InstallOutcome = {
            after: { supported: ["$(reboot)"], emulators: ["`id`"] },
            added: ["a'b"],
            missing: ["linux/s390x"],
            log: "$(touch /tmp/x)\n'",
        };
        const scripts = [
            planProbe(image),
            planRegister(image, ["arm64"], ["linux/arm64"]),
            planInstall(image, hostile, true),
            planUninstall(image, ["a'b"]),
        ].map((p) => renderScript(p));
        for (const script of scripts) {
            assert.match(script, /'x\/y:\$\(reboot\)'/);
            assert.ok(!/DOCKER_HOST|--host|-H /.test(script));
            execFileSync("bash", ["-n", "-c", script]);
        }
        assert.match(scripts[2], /printf '%s\\n' 'pulumi-buildx: binfmt: the installer printed: \$\(touch \/tmp\/x\)\n'\\'''/);
    });

    it("maps every supported platform to a tonistiigi/binfmt architecture", () => {
        const expected: Record<string, string> = {
            "linux/amd64": "amd64",
            "linux/arm64": "arm64",
            "linux/arm/v7": "arm",
            "linux/arm/v6": "arm",
            "linux/386": "386",
            "linux/ppc64le": "ppc64le",
            "linux/s390x": "s390x",
            "linux/riscv64": "riscv64",
        };
        assert.deepStrictEqual(Object.fromEntries(SUPPORTED_PLATFORMS.map((p) => [p, installerArch(p)])), expected);
        assert.deepStrictEqual(archGroups(["linux/arm/v7", "linux/arm64", "linux/arm/v6"]), [
            { arch: "arm", platforms: ["linux/arm/v7", "linux/arm/v6"] },
            { arch: "arm64", platforms: ["linux/arm64"] },
        ]);
    });
});
