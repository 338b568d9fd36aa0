import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { InputProblems, quoteValue } from "../../src/errors";

describe("input problems", () => {
    it("does nothing when there are no problems", () => {
        new InputProblems("X", "x").throwIfAny();
    });

    it("throws one InputPropertiesError naming every property, value and what is valid", () => {
        const problems = new InputProblems("MultiPlatformImage", "app");
        problems.invalid("platforms[1]", "linux/arm65", "a supported platform");
        problems.missing("context", "a directory");
        problems.add("push", "needs at least one tag");
        try {
            problems.throwIfAny();
            assert.fail("expected a throw");
        } catch (err) {
            assert.ok(pulumi.InputPropertiesError.isInstance(err));
            const e = err as pulumi.InputPropertiesError;
            assert.deepStrictEqual(
                e.errors.map((x) => x.propertyPath),
                ["platforms[1]", "context", "push"],
            );
            assert.match(e.message, /MultiPlatformImage "app"/);
            assert.match(e.message, /platforms\[1\]: "linux\/arm65" is not valid: expected a supported platform/);
            assert.match(e.message, /context: is required: a directory/);
        }
    });

    const values: [unknown, string][] = [
        ["x", '"x"'],
        [3, "3"],
        [undefined, "undefined"],
        [null, "null"],
        [["a"], '["a"]'],
        [() => 1, "a function"],
        [pulumi.output("x"), "an Output"],
    ];
    for (const [value, expected] of values) {
        it(`quotes ${expected}`, () => assert.strictEqual(quoteValue(value), expected));
    }
    it("shortens long values", () => assert.ok(quoteValue("y".repeat(500)).length <= 120));
});
