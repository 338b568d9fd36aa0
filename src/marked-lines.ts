/**
 * Our scripts print their machine-readable results on stdout lines that start with a marker
 * (`pulumi-buildx-result `, `pulumi-buildx-ready `, …), among whatever else the tools they run
 * print. This finds those lines.
 */

/** The text after `marker` of every stdout line that starts with it, in order (LF or CRLF lines). */
export function markedLines(stdout: string, marker: string): string[] {
    return stdout
        .split(/\r?\n/)
        .filter((line) => line.startsWith(marker))
        .map((line) => line.slice(marker.length));
}

/**
 * The one result line a script printed after `marker` (see `resultLine` in src/shell.ts): a JSON
 * object whose values are base64, decoded here. Throws when there is no such line, or more than one.
 */
export function parseResultLine(stdout: string, marker: string): Record<string, Buffer> {
    const lines = markedLines(stdout, marker);
    if (lines.length !== 1) {
        throw new Error(`expected one "${marker.trim()}" result line, found ${lines.length}; stdout was: ${stdout.slice(0, 500)}`);
    }
    const fields = JSON.parse(lines[0]) as Record<string, string>;
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v, "base64")]));
}
