/**
 * The one path from typed arguments to bash. Planners build a `ShellPlan`: lines of fixed bash
 * text with typed values in them (`sh\`…\``), where each value is a word (a literal, a shell
 * variable, or both joined) or a whole argument vector. `renderScript` is the only place a value
 * becomes shell text, and every literal passes through `quote`: no value can change the shape of
 * the command it lands in, and nothing is replaced after quoting.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell (`sh`, `bash`). */
export function quote(arg: string): string {
    if (arg.includes("\0")) {
        throw new Error(`a shell argument cannot contain a NUL byte: ${JSON.stringify(arg.slice(0, 120))}`);
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

/** The value of a shell variable, expanded as exactly one word (`"${name}"`). */
export interface ShellVar {
    readonly kind: "var";
    readonly name: string;
}

/** One word made of literals and shell variables, e.g. `$work/Dockerfile`. */
export interface Joined {
    readonly kind: "joined";
    readonly parts: readonly (string | ShellVar)[];
}

/** One argv element: a literal, a variable, or both joined. */
export type Word = string | ShellVar | Joined;

/** A whole argument vector, rendered as its words separated by spaces. */
export interface Argv {
    readonly kind: "argv";
    readonly words: readonly Word[];
}

/** One script line: fixed bash text (never a user's value) with typed values between the pieces. */
export interface Line {
    readonly text: readonly string[];
    readonly values: readonly (Word | Argv)[];
}

/**
 * A script as planners return it: its lines and the environment it reads. `env` maps each
 * variable the script expects from its environment to what it carries (the property path), so
 * secrets travel there and never in the script.
 */
export interface ShellPlan {
    readonly lines: readonly Line[];
    readonly env: Readonly<Record<string, string>>;
}

/** Linux refuses any single argument longer than this (MAX_ARG_STRLEN); `bash -c SCRIPT` is one. */
export const MAX_ARG_BYTES = 131072;

/** A reference to shell variable `name`. */
export function shellVar(name: string): ShellVar {
    if (!isEnvName(name)) throw new Error(`not a shell variable name: ${JSON.stringify(name)}`);
    return { kind: "var", name };
}

/** One word from parts, e.g. `joined(shellVar("work"), "/Dockerfile")`. */
export function joined(...parts: (string | ShellVar)[]): Joined {
    return { kind: "joined", parts };
}

/** An argument vector. */
export function argv(...words: Word[]): Argv {
    return { kind: "argv", words };
}

/** A script line: the template text is fixed bash, each `${value}` a typed word or argv. */
export function sh(text: TemplateStringsArray, ...values: (Word | Argv)[]): Line {
    return { text: [...text], values };
}

/** A line of fixed bash with no values. */
export function bash(text: string): Line {
    return { text: [text], values: [] };
}

/** Fixed bash lines with no values. */
export function bashLines(...text: string[]): Line[] {
    return text.map(bash);
}

/** One line from several, side by side with `separator` (fixed bash) between them. */
export function lineJoin(lines: readonly Line[], separator: string): Line {
    const text: string[] = [];
    const values: (Word | Argv)[] = [];
    lines.forEach((line, i) => {
        if (i === 0) text.push(...line.text);
        else text.push(text.pop() + separator + line.text[0], ...line.text.slice(1));
        values.push(...line.values);
    });
    return { text: text.length === 0 ? [""] : text, values };
}

/** Renders one word: literals quoted, variables as `"${name}"`. */
export function renderWord(word: Word): string {
    if (typeof word === "string") return quote(word);
    if (word.kind === "var") return `"\${${word.name}}"`;
    const parts = word.parts.filter((p) => p !== "");
    return parts.length === 0 ? "''" : parts.map((p) => (typeof p === "string" ? quote(p) : `"\${${p.name}}"`)).join("");
}

/** Renders one line. */
export function renderLine(line: Line): string {
    let out = line.text[0];
    line.values.forEach((value, i) => {
        const text = typeof value !== "string" && value.kind === "argv" ? value.words.map(renderWord).join(" ") : renderWord(value);
        out += text + line.text[i + 1];
    });
    return out;
}

/** The bash script of a plan (for `bash -c`). Throws if it is too long to be one argument. */
export function renderScript(plan: ShellPlan | readonly Line[]): string {
    const lines = "lines" in plan ? plan.lines : (plan as readonly Line[]);
    const script = lines.map(renderLine).join("\n") + "\n";
    const bytes = Buffer.byteLength(script, "utf8");
    if (bytes > MAX_ARG_BYTES - 1) {
        throw new Error(
            `the generated script is ${bytes} bytes; Linux passes at most ${MAX_ARG_BYTES - 1} in one argument (bash -c SCRIPT): shorten the longest values`,
        );
    }
    return script;
}

/** What a CSV field must not hold when it is built from a shell variable (checked by the script). */
const CSV_SPECIAL = /[",\r\n]/;

/**
 * One field of a comma-separated flag value (`--cache-from`, `--cache-to`, `--output`,
 * `--secret`, `--driver-opt`). buildx reads these with Go's `encoding/csv`: a field holding `,`,
 * `"` or a line break is wrapped in double quotes with each `"` doubled, and it reads back
 * exactly as given. A carriage return is refused: the CSV reader drops one before a newline.
 */
export function csvField(field: string): string {
    if (field.includes("\r")) throw new Error(`a comma-separated flag field cannot hold a carriage return: ${JSON.stringify(field.slice(0, 120))}`);
    return CSV_SPECIAL.test(field) || /^[ \t]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/**
 * A comma-separated flag value from its fields, each encoded by `csvField`. A field that expands a
 * shell variable cannot be encoded here; its literal parts must need no quoting, and the script
 * must refuse a variable value holding `,` or `"` before using it.
 */
export function csvValue(fields: readonly (string | Joined)[]): Word {
    const parts: (string | ShellVar)[] = [];
    fields.forEach((field, i) => {
        if (i > 0) parts.push(",");
        if (typeof field === "string") {
            parts.push(csvField(field));
            return;
        }
        for (const p of field.parts) {
            if (typeof p === "string" && CSV_SPECIAL.test(p)) throw new Error(`a CSV field built from a shell variable cannot hold ${JSON.stringify(p)}`);
            parts.push(p);
        }
    });
    return parts.every((p) => typeof p === "string") ? parts.join("") : joined(...parts);
}

/**
 * A path given as a positional argument, made so it cannot be read as an option: a relative
 * path starting with `-` gets `./` in front.
 */
export function positionalPath(p: string): string {
    return p.startsWith("-") ? `./${p}` : p;
}

/**
 * The one stdout line a script prints as its result: `MARKER{"field":"BASE64",…}`, each field the
 * contents of a file the script wrote (`files` maps field names to fixed bash paths such as
 * `"$work/metadata.json"`). Base64 keeps any bytes on one JSON line; TypeScript decodes and
 * parses it (`parseResultLine`), bash does not look inside.
 */
export function resultLine(marker: string, files: Record<string, string>): Line {
    const entries = Object.entries(files);
    const template = entries.map(([field]) => `"${field}":"%s"`).join(",");
    const args = entries.map(([, file]) => ` "$(base64 -w0 < ${file})"`).join("");
    return { text: ["printf ", " ", args], values: [`%s{${template}}\\n`, marker] };
}
