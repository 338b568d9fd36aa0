/**
 * POSIX shell quoting. Every argument that goes into a command string passes through `quote`,
 * so no value can change the shape of the command it lands in.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell (`sh`, `bash`). */
export function quote(arg: string): string {
    if (arg.includes("\0")) {
        throw new Error(`a shell argument cannot contain a NUL byte: ${JSON.stringify(arg)}`);
    }
    if (arg !== "" && SAFE.test(arg)) {
        return arg;
    }
    return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each argument and joins them into one command line. */
export function join(argv: readonly string[]): string {
    return argv.map(quote).join(" ");
}

/** True if `name` is a valid environment variable name (`[A-Za-z_][A-Za-z0-9_]*`). */
export function isEnvName(name: string): boolean {
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
