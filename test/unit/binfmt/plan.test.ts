import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { archGroups, installerArch, planBinfmt as planBinfmtTyped, planUninstall as planUninstallTyped } from "../../../src/binfmt/plan";
import { renderScript } from "../../../src/shell";
import { ValidatedBinfmtArgs } from "../../../src/binfmt/validate";
import { PlatformString, SUPPORTED_PLATFORMS } from "../../../src/platform";
import { expectGolden } from "../../harness/golden";

/** The plan's scripts, rendered as the component renders them. */
function planBinfmt(v: ValidatedBinfmtArgs): { create: string; delete?: string } {
    const plan = planBinfmtTyped(v);
    return { create: renderScript(plan.create), delete: plan.delete === undefined ? undefined : renderScript(plan.delete) };
}

const planUninstall = (image: string): string => renderScript(planUninstallTyped(image));

const golden = (name: string, actual: string): void => expectGolden(path.join("binfmt", name), actual);

const IMAGE = "tonistiigi/binfmt:qemu-v10.2.3@sha256:400a4873b838d1b89194d982c45e5fb3cda4593fbfd7e08a02e76b03b21166f0";

describe("Binfmt plan", () => {
    const variants: [string, ValidatedBinfmtArgs][] = [
        ["install-arm.sh", { platforms: ["linux/arm64", "linux/arm/v7"], image: IMAGE, uninstallOnDelete: false }],
        ["install-arm-owned.sh", { platforms: ["linux/arm64", "linux/arm/v7", "linux/arm/v6"], image: IMAGE, uninstallOnDelete: true }],
        ["install-all.sh", { platforms: "all", image: "registry.example.com/tools/binfmt:it's", uninstallOnDelete: false }],
    ];
    for (const [name, v] of variants) {
        it(`matches golden/binfmt/${name} and passes bash -n`, () => {
            const plan = planBinfmt(v);
            golden(name, plan.create);
            execFileSync("bash", ["-n", "-c", plan.create]);
            if (v.uninstallOnDelete) {
                assert.strictEqual(plan.delete, planUninstall(v.image));
            } else {
                assert.strictEqual(plan.delete, undefined, "no delete command unless uninstallOnDelete");
            }
        });
    }

    it("matches golden/binfmt/uninstall.sh and passes bash -n", () => {
        const script = planUninstall(IMAGE);
        golden("uninstall.sh", script);
        execFileSync("bash", ["-n", "-c", script]);
    });

    it("is deterministic: the same inputs give the same scripts (no diff, nothing re-runs)", () => {
        const v: ValidatedBinfmtArgs = { platforms: ["linux/s390x", "linux/arm64"], image: IMAGE, uninstallOnDelete: true };
        assert.deepStrictEqual(planBinfmt(v), planBinfmt({ ...v, platforms: [...(v.platforms as string[])] as never }));
    });

    it("installs each architecture once, in the order asked", () => {
        const platforms: PlatformString[] = ["linux/arm/v6", "linux/riscv64", "linux/arm/v7", "linux/amd64"];
        const plan = planBinfmt({ platforms, image: IMAGE, uninstallOnDelete: false });
        assert.deepStrictEqual(
            archGroups(platforms).map((g) => g.arch),
            ["arm", "riscv64", "amd64"],
        );
        assert.deepStrictEqual(
            [...plan.create.matchAll(/want\+=\((\w+)\)/g)].map((m) => m[1]),
            ["arm", "riscv64", "amd64"],
        );
        assert.match(plan.create, /\{ has "\$before" linux\/arm\/v6 && has "\$before" linux\/arm\/v7; \} \|\| want\+=\(arm\)/);
        assert.match(planBinfmt({ platforms: "all", image: IMAGE, uninstallOnDelete: false }).create, /report --install all/);
    });

    it("quotes the image as one shell word and never names a Docker host", () => {
        const plan = planBinfmt({ platforms: ["linux/arm64"], image: "x/y:$(reboot)", uninstallOnDelete: true });
        assert.match(plan.create, /^image='x\/y:\$\(reboot\)'$/m);
        assert.ok(!/DOCKER_HOST|--host|-H /.test(plan.create + plan.delete));
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
