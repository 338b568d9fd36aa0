/**
 * Our scripts print their machine-readable results on stdout lines that start with a marker
 * (`pulumi-buildx-result `, `pulumi-buildx-ready:`, …), among whatever else the tools they run
 * print. This finds those lines.
 */

/** The text after `marker` of every stdout line that starts with it, in order (LF or CRLF lines). */
export function markedLines(stdout: string, marker: string): string[] {
    return stdout
        .split(/\r?\n/)
        .filter((line) => line.startsWith(marker))
        .map((line) => line.slice(marker.length));
}
