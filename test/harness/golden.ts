import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

/** Where golden files live: test/golden/. */
export const GOLDEN_DIR = path.join(__dirname, "..", "golden");

/**
 * Compares generated text with its golden file under test/golden/. A missing golden file fails;
 * `UPDATE_GOLDEN=1` (re)writes it instead, for a reviewed change.
 */
export function expectGolden(relPath: string, actual: string): void {
    const file = path.join(GOLDEN_DIR, relPath);
    if (process.env.UPDATE_GOLDEN === "1") {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, actual);
    }
    assert.ok(fs.existsSync(file), `golden file test/golden/${relPath} is missing (UPDATE_GOLDEN=1 to create it)`);
    assert.strictEqual(actual, fs.readFileSync(file, "utf8"), `${relPath} differs from its golden file (UPDATE_GOLDEN=1 to accept)`);
}
