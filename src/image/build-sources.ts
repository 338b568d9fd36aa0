/**
 * What a build reads where `docker buildx` runs (`pulumi up` or `buildImage`), at build time only: secrets from an environment
 * variable or a file (`--secret id=ID,env=VAR` / `--secret id=ID,src=PATH`), and SSH agent
 * forwards (`--ssh ID[=PATH,…]`). Pure: the flags, and the script lines that refuse a missing
 * variable, file or agent before buildx runs (checks of the arguments: build-sources-validate.ts).
 * Only names and paths are here; a value never is.
 */
import { argv, Line, sh, Word, csvValue } from "../shell";

/** A build secret read at build time: by its id, from a variable or a file. */
export type SecretFrom = { id: string; env: string } | { id: string; file: string };

/** A checked `--ssh` forward; `paths` empty means the agent of `SSH_AUTH_SOCK`. */
export interface SshPlan {
    id: string;
    paths: string[];
}

/** `--secret` and `--ssh` flags for the sources (after the value secrets' flags). */
export function sourceFlags(secrets: readonly SecretFrom[], ssh: readonly SshPlan[]): Word[] {
    const words: Word[] = [];
    for (const s of secrets) words.push("--secret", csvValue([`id=${s.id}`, "env" in s ? `env=${s.env}` : `src=${s.file}`]));
    for (const f of ssh) words.push("--ssh", f.paths.length === 0 ? f.id : `${f.id}=${f.paths.join(",")}`);
    return words;
}

/**
 * Lines that stop the script, naming the id, when a source is missing: buildx itself would send an
 * unset variable as an empty secret. Nothing is printed from a variable or a file.
 */
export function sourceChecks(secrets: readonly SecretFrom[], ssh: readonly SshPlan[]): Line[] {
    const lines: Line[] = [];
    for (const s of secrets) {
        if ("env" in s) {
            const message = `pulumi-buildx: secrets.${s.id}: the environment variable ${s.env} is not set where docker buildx runs`;
            lines.push(sh`if ! ${argv("printenv", "--", s.env)} >/dev/null; then echo ${message} >&2; exit 1; fi`);
        } else {
            const message = `pulumi-buildx: secrets.${s.id}: the file ${s.file} is not there or not readable where docker buildx runs`;
            lines.push(sh`if [ ! -f ${s.file} ] || [ ! -r ${s.file} ]; then echo ${message} >&2; exit 1; fi`);
        }
    }
    ssh.forEach((f) => {
        if (f.paths.length > 0) return;
        const message = `pulumi-buildx: ssh (id ${f.id}): SSH_AUTH_SOCK is not set where docker buildx runs; start an agent or give paths`;
        lines.push(sh`if [ -z "\${SSH_AUTH_SOCK:-}" ]; then echo ${message} >&2; exit 1; fi`);
    });
    return lines;
}
