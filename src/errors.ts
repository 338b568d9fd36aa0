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

/** The reason of `InputProblems.invalid`: the value quoted, and what would be valid. */
export function invalidReason(value: unknown, expected: string): string {
    return `${quoteValue(value)} is not valid: expected ${expected}`;
}

/** True for a value known only later: an Output or a Promise. Such a value is checked by `checkLate`. */
export function isLate(value: unknown): value is pulumi.Output<unknown> | Promise<unknown> {
    return pulumi.Output.isInstance(value) || value instanceof Promise;
}

/** Longest text value that may reach a command line (Linux allows 128 KiB per argument, the whole script included). */
export const MAX_TEXT_BYTES = 32768;

/**
 * Why a text value cannot reach a script (a NUL byte, or longer than MAX_TEXT_BYTES), or why
 * it cannot be one field of a comma-separated flag value (`csv`: a carriage return, which
 * buildx's CSV reader drops), or undefined. Any other character passes through unchanged.
 */
export function textProblem(value: unknown, what: string, opts: { csv?: boolean } = {}): string | undefined {
    if (typeof value !== "string") return invalidReason(value, what);
    if (value.includes("\0")) return invalidReason(value, `${what} without a NUL byte (no command line can carry one)`);
    if (opts.csv && value.includes("\r")) return invalidReason(value, `${what} without a carriage return (buildx's CSV reader drops it)`);
    if (Buffer.byteLength(value, "utf8") > MAX_TEXT_BYTES) {
        return invalidReason(value, `${what} of at most ${MAX_TEXT_BYTES} bytes (it is passed on a command line)`);
    }
    return undefined;
}

/**
 * The one policy for late values: `value` (plain, Promise or Output) is checked by `problem`
 * as soon as it is known, with the same message a plain value gets at construction, by
 * throwing the component's `InputPropertiesError` inside the apply. A command that takes the
 * result as input is then never run with a bad value. With `refuseSecret`, a secret Output is
 * refused too, and the message says where a secret belongs.
 */
export function checkLate<T>(
    component: string,
    resourceName: string,
    propertyPath: string,
    value: pulumi.Input<T>,
    problem: (v: T) => string | undefined,
    opts: { refuseSecret?: string } = {},
): pulumi.Output<T> {
    const output = pulumi.output(value);
    const secret = opts.refuseSecret !== undefined ? pulumi.isSecret(output) : Promise.resolve(false);
    return pulumi.all([output, secret]).apply(([v, isSecret]) => {
        // Nothing produced the value (a resource only mocked: see not-run.ts); a real one is always set.
        if (v === undefined) return v as T;
        const problems = new InputProblems(component, resourceName);
        const reason = isSecret ? `is a secret, and it would be on a command line: ${opts.refuseSecret}` : problem(v as T);
        if (reason !== undefined) problems.add(propertyPath, reason);
        problems.throwIfAny();
        return v as T;
    });
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
        this.problems.push({ propertyPath, reason: invalidReason(value, expected) });
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
