import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { archsToInstall, installOutcome } from "../../../src/binfmt/decide";
import { BINFMT_RESULT_MARKER } from "../../../src/binfmt/plan";
import { BinfmtReport, missingPlatforms, parseBinfmtReport, parseInstallResult, parseStepReport } from "../../../src/binfmt/report";
import { PlatformString } from "../../../src/platform";

const REPORTS = path.join(__dirname, "..", "..", "fixtures", "binfmt", "reports");
const recorded = (file: string) => fs.readFileSync(path.join(REPORTS, file), "utf8");

function parsed(text: string): BinfmtReport {
    const result = parseBinfmtReport(text);
    assert.ok(result.ok, result.ok ? "" : result.reason);
    return result.value;
}

/** A step's stdout: log lines and its one result line (`resultLine`: each field base64). */
function stdoutFor(fields: Record<string, string>): string {
    const encoded = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
    return `installing: arm64 OK\n${BINFMT_RESULT_MARKER}${JSON.stringify(encoded)}\n`;
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

describe("Binfmt step results and decisions", () => {
    const readme = () => parsed(recorded("tonistiigi-readme.json"));
    const bare: BinfmtReport = { supported: ["linux/amd64", "linux/386", "linux/riscv64"], emulators: ["qemu-riscv64"] };

    it("reads a probe's or register's report, and no report when nothing was installed", () => {
        assert.strictEqual(parseStepReport(stdoutFor({ report: recorded("tonistiigi-readme.json") }))!.supported.length, 8);
        assert.strictEqual(parseStepReport(`${BINFMT_RESULT_MARKER}{}\n`), undefined);
        assert.throws(
            () => parseStepReport(stdoutFor({ report: "not json" })),
            /Binfmt: the installer printed no JSON report .*\(no JSON object in the installer.s output/,
        );
        assert.throws(() => parseStepReport("hello\n"), /expected one "pulumi-buildx-binfmt-result" result line, found 0/);
    });

    it("reads the install result: the emulators the run added and the report", () => {
        const result = parseInstallResult(stdoutFor({ added: '["qemu-aarch64","qemu-arm"]', report: recorded("tonistiigi-readme.json") }));
        assert.deepStrictEqual(result.added, ["qemu-aarch64", "qemu-arm"]);
        assert.strictEqual(result.report.supported.length, 8);
        assert.throws(() => parseInstallResult(stdoutFor({ added: "[1]", report: "{}" })), /Binfmt: "supported" is missing/);
    });

    it("installs the architectures of the platforms the host does not run, each once, in the order asked", () => {
        assert.deepStrictEqual(archsToInstall(bare, ["linux/arm/v6", "linux/riscv64", "linux/arm/v7", "linux/amd64", "linux/s390x"]), ["arm", "s390x"]);
        assert.deepStrictEqual(archsToInstall(readme(), ["linux/arm64", "linux/arm/v7"]), []);
        assert.deepStrictEqual(archsToInstall(readme(), "all"), "all");
        // One platform of an architecture missing is enough to install it.
        assert.deepStrictEqual(archsToInstall({ supported: ["linux/arm/v7"], emulators: [] }, ["linux/arm/v7", "linux/arm/v6"]), ["arm"]);
    });

    it("computes what an install added (sorted) and what still does not run", () => {
        const after: BinfmtReport = { supported: [...bare.supported, "linux/arm64"], emulators: ["qemu-riscv64", "qemu-s390x", "qemu-aarch64"] };
        assert.deepStrictEqual(installOutcome(bare, after, ["linux/arm64", "linux/s390x"], "log"), {
            after,
            added: ["qemu-aarch64", "qemu-s390x"],
            missing: ["linux/s390x"],
            log: "log",
        });
        assert.deepStrictEqual(installOutcome(bare, undefined, ["linux/386"], "").added, [], "nothing installed: the probe's report stands");
        assert.deepStrictEqual(installOutcome(bare, after, "all", "").missing, [], '"all" checks no platform');
        const broken = parsed(recorded("buildx-542-install-all.txt").replace(/^.*OK\n/gm, ""));
        assert.deepStrictEqual(installOutcome(broken, undefined, ["linux/arm/v7", "linux/arm64"], "").missing, ["linux/arm64"], "docker/buildx#542");
    });
});
