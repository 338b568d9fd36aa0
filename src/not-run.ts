/**
 * What a resource reports when nothing ran it. Under the unit-test mocks from Pulumi's docs, which
 * echo a resource's inputs back as its state (`state: args.inputs`), a Command has no `stdout`, a
 * TLS certificate no PEM and a look-up none of its result fields; the real providers always set
 * them (an empty string, an empty list). Components then give empty outputs instead of failing,
 * so a program that uses them registers every resource and settles under such mocks.
 */

/** `use(value)`, or `notRun` when `value` is undefined because nothing produced it. */
export function ifRan<T, R>(value: T | undefined, use: (value: T) => R, notRun: R): R {
    return value === undefined ? notRun : use(value);
}
