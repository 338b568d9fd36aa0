import * as pulumi from "@pulumi/pulumi";

/**
 * One problem found in a component's arguments: where it is, what was given, and what would be
 * valid. `value` is quoted in the message unless the property holds a secret.
 */
export interface InputProblem {
    /** Path of the offending property, e.g. `platforms[1]` or `nodes[0].tls.key`. */
    propertyPath: string;
    /** Why it is wrong and what would be valid. */
    reason: string;
}

const MAX_VALUE_CHARS = 120;

/** Renders a user-supplied value for an error message: JSON, shortened, never multi-line. */
export function quoteValue(value: unknown): string {
    let text: string;
    if (value === undefined) {
        text = "undefined";
    } else if (typeof value === "function") {
        text = "a function";
    } else if (pulumi.Output.isInstance(value)) {
        text = "an Output";
    } else {
        try {
            text = JSON.stringify(value) ?? String(value);
        } catch {
            text = String(value);
        }
    }
    return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/**
 * Collects every problem in a component's arguments so that the user sees all of them at once,
 * then throws one `pulumi.InputPropertiesError` (which the engine shows per property).
 *
 * ```ts
 * const problems = new InputProblems("MultiPlatformImage", name);
 * problems.invalid("platforms[1]", "linux/arm65", "a supported platform such as linux/arm64");
 * problems.throwIfAny();
 * ```
 */
export class InputProblems {
    readonly problems: InputProblem[] = [];

    constructor(
        readonly component: string,
        readonly resourceName: string,
    ) {}

    /** Records that `propertyPath` holds `value`, which is not valid; `expected` says what is. */
    invalid(propertyPath: string, value: unknown, expected: string): void {
        this.problems.push({ propertyPath, reason: `${quoteValue(value)} is not valid: expected ${expected}` });
    }

    /** Records that a required property is missing. */
    missing(propertyPath: string, expected: string): void {
        this.problems.push({ propertyPath, reason: `is required: ${expected}` });
    }

    /** Records a problem unless `value` is undefined or a boolean (for optional `true`/`false` flags). */
    optionalBoolean(propertyPath: string, value: unknown): void {
        if (value !== undefined && typeof value !== "boolean") this.invalid(propertyPath, value, "true or false");
    }

    /** Records a problem that is not about one value (e.g. two properties that exclude each other). */
    add(propertyPath: string, reason: string): void {
        this.problems.push({ propertyPath, reason });
    }

    get empty(): boolean {
        return this.problems.length === 0;
    }

    /** Throws one error listing every problem, or returns if there are none. */
    throwIfAny(): void {
        if (this.empty) {
            return;
        }
        const lines = this.problems.map((p) => `  - ${p.propertyPath}: ${p.reason}`);
        throw new pulumi.InputPropertiesError({
            message: `${this.component} "${this.resourceName}" has invalid arguments:\n${lines.join("\n")}`,
            errors: this.problems.map((p) => ({ propertyPath: p.propertyPath, reason: p.reason })),
        });
    }
}
