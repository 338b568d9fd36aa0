import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ADDED_MARKER, REPORT_MARKER } from "../../../src/binfmt/plan";
import { BinfmtReport, checkInstall, missingPlatforms, parseBinfmtReport, parseInstallOutput } from "../../../src/binfmt/report";
import { PlatformString } from "../../../src/platform";

const REPORTS = path.join(__dirname, "..", "..", "fixtures", "binfmt", "reports");
const recorded = (file: string) => fs.readFileSync(path.join(REPORTS, file), "utf8");

function parsed(text: string): BinfmtReport {
    const result = parseBinfmtReport(text);
    assert.ok(result.ok, result.ok ? "" : result.reason);
    return result.value;
}

/** The install command's stdout for a report, as planBinfmt prints it (the report on one line). */
function stdoutFor(report: string, added: string): string {
    return `${ADDED_MARKER}${added}\n${REPORT_MARKER}${report.replace(/\n/g, "")}`;
}

describe("Binfmt installer reports (recorded)", () => {
    const table: [string, string[], string[], PlatformString[], PlatformString[]][] = [
        // file, supported (first 3), emulators (first 3), requested, missing
        [
            "tonistiigi-readme.json",
            ["linux/amd64", "linux/arm64", "linux/riscv64"],
            ["qemu-aarch64", "qemu-arm", "qemu-i386"],
            ["linux/arm64", "linux/arm/v7", "linux/arm/v6"],
            [],
        ],
        [
            "buildx-542-install-all.txt",
            ["linux/amd64", "linux/386", "linux/mips64le"],
            ["jar", "python2.7", "python3.5"],
            ["linux/arm64", "linux/arm/v7"],
            ["linux/arm64"],
        ],
        ["binfmt-169-null-emulators.json", ["linux/arm64"], [], ["linux/amd64"], ["linux/amd64"]],
        [
            "binfmt-224-amd64-variants.json",
            ["linux/amd64", "linux/amd64/v2", "linux/amd64/v3"],
            ["llvm-16-runtime.binfmt", "llvm-17-runtime.binfmt", "llvm-18-runtime.binfmt"],
            ["linux/amd64", "linux/386", "linux/arm64", "linux/riscv64"],
            ["linux/arm64", "linux/riscv64"],
        ],
        ["binfmt-249-riscv-host.json", ["linux/riscv64"], ["python3.12", "qemu-x86_64"], ["linux/amd64"], ["linux/amd64"]],
        [
            "fixture-this-machine.json",
            ["linux/amd64", "linux/arm64", "linux/riscv64"],
            ["qemu-aarch64", "qemu-alpha", "qemu-arm"],
            ["linux/arm64", "linux/arm/v7", "linux/s390x", "linux/ppc64le"],
            [],
        ],
    ];
    for (const [file, supported, emulators, requested, missing] of table) {
        it(`${file}: parses, and finds ${missing.length === 0 ? "nothing" : missing.join(", ")} missing of ${requested.join(", ")}`, () => {
            const report = parsed(recorded(file));
            assert.deepStrictEqual(report.supported.slice(0, 3), supported);
            assert.deepStrictEqual(report.emulators.slice(0, 3), emulators);
            assert.deepStrictEqual(missingPlatforms(report, requested), missing);
        });
    }

    it('reads "emulators": null as no emulators', () => {
        assert.deepStrictEqual(parsed(recorded("binfmt-169-null-emulators.json")).emulators, []);
    });

    it("ignores the log lines copied around the JSON", () => {
        assert.strictEqual(parsed(recorded("buildx-542-install-all.txt")).emulators.length, 12);
    });

    it("normalises reported platforms before matching", () => {
        const report: BinfmtReport = { supported: ["linux/arm64/v8", "linux/arm/7", "linux/amd64/v3"], emulators: [] };
        assert.deepStrictEqual(missingPlatforms(report, ["linux/arm64", "linux/arm/v7", "linux/amd64"]), ["linux/amd64"]);
    });

    const bad: [string, string, RegExp][] = [
        ["no JSON at all", "Unable to find image 'tonistiigi/binfmt:latest' locally", /no JSON object/],
        ["broken JSON", '{"supported": [', /no JSON object|not valid JSON/],
        ["supported as a string", '{"supported": "linux/amd64", "emulators": []}', /"supported" is "linux\/amd64", not a list of strings/],
        ["no supported field", '{"emulators": []}', /"supported" is missing, not a list of strings/],
        ["supported: null", '{"supported": null, "emulators": []}', /"supported" is null/],
        ["emulators of numbers", '{"supported": [], "emulators": [1]}', /"emulators" is \[1\]/],
    ];
    for (const [title, text, reason] of bad) {
        it(`rejects ${title}`, () => {
            const result = parseBinfmtReport(text);
            assert.ok(!result.ok);
            assert.match(result.reason, reason);
        });
    }
});

describe("Binfmt install output", () => {
    it("reads the report and the emulators the run added", () => {
        const result = parseInstallOutput(stdoutFor(recorded("tonistiigi-readme.json"), "qemu-aarch64,qemu-arm"));
        assert.ok(result.ok);
        assert.deepStrictEqual(result.value.added, ["qemu-aarch64", "qemu-arm"]);
        assert.strictEqual(result.value.report.supported.length, 8);
    });

    it("reads an empty added list (nothing was installed)", () => {
        const result = parseInstallOutput(stdoutFor(recorded("tonistiigi-readme.json"), ""));
        assert.ok(result.ok);
        assert.deepStrictEqual(result.value.added, []);
    });

    it("checkInstall passes when every requested platform is supported, and returns the report", () => {
        const install = checkInstall(stdoutFor(recorded("tonistiigi-readme.json"), ""), ["linux/arm64", "linux/s390x"]);
        assert.deepStrictEqual(install.report.emulators, ["qemu-aarch64", "qemu-arm", "qemu-i386", "qemu-ppc64le", "qemu-riscv64", "qemu-s390x"]);
    });

    it("checkInstall fails naming the requested platform the report lacks (docker/buildx#542)", () => {
        assert.throws(
            () => checkInstall(stdoutFor(recorded("buildx-542-install-all.txt").replace(/^.*OK\n/gm, ""), ""), ["linux/arm/v7", "linux/arm64"]),
            /host still cannot run linux\/arm64; the installer reports it runs: linux\/amd64, linux\/386, linux\/mips64le, linux\/arm\/v7, linux\/arm\/v6$/,
        );
    });

    it('checkInstall does not check platforms for "all"', () => {
        assert.doesNotThrow(() => checkInstall(stdoutFor(recorded("binfmt-249-riscv-host.json"), ""), "all"));
    });

    it("checkInstall fails when there is no report line", () => {
        assert.throws(() => checkInstall("hello\n", ["linux/arm64"]), /printed no "pulumi-buildx-binfmt-report" line/);
    });
});
