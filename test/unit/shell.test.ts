import * as assert from "assert";
import { execFileSync } from "child_process";
import fc from "fast-check";
import { isEnvName, join, quote } from "../../src/shell";

describe("shell quoting", () => {
    const table: [string, string][] = [
        ["plain", "plain"],
        ["linux/arm64", "linux/arm64"],
        ["10.0.0.1:5000/repo:tag", "10.0.0.1:5000/repo:tag"],
        ["", "''"],
        ["two words", "'two words'"],
        ["it's", `'it'\\''s'`],
        ["$HOME", "'$HOME'"],
        ["`id`", "'`id`'"],
        ["a;rm -rf /", "'a;rm -rf /'"],
        ["new\nline", "'new\nline'"],
        ["*", "'*'"],
    ];
    for (const [input, expected] of table) {
        it(`quotes ${JSON.stringify(input)}`, () => assert.strictEqual(quote(input), expected));
    }

    it("rejects NUL bytes", () => assert.throws(() => quote("a\0b"), /NUL/));

    it("round-trips any string through a real shell", () => {
        fc.assert(
            fc.property(
                fc.array(
                    fc.string({ unit: "binary" }).map((s) => s.replace(/\0/g, "")),
                    { maxLength: 4 },
                ),
                (args) => {
                    const script = `for a in ${join(args)}; do printf '%s\\0' "$a"; done`;
                    const out = args.length === 0 ? "" : execFileSync("/bin/sh", ["-c", script]).toString();
                    const back = out === "" ? [] : out.slice(0, -1).split("\0");
                    assert.deepStrictEqual(back, args);
                },
            ),
            { numRuns: 60 },
        );
    });

    it("recognises environment variable names", () => {
        assert.ok(isEnvName("NPM_TOKEN"));
        assert.ok(isEnvName("_x1"));
        assert.ok(!isEnvName("1abc"));
        assert.ok(!isEnvName("a-b"));
        assert.ok(!isEnvName(""));
    });
});
