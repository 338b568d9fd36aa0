import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { GOLDEN_DIR } from "../harness/golden";

/** Every shell golden anywhere under test/golden/: the scripts the planners render. */
function goldenScripts(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? goldenScripts(p) : e.name.endsWith(".sh") ? [p] : [];
    });
}

describe("golden scripts", () => {
    const scripts = goldenScripts(GOLDEN_DIR);

    it("there are golden scripts to check", () => {
        assert.ok(scripts.length > 20, `only ${scripts.length} golden scripts found under ${GOLDEN_DIR}`);
    });

    for (const file of scripts) {
        const rel = path.relative(GOLDEN_DIR, file);
        it(`${rel} passes bash -n and shellcheck with no exclusions`, () => {
            const syntax = spawnSync("bash", ["-n", file], { encoding: "utf8" });
            assert.strictEqual(syntax.status, 0, syntax.stderr);
            const sc = spawnSync("shellcheck", ["-s", "bash", file], { encoding: "utf8" });
            assert.strictEqual(sc.status, 0, sc.stdout + sc.stderr);
        });
    }
});
